#pragma once
// Shared state of the agent's parts (agent.cc: lifecycle and timers;
// agent_targets.cc: targets, outcomes, persistence; agent_routes.cc: admin
// endpoints). Private to core/; not a public interface.

#include <array>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/admin/admin_server.h"
#include "core/auth/credentials.h"
#include "core/agent.h"
#include "core/catalog.h"
#include "core/config/agent_config.h"
#include "core/metrics.h"
#include "core/notify/dispatcher.h"
#include "core/panels/rollup.h"
#include "core/pipeline.h"
#include "core/probe.h"
#include "core/rule_exports.h"
#include "core/rules/engine.h"
#include "core/scheduler.h"
#include "core/signals/signal_store.h"
#include "core/store.h"
#include "core/tls/tls_monitor.h"

namespace calprobe::core {

class CurlHttpClient;

// Bucket bounds of calprobe_probe_duration_seconds.
inline constexpr std::array<double, 12> kProbeDurationBounds = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

// A target's own series of calprobe_probe_success, calprobe_probe_runs_total
// and calprobe_probe_duration_seconds. Kept in the target (and written by a
// collector) rather than as three MetricFamily entries, each a map node with
// its own label-key string: ~130 bytes per target instead of ~600.
struct TargetSeries {
  bool reported = false;  // success known (a run finished or was skipped)
  bool success = false;
  uint64_t runs = 0;  // attempts; also the histogram's count
  double duration_sum = 0;
  std::array<uint64_t, kProbeDurationBounds.size()> duration_buckets{};  // not cumulative
};

struct TargetState {
  TargetConfig config;  // labels moved into info
  TargetInfo info;
  TargetSeries series;
  // Last result as compact JSON text (empty until the first run or a restored
  // one). Text, not a json tree: thousands of targets, a few hundred bytes each.
  std::string last;
  // Outcomes of the last runs, newest in bit 0 (1 = failed), for the
  // recent_failures field of calprobe.probe.result ("F of the last N").
  uint32_t history = 0;
  uint8_t history_len = 0;
};

struct AgentMetrics {
  MetricFamily& failures;
  MetricFamily& lateness;
  MetricFamily& reloads;
  MetricFamily& reload_ok;
  MetricFamily& reload_time;
  MetricFamily& target_file_errors;
  MetricFamily& skipped;
};

struct FileTargets {
  int64_t mtime_ns = -1;
  std::vector<TargetConfig> targets;  // last good version
};

struct AgentState {
  virtual ~AgentState();
  virtual void After(Duration delay, std::function<void()> fn) = 0;

  void InitMetrics();
  void RecordOutcome(TargetState& t, TimePoint start, TimePoint end, ProbeOutcome o);
  // calprobe_probe_success / _runs_total / _duration_seconds from TargetSeries.
  void WriteTargetSeries(MetricsWriter* w) const;
  void FlushResults();
  void LoadPersistedResults();
  // Re-reads changed target files; returns true iff any changed.
  bool RefreshTargetFiles();
  // Rebuilds `targets` from config + target files and reschedules.
  void ApplyTargets();
  void ApplyOverrides(AgentConfig* cfg);
  void RegisterRoutes();
  std::string ListenDisplay() const;
  // Bearer check for state-changing endpoints (agent.ingest_token); returns
  // the 401 to send, or nullopt when allowed.
  std::optional<AdminResponse> CheckWriteAuth(const AdminRequest& r) const;

  // Alerts (agent_alerts.cc).
  Status InitAlerts();  // (re)builds the rule engine from config.alerts
  void InitAlertMetrics();
  void EvaluateAlerts();
  // Firing/resolved transitions to notify (silences already applied).
  void OnAlertTransitions(const std::vector<rules::AlertTransition>& transitions);
  const SilenceConfig* SilencedBy(const std::string& rule, const std::string& severity,
                                  const rules::LabelMap& labels, TimePoint now) const;
  const rules::Rule* FindRule(const std::string& name) const;
  void SetSuppressed(const std::string& key, bool on);
  void EmitHealth();
  void PingHeartbeat();
  void NoteLateness(double seconds);
  nlohmann::json AlertsJson() const;
  nlohmann::json SilencesJson() const;
  void RegisterAlertRoutes();

  boost::asio::io_context io;
  ProbeRegistry registry;
  Catalog catalog;
  MetricsRegistry metrics;
  std::unique_ptr<AgentMetrics> m;
  std::unique_ptr<EventPipeline> pipeline;
  std::unique_ptr<signals::SignalStore> signals;  // windows over every accepted event
  std::unique_ptr<panels::Rollups> rollups;       // per-minute panel history (/api/v1/panels)
  std::unique_ptr<CurlHttpClient> http;
  std::unique_ptr<Store> store;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<AdminServer> admin;
  std::unique_ptr<tls::TlsMonitor> tls;               // certificate expiry of https targets
  std::unique_ptr<auth::CredentialSet> credentials;  // `credentials:` at run time
  AgentConfig config;
  AgentOptions* options_ptr = nullptr;
  int shard_index = 0, shard_count = 1;
  std::string listen_override, region_override;
  std::map<std::string, FileTargets> file_targets;
  std::vector<std::shared_ptr<TargetState>> targets;
  std::map<std::string, std::string> restored;  // last results loaded at start
  std::set<std::string> dirty;                     // results not yet persisted
  bool ready = false;

  // Alerts.
  std::unique_ptr<rules::RuleEngine> rules;
  // The series Prometheus needs to evaluate the same rules (export-rules).
  std::shared_ptr<RuleExports> rule_exports;
  std::vector<SilenceConfig> api_silences;  // POST /api/v1/silences, persisted
  std::set<std::string> suppressed;         // firing alerts a silence kept quiet, persisted
  bool alerts_loaded = false;
  double lateness_max = 0;  // worst scheduler lateness since the last health event
  MetricFamily* alert_transitions = nullptr;
  MetricFamily* heartbeat_ok = nullptr;
  // Set by the notification outbox: dead-lettered deliveries, and extra
  // fields for /api/v1/alerts (e.g. "dead_letters").
  std::function<int64_t()> dead_letter_count;
  std::function<void(nlohmann::json*)> alerts_json_extra;

  // Notifications (agent_notify.cc). Last member: destroyed first, before
  // the store, HTTP client and metrics it uses.
  Status InitNotify();  // creates the dispatcher, or reconfigures it on reload
  void ReconcileNotifications();
  std::unique_ptr<notify::Dispatcher> notifier;
};

}  // namespace calprobe::core
