#pragma once
// Busy time from an ICS feed, parsed once and expanded on demand within a
// window. Semantics (docs/oracle.md):
//  * VEVENTs with TRANSP:TRANSPARENT or STATUS:CANCELLED do not block;
//    a cancelled RECURRENCE-ID override removes that one instance.
//  * RRULE + RDATE + EXDATE; RECURRENCE-ID overrides replace the instance
//    they name (libical's iterators ignore them, so the oracle applies them).
//    RANGE=THISANDFUTURE is treated as a single-instance override.
//  * Times: UTC ("Z") as is; TZID=<IANA name> through tz.h; a TZID that is
//    not an IANA name through the feed's own VTIMEZONE (libical); floating
//    times and DATE values in the provider's time zone (passed to Expand).
//    All-day events (DATE) block whole local days in the provider's zone.
//    A nonexistent local time (DST gap) is read with the offset before the
//    gap (RFC 5545 3.3.5); a repeated one as its first occurrence.
//  * Recurrences are expanded in local time of DTSTART (a 09:00 weekly
//    meeting stays 09:00 across DST), starting near the window: the common
//    shapes (FREQ=DAILY/WEEKLY with INTERVAL, BYDAY, COUNT, UNTIL, WKST) by a
//    closed-form expander, anything else by libical's iterator started at the
//    window (icalrecur_iterator_set_start) or, with COUNT, from DTSTART with a
//    cap of kMaxFallbackInstances per series.
//  * An RRULE libical cannot parse makes the event a single event (as
//    libical does) and is reported in warnings().
// Thread safety: a BusyCalendar is an immutable, cheap-to-copy handle; all
// methods may be called concurrently (expansion and the per-zone memo are
// serialised by a mutex per parsed feed).

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "calendar/oracle/types.h"
#include "calendar/oracle/tz.h"

namespace calprobe::calendar::oracle {

inline constexpr int kMaxFallbackInstances = 20000;

struct BusyStats {
  int events = 0;            // VEVENTs that block (masters + singles + overrides)
  int fast_series = 0;       // recurring masters expanded in closed form
  int fallback_series = 0;   // recurring masters expanded by libical
};

class BusyCalendar {
 public:
  BusyCalendar() = default;  // empty: nothing is busy

  // Parses ICS text. On a body libical cannot parse at all, returns an empty
  // calendar and sets *error (when non-null). `version` is informational.
  static BusyCalendar FromIcs(std::string_view ics, std::string version = {},
                              std::string* error = nullptr);

  // Busy spans overlapping [from, to), sorted and merged. `floating_zone` is
  // the provider's zone (floating times, DATE values); may be null (= UTC).
  // Memoised per zone: a miss expands [from - 1 day, to + 7 days) once, and
  // any window inside that is answered without re-expanding ("warm").
  std::vector<Span> Expand(TimePoint from, TimePoint to, const Zone* floating_zone) const;

  // The same, but every blocking instance unmerged (for explanations).
  std::vector<Span> Instances(TimePoint from, TimePoint to, const Zone* floating_zone) const;

  // UIDs of the events with a blocking instance overlapping [from, to), in
  // feed order (for explanations).
  std::vector<std::string> UidsOverlapping(TimePoint from, TimePoint to,
                                           const Zone* floating_zone) const;

  const std::string& version() const;
  const std::vector<std::string>& warnings() const;
  BusyStats stats() const;
  bool empty() const { return impl_ == nullptr; }

  struct Impl;  // defined in busy.cc

 private:
  std::shared_ptr<const Impl> impl_;
};

// Caches one BusyCalendar per feed id, re-parsing only when the version
// (ETag, content hash, ...) changes. Thread-safe.
class BusyCalendarCache {
 public:
  BusyCalendar Get(const std::string& feed_id, const std::string& version,
                   std::string_view ics, std::string* error = nullptr);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, BusyCalendar> feeds_;
};

}  // namespace calprobe::calendar::oracle
