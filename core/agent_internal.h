#pragma once
// Shared state of the agent's parts (agent.cc: lifecycle and timers;
// agent_targets.cc: targets, outcomes, persistence; agent_routes.cc: admin
// endpoints). Private to core/; not a public interface.

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/admin/admin_server.h"
#include "core/agent.h"
#include "core/catalog.h"
#include "core/config/agent_config.h"
#include "core/metrics.h"
#include "core/pipeline.h"
#include "core/probe.h"
#include "core/scheduler.h"
#include "core/signals/signal_store.h"
#include "core/store.h"

namespace calprobe::core {

class CurlHttpClient;

struct TargetState {
  TargetConfig config;  // labels moved into info
  TargetInfo info;
  // Last result as compact JSON text (empty until the first run or a restored
  // one). Text, not a json tree: thousands of targets, a few hundred bytes each.
  std::string last;
};

struct AgentMetrics {
  MetricFamily& success;
  MetricFamily& duration;
  MetricFamily& failures;
  MetricFamily& runs;
  MetricFamily& lateness;
  MetricFamily& reloads;
  MetricFamily& reload_ok;
  MetricFamily& reload_time;
  MetricFamily& target_file_errors;
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
  void FlushResults();
  void LoadPersistedResults();
  // Re-reads changed target files; returns true iff any changed.
  bool RefreshTargetFiles();
  // Rebuilds `targets` from config + target files and reschedules.
  void ApplyTargets();
  void ApplyOverrides(AgentConfig* cfg);
  void RegisterRoutes();
  std::string ListenDisplay() const;

  boost::asio::io_context io;
  ProbeRegistry registry;
  Catalog catalog;
  MetricsRegistry metrics;
  std::unique_ptr<AgentMetrics> m;
  std::unique_ptr<EventPipeline> pipeline;
  std::unique_ptr<signals::SignalStore> signals;  // windows over every accepted event
  std::unique_ptr<CurlHttpClient> http;
  std::unique_ptr<Store> store;
  std::unique_ptr<Scheduler> scheduler;
  std::unique_ptr<AdminServer> admin;
  AgentConfig config;
  AgentOptions* options_ptr = nullptr;
  int shard_index = 0, shard_count = 1;
  std::string listen_override, region_override;
  std::map<std::string, FileTargets> file_targets;
  std::vector<std::shared_ptr<TargetState>> targets;
  std::map<std::string, std::string> restored;  // last results loaded at start
  std::set<std::string> dirty;                     // results not yet persisted
  bool ready = false;
};

}  // namespace calprobe::core
