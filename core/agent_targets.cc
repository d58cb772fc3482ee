// Targets: building them from config and target files, recording outcomes,
// persisting last results.

#include <malloc.h>
#include <sys/stat.h>

#include <algorithm>
#include <bit>

#include "core/agent_internal.h"
#include "core/http/curl_client.h"
#include "core/log.h"
#include "core/secrets.h"

namespace calprobe::core {

AgentState::~AgentState() = default;

void AgentState::InitMetrics() {
  m = std::unique_ptr<AgentMetrics>(new AgentMetrics{
      metrics.Counter("calprobe_probe_failures_total", "Failed probe runs by reason.",
                      {"target", "probe", "region", "reason"}),
      metrics.Histogram("calprobe_scheduler_lateness_seconds",
                        "Delay between a run's scheduled and actual start.", {"probe"},
                        {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5}),
      metrics.Counter("calprobe_config_reloads_total", "Config reloads by result.", {"result"}),
      metrics.Gauge("calprobe_config_last_reload_successful",
                    "1 if the last config reload succeeded.", {}),
      metrics.Gauge("calprobe_config_last_reload_success_timestamp_seconds",
                    "Time of the last successful config load.", {}),
      metrics.Counter("calprobe_target_file_errors_total",
                      "Target files that failed to load (previous version kept).", {}),
      metrics.Counter("calprobe_probe_skipped_total",
                      "Runs that made no attempt (e.g. an ICS source backing off), by reason; "
                      "not counted in calprobe_probe_runs_total.",
                      {"target", "probe", "region", "reason"}),
  });
  m->reload_ok.Set({}, 1);
  m->reload_time.Set({}, ToUnixSeconds(std::chrono::system_clock::now()));
  metrics.Gauge("calprobe_build_info", "Build information.", {"version"}).Set({CALPROBE_VERSION}, 1);
  metrics.AddCollector([this](MetricsWriter* w) { WriteTargetSeries(w); });
  metrics.AddCollector([this](MetricsWriter* w) {
    w->Family("calprobe_targets", "gauge", "Targets scheduled on this agent (after sharding).");
    w->Sample("calprobe_targets", {"region"}, {config.agent.region}, static_cast<double>(targets.size()));
    w->Family("calprobe_scheduler_backlog", "gauge",
              "Runs due but waiting for a free concurrency slot, per probe type.");
    auto limits = scheduler->Limits();
    for (const auto& [type, n] : scheduler->Backlog()) {
      w->Sample("calprobe_scheduler_backlog", {"probe"}, {type}, static_cast<double>(n));
    }
    w->Family("calprobe_scheduler_concurrency_limit", "gauge", "Concurrency limit per probe type.");
    for (const auto& [type, n] : limits) {
      w->Sample("calprobe_scheduler_concurrency_limit", {"probe"}, {type}, n);
    }
    w->Family("calprobe_scheduler_running", "gauge", "Runs in progress per probe type.");
    for (const auto& [type, n] : scheduler->Running()) {
      w->Sample("calprobe_scheduler_running", {"probe"}, {type}, n);
    }
    w->Family("calprobe_scheduler_skipped_runs_total", "counter",
              "Runs skipped because the previous run of the target was still busy.");
    w->Sample("calprobe_scheduler_skipped_runs_total", {}, {},
              static_cast<double>(scheduler->skipped_runs()));
    if (signals) {
      auto st = signals->Stats();
      w->Family("calprobe_signal_keys", "gauge", "Keys with exact windowed state, all signal series.");
      w->Sample("calprobe_signal_keys", {}, {}, static_cast<double>(st.keys));
      w->Family("calprobe_signal_keys_evicted_total", "counter",
                "Signal keys evicted at agent.max_signal_keys (least recently updated first).");
      w->Sample("calprobe_signal_keys_evicted_total", {}, {}, static_cast<double>(st.keys_evicted));
    }
    w->Family("calprobe_http_requests_in_flight", "gauge", "HTTP transfers in flight.");
    w->Sample("calprobe_http_requests_in_flight", {}, {}, static_cast<double>(http->InFlight()));
  });
}

void AgentState::WriteTargetSeries(MetricsWriter* w) const {
  static const std::vector<std::string_view> kNames = {"target", "probe", "region"};
  std::vector<std::string_view> values(3);
  auto label = [&](const TargetState& t) {
    values = {t.config.name, t.config.probe_type, config.agent.region};
  };
  w->Family("calprobe_probe_success", "gauge", "1 if the target's last run succeeded, else 0.");
  for (const auto& t : targets) {
    if (!t->series.reported) continue;
    label(*t);
    w->Sample("calprobe_probe_success", kNames, values, t->series.success ? 1 : 0);
  }
  w->Family("calprobe_probe_runs_total", "counter", "Probe runs started and finished.");
  for (const auto& t : targets) {
    if (t->series.runs == 0) continue;
    label(*t);
    w->Sample("calprobe_probe_runs_total", kNames, values, static_cast<double>(t->series.runs));
  }
  w->Family("calprobe_probe_duration_seconds", "histogram", "Duration of probe runs.");
  for (const auto& t : targets) {
    const TargetSeries& s = t->series;
    if (s.runs == 0) continue;
    label(*t);
    w->Histogram("calprobe_probe_duration_seconds", kNames, values, kProbeDurationBounds,
                 s.duration_buckets, s.runs, s.duration_sum);
  }
}

void AgentState::RecordOutcome(TargetState& t, TimePoint start, TimePoint end, ProbeOutcome o) {
  double seconds = ToSeconds(end - start);
  o.message = Secrets::Redact(o.message);
  TargetSeries& series = t.series;
  if (o.skipped) {
    // Nothing was attempted: the target stays in the state of its last real
    // run (failing when there is none yet: a probe skips only after an
    // error), and the history of real runs is left as it is.
    o.success = t.history_len > 0 && (t.history & 1u) == 0;
    m->skipped.Inc({t.config.name, t.config.probe_type, config.agent.region, o.reason});
  } else {
    ++series.runs;
    series.duration_sum += seconds;
    auto b = std::lower_bound(kProbeDurationBounds.begin(), kProbeDurationBounds.end(), seconds);
    if (b != kProbeDurationBounds.end()) ++series.duration_buckets[b - kProbeDurationBounds.begin()];
    if (!o.success) {
      m->failures.Inc({t.config.name, t.config.probe_type, config.agent.region, o.reason});
    }
    const int window = std::clamp(config.alerts.probe_failure_window, 1, 32);
    t.history = (t.history << 1) | (o.success ? 0u : 1u);
    if (window < 32) t.history &= (1u << window) - 1;
    t.history_len = static_cast<uint8_t>(std::min<int>(t.history_len + 1, window));
  }
  series.reported = true;
  series.success = o.success;
  Event e;
  e.name = "calprobe.probe.result";
  e.time = end;
  e.labels = t.info.labels;
  e.With("success", o.success).With("duration_ms", seconds * 1000);
  e.With("recent_failures", static_cast<int64_t>(std::popcount(t.history)))
      .With("recent_runs", static_cast<int64_t>(t.history_len));
  if (!o.reason.empty()) e.With("reason", o.reason);
  if (o.http_status) e.With("http_status", static_cast<int64_t>(o.http_status));
  // Emitted for skipped runs too, so `last` rules (ProbeFailing) keep a
  // fresh reading of a target that backs off longer than their window.
  if (o.skipped) e.With("skipped", true);
  if (Status s = pipeline->Emit(std::move(e)); !s.ok()) {
    Log(LogLevel::kWarn, "probe result event rejected").Kv("error", s.message());
  }
  if (!o.success) {
    Log(LogLevel::kDebug, "probe failed")
        .Kv("target", t.config.name)
        .Kv("reason", o.reason)
        .Kv("message", o.message);
  }
  nlohmann::json last = {{"time", FormatRfc3339(end)},
                         {"success", o.success},
                         {"reason", std::move(o.reason)},
                         {"message", std::move(o.message)},
                         {"duration_seconds", seconds},
                         {"http_status", o.http_status},
                         {"skipped", o.skipped},
                         {"details", std::move(o.details)}};
  t.last = last.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  dirty.insert(t.config.name);
}

void AgentState::FlushResults() {
  if (dirty.empty() || !store) return;
  std::vector<std::pair<std::string, std::string>> batch;
  batch.reserve(dirty.size());
  std::map<std::string, const TargetState*> by_name;
  for (const auto& t : targets) by_name[t->config.name] = t.get();
  for (const auto& name : dirty) {
    auto it = by_name.find(name);
    if (it != by_name.end() && !it->second->last.empty()) {
      batch.emplace_back(name, it->second->last);
    }
  }
  if (Status s = store->PutTargetResults(batch); !s.ok()) {
    Log(LogLevel::kError, "cannot persist target results; will retry").Kv("error", s.message());
    return;
  }
  dirty.clear();
}

void AgentState::LoadPersistedResults() {
  auto r = store->LoadTargetResults();
  if (!r.ok()) {
    Log(LogLevel::kWarn, "cannot read persisted results").Kv("error", r.error());
    return;
  }
  for (const auto& [name, text] : r.value()) {
    if (nlohmann::json::accept(text)) restored[name] = text;
  }
}

bool AgentState::RefreshTargetFiles() {
  bool changed = false;
  std::set<std::string> present;
  TargetDefaults defaults;
  for (const auto& pattern : config.target_file_globs) {
    for (const auto& path : ExpandGlob(pattern, "")) {
      present.insert(path);
      struct stat st {};
      if (stat(path.c_str(), &st) != 0) continue;
      int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
      FileTargets& ft = file_targets[path];
      if (ft.mtime_ns == mtime) continue;
      ft.mtime_ns = mtime;
      auto loaded = LoadTargetFile(path, registry, defaults);
      if (!loaded.ok()) {
        m->target_file_errors.Inc({});
        Log(LogLevel::kError, "target file invalid; keeping its previous targets")
            .Kv("file", path)
            .Kv("errors", loaded.error());
        continue;
      }
      ft.targets = std::move(loaded.value());
      changed = true;
    }
  }
  for (auto it = file_targets.begin(); it != file_targets.end();) {
    if (!present.count(it->first)) {
      it = file_targets.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  return changed;
}

void AgentState::ApplyOverrides(AgentConfig* cfg) {
  if (!listen_override.empty()) cfg->agent.listen = listen_override;
  if (!region_override.empty()) cfg->agent.region = region_override;
}

void AgentState::ApplyTargets() {
  std::map<std::string, std::shared_ptr<TargetState>> old;
  for (auto& t : targets) old[t->config.name] = t;
  // Pointers, not copies: the configs are copied once, into their TargetState.
  std::vector<const TargetConfig*> all;
  all.reserve(config.targets.size());
  std::set<std::string> names;
  for (const auto& t : config.targets) {
    all.push_back(&t);
    names.insert(t.name);
  }
  for (const auto& [path, ft] : file_targets) {
    for (const auto& t : ft.targets) {
      if (!names.insert(t.name).second) {
        Log(LogLevel::kError, "duplicate target name in target file; skipped")
            .Kv("file", path)
            .Kv("target", t.name);
        continue;
      }
      all.push_back(&t);
    }
  }
  std::vector<std::shared_ptr<TargetState>> next;
  std::vector<ScheduleEntry> entries;
  entries.reserve(all.size());
  next.reserve(all.size());
  for (const TargetConfig* tcp : all) {
    if (!InShard(tcp->name, shard_index, shard_count)) continue;
    TargetConfig tc = *tcp;
    auto ts = std::make_shared<TargetState>();
    auto prev = old.find(tc.name);
    if (prev != old.end()) {
      ts->last = prev->second->last;
      ts->history = prev->second->history;
      ts->history_len = prev->second->history_len;
      ts->series = prev->second->series;
      old.erase(prev);
    } else if (auto r = restored.find(tc.name); r != restored.end()) {
      ts->last = std::move(r->second);
      restored.erase(r);  // used once; the TargetState owns it from now on
    }
    tc.labels.Set(Label::kRegion, config.agent.region);
    ts->config = std::move(tc);
    ts->info = {ts->config.name, ts->config.probe_type, std::move(ts->config.labels)};
    entries.push_back({ts->config.name, ts->config.probe_type, ts->config.interval});
    next.push_back(std::move(ts));
  }
  // The series of removed targets leave /metrics with their TargetState.
  targets = std::move(next);
  if (tls) {
    std::set<std::string> keep;
    for (const auto& t : targets) keep.insert(t->config.name);
    tls->Retain(keep);
  }
  std::map<std::string, int> limits = config.agent.concurrency;
  for (const auto& type : registry.Types()) {
    if (!limits.count(type)) limits[type] = registry.Find(type)->default_concurrency();
  }
  scheduler->SetEntries(std::move(entries), limits, 256);
  // Parsing a large config leaves megabytes of freed YAML nodes in the heap;
  // give them back so RSS reflects what the targets really hold.
  malloc_trim(0);
}

std::string AgentState::ListenDisplay() const {
  std::string l = config.agent.listen;
  size_t colon = l.rfind(':');
  if (colon != std::string::npos && admin) l = l.substr(0, colon + 1) + std::to_string(admin->port());
  return l;
}

}  // namespace calprobe::core
