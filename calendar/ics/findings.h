#pragma once
// Collects findings with exact per-code counts and a per-code cap on the
// details kept, so a hostile feed with a million bad lines stays cheap.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "calendar/ics/ics.h"

namespace calprobe::calendar::internal {

class FindingSink {
 public:
  explicit FindingSink(size_t max_per_code) : max_per_code_(max_per_code) {}

  // Counts one occurrence of `code`; returns true iff its details should be
  // recorded (the cap is not reached yet). Call Add() only when true.
  bool Admit(std::string_view code);
  void Add(std::string_view code, Severity severity, int line, std::string message,
           std::string fix);

  // Admit() + Add() in one step.
  template <typename MakeText>
  void Report(std::string_view code, Severity severity, int line, MakeText make_text) {
    if (!Admit(code)) return;
    std::pair<std::string, std::string> text = make_text();
    Add(code, severity, line, std::move(text.first), std::move(text.second));
  }

  int Count(std::string_view code) const;

  // Moves findings (sorted by line, then code) and counts into *out.
  void Finish(Analysis* out);

 private:
  size_t max_per_code_;
  std::vector<std::pair<std::string_view, int>> counts_;  // codes are literals
  std::vector<Finding> findings_;
};

}  // namespace calprobe::calendar::internal
