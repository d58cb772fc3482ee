#pragma once
// The sandbox's YAML config (config/sandbox.yaml, docs/sandbox.md) and the
// readers shared with the run-time admin endpoints: a JSON request body is
// YAML too, so PUT /rules and POST /exceptions are read by the same checked
// ConfigNode code and report the same path errors
// ("rules[1].end: end 09:00 is not after start 17:00").
// Provider truths are checked with the oracle's ValidateTruth; its errors
// are reported at the config node they name (FILE:LINE:COL: PATH: message).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calendar/oracle/oracle.h"
#include "core/config/config_node.h"
#include "core/status.h"

namespace calprobe::sandbox {

struct BusySourceConfig {
  std::string id;   // src_id label; unique per provider
  std::string url;  // polled with GET (If-None-Match) every poll_interval
  std::chrono::milliseconds poll_interval{std::chrono::minutes(5)};
};

struct ExceptionConfig {
  std::string kind;  // "blocked" or "extra"
  calendar::oracle::Span span;
};

struct ProviderConfig {
  std::string id;
  std::string role = "provider";
  // timezone, rules, slot/granularity minutes, lead time (holds, bookings,
  // exceptions and busy time live in the service).
  calendar::oracle::ProviderTruth truth;
  std::vector<ExceptionConfig> exceptions;
  std::vector<BusySourceConfig> busy_sources;
  int max_slots = 500;     // feasibility answers are truncated beyond this
  std::string feed_token;  // empty: generated at start
};

struct EventsConfig {
  std::string url;  // calprobe ingest URL; empty: events are counted and dropped
  std::string token;
  std::chrono::milliseconds flush_interval{std::chrono::seconds(1)};
  size_t max_queue = 10000;  // beyond this, new events are dropped and counted
  size_t batch_size = 500;
  bool sandbox_time = false;  // event time from the sandbox clock (default: real time)
};

struct SandboxConfig {
  std::string file;
  std::string listen = "127.0.0.1:8090";
  std::string region = "local";
  int threads = 4;  // HTTP worker threads (the latency fault sleeps in one)
  uint64_t max_body = 1024 * 1024;
  std::chrono::milliseconds cache_ttl{std::chrono::minutes(5)};
  int max_window_days = 62;
  std::string api_token;  // when set, /api/* needs Authorization: Bearer <token>
  // Simulated buyer/provider activity every interval (sandbox/traffic.h); 0: off.
  std::chrono::milliseconds traffic_interval{0};
  EventsConfig events;
  std::vector<ProviderConfig> providers;
};

// Reads and validates a sandbox config file. The error lists every problem,
// one per line, as FILE:LINE:COL: PATH: message.
core::Result<SandboxConfig> LoadSandboxConfig(const std::string& path);

// Parses YAML (or JSON) text, e.g. a request body. Syntax errors are added
// to `errors` under `label`.
std::optional<YAML::Node> ParseYamlText(const std::string& text, const std::string& label,
                                        core::ConfigErrors* errors);

// "09:00" -> 540 minutes; "24:00" -> 1440. nullopt when malformed.
std::optional<int> ParseClockMinutes(const std::string& s);

// Readers for one node each; problems are recorded in the node's errors.
// A rule: {weekdays: [mon, ...] | weekday_mask: n, start: "09:00", end: "17:00"}.
std::optional<calendar::oracle::WeeklyRule> ReadWeeklyRule(const core::ConfigNode& n);
// An exception: {kind: blocked|extra, start: RFC3339, end: RFC3339}.
std::optional<ExceptionConfig> ReadException(const core::ConfigNode& n);
// A busy source: {id?, url, poll_interval?}; `index` names a missing id.
std::optional<BusySourceConfig> ReadBusySource(const core::ConfigNode& n, size_t index);

// A rules update (PUT /api/providers/{id}/rules): `rules` replaces the weekly
// rules; timezone, lead_time_hours, slot_minutes, granularity_minutes change
// only when present. Applied to *truth, then ValidateTruth'd (paths without
// a prefix, e.g. "rules[1].end").
void ReadRulesUpdate(const core::ConfigNode& n, calendar::oracle::ProviderTruth* truth);

// Reports the oracle's truth errors at the nodes they name under `provider`
// (the provider's node, or a request body's root).
void ReportTruthErrors(const std::vector<calendar::oracle::TruthError>& errors,
                       const core::ConfigNode& provider);

}  // namespace calprobe::sandbox
