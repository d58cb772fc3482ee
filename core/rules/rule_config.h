#pragma once
// Loading alert rules from YAML (schema in docs/alerts.md). Validation
// happens while parsing: unknown keys, unknown event kinds, bad durations,
// comparisons, origins, labels, time zones and business hours are reported
// as FILE:LINE:COL: PATH: message, all at once (one per line).

#include <string>
#include <string_view>
#include <vector>

#include "core/rules/rule.h"
#include "core/status.h"

namespace calprobe::core::rules {

// Parses `text` (the contents of `file`, used in messages). Returns the
// rules, or an error whose message lists every problem found.
Result<std::vector<Rule>> ParseRules(std::string_view text, const std::string& file);
// Reads and parses the file at `path`.
Result<std::vector<Rule>> LoadRulesFile(const std::string& path);
// The built-in rules (config/alerts.yaml compiled into the binary).
Result<std::vector<Rule>> DefaultRules();

}  // namespace calprobe::core::rules
