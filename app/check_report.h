#pragma once
// Results of `calprobe check` and their renderings: the summary table, the
// JUnit XML file (pugixml; one <testsuite> per scenario target and one per
// probe type, one <testcase> per scenario step or probe target, <failure>
// for a failed expectation, <error> for a check that could not run) and
// the JSON file. Every text that leaves the process passes through
// core::Secrets::Redact.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/probe.h"
#include "core/status.h"

namespace calprobe::app {

struct CheckResult {
  std::string target;
  std::string probe_type;
  core::ProbeOutcome outcome;
  double seconds = 0;
  std::string started;  // RFC 3339
};

enum class Verdict { kPassed, kFailed, kError };
// Transport failures, deadlines and "could not run" reasons are errors; a
// failed expectation is a failure.
Verdict VerdictOf(const CheckResult& r);
std::string_view VerdictName(Verdict v);  // PASS, FAIL, ERROR

// The table printed at the end (one row per target, then totals).
std::string SummaryTable(const std::vector<CheckResult>& results, double seconds);

// Writes the JUnit XML file. Error when it cannot be written.
core::Status WriteJUnit(const std::string& path, const std::vector<CheckResult>& results,
                        double seconds, const std::string& timestamp);

// The JSON report (also what --json writes).
nlohmann::json ResultsJson(const std::vector<CheckResult>& results, double seconds,
                           const std::string& timestamp);

// Returns `j` with every string passed through core::Secrets::Redact.
nlohmann::json RedactJson(const nlohmann::json& j);

}  // namespace calprobe::app
