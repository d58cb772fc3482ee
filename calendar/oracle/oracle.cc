#include "calendar/oracle/oracle.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>

#include "calendar/oracle/tz.h"

namespace calprobe::calendar::oracle {

namespace {

using std::chrono::minutes;

constexpr const char* kDayNames[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

std::string Hhmm(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

void CheckSpans(const std::vector<Span>& spans, const std::string& path,
                std::vector<TruthError>* errors) {
  for (size_t i = 0; i < spans.size(); ++i) {
    if (!(spans[i].start < spans[i].end)) {
      errors->push_back({path + "[" + std::to_string(i) + "].end",
                         "end " + FormatUtc(spans[i].end) + " is not after start " +
                             FormatUtc(spans[i].start) + "; give a non-empty span"});
    }
  }
}

bool RuleValid(const WeeklyRule& r) {
  return r.weekday_mask != 0 && r.weekday_mask <= kEveryDay && r.start_minute >= 0 &&
         r.start_minute < 1440 && r.end_minute <= 1440 && r.start_minute < r.end_minute;
}

// Sorted, merged union of several span lists.
std::vector<Span> MergeAll(std::vector<Span> spans) {
  std::sort(spans.begin(), spans.end());
  std::vector<Span> out;
  for (const Span& s : spans) {
    if (!(s.start < s.end)) continue;
    if (!out.empty() && s.start <= out.back().end) {
      out.back().end = std::max(out.back().end, s.end);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

// True iff [start, end) overlaps one of the sorted, merged spans.
bool OverlapsAny(const std::vector<Span>& merged, TimePoint start, TimePoint end) {
  auto it = std::upper_bound(merged.begin(), merged.end(), start,
                             [](TimePoint t, const Span& s) { return t < s.end; });
  return it != merged.end() && it->start < end;
}

}  // namespace

std::vector<TruthError> ValidateTruth(const ProviderTruth& truth, const std::string& prefix) {
  std::vector<TruthError> errors;
  if (truth.timezone.empty()) {
    errors.push_back({prefix + ".timezone",
                      "missing; give an IANA time zone name such as \"Europe/Berlin\""});
  } else if (FindZone(truth.timezone) == nullptr) {
    errors.push_back({prefix + ".timezone",
                      "unknown time zone \"" + truth.timezone +
                          "\"; give an IANA name such as \"America/New_York\" "
                          "(see /usr/share/zoneinfo)"});
  }
  for (size_t i = 0; i < truth.rules.size(); ++i) {
    const WeeklyRule& r = truth.rules[i];
    const std::string p = prefix + ".rules[" + std::to_string(i) + "]";
    if (r.weekday_mask == 0 || r.weekday_mask > kEveryDay) {
      errors.push_back({p + ".weekdays", "no valid weekday (mask " +
                                             std::to_string(r.weekday_mask) +
                                             "); name at least one of Monday..Sunday"});
    }
    if (r.start_minute < 0 || r.start_minute >= 1440) {
      errors.push_back({p + ".start", "start must be between 00:00 and 23:59 local time"});
    }
    if (r.end_minute <= 0 || r.end_minute > 1440) {
      errors.push_back({p + ".end", "end must be between 00:01 and 24:00 local time"});
    } else if (r.start_minute >= 0 && r.end_minute <= r.start_minute) {
      errors.push_back({p + ".end", "end " + Hhmm(r.end_minute) + " is not after start " +
                                        Hhmm(r.start_minute) +
                                        "; split rules that cross midnight into two"});
    }
  }
  for (size_t j = 0; j < truth.rules.size(); ++j) {
    const WeeklyRule& b = truth.rules[j];
    if (!RuleValid(b)) continue;
    for (size_t i = 0; i < j; ++i) {
      const WeeklyRule& a = truth.rules[i];
      if (!RuleValid(a)) continue;
      const uint8_t shared = a.weekday_mask & b.weekday_mask;
      if (shared == 0 || !(a.start_minute < b.end_minute && b.start_minute < a.end_minute)) {
        continue;
      }
      const int day = std::countr_zero(static_cast<unsigned>(shared));
      errors.push_back({prefix + ".rules[" + std::to_string(j) + "]",
                        "overlaps " + prefix + ".rules[" + std::to_string(i) + "] on " +
                            kDayNames[day] + " (" + Hhmm(b.start_minute) + "-" +
                            Hhmm(b.end_minute) + " vs " + Hhmm(a.start_minute) + "-" +
                            Hhmm(a.end_minute) + "); merge them or make them disjoint"});
      break;
    }
  }
  if (truth.slot_minutes <= 0 || truth.slot_minutes > 1440) {
    errors.push_back({prefix + ".slot_minutes",
                      "must be between 1 and 1440, got " + std::to_string(truth.slot_minutes)});
  }
  if (truth.granularity_minutes <= 0) {
    errors.push_back({prefix + ".granularity_minutes",
                      "must be positive, got " + std::to_string(truth.granularity_minutes)});
  }
  if (truth.lead_time_hours < 0) {
    errors.push_back({prefix + ".lead_time_hours",
                      "must be 0 or more, got " + std::to_string(truth.lead_time_hours)});
  }
  CheckSpans(truth.blocked, prefix + ".blocked", &errors);
  CheckSpans(truth.extra, prefix + ".extra", &errors);
  CheckSpans(truth.holds, prefix + ".holds", &errors);
  CheckSpans(truth.bookings, prefix + ".bookings", &errors);
  return errors;
}

std::vector<Span> OpenSpans(const ProviderTruth& truth, TimePoint from, TimePoint to) {
  std::vector<Span> out;
  const Zone* zone = FindZone(truth.timezone);
  if (zone == nullptr || !(from < to)) return out;
  const Span window{from, to};
  // One day of margin: a local day's rules can start before its UTC day.
  const int64_t first = LocalDay(UtcToLocal(*zone, from)) - 1;
  const int64_t last = LocalDay(UtcToLocal(*zone, to)) + 1;
  for (int64_t d = first; d <= last; ++d) {
    const int wd = WeekdayIndex(d);
    for (const WeeklyRule& r : truth.rules) {
      if (!RuleValid(r) || !((r.weekday_mask >> wd) & 1)) continue;
      const Span s{LocalToUtc(*zone, DayStart(d) + minutes(r.start_minute)),
                   LocalToUtc(*zone, DayStart(d) + minutes(r.end_minute))};
      if (s.start < s.end && s.Overlaps(window)) out.push_back(s);
    }
  }
  for (const Span& s : truth.extra) {
    if (s.start < s.end && s.Overlaps(window)) out.push_back(s);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Slot> ComputeSlots(const ProviderTruth& truth, TimePoint from, TimePoint to,
                               TimePoint now) {
  std::vector<Slot> slots;
  const Zone* zone = FindZone(truth.timezone);
  if (zone == nullptr || truth.slot_minutes <= 0 || truth.granularity_minutes <= 0 ||
      !(from < to)) {
    return slots;
  }
  const auto duration = minutes(truth.slot_minutes);
  const auto step = minutes(truth.granularity_minutes);
  const TimePoint earliest =
      std::max(from, now + std::chrono::hours(std::max(0, truth.lead_time_hours)));

  std::vector<Span> unavailable = truth.busy.Expand(from, to, zone);
  for (const auto* list : {&truth.blocked, &truth.holds, &truth.bookings}) {
    for (const Span& s : *list) {
      if (s.Overlaps(Span{from, to})) unavailable.push_back(s);
    }
  }
  unavailable = MergeAll(std::move(unavailable));

  for (const Span& open : OpenSpans(truth, from, to)) {
    TimePoint start = open.start;
    if (start < earliest) {
      const auto behind = earliest - start;
      start += step * ((behind + step - TimePoint::duration(1)) / step);
    }
    for (; start + duration <= open.end && start + duration <= to; start += step) {
      const TimePoint end = start + duration;
      if (!OverlapsAny(unavailable, start, end)) slots.push_back({start, end});
    }
  }
  std::sort(slots.begin(), slots.end());
  slots.erase(std::unique(slots.begin(), slots.end()), slots.end());
  return slots;
}

}  // namespace calprobe::calendar::oracle
