#pragma once
// Local wall-clock time <-> UTC for the oracle, over ONE source of zone rules.
//
// Why Howard Hinnant's date/tz.h (libhowardhinnant-date-dev, `date::date-tz`)
// and not libical's built-in zones: the Debian package is built with
// USE_OS_TZDB=1, so it reads the system tzdata in /usr/share/zoneinfo (the
// same files the OS and every other tool use, updated by apt) and never
// downloads anything; its API is std::chrono-typed, thread-safe after first
// load, and it reports nonexistent/ambiguous local times explicitly, which
// the DST policy below needs. libical's zones are used only as a fallback for
// feed-defined VTIMEZONEs whose TZID is not an IANA name (see busy.h).
// Limitation: date-tz does not read the TZif POSIX footer, so rules are exact
// only while the zoneinfo files list explicit transitions (Debian ships "fat"
// files: through 2037).
//
// DST policy (documented in docs/oracle.md):
//  * nonexistent local time (spring-forward gap):
//    - provider rules (kFirstValidInstant): move forward to the first valid
//      instant, i.e. the instant the gap ends (02:30 on the US change day ->
//      03:00 EDT);
//    - ICS date-times (kOffsetBefore, RFC 5545 3.3.5): read with the UTC
//      offset before the transition (02:30 -> 02:30 EST = 03:30 EDT), as
//      libical and calendar clients do;
//  * repeated local time (fall-back overlap): the first occurrence (the
//    earlier UTC instant, still on summer time), for both.

#include <chrono>
#include <string_view>

#include "calendar/oracle/types.h"

namespace date {
class time_zone;
}

namespace calprobe::calendar::oracle {

using Zone = date::time_zone;
// Local wall time as seconds since 1970-01-01T00:00 local (no zone attached).
using LocalSeconds = std::chrono::duration<int64_t>;

// Returns the zone for an IANA name, or nullptr when unknown. Thread-safe;
// the returned pointer lives for the process.
const Zone* FindZone(std::string_view iana_name);

enum class GapPolicy { kFirstValidInstant, kOffsetBefore };

// Converts a local wall time in `zone` to UTC with the DST policy above.
TimePoint LocalToUtc(const Zone& zone, LocalSeconds local,
                     GapPolicy gap = GapPolicy::kFirstValidInstant);

// The local wall time of a UTC instant in `zone`.
LocalSeconds UtcToLocal(const Zone& zone, TimePoint t);

// UTC offset of `zone` at instant t.
std::chrono::seconds UtcOffset(const Zone& zone, TimePoint t);

// Days since 1970-01-01 of a local wall time, and the local midnight of a day.
inline int64_t LocalDay(LocalSeconds l) {
  int64_t s = l.count();
  return (s >= 0 ? s : s - 86399) / 86400;
}
inline LocalSeconds DayStart(int64_t day) { return LocalSeconds(day * 86400); }
// ISO weekday of a day number: 0 = Monday .. 6 = Sunday.
inline int WeekdayIndex(int64_t day) { return static_cast<int>(((day % 7) + 7 + 3) % 7); }

}  // namespace calprobe::calendar::oracle
