#pragma once
// Reading a provider's declared truth (the oracle's input) from the probe's
// config: inline under `truth:` or from `truth_file:` (the same mapping in a
// YAML file of its own). Busy time comes from an ICS file (read here) or an
// ICS URL (fetched by the probe at run time). Every problem, including the
// oracle's own ValidateTruth findings, is recorded on the config node whose
// path it names, e.g. targets[2].feasibility.truth.rules[1].end.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "calendar/oracle/oracle.h"
#include "core/config/config_node.h"

namespace calprobe::probes::feasibility {

// Where busy events come from. At most one of file/url is set.
struct BusyIcsSource {
  std::string file;  // read at config load into the truth's BusyCalendar
  std::string url;   // fetched through the HttpClient before each run (ETag-aware)
  std::vector<std::pair<std::string, std::string>> headers;    // for url
  std::chrono::milliseconds refresh{std::chrono::minutes(5)};  // re-fetch at most this often
};

// A JSON endpoint listing spans that hide slots right now (the provider's
// live holds or bookings, e.g. created by scenario probes). Fetched before
// and after each query: spans present both times count as holds, slots
// touching a span that appeared or vanished in between are not judged.
struct LiveSpanSource {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string list = "/holds";  // JSON pointer to the array
  std::string start = "/start";
  std::string end = "/end";
};

struct TruthConfig {
  calendar::oracle::ProviderTruth truth;
  BusyIcsSource busy_ics;
  std::vector<LiveSpanSource> live_spans;
};

// Reads `truth:` or `truth_file:` from the probe options node `options`.
// Records errors and returns nullopt when the truth is missing or invalid.
std::optional<TruthConfig> ReadTruthConfig(const core::ConfigNode& options);

// Reads one truth mapping (the value of `truth:` or a truth file's root).
std::optional<TruthConfig> ReadTruth(const core::ConfigNode& node);

// Parses weekdays: "mon-fri", "weekdays", "every day", "sat,sun", or a
// list of names. Returns the oracle's mask (bit0 = Monday); nullopt when a
// name is unknown.
std::optional<uint8_t> ParseWeekdays(const core::ConfigNode& node);

}  // namespace calprobe::probes::feasibility
