// Recurrence expansion for busy feeds: a closed-form expander for
// FREQ=DAILY/WEEKLY shapes and libical's iterator for everything else. Both
// start near the window; neither walks from a DTSTART years back.

#include <date/date.h>

#include <algorithm>
#include <bit>

#include "calendar/oracle/busy_internal.h"

namespace calprobe::calendar::oracle {

namespace {

constexpr int64_t kDay = 86400;

icaltimetype WallToIcal(LocalSeconds wall, const icaltimetype& like) {
  const int64_t day = LocalDay(wall);
  const int64_t sec = wall.count() - day * kDay;
  const date::year_month_day ymd{date::sys_days{date::days{day}}};
  icaltimetype t = like;
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  if (!like.is_date) {
    t.hour = static_cast<int>(sec / 3600);
    t.minute = static_cast<int>(sec / 60 % 60);
    t.second = static_cast<int>(sec % 60);
  }
  return t;
}

LocalSeconds IcalWall(const icaltimetype& t) {
  const date::year_month_day ymd{date::year{t.year}, date::month(static_cast<unsigned>(t.month)),
                                 date::day(static_cast<unsigned>(t.day))};
  const int64_t day = date::sys_days{ymd}.time_since_epoch().count();
  const int64_t sec = t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second;
  return LocalSeconds(day * kDay + sec);
}

// Bits of `mask` for the days [first, last] (day numbers).
int64_t MaskDaysIn(uint8_t mask, int64_t first, int64_t last) {
  if (last < first) return 0;
  const int64_t weeks = (last - first + 1) / 7;
  int64_t n = weeks * std::popcount(mask);
  for (int64_t d = first + weeks * 7; d <= last; ++d) n += (mask >> WeekdayIndex(d)) & 1;
  return n;
}

class Emitter {
 public:
  Emitter(const Series& s, TimePoint from, TimePoint to, const Zone* floating,
          std::vector<Span>* out)
      : s_(s), window_{from, to}, floating_(floating), out_(out) {
    for (const IcsTime& x : s.exdates) {
      if (x.frame == TimeFrame::kDate && s.start.frame != TimeFrame::kDate) {
        excluded_days_.push_back(LocalDay(x.wall));
      } else {
        excluded_.push_back(Resolve(x, floating));
      }
    }
    for (const IcsTime& x : s.overridden) excluded_.push_back(Resolve(x, floating));
    std::sort(excluded_.begin(), excluded_.end());
  }

  // Emits the instance starting at `wall` (in the series' frame); returns its
  // UTC start.
  TimePoint EmitWall(LocalSeconds wall) {
    const TimePoint start = ResolveWall(s_.start, wall, floating_);
    if (!excluded_days_.empty() &&
        std::find(excluded_days_.begin(), excluded_days_.end(), LocalDay(wall)) !=
            excluded_days_.end()) {
      return start;
    }
    const TimePoint end = s_.start.frame == TimeFrame::kDate
                              ? ResolveWall(s_.start, wall + LocalSeconds(s_.duration_days * kDay),
                                            floating_)
                              : start + std::chrono::seconds(s_.duration_seconds);
    EmitSpan(start, end);
    return start;
  }

  void EmitSpan(TimePoint start, TimePoint end) {
    if (end <= start) return;  // zero-length events block nothing
    if (std::binary_search(excluded_.begin(), excluded_.end(), start)) return;
    const Span span{start, end};
    if (span.Overlaps(window_)) out_->push_back(span);
  }

 private:
  const Series& s_;
  Span window_;
  const Zone* floating_;
  std::vector<Span>* out_;
  std::vector<TimePoint> excluded_;
  std::vector<int64_t> excluded_days_;
};

// True iff the instance at `wall` is after UNTIL (UTC, DATE or local).
bool PastUntil(const Series& s, const std::optional<IcsTime>& until,
               const std::optional<TimePoint>& until_utc, LocalSeconds wall,
               const Zone* floating) {
  if (!until) return false;
  if (until->frame == TimeFrame::kDate) return LocalDay(wall) > LocalDay(until->wall);
  if (until_utc) return ResolveWall(s.start, wall, floating) > *until_utc;
  return wall > until->wall;
}

void ExpandFast(const Series& s, const FastRule& r, LocalSeconds lo_wall, LocalSeconds hi_wall,
                const Zone* floating, Emitter* emit) {
  const int64_t d0 = LocalDay(s.start.wall);
  const LocalSeconds tod = s.start.wall - DayStart(d0);
  const int64_t dlo = std::max(d0, LocalDay(lo_wall));
  const int64_t dhi = LocalDay(hi_wall);
  const int interval = std::max(1, r.interval);
  const auto week_start = [&](int64_t d) { return d - (WeekdayIndex(d) - r.wkst + 7) % 7; };
  const uint8_t mask = r.byday != 0 ? r.byday : static_cast<uint8_t>(1u << WeekdayIndex(d0));
  const int64_t ws0 = week_start(d0);
  const int per_period = std::popcount(mask);
  const int64_t before_start = MaskDaysIn(mask, ws0, d0 - 1);
  std::optional<TimePoint> until_utc;
  if (r.until && r.until->frame == TimeFrame::kUtc) until_utc = Resolve(*r.until, floating);

  for (int64_t d = dlo; d <= dhi; ++d) {
    const int wd = WeekdayIndex(d);
    if (r.weekly) {
      if (!((mask >> wd) & 1)) continue;
      const int64_t k = (week_start(d) - ws0) / 7;
      if (k % interval != 0) continue;
      if (r.count > 0) {
        const int64_t n = (k / interval) * per_period - before_start +
                          MaskDaysIn(mask, week_start(d), d);
        if (n > r.count) break;
      }
    } else {
      if ((d - d0) % interval != 0) continue;
      if (r.byday != 0 && !((r.byday >> wd) & 1)) continue;
      if (r.count > 0) {
        // With BYDAY only INTERVAL=1 reaches here (busy.cc FastShape).
        const int64_t n = r.byday != 0 ? MaskDaysIn(r.byday, d0, d) : (d - d0) / interval + 1;
        if (n > r.count) break;
      }
    }
    const LocalSeconds wall = DayStart(d) + tod;
    if (PastUntil(s, r.until, until_utc, wall, floating)) break;
    emit->EmitWall(wall);
  }
}

void ExpandLibical(const Series& s, LocalSeconds lo_wall, LocalSeconds hi_wall,
                   const Zone* floating, Emitter* emit) {
  std::optional<TimePoint> until_utc;
  if (s.fallback_until && s.fallback_until->frame == TimeFrame::kUtc) {
    until_utc = Resolve(*s.fallback_until, floating);
  }
  icalrecur_iterator* it = icalrecur_iterator_new(*s.fallback, s.ical_start);
  if (it == nullptr) return;
  if (s.fallback->count == 0 && lo_wall > s.start.wall) {
    icalrecur_iterator_set_start(it, WallToIcal(lo_wall, s.ical_start));
  }
  for (int n = 0; n < kMaxFallbackInstances; ++n) {
    const icaltimetype t = icalrecur_iterator_next(it);
    if (icaltime_is_null_time(t)) break;
    const LocalSeconds wall = IcalWall(t);
    if (wall > hi_wall || PastUntil(s, s.fallback_until, until_utc, wall, floating)) break;
    if (wall < lo_wall) continue;
    emit->EmitWall(wall);
  }
  icalrecur_iterator_free(it);
}

}  // namespace

// ICS times use RFC 5545's reading of nonexistent local times (tz.h).
TimePoint ResolveWall(const IcsTime& t, LocalSeconds wall, const Zone* floating) {
  switch (t.frame) {
    case TimeFrame::kUtc:
      return TimePoint(std::chrono::duration_cast<TimePoint::duration>(wall));
    case TimeFrame::kZone:
      return LocalToUtc(*t.zone, wall, GapPolicy::kOffsetBefore);
    case TimeFrame::kVtimezone: {
      icaltimetype like = icaltime_null_time();
      like.zone = t.vtz;
      const icaltimetype it = WallToIcal(wall, like);
      return TimePoint(std::chrono::seconds(icaltime_as_timet_with_zone(it, t.vtz)));
    }
    case TimeFrame::kFloating:
    case TimeFrame::kDate:
    default:
      if (floating != nullptr) return LocalToUtc(*floating, wall, GapPolicy::kOffsetBefore);
      return TimePoint(std::chrono::duration_cast<TimePoint::duration>(wall));
  }
}

LocalSeconds ToWall(const IcsTime& t, TimePoint utc, const Zone* floating) {
  const LocalSeconds as_utc(std::chrono::floor<std::chrono::seconds>(utc).time_since_epoch());
  switch (t.frame) {
    case TimeFrame::kUtc:
      return as_utc;
    case TimeFrame::kZone:
      return UtcToLocal(*t.zone, utc);
    case TimeFrame::kVtimezone:
      return IcalWall(icaltime_from_timet_with_zone(
          static_cast<time_t>(as_utc.count()), 0, t.vtz));
    default:
      return floating != nullptr ? UtcToLocal(*floating, utc) : as_utc;
  }
}

void ExpandSeries(const Series& s, TimePoint from, TimePoint to, const Zone* floating,
                  std::vector<Span>* out) {
  Emitter emit(s, from, to, floating, out);
  if (!s.recurring) {
    emit.EmitWall(s.start.wall);
  } else {
    const int64_t length = s.start.frame == TimeFrame::kDate ? s.duration_days * kDay
                                                              : s.duration_seconds;
    // One day of margin on both sides absorbs UTC-offset differences.
    const LocalSeconds lo_wall =
        ToWall(s.start, from, floating) - LocalSeconds(length + kDay);
    const LocalSeconds hi_wall = ToWall(s.start, to, floating) + LocalSeconds(kDay);
    if (s.fast) {
      ExpandFast(s, *s.fast, lo_wall, hi_wall, floating, &emit);
    } else if (s.fallback) {
      ExpandLibical(s, lo_wall, hi_wall, floating, &emit);
    }
  }
  for (const IcsTime& r : s.rdates) {
    const TimePoint start = Resolve(r, floating);
    if (s.start.frame == TimeFrame::kDate) {
      emit.EmitSpan(start, ResolveWall(r, r.wall + LocalSeconds(s.duration_days * kDay), floating));
    } else {
      emit.EmitSpan(start, start + std::chrono::seconds(s.duration_seconds));
    }
  }
}

}  // namespace calprobe::calendar::oracle
