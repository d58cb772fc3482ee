#include "core/ics_metrics.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "core/pipeline.h"
#include "core/scheduler.h"

namespace calprobe::core {
namespace {

struct SourceInfo {
  std::string provider;
  double last_poll = 0;
  double last_success = 0;  // 0: never
  double retry_tier = 0;
  double payload_bytes = 0;
  double refresh_interval = 0;  // the feed's REFRESH-INTERVAL / X-PUBLISHED-TTL; 0 = none
  bool failing = false;
};

struct ProviderCounters {
  double ok = 0, not_modified = 0, error = 0;
  double added = 0, removed = 0, changed = 0;
  std::map<std::string, double> errors;  // code -> count
};

// Aggregate of several sources rendered as one series.
struct Agg {
  double sources = 0, failing = 0, max_tier = 0, bytes = 0, refresh = 0;
  double oldest_poll = 0, oldest_success = 0;  // 0: none
  void Add(const SourceInfo& s) {
    sources += 1;
    failing += s.failing ? 1 : 0;
    max_tier = std::max(max_tier, s.retry_tier);
    bytes += s.payload_bytes;
    if (s.refresh_interval > 0 && (refresh == 0 || s.refresh_interval < refresh)) {
      refresh = s.refresh_interval;
    }
    if (oldest_poll == 0 || s.last_poll < oldest_poll) oldest_poll = s.last_poll;
    if (s.last_success > 0 && (oldest_success == 0 || s.last_success < oldest_success)) {
      oldest_success = s.last_success;
    }
  }
};

using OriginKey = std::pair<std::string, std::string>;  // (origin, src_id or provider)

}  // namespace

struct IcsMetrics::Impl {
  IcsMetricsOptions o;
  std::map<OriginKey, SourceInfo> sources;
  std::set<OriginKey> exported;  // sources with their own series (first come)
  std::map<OriginKey, ProviderCounters> providers;
  double untracked = 0;
  // Exported provider names (bounded); others render as "other".
  mutable std::set<std::string> kept_providers;

  const std::string& ProviderName(const std::string& p) const {
    static const std::string kOther = "other";
    if (kept_providers.count(p)) return *kept_providers.find(p);
    if (kept_providers.size() < o.provider_limit) return *kept_providers.insert(p).first;
    return kOther;
  }
};

IcsMetrics::IcsMetrics(IcsMetricsOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = options;
}
IcsMetrics::~IcsMetrics() = default;

void IcsMetrics::OnEvent(const Event& e) {
  bool ok = e.name == "cal.ics.poll.ok";
  if (!ok && e.name != "cal.ics.poll.error") return;
  Impl& m = *impl_;
  const std::string& origin = e.labels.Get(Label::kOrigin);
  const std::string& provider = e.labels.Get(Label::kProvider);
  const std::string& src_id = e.labels.Get(Label::kSrcId);
  double t = ToUnixSeconds(e.time);

  ProviderCounters& pc = m.providers[{origin, provider}];
  if (!ok) {
    pc.error += 1;
    pc.errors[std::string(e.String("error_code").value_or("unknown"))] += 1;
  } else if (e.Bool("etag_matched").value_or(false)) {
    pc.not_modified += 1;
  } else {
    pc.ok += 1;
  }
  pc.added += e.Number("added").value_or(0);
  pc.removed += e.Number("removed").value_or(0);
  pc.changed += e.Number("changed").value_or(0);

  if (src_id.empty()) return;
  OriginKey key{origin, src_id};
  auto it = m.sources.find(key);
  if (it == m.sources.end()) {
    if (m.sources.size() >= m.o.max_sources) {
      m.untracked += 1;
      return;
    }
    it = m.sources.emplace(key, SourceInfo{}).first;
    if (m.exported.size() < m.o.src_id_limit) m.exported.insert(key);
  }
  SourceInfo& s = it->second;
  s.provider = provider;
  s.last_poll = std::max(s.last_poll, t);
  if (ok) s.last_success = std::max(s.last_success, t);
  s.failing = !ok;
  if (auto tier = e.Number("retry_tier"))
    s.retry_tier = *tier;
  else if (ok)
    s.retry_tier = 0;
  if (auto bytes = e.Number("payload_bytes"); bytes && !e.Bool("etag_matched").value_or(false)) {
    s.payload_bytes = *bytes;
  }
  if (auto refresh = e.Number("refresh_interval_seconds")) s.refresh_interval = *refresh;
}

void IcsMetrics::Render(MetricsWriter* w, double backlog, double limit) const {
  const Impl& m = *impl_;
  const std::vector<std::string_view> src_labels = {"origin", "provider", "src_id"};
  const std::vector<std::string_view> prov_labels = {"origin", "provider"};

  // Per-source series (bounded) and per-provider aggregates.
  std::map<std::tuple<std::string, std::string, std::string>, Agg> rows;
  std::map<OriginKey, Agg> per_provider;
  for (const auto& [key, s] : m.sources) {
    const std::string& provider = m.ProviderName(s.provider);
    bool own = m.exported.count(key) > 0;
    rows[{key.first, provider, own ? key.second : "other"}].Add(s);
    per_provider[{key.first, provider}].Add(s);
  }
  auto family = [&](std::string_view name, std::string_view type, std::string_view help, auto value,
                    bool skip_zero) {
    w->Family(name, type, help);
    for (const auto& [k, a] : rows) {
      double v = value(a);
      if (skip_zero && v == 0) continue;
      w->Sample(name, src_labels, {std::get<0>(k), std::get<1>(k), std::get<2>(k)}, v);
    }
  };
  family(
      "calprobe_ics_last_poll_timestamp_seconds", "gauge",
      "Time of the last poll attempt per ICS source (staleness = time() - this).",
      [](const Agg& a) { return a.oldest_poll; }, false);
  family(
      "calprobe_ics_last_success_timestamp_seconds", "gauge",
      "Time of the last successful poll per ICS source.",
      [](const Agg& a) { return a.oldest_success; }, true);
  family(
      "calprobe_ics_retry_tier", "gauge",
      "Backoff tier per ICS source: 0 healthy, k after k consecutive errors.",
      [](const Agg& a) { return a.max_tier; }, false);
  family(
      "calprobe_ics_payload_bytes", "gauge", "Body size of the last full (200) download.",
      [](const Agg& a) { return a.bytes; }, false);
  family(
      "calprobe_ics_feed_refresh_interval_seconds", "gauge",
      "The feed's own REFRESH-INTERVAL / X-PUBLISHED-TTL, when it declares one.",
      [](const Agg& a) { return a.refresh; }, true);

  auto provider_family = [&](std::string_view name, std::string_view help, auto value,
                             bool skip_zero) {
    w->Family(name, "gauge", help);
    for (const auto& [k, a] : per_provider) {
      double v = value(a);
      if (skip_zero && v == 0) continue;
      w->Sample(name, prov_labels, {k.first, k.second}, v);
    }
  };
  provider_family(
      "calprobe_ics_provider_sources", "ICS sources seen per provider.",
      [](const Agg& a) { return a.sources; }, false);
  provider_family(
      "calprobe_ics_provider_failing_sources", "ICS sources per provider whose last poll failed.",
      [](const Agg& a) { return a.failing; }, false);
  provider_family(
      "calprobe_ics_provider_max_retry_tier",
      "Highest backoff tier among the provider's ICS sources.",
      [](const Agg& a) { return a.max_tier; }, false);
  provider_family(
      "calprobe_ics_provider_oldest_poll_timestamp_seconds",
      "Oldest last-poll time among the provider's ICS sources.",
      [](const Agg& a) { return a.oldest_poll; }, false);
  provider_family(
      "calprobe_ics_provider_oldest_success_timestamp_seconds",
      "Oldest last-success time among the provider's sources that ever succeeded.",
      [](const Agg& a) { return a.oldest_success; }, true);

  // Counters per provider (provider names bounded; "other" sums the rest).
  std::map<OriginKey, ProviderCounters> counters;
  for (const auto& [k, pc] : m.providers) {
    ProviderCounters& c = counters[{k.first, m.ProviderName(k.second)}];
    c.ok += pc.ok;
    c.not_modified += pc.not_modified;
    c.error += pc.error;
    c.added += pc.added;
    c.removed += pc.removed;
    c.changed += pc.changed;
    for (const auto& [code, n] : pc.errors) c.errors[code] += n;
  }
  w->Family("calprobe_ics_polls_total", "counter",
            "ICS polls by result: ok (200 applied), not_modified (304), error.");
  for (const auto& [k, c] : counters) {
    const std::vector<std::string_view> names = {"origin", "provider", "result"};
    w->Sample("calprobe_ics_polls_total", names, {k.first, k.second, "ok"}, c.ok);
    w->Sample("calprobe_ics_polls_total", names, {k.first, k.second, "not_modified"},
              c.not_modified);
    w->Sample("calprobe_ics_polls_total", names, {k.first, k.second, "error"}, c.error);
  }
  w->Family("calprobe_ics_poll_errors_total", "counter",
            "Failed ICS polls by diagnosis code (docs/diagnosis-codes.md).");
  for (const auto& [k, c] : counters) {
    for (const auto& [code, n] : c.errors) {
      w->Sample("calprobe_ics_poll_errors_total", {"origin", "provider", "code"},
                {k.first, k.second, code}, n);
    }
  }
  w->Family("calprobe_ics_delta_events_total", "counter",
            "Events added, removed or changed between consecutive ICS snapshots.");
  for (const auto& [k, c] : counters) {
    const std::vector<std::string_view> names = {"origin", "provider", "kind"};
    w->Sample("calprobe_ics_delta_events_total", names, {k.first, k.second, "added"}, c.added);
    w->Sample("calprobe_ics_delta_events_total", names, {k.first, k.second, "removed"}, c.removed);
    w->Sample("calprobe_ics_delta_events_total", names, {k.first, k.second, "changed"}, c.changed);
  }

  w->Family("calprobe_ics_backlog", "gauge",
            "calprobe's own ICS polls due but waiting for a concurrency slot (self-health; the "
            "platform poller's queue is the cal.ics.backlog event).");
  w->Sample("calprobe_ics_backlog", {}, {}, backlog);
  w->Family("calprobe_ics_concurrency_limit", "gauge", "Concurrent ICS polls allowed.");
  w->Sample("calprobe_ics_concurrency_limit", {}, {}, limit);
  w->Family("calprobe_ics_sources_tracked", "gauge", "ICS sources with exact state.");
  w->Sample("calprobe_ics_sources_tracked", {}, {}, static_cast<double>(m.sources.size()));
  w->Family("calprobe_ics_untracked_polls_total", "counter",
            "ICS poll events of sources beyond the tracked-state limit.");
  w->Sample("calprobe_ics_untracked_polls_total", {}, {}, m.untracked);
}

void InstallIcsMetrics(MetricsRegistry& metrics, EventPipeline& pipeline,
                       const Scheduler& scheduler, IcsMetricsOptions options) {
  auto m = std::make_shared<IcsMetrics>(options);
  pipeline.Subscribe([m](const Event& e) { m->OnEvent(e); });
  metrics.AddCollector([m, &scheduler](MetricsWriter* w) {
    auto backlog = scheduler.Backlog();
    auto limits = scheduler.Limits();
    auto b = backlog.find("ics");
    auto l = limits.find("ics");
    m->Render(w, b == backlog.end() ? 0 : static_cast<double>(b->second),
              l == limits.end() ? 0 : static_cast<double>(l->second));
  });
}

}  // namespace calprobe::core
