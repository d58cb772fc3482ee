#pragma once
// The agent's configuration: one main YAML file, `include:` globs merged into
// it, and target lists from `target_files:` (re-read when they change, like
// Prometheus file_sd). Loading validates everything — unknown keys, types,
// probe options — and reports every problem as FILE:LINE:COL: PATH: message.

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/auth/credential_spec.h"
#include "core/event.h"
#include "core/log.h"
#include "core/notify/receiver_config.h"
#include "core/probe.h"
#include "core/status.h"
#include "core/tls/tls_monitor.h"

namespace calprobe::core {

struct TargetConfig {
  std::string name;
  std::string probe_type;
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{10000};
  Labels labels;                 // configured: provider, role, src_id
  std::shared_ptr<Probe> probe;  // created and validated by the type's factory
  std::string file;              // where it was defined
  int line = 0;
};

struct AgentSettings {
  std::string region = "local";
  std::string listen = "127.0.0.1:9464";
  std::string store_path = "calprobe.db";
  std::string ingest_token;  // empty: ingest disabled (401 for every request)
  LogFormat log_format = LogFormat::kLogfmt;
  LogLevel log_level = LogLevel::kInfo;
  std::chrono::milliseconds max_event_lateness{std::chrono::minutes(10)};
  std::chrono::milliseconds max_event_future_skew{std::chrono::minutes(2)};
  uint64_t ingest_max_body_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds target_files_refresh{std::chrono::seconds(30)};
  std::map<std::string, int> concurrency;  // probe type -> limit
  int export_top_k = 500;                  // per label in exported series
  int64_t max_signal_keys = 200000;
  std::string event_log;  // NDJSON file of accepted events; empty: none (core/event_log.h)
};

// A silence (maintenance window): notifications of alerts whose labels
// (plus `alertname`) match every matcher are suppressed between starts and
// ends. Alerts still change state; only delivery is held back.
struct SilenceConfig {
  std::string id;  // config silences: "config-N"; API silences: generated
  std::map<std::string, std::string> matchers;  // label -> exact value
  TimePoint starts;
  TimePoint ends;
  std::string comment;
  std::string created_by;
};

struct AlertsSettings {
  bool builtin = true;                   // the built-in rules (config/alerts.yaml, probe-alerts.yaml)
  std::vector<std::string> rule_files;   // more rules; a rule named like a built-in one replaces it
  std::chrono::milliseconds evaluation_interval{std::chrono::seconds(10)};
  int probe_failure_window = 5;          // N of "F of the last N runs failed"
  std::chrono::milliseconds health_interval{std::chrono::seconds(15)};  // calprobe.agent.health
  std::string heartbeat_url;             // pinged every heartbeat_interval while healthy
  std::chrono::milliseconds heartbeat_interval{std::chrono::minutes(1)};
  std::vector<SilenceConfig> silences;
};

struct AgentConfig {
  std::string file;
  AgentSettings agent;
  AlertsSettings alerts;
  std::vector<TargetConfig> targets;         // from the main file and includes
  std::vector<std::string> target_file_globs;  // resolved against the main file's folder
  std::vector<std::string> catalog_files;
  std::vector<notify::ReceiverConfig> receivers;  // receivers: (docs/notifications.md)
  notify::NotifySettings notify;                  // notifications:
  std::vector<auth::CredentialSpec> credentials;  // `credentials:` (docs/credentials.md)
  tls::TlsOptions tls;                            // `tls:` certificate inspection
};

struct TargetDefaults {
  std::chrono::milliseconds interval{30000};
  std::chrono::milliseconds timeout{10000};
};

// Loads and validates `path` (and its includes). On failure the error text
// holds one line per problem.
Result<AgentConfig> LoadAgentConfig(const std::string& path, const ProbeRegistry& registry);

// Loads one file_sd target file: a YAML list of targets, or a map with a
// `targets:` list.
Result<std::vector<TargetConfig>> LoadTargetFile(const std::string& path,
                                                 const ProbeRegistry& registry,
                                                 const TargetDefaults& defaults);

// Expands a glob relative to `base_dir`; sorted.
std::vector<std::string> ExpandGlob(const std::string& pattern, const std::string& base_dir);

}  // namespace calprobe::core
