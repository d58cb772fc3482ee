#include "calendar/ics/findings.h"

#include <algorithm>

namespace calprobe::calendar {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "unknown";
}

bool Analysis::has_error() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.severity == Severity::kError; });
}

namespace internal {

bool FindingSink::Admit(std::string_view code) {
  for (auto& [c, n] : counts_) {
    if (c == code) {
      ++n;
      return static_cast<size_t>(n) <= max_per_code_;
    }
  }
  counts_.emplace_back(code, 1);
  return max_per_code_ > 0;
}

void FindingSink::Add(std::string_view code, Severity severity, int line, std::string message,
                      std::string fix) {
  Finding f;
  f.code = std::string(code);
  f.severity = severity;
  f.line = line;
  f.message = std::move(message);
  f.fix = std::move(fix);
  findings_.push_back(std::move(f));
}

int FindingSink::Count(std::string_view code) const {
  for (const auto& [c, n] : counts_) {
    if (c == code) return n;
  }
  return 0;
}

void FindingSink::Finish(Analysis* out) {
  std::stable_sort(findings_.begin(), findings_.end(), [](const Finding& a, const Finding& b) {
    if (a.line != b.line) return a.line < b.line;
    return a.code < b.code;
  });
  out->findings = std::move(findings_);
  findings_.clear();
  for (const auto& [c, n] : counts_) out->finding_counts[std::string(c)] = n;
}

}  // namespace internal
}  // namespace calprobe::calendar
