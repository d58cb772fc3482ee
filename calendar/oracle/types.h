#pragma once
// Value types shared by the availability oracle's headers: instants are UTC
// std::chrono::system_clock time points; spans are half-open [start, end).

#include <chrono>
#include <compare>
#include <string>

namespace calprobe::calendar::oracle {

using TimePoint = std::chrono::system_clock::time_point;

// A half-open UTC interval [start, end). Two spans that only touch
// (a.end == b.start) do not overlap.
struct Span {
  TimePoint start;
  TimePoint end;

  bool Overlaps(const Span& o) const { return start < o.end && o.start < end; }
  bool Contains(const Span& o) const { return start <= o.start && o.end <= end; }
  bool operator==(const Span&) const = default;
  auto operator<=>(const Span&) const = default;
};

// A bookable slot is a span; slots sort by start, then end.
using Slot = Span;

// "2027-03-14T13:00:00Z" (seconds precision, UTC). For messages and tests.
std::string FormatUtc(TimePoint t);
std::string FormatSpan(const Span& s);  // "2027-03-14T13:00:00Z/2027-03-14T13:30:00Z"

}  // namespace calprobe::calendar::oracle
