#include "core/agent.h"

#include <sys/stat.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <set>

#include "core/admin/admin_server.h"
#include "core/agent_internal.h"
#include "core/hash.h"
#include "core/embedded.h"
#include "core/event_log.h"
#include "core/http/curl_client.h"
#include "core/ics_metrics.h"
#include "core/log.h"
#include "core/rules/rule_config.h"
#include "core/panels/panel_metrics.h"
#include "probes/builtin.h"
#include "probes/scenario/metrics.h"
#include "probes/scenario/scenario_probe.h"

namespace calprobe::core {

namespace asio = boost::asio;
using std::chrono::milliseconds;

bool InShard(const std::string& name, int index, int count) {
  if (count <= 1) return true;
  auto score = [&](int replica) { return StableHash64(name + "#" + std::to_string(replica)); };
  int best = 0;
  uint64_t best_score = score(0);
  for (int r = 1; r < count; ++r) {
    uint64_t s = score(r);
    if (s > best_score) {
      best = r;
      best_score = s;
    }
  }
  return best == index;
}

// One probe run: the ProbeContext a probe sees.
class AgentRun final : public ProbeContext {
 public:
  AgentRun(AgentState* agent, std::shared_ptr<TargetState> target, TimePoint start,
           std::function<void()> finished)
      : agent_(agent),
        target_(std::move(target)),
        start_(start),
        observed_http_(*agent->http, agent->tls.get(), target_->info),
        finished_(std::move(finished)) {
    deadline_ = start + target_->config.timeout;
  }
  HttpClient& http() override { return observed_http_; }
  auth::CredentialSet* credentials() override { return agent_->credentials.get(); }
  const Clock& clock() override { return SystemClock::Instance(); }
  EventSink& events() override { return *agent_->pipeline; }
  Store* store() override { return agent_->store.get(); }
  const TargetInfo& target() override { return target_->info; }
  TimePoint deadline() override { return deadline_; }
  void After(Duration delay, std::function<void()> fn) override { agent_->After(delay, std::move(fn)); }

  std::shared_ptr<TargetState> target_state() { return target_; }
  TimePoint start() const { return start_; }
  bool completed = false;

 private:
  AgentState* agent_;
  std::shared_ptr<TargetState> target_;
  TimePoint start_;
  tls::ObservingHttpClient observed_http_;  // tells the TLS monitor which origins it uses

 public:
  std::function<void()> finished_;

 private:
  TimePoint deadline_;
};

struct Agent::Impl : AgentState {
  explicit Impl(const AgentOptions& o)
      : options(o), os_signals(io, SIGINT, SIGTERM, SIGHUP), tick(io) {
    listen_override = o.listen_override;
    region_override = o.region_override;
    shard_index = o.shard_index;
    shard_count = o.shard_count;
  }

  AgentOptions options;
  asio::signal_set os_signals;
  asio::steady_timer tick;
  std::set<std::shared_ptr<AgentRun>> inflight;
  uint64_t ticks = 0;
  int exit_code = 0;

  void After(Duration delay, std::function<void()> fn) override {
    auto timer = std::make_shared<asio::steady_timer>(io);
    timer->expires_after(delay);
    timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
      if (!ec) fn();
    });
  }

  void StartRun(size_t index, TimePoint scheduled, std::function<void()> finished) {
    if (index >= targets.size()) {
      finished();
      return;
    }
    auto t = targets[index];
    TimePoint now = std::chrono::system_clock::now();
    m->lateness.Observe({t->config.probe_type}, ToSeconds(now - scheduled));
    NoteLateness(ToSeconds(now - scheduled));
    auto run = std::make_shared<AgentRun>(this, t, now, std::move(finished));
    inflight.insert(run);
    t->config.probe->Run(*run, [this, run](ProbeOutcome o) { Complete(run, std::move(o)); });
  }

  void Complete(const std::shared_ptr<AgentRun>& run, ProbeOutcome o) {
    if (run->completed) return;
    run->completed = true;
    inflight.erase(run);
    TimePoint end = std::chrono::system_clock::now();
    RecordOutcome(*run->target_state(), run->start(), end, std::move(o));
    auto fin = std::move(run->finished_);
    fin();
  }

  // Ends runs whose probe overshot its deadline by more than a grace period.
  void Watchdog() {
    TimePoint now = std::chrono::system_clock::now();
    std::vector<std::shared_ptr<AgentRun>> late;
    for (const auto& r : inflight) {
      if (now > r->deadline() + std::chrono::seconds(2)) late.push_back(r);
    }
    for (auto& r : late) {
      ProbeOutcome o;
      o.reason = "probe.deadline_exceeded";
      o.message = "the probe did not finish within its timeout";
      Complete(r, std::move(o));
    }
  }

  void Tick() {
    tick.expires_after(std::chrono::seconds(1));
    tick.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      ++ticks;
      Watchdog();
      if (ticks % 5 == 0) FlushResults();
      if (ticks % 10 == 0) FlushRollups();
      if (ticks % 60 == 0) signals->Compact();  // frees buckets of silent keys
      auto every = [this](std::chrono::milliseconds period) {
        return ticks % std::max<uint64_t>(1, static_cast<uint64_t>(period.count() / 1000)) == 0;
      };
      if (every(config.alerts.health_interval)) EmitHealth();
      if (every(config.alerts.evaluation_interval)) EvaluateAlerts();
      if (every(config.alerts.heartbeat_interval)) PingHeartbeat();
      if (config.agent.target_files_refresh.count() > 0 &&
          ticks % std::max<int64_t>(1, config.agent.target_files_refresh.count() / 1000) == 0) {
        if (RefreshTargetFiles()) ApplyTargets();
      }
      Tick();
    });
  }

  void WaitSignals() {
    os_signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        Reload();
        WaitSignals();
        return;
      }
      Log(LogLevel::kInfo, "stopping").Kv("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
      Shutdown();
    });
  }

  void FlushRollups() {
    if (Status s = rollups->Flush(*store); !s.ok()) {
      Log(LogLevel::kWarn, "could not persist panel rollups").Kv("error", s.message());
    }
  }

  void Shutdown() {
    scheduler->Stop();
    admin->Stop();
    tick.cancel();
    os_signals.cancel();
    FlushResults();
    FlushRollups();
    // Let notifications in flight get their answer (bounded), so a clean
    // stop does not send them again at the next start.
    if (notifier) {
      notifier->Drain(std::chrono::seconds(5), [this] { io.stop(); });
    } else {
      io.stop();
    }
  }

  void Reload() {
    auto fresh = LoadAgentConfig(options.config_path, registry);
    if (!fresh.ok()) {
      m->reloads.Inc({"failure"});
      m->reload_ok.Set({}, 0);
      Log(LogLevel::kError, "config reload failed; keeping the previous config")
          .Kv("file", options.config_path)
          .Kv("errors", fresh.error());
      return;
    }
    AgentConfig next = std::move(fresh.value());
    if (auto rs = rules::LoadRuleSet(next.alerts.builtin, next.alerts.rule_files); !rs.ok()) {
      m->reloads.Inc({"failure"});
      m->reload_ok.Set({}, 0);
      Log(LogLevel::kError, "config reload failed (alert rules); keeping the previous config")
          .Kv("file", options.config_path)
          .Kv("errors", rs.error());
      return;
    }
    if (next.agent.listen != config.agent.listen || next.agent.store_path != config.agent.store_path) {
      Log(LogLevel::kWarn, "agent.listen and agent.store changes take effect after a restart");
      next.agent.listen = config.agent.listen;
      next.agent.store_path = config.agent.store_path;
    }
    ApplyOverrides(&next);
    config = std::move(next);
    tls->SetOptions(config.tls);
    tls->SetRegion(config.agent.region);
    credentials->Configure(config.credentials, config.agent.region);
    file_targets.clear();
    RefreshTargetFiles();
    ApplyTargets();
    if (Status st = InitAlerts(); !st.ok()) {  // validated above; a store error lands here
      Log(LogLevel::kError, "alert rules not reloaded").Kv("error", st.message());
    }
    (void)InitNotify();  // receivers and notifications: settings
    m->reloads.Inc({"success"});
    m->reload_ok.Set({}, 1);
    m->reload_time.Set({}, ToUnixSeconds(std::chrono::system_clock::now()));
    Log(LogLevel::kInfo, "config reloaded").Kv("targets", targets.size());
  }
};

Agent::Agent(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Agent::~Agent() = default;

Result<std::unique_ptr<Agent>> Agent::Create(const AgentOptions& options) {
  GlobalHttpInit();
  auto impl = std::make_unique<Impl>(options);
  Impl& a = *impl;
  probes::RegisterBuiltinProbes(a.registry);
  auto cfg = LoadAgentConfig(options.config_path, a.registry);
  if (!cfg.ok()) return cfg.status();
  a.config = std::move(cfg.value());
  a.ApplyOverrides(&a.config);
  InitLogging(a.config.agent.log_format, a.config.agent.log_level);
  if (Status s = a.catalog.LoadString(std::string(kEmbeddedEventCatalog), "config/events.yaml (built in)");
      !s.ok()) {
    return s;
  }
  for (const auto& f : a.config.catalog_files) {
    if (Status s = a.catalog.LoadFile(f); !s.ok()) return s;
  }
  auto store = Store::Open(a.config.agent.store_path);
  if (!store.ok()) return store.status();
  a.store = std::move(store.value());
  a.http = std::make_unique<CurlHttpClient>(a.io);
  a.InitMetrics();
  a.pipeline = std::make_unique<EventPipeline>(
      a.catalog, SystemClock::Instance(), a.metrics,
      PipelineOptions{a.config.agent.max_event_lateness, a.config.agent.max_event_future_skew,
                      static_cast<size_t>(a.config.agent.export_top_k)});
  a.signals = std::make_unique<signals::SignalStore>(
      SystemClock::Instance(),
      signals::StoreOptions{static_cast<size_t>(a.config.agent.max_signal_keys)});
  a.pipeline->Subscribe([&a](const Event& e) { (void)a.signals->Record(e); });
  a.InitAlertMetrics();
  if (Status s = a.InitAlerts(); !s.ok()) return s;
  a.rollups = std::make_unique<panels::Rollups>(
      SystemClock::Instance(),
      panels::RollupOptions{std::chrono::hours(26), 50, 100'000, a.config.agent.region});
  if (Status s = a.rollups->Load(*a.store); !s.ok()) {
    Log(LogLevel::kWarn, "panel history partly lost").Kv("error", s.message());
  }
  a.pipeline->Subscribe([&a](const Event& e) { a.rollups->Record(e); });
  panels::InstallPanelMetrics(a.metrics, *a.pipeline, *a.rollups, a.config.agent.region,
                              static_cast<size_t>(a.config.agent.export_top_k));
  if (!a.config.agent.event_log.empty()) {
    if (Status s = InstallEventLog(*a.pipeline, a.config.agent.event_log); !s.ok()) return s;
  }
  a.tls = std::make_unique<tls::TlsMonitor>(*a.http, *a.pipeline, a.metrics, SystemClock::Instance());
  a.tls->SetOptions(a.config.tls);
  a.tls->SetRegion(a.config.agent.region);
  a.credentials = std::make_unique<auth::CredentialSet>(*a.http, *a.pipeline, a.metrics,
                                                        SystemClock::Instance());
  a.credentials->Configure(a.config.credentials, a.config.agent.region);
  a.scheduler = std::make_unique<Scheduler>(
      a.io, [&a](size_t i, TimePoint at, std::function<void()> fin) { a.StartRun(i, at, std::move(fin)); });
  InstallIcsMetrics(a.metrics, *a.pipeline, *a.scheduler,
                    {static_cast<size_t>(a.config.agent.export_top_k),
                     static_cast<size_t>(a.config.agent.export_top_k),
                     static_cast<size_t>(a.config.agent.max_signal_keys)});
  probes::scenario::InstallScenarioMetrics(a.metrics, *a.pipeline);
  a.admin = std::make_unique<AdminServer>(a.io, a.config.agent.ingest_max_body_bytes);
  a.RegisterRoutes();
  if (Status s = a.admin->Listen(a.config.agent.listen); !s.ok()) return s;
  if (Status s = a.InitNotify(); !s.ok()) return s;
  // Holds a killed predecessor's journeys left behind go before any journey runs.
  probes::scenario::ReplayCleanupJournal(a.store.get(), *a.http);
  a.LoadPersistedResults();
  a.RefreshTargetFiles();
  a.ApplyTargets();
  return std::unique_ptr<Agent>(new Agent(std::move(impl)));
}

int Agent::Run() {
  Impl& a = *impl_;
  Log(LogLevel::kInfo, "calprobe agent started")
      .Kv("region", a.config.agent.region)
      .Kv("targets", a.targets.size())
      .Kv("metrics", "http://" + a.ListenDisplay() + "/metrics");
  a.ready = true;
  a.WaitSignals();
  a.Tick();
  a.io.run();
  return a.exit_code;
}

void Agent::Stop() {
  asio::post(impl_->io, [this] { impl_->Shutdown(); });
}

uint16_t Agent::admin_port() const { return impl_->admin->port(); }

}  // namespace calprobe::core
