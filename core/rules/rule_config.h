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
// calprobe's own built-in rules (config/probe-alerts.yaml): probe failures,
// oracle mismatches, the Watchdog and the agent's health.
Result<std::vector<Rule>> BuiltinProbeRules();

// The agent's rule set: the built-in rules (when `builtin`), then every rule
// of `files` in order. A file rule named like a built-in one replaces it
// (how a demo or a team tunes a threshold); the same name in two files is an
// error. `replaced`, when given, receives the names of replaced built-ins.
Result<std::vector<Rule>> LoadRuleSet(bool builtin, const std::vector<std::string>& files,
                                      std::vector<std::string>* replaced = nullptr);

}  // namespace calprobe::core::rules
