#pragma once
// The query window of one run and how instants are written into requests.

#include <chrono>
#include <string>

#include "calendar/oracle/types.h"
#include "core/clock.h"

namespace calprobe::probes::feasibility {

enum class WindowStart {
  kNow,      // now, floored to the minute
  kToday,    // the provider's local midnight today
  kNextDay,  // the provider's local midnight tomorrow
};

struct WindowSpec {
  WindowStart start = WindowStart::kNow;
  std::chrono::milliseconds length{std::chrono::hours(24 * 7)};
};

// Returns [from, to) for a run at `now` for a provider in `timezone`. With a
// local-midnight start and a whole number of days, `to` is a local midnight
// too (a 7d window across a DST change lasts 167 or 169 hours).
calendar::oracle::Span ComputeWindow(const WindowSpec& spec, const std::string& timezone,
                                     core::TimePoint now);

enum class TimeFormat {
  kUtc,    // 2027-03-15T04:00:00Z
  kLocal,  // 2027-03-15T00:00:00-04:00 (the provider's offset at that instant)
};

// RFC 3339 with seconds precision.
std::string FormatTime(core::TimePoint t, TimeFormat format, const std::string& timezone);

}  // namespace calprobe::probes::feasibility
