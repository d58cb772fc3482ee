#pragma once
// Judging one feasibility response against the oracle: missing and extra
// slots (each extra one classified by calendar/oracle/compare.h), the
// truncation flag against the configured limit, and the report shown in
// /api/v1/targets and carried by calprobe.feasibility.mismatch.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "calendar/oracle/compare.h"
#include "core/event.h"
#include "probes/feasibility/response_map.h"

namespace calprobe::probes::feasibility {

struct JudgeOptions {
  int max_slots = 0;  // the system's documented limit; 0 = unknown
  std::chrono::seconds skew_tolerance{120};
  size_t max_listed = 10;  // wrong slots listed in the report
  // Missing/extra slots overlapping one of these are not judged (live holds
  // that changed while the query ran).
  std::vector<calendar::oracle::Span> unjudged_spans;
};

struct Verdict {
  calendar::oracle::Comparison comparison;
  int judged_expected = 0;  // expected slots the response had to contain
  bool expect_truncated = false;
  int truncation_errors = 0;  // 0 or 1
  std::string truncation_message;

  int missing() const { return static_cast<int>(comparison.missing.size()); }
  int extra() const { return static_cast<int>(comparison.extra.size()); }
  // Returns true iff nothing is missing, extra or wrongly truncated.
  bool ok() const { return missing() == 0 && extra() == 0 && truncation_errors == 0; }
  // "3 missing, 2 extra (dst_shift 2)" for the outcome message.
  std::string Summary() const;
};

// Compares `response` with the oracle over `window` at `now`. When the
// oracle has more than max_slots slots, only the first max_slots must be
// returned and `truncated` must be true; a response flagged truncated with
// max_slots unknown is judged up to its last slot.
Verdict Judge(const calendar::oracle::ProviderTruth& truth, const calendar::oracle::Span& window,
              core::TimePoint now, const MappedResponse& response, const JudgeOptions& options);

// The report: counts per class and the first max_listed wrong slots (extra
// ones with their class, missing ones with class "missing"), sorted by start.
nlohmann::json VerdictDetails(const Verdict& verdict, const JudgeOptions& options);

// Adds the calprobe.feasibility.mismatch fields (missing, extra, one count
// per class, truncation) to `event`. Zero counts are left out.
void AddMismatchFields(const Verdict& verdict, core::Event* event);

}  // namespace calprobe::probes::feasibility
