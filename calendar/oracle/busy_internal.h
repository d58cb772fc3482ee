#pragma once
// Internal to calendar/oracle: the parsed form of a busy feed and the
// recurrence expanders. Not for use outside this directory.

#include <libical/ical.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "calendar/oracle/busy.h"

namespace calprobe::calendar::oracle {

// How an ICS date/date-time is anchored.
enum class TimeFrame {
  kUtc,       // "Z": wall == UTC
  kZone,      // TZID that is an IANA name
  kVtimezone, // TZID defined only by the feed's VTIMEZONE (libical converts)
  kFloating,  // no TZID: provider's zone
  kDate,      // VALUE=DATE: a day in the provider's zone
};

struct IcsTime {
  TimeFrame frame = TimeFrame::kFloating;
  LocalSeconds wall{0};             // wall clock in the frame (UTC for kUtc)
  const Zone* zone = nullptr;       // kZone
  icaltimezone* vtz = nullptr;      // kVtimezone (owned by the parsed root)
};

// Converts a wall time in t's frame to UTC; floating/date use `floating`
// (null = UTC).
TimePoint ResolveWall(const IcsTime& frame, LocalSeconds wall, const Zone* floating);
inline TimePoint Resolve(const IcsTime& t, const Zone* floating) {
  return ResolveWall(t, t.wall, floating);
}
// UTC -> wall in the frame of t.
LocalSeconds ToWall(const IcsTime& frame, TimePoint utc, const Zone* floating);

// Closed-form shape of FREQ=DAILY/WEEKLY rules.
struct FastRule {
  bool weekly = false;
  int interval = 1;
  uint8_t byday = 0;   // bit0 = Monday .. bit6 = Sunday; 0 = none given
  int count = 0;       // 0 = unbounded by count
  int wkst = 0;        // 0 = Monday .. 6 = Sunday
  std::optional<IcsTime> until;
};

struct Series {
  std::string uid;
  IcsTime start;
  int64_t duration_seconds = 0;  // exact duration for date-time events
  int duration_days = 0;         // nominal days for DATE events
  bool recurring = false;
  std::optional<FastRule> fast;                // closed-form expansion
  // libical expansion (large: heap). Its UNTIL is cleared and applied by the
  // oracle (fallback_until), and DTSTART is passed floating: libical
  // normalises an instance in a DST gap and then drifts every later one.
  std::unique_ptr<icalrecurrencetype> fallback;
  std::optional<IcsTime> fallback_until;
  icaltimetype ical_start = icaltime_null_time();  // DTSTART wall, floating
  std::vector<IcsTime> rdates;
  std::vector<IcsTime> exdates;
  std::vector<IcsTime> overridden;  // RECURRENCE-IDs of overrides (any status)
};

// Appends the blocking instances of `s` that overlap [from, to).
void ExpandSeries(const Series& s, TimePoint from, TimePoint to, const Zone* floating,
                  std::vector<Span>* out);

struct BusyCalendar::Impl {
  std::string version;
  std::vector<std::string> warnings;
  BusyStats stats;
  std::vector<Series> series;
  std::unique_ptr<icalcomponent, void (*)(icalcomponent*)> root{nullptr, icalcomponent_free};

  struct Memo {
    const Zone* zone = nullptr;
    TimePoint from, to;
    std::vector<Span> merged;
  };
  mutable std::mutex mu;
  mutable std::vector<Memo> memos;  // one per zone seen
};

}  // namespace calprobe::calendar::oracle
