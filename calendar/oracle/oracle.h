#pragma once
// The independent availability oracle: from a provider's declared truth,
// the exact list of feasible slots in a window. Pure functions, no I/O.
//
// Semantics (full text and examples in docs/oracle.md):
//  * Rules are local wall-clock spans on weekdays in truth.timezone; a
//    09:00-17:00 rule stays 09:00-17:00 local across DST changes. Rule
//    boundaries in a spring-forward gap move forward to the first valid
//    instant; in a fall-back overlap the first occurrence is used (tz.h).
//  * Open spans: each rule instance (one rule on one local day) and each
//    `extra` span, not merged. Each anchors its own slot grid: slot starts
//    are span.start + k * granularity (elapsed time; the anchor is the rule's
//    local start or the extra span's start). Duplicates are removed.
//  * A slot lasts slot_minutes (elapsed time) and must fit entirely inside one
//    open span and entirely inside the window [from, to). Two touching rules
//    (09-12, 12-13) never yield a slot across 12:00.
//  * A slot is removed (never shifted) if it overlaps a `blocked` span, a
//    busy instance, a hold or a booking (half-open: touching is fine), or if
//    it starts before now + lead_time_hours.
//  * Busy events: see busy.h (TRANSPARENT/CANCELLED don't block, all-day
//    events block the provider-local day, floating times are provider-local).
// Thread safety: all functions are reentrant; ProviderTruth is read-only.

#include <cstdint>
#include <string>
#include <vector>

#include "calendar/oracle/busy.h"
#include "calendar/oracle/types.h"

namespace calprobe::calendar::oracle {

// Weekday mask bits: bit0 = Monday .. bit6 = Sunday.
inline constexpr uint8_t kMonday = 1 << 0, kTuesday = 1 << 1, kWednesday = 1 << 2,
                         kThursday = 1 << 3, kFriday = 1 << 4, kSaturday = 1 << 5,
                         kSunday = 1 << 6, kWeekdays = 0x1f, kEveryDay = 0x7f;

struct WeeklyRule {
  uint8_t weekday_mask = 0;  // bit0 = Monday .. bit6 = Sunday
  int start_minute = 0;      // local minutes since midnight, [0, 1440)
  int end_minute = 0;        // local minutes since midnight, (start, 1440]
};

struct ProviderTruth {
  std::string timezone;              // IANA name, e.g. "Europe/Berlin"
  std::vector<WeeklyRule> rules;
  int slot_minutes = 30;             // duration of every slot
  int granularity_minutes = 30;      // step between candidate starts
  int lead_time_hours = 0;           // slots must start at or after now + this
  std::vector<Span> blocked;         // exceptions removing availability
  std::vector<Span> extra;           // exceptions adding availability
  std::vector<Span> holds;           // live holds (UTC)
  std::vector<Span> bookings;        // confirmed bookings (UTC)
  BusyCalendar busy;                 // external busy calendar (may be empty)
};

// One problem in a truth, addressed by a field path such as
// "truth.rules[2].end".
struct TruthError {
  std::string path;
  std::string message;
  std::string ToString() const { return path + ": " + message; }
};

// Returns every problem found (empty = valid). `prefix` starts each path.
// Checks: unknown/empty timezone, weekday_mask 0 or > 0x7f, start/end out of
// range, end not after start, rules overlapping on a shared weekday,
// slot_minutes <= 0 or > 1440, granularity_minutes <= 0, lead_time_hours < 0,
// spans with end <= start.
std::vector<TruthError> ValidateTruth(const ProviderTruth& truth,
                                      const std::string& prefix = "truth");

// The feasible slots in [from, to), sorted by start. An invalid truth (see
// ValidateTruth) yields no slots for the invalid parts: an unknown zone
// yields none at all.
std::vector<Slot> ComputeSlots(const ProviderTruth& truth, TimePoint from, TimePoint to,
                               TimePoint now);

// The open spans (rule instances and extra spans, unmerged, sorted) that
// overlap [from, to), before removals; each is a grid anchor. Exposed for
// the classifier and for diagnostics.
std::vector<Span> OpenSpans(const ProviderTruth& truth, TimePoint from, TimePoint to);

}  // namespace calprobe::calendar::oracle
