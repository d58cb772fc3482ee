#pragma once
// Replay: runs alert rules over recorded events by event time with a manual
// clock (`calprobe replay`, rule tests). Events are sorted by time (stable);
// the engine is evaluated after each distinct event time and on a fixed grid
// of `step` between events (start, start + step, ...), then up to `until`.

#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "core/rules/engine.h"
#include "core/rules/rule.h"

namespace calprobe::core::rules {

struct ReplayOptions {
  Duration step = std::chrono::seconds(10);
  std::optional<TimePoint> start;  // default: the first event's time
  std::optional<TimePoint> until;  // default: the last event's time
};

struct ReplayStats {
  size_t events = 0;    // events read
  size_t rejected = 0;  // events the signal store refused (too old / too new)
  size_t evaluations = 0;
  size_t transitions = 0;
};

// Reads NDJSON events from `in` (`file` names it in messages; blank lines
// and lines starting with '#' are skipped) and calls `emit` for every alert
// transition in time order. Returns an error "FILE:LINE: message" for a
// line that is not a valid event.
Result<ReplayStats> Replay(std::vector<Rule> rules, std::istream& in, const std::string& file,
                           const ReplayOptions& options,
                           const std::function<void(const AlertTransition&)>& emit);

// One transition as text: "AT RULE{label="v",...} FROM -> TO value=V severity=S".
std::string TransitionText(const AlertTransition& t);
// One transition as a JSON object on one line.
std::string TransitionJson(const AlertTransition& t);

}  // namespace calprobe::core::rules
