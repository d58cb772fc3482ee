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

  // Snapshot entry: the map is built at the end of the feed (BuildSnapshot).
  PendingEvent& p = pending_.emplace_back();
  p.key_offset = key_arena_.size();
  key_arena_.append(e.uid);
  if (e.has_uid) {
    key_arena_.append(e.recurrence_id);
  } else {
    char buf[32];
    key_arena_.append(buf,
                      static_cast<size_t>(std::snprintf(buf, sizeof buf, "no-uid:%016llx",
                                                        static_cast<unsigned long long>(e.hash))));
  }
  p.uid_size = e.uid.size();
  p.recurrence_id_size = key_arena_.size() - p.key_offset - e.uid.size();
  p.hash = e.hash;
  p.begin_line = e.begin_line;
  p.has_uid = e.has_uid;
  p.has_recurrence_id = e.has_recurrence_id;
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

std::string_view Analyzer::PendingUid(const PendingEvent& p) const {
  return std::string_view(key_arena_).substr(p.key_offset, p.uid_size);
}

std::string_view Analyzer::PendingRecurrenceId(const PendingEvent& p) const {
  return std::string_view(key_arena_).substr(p.key_offset + p.uid_size, p.recurrence_id_size);
}

// Inserting event by event in feed order touches the hash map at random:
// on a 50k-event feed (a map of several MB) nearly every insert missed the
// cache. Inserting in bucket order instead (a stable counting sort, so
// copies of one key still combine in feed order) keeps the bucket array
// and the freshly allocated nodes and key strings hot and side by side,
// and makes ComputeDelta's walk over two such snapshots sequential too.
// The entries and their key text, read in bucket order, are fetched ahead.
void Analyzer::BuildSnapshot() {
  auto& events = result_.snapshot.events;
  const size_t n = pending_.size();
  events.reserve(n);  // no rehash below: the bucket order stays valid
  const size_t buckets = events.bucket_count();
  std::vector<size_t> bucket(n);
  for (size_t i = 0; i < n; ++i) {
    // The map's own bucket (libstdc++: hash % bucket_count); with another
    // standard library this order is merely slower, never wrong.
    bucket[i] = EventKeyHashOf(PendingUid(pending_[i]), PendingRecurrenceId(pending_[i])) % buckets;
  }
  const std::vector<size_t> order = BucketOrder(bucket, buckets);
  // Two steps ahead: the entry (to know where its text is), then the text.
  constexpr size_t kAhead = 8;
  std::vector<size_t> duplicates;
  for (size_t k = 0; k < n; ++k) {
    if (k + 2 * kAhead < n) __builtin_prefetch(&pending_[order[k + 2 * kAhead]]);
    if (k + kAhead < n) {
      __builtin_prefetch(key_arena_.data() + pending_[order[k + kAhead]].key_offset);
    }
    const PendingEvent& p = pending_[order[k]];
    EventKey key{std::string(PendingUid(p)), std::string(PendingRecurrenceId(p))};
    auto [it, inserted] = events.try_emplace(std::move(key), p.hash);
    if (!inserted) {
      it->second += p.hash * 0x9E3779B97F4A7C15ull + 1;
      if (p.has_uid) duplicates.push_back(order[k]);
    }
  }
  // Feed order, as if reported when each event closed (the per-code cap
  // keeps the first ones).
  std::sort(duplicates.begin(), duplicates.end());
  for (size_t i : duplicates) ReportDuplicate(pending_[i]);
  pending_ = {};
  key_arena_ = {};
}

std::vector<size_t> BucketOrder(const std::vector<size_t>& bucket, size_t bucket_count) {
  std::vector<size_t> next_slot(bucket_count + 1, 0);
  for (size_t b : bucket) ++next_slot[b + 1];
  for (size_t b = 0; b < bucket_count; ++b) next_slot[b + 1] += next_slot[b];
  std::vector<size_t> order(bucket.size());
  for (size_t i = 0; i < bucket.size(); ++i) order[next_slot[bucket[i]]++] = i;
  return order;
}

void Analyzer::ReportDuplicate(const PendingEvent& p) {
  sink_.Report("event.duplicate_uid", kError, p.begin_line, [&] {
    return std::make_pair(
        "UID " + QuoteForMessage(PendingUid(p)) +
            (p.has_recurrence_id ? " with RECURRENCE-ID " + QuoteForMessage(PendingRecurrenceId(p))
                                 : std::string()) +
            " appears more than once; clients keep one copy at random.",
        std::string("Give every event its own UID; only overrides of a recurring event "
                    "share a UID, each with a distinct RECURRENCE-ID."));
  });
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
