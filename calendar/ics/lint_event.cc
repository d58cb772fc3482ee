// Checks run when a VEVENT closes: required properties, DTEND/DURATION,
// EXDATE types, and its entry in the snapshot (duplicates, overrides).

#include <algorithm>
#include <cstdio>

#include "calendar/ics/analyzer.h"
#include "calendar/ics/text.h"

namespace calprobe::calendar::internal {
namespace {

constexpr Severity kError = Severity::kError;
constexpr Severity kWarning = Severity::kWarning;

// True iff the two values can be compared without time-zone rules.
bool Comparable(const DateProp& a, const DateProp& b) {
  if (a.value.is_date != b.value.is_date) return false;
  if (a.value.is_date) return true;
  if (a.value.utc != b.value.utc) return false;
  return a.value.utc || a.tzid == b.tzid;
}

}  // namespace

void Analyzer::FinishEvent() {
  in_event_ = false;
  EventState& e = event_;
  if (!e.has_uid) {
    sink_.Report("event.missing_uid", kError, e.begin_line, [] {
      return std::make_pair(
          std::string("VEVENT without UID."),
          std::string("Give every event a stable, globally unique UID that never changes "
                      "between polls; without it clients duplicate or lose the event on each "
                      "sync."));
    });
  }
  if (!e.has_dtstamp) {
    sink_.Report("event.missing_dtstamp", kWarning, e.begin_line, [] {
      return std::make_pair(std::string("VEVENT without DTSTAMP (required by RFC 5545)."),
                            std::string("Add DTSTAMP with the UTC time the feed was generated "
                                        "or the event last changed."));
    });
  }
  if (!e.dtstart.present) {
    sink_.Report("event.missing_dtstart", kError, e.begin_line, [] {
      return std::make_pair(std::string("VEVENT without DTSTART: clients drop the event."),
                            std::string("Add DTSTART (with TZID or in UTC) to every event."));
    });
  }
  if (e.dtend.present && e.has_duration) {
    sink_.Report("event.dtend_and_duration", kError, std::max(e.dtend.line, e.duration_line),
                 [] {
                   return std::make_pair(
                       std::string("VEVENT has both DTEND and DURATION; they are mutually "
                                   "exclusive and clients pick one arbitrarily."),
                       std::string("Keep DTEND and remove DURATION (or the reverse)."));
                 });
  }
  if (e.dtstart.valid) {
    bool before = false;
    int line = 0;
    if (e.dtend.valid && Comparable(e.dtstart, e.dtend) &&
        e.dtend.value.SortKey() < e.dtstart.value.SortKey()) {
      before = true;
      line = e.dtend.line;
    } else if (e.has_duration && e.duration_valid && e.duration_seconds < 0) {
      before = true;
      line = e.duration_line;
    }
    if (before) {
      sink_.Report("event.end_before_start", kError, line, [] {
        return std::make_pair(
            std::string("The event ends before it starts; clients drop it or show it with no "
                        "duration."),
            std::string("Make DTEND later than DTSTART (check time-zone conversion and the "
                        "exclusive end date of all-day events)."));
      });
    }
  }
  int64_t last_instance = INT64_MIN;
  if (e.has_rrule) last_instance = CheckRrule();
  CheckExdates();

  // Snapshot entry.
  EventKey key;
  key.uid = e.uid;
  key.recurrence_id = e.recurrence_id;
  if (!e.has_uid) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "no-uid:%016llx", static_cast<unsigned long long>(e.hash));
    key.recurrence_id = buf;
  }
  auto [it, inserted] = result_.snapshot.events.try_emplace(std::move(key), e.hash);
  if (!inserted) {
    it->second += e.hash * 0x9E3779B97F4A7C15ull + 1;
    if (e.has_uid) {
      sink_.Report("event.duplicate_uid", kError, e.begin_line, [&] {
        return std::make_pair(
            "UID " + QuoteForMessage(e.uid) +
                (e.has_recurrence_id ? " with RECURRENCE-ID " + QuoteForMessage(e.recurrence_id)
                                     : std::string()) +
                " appears more than once; clients keep one copy at random.",
            std::string("Give every event its own UID; only overrides of a recurring event "
                        "share a UID, each with a distinct RECURRENCE-ID."));
      });
    }
  }
  if (e.has_recurrence_id && e.has_uid) overrides_.emplace_back(e.uid, e.begin_line);

  // Staleness inputs.
  latest_change_ = std::max(latest_change_, e.last_change);
  latest_dtstamp_ = std::max(latest_dtstamp_, e.dtstamp_unix);
  if (options_.now_unix != 0 && !has_upcoming_) {
    int64_t horizon = options_.now_unix - 86400;
    if (e.dtstart.valid && e.dtstart.value.ToUnixApprox() >= horizon) has_upcoming_ = true;
    if (last_instance >= horizon) has_upcoming_ = true;
  }
}

void Analyzer::CheckExdates() {
  const EventState& e = event_;
  if (!e.dtstart.valid) return;
  int line = e.dtstart.value.is_date ? e.exdate_datetime_line : e.exdate_date_line;
  if (line == 0) return;
  bool dtstart_is_date = e.dtstart.value.is_date;
  sink_.Report("exdate.type_mismatch", kWarning, line, [&] {
    return std::make_pair(
        std::string(dtstart_is_date ? "EXDATE is a DATE-TIME but DTSTART is a DATE"
                                    : "EXDATE is a DATE but DTSTART is a DATE-TIME") +
            ": the exclusion matches no instance, so the cancelled occurrence still shows.",
        std::string("Write EXDATE with the same value type, and the same TZID, as DTSTART "
                    "(e.g. EXDATE;TZID=Europe/Berlin:20250107T090000)."));
  });
}

}  // namespace calprobe::calendar::internal
