#pragma once
// Helpers for the oracle tests: literal UTC instants and slot lists.

#include <date/date.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "calendar/oracle/oracle.h"

namespace calprobe::calendar::oracle::testing {

// "2026-03-08T13:00:00Z" -> TimePoint. Aborts the test binary on bad input.
inline TimePoint T(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &se) != 6) std::abort();
  const date::sys_days day{date::year{y} / mo / d};
  return day + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(se);
}

// Slots of `minutes` length starting at each of `starts`.
inline std::vector<Slot> Slots(const std::vector<std::string>& starts, int minutes) {
  std::vector<Slot> out;
  for (const auto& s : starts) out.push_back({T(s), T(s) + std::chrono::minutes(minutes)});
  return out;
}

inline std::vector<std::string> Starts(const std::vector<Slot>& slots) {
  std::vector<std::string> out;
  for (const auto& s : slots) out.push_back(FormatUtc(s.start));
  return out;
}

inline WeeklyRule Rule(uint8_t mask, int start_h, int start_m, int end_h, int end_m) {
  return {mask, start_h * 60 + start_m, end_h * 60 + end_m};
}

}  // namespace calprobe::calendar::oracle::testing
