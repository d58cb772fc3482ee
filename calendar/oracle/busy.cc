// Parsing a busy ICS feed into Series (busy_internal.h) and the public
// BusyCalendar / BusyCalendarCache.

#include "calendar/oracle/busy.h"

#include <date/date.h>

#include <algorithm>
#include <map>

#include "calendar/oracle/busy_internal.h"

namespace calprobe::calendar::oracle {

namespace {

LocalSeconds WallOf(const icaltimetype& t) {
  const date::year_month_day ymd{date::year{t.year}, date::month(static_cast<unsigned>(t.month)),
                                 date::day(static_cast<unsigned>(t.day))};
  const int64_t day = date::sys_days{ymd}.time_since_epoch().count();
  const int64_t sec = t.is_date ? 0 : t.hour * 3600 + t.minute * 60 + t.second;
  return LocalSeconds(day * 86400 + sec);
}

class Parser {
 public:
  explicit Parser(BusyCalendar::Impl* impl) : impl_(impl) {}

  void CollectEvents(icalcomponent* comp, icalcomponent* calendar) {
    const icalcomponent_kind kind = icalcomponent_isa(comp);
    if (kind == ICAL_VCALENDAR_COMPONENT) calendar = comp;
    if (kind == ICAL_VEVENT_COMPONENT) {
      events_.push_back({comp, calendar});
      return;
    }
    for (icalcomponent* c = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT);
         c != nullptr; c = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT)) {
      CollectEvents(c, calendar);
    }
  }

  void Build() {
    impl_->series.reserve(events_.size());
    // Overrides first, so masters know which instances are replaced.
    std::map<std::string, std::vector<IcsTime>> overridden;
    for (const auto& [ev, cal] : events_) {
      if (icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY) == nullptr) continue;
      const char* uid = icalcomponent_get_uid(ev);
      if (auto rid = TimeOf(ev, ICAL_RECURRENCEID_PROPERTY, cal)) {
        overridden[uid ? uid : ""].push_back(*rid);
      }
    }
    for (const auto& [ev, cal] : events_) {
      const char* uid_c = icalcomponent_get_uid(ev);
      const std::string uid = uid_c ? uid_c : "";
      const bool is_override =
          icalcomponent_get_first_property(ev, ICAL_RECURRENCEID_PROPERTY) != nullptr;
      for (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_XLICERROR_PROPERTY); p;
           p = icalcomponent_get_next_property(ev, ICAL_XLICERROR_PROPERTY)) {
        const char* text = icalproperty_get_xlicerror(p);
        Warn("event " + uid + ": " + (text ? text : "parse error") +
             " (a bad RRULE makes the event a single event)");
      }
      if (!Blocks(ev)) continue;
      Series s;
      s.uid = uid;
      auto start = TimeOf(ev, ICAL_DTSTART_PROPERTY, cal);
      if (!start) {
        Warn("event " + uid + ": no usable DTSTART; ignored");
        continue;
      }
      s.start = *start;
      SetDuration(ev, cal, &s);
      if (!is_override) {
        SetRecurrence(ev, cal, &s);
        if (auto it = overridden.find(uid); it != overridden.end()) s.overridden = it->second;
      }
      ++impl_->stats.events;
      impl_->series.push_back(std::move(s));
    }
  }

 private:
  void Warn(std::string w) {
    if (impl_->warnings.size() < 100) impl_->warnings.push_back(std::move(w));
  }

  static bool Blocks(icalcomponent* ev) {
    if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED) return false;
    if (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY)) {
      const icalproperty_transp t = icalproperty_get_transp(p);
      if (t == ICAL_TRANSP_TRANSPARENT || t == ICAL_TRANSP_TRANSPARENTNOCONFLICT) return false;
    }
    return true;
  }

  std::optional<IcsTime> FromIcal(const icaltimetype& t, icalproperty* p, icalcomponent* cal) {
    if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t)) return std::nullopt;
    IcsTime out;
    out.wall = WallOf(t);
    if (t.is_date) {
      out.frame = TimeFrame::kDate;
    } else if (icaltime_is_utc(t)) {
      out.frame = TimeFrame::kUtc;
    } else if (icalparameter* tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER)) {
      const char* tzid = icalparameter_get_tzid(tz);
      std::string_view name = tzid ? tzid : "";
      if (const Zone* z = FindZone(name)) {
        out.frame = TimeFrame::kZone;
        out.zone = z;
      } else if (icaltimezone* vtz =
                     cal ? icalcomponent_get_timezone(cal, std::string(name).c_str()) : nullptr) {
        out.frame = TimeFrame::kVtimezone;
        out.vtz = vtz;
      } else {
        Warn("unknown TZID \"" + std::string(name) + "\" (no IANA zone, no VTIMEZONE); "
             "treated as the provider's time zone");
        out.frame = TimeFrame::kFloating;
      }
    } else {
      out.frame = TimeFrame::kFloating;
    }
    return out;
  }

  std::optional<IcsTime> TimeOf(icalcomponent* ev, icalproperty_kind kind, icalcomponent* cal) {
    icalproperty* p = icalcomponent_get_first_property(ev, kind);
    if (p == nullptr) return std::nullopt;
    return FromIcal(icalvalue_get_datetime(icalproperty_get_value(p)), p, cal);
  }

  void SetDuration(icalcomponent* ev, icalcomponent* cal, Series* s) {
    const bool all_day = s->start.frame == TimeFrame::kDate;
    if (auto end = TimeOf(ev, ICAL_DTEND_PROPERTY, cal)) {
      if (all_day) {
        s->duration_days = static_cast<int>(LocalDay(end->wall) - LocalDay(s->start.wall));
      } else {
        // Exact duration; floating/zoned ends resolved against UTC is fine
        // for the difference unless the event spans a DST change, so use the
        // start's frame for both when they share it.
        const TimePoint a = ResolveWall(s->start, s->start.wall, nullptr);
        const TimePoint b = end->frame == s->start.frame && end->zone == s->start.zone
                                ? ResolveWall(s->start, end->wall, nullptr)
                                : ResolveWall(*end, end->wall, nullptr);
        s->duration_seconds =
            std::chrono::duration_cast<std::chrono::seconds>(b - a).count();
      }
    } else if (icalproperty* d = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY)) {
      const int secs = icaldurationtype_as_int(icalproperty_get_duration(d));
      if (all_day) {
        s->duration_days = secs / 86400;
      } else {
        s->duration_seconds = secs;
      }
    } else if (all_day) {
      s->duration_days = 1;  // RFC 5545: a DATE DTSTART without end lasts one day
    }
  }

  void SetRecurrence(icalcomponent* ev, icalcomponent* cal, Series* s) {
    for (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
      if (auto t = FromIcal(icalproperty_get_exdate(p), p, cal)) s->exdates.push_back(*t);
    }
    for (icalproperty* p = icalcomponent_get_first_property(ev, ICAL_RDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_RDATE_PROPERTY)) {
      const icaldatetimeperiodtype r = icalproperty_get_rdate(p);
      const icaltimetype t = icaltime_is_null_time(r.time) ? r.period.start : r.time;
      if (auto x = FromIcal(t, p, cal)) s->rdates.push_back(*x);
    }
    icalproperty* rp = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    if (rp == nullptr) return;
    const icalrecurrencetype rule = icalproperty_get_rrule(rp);
    if (rule.freq == ICAL_NO_RECURRENCE) {
      Warn("event " + s->uid + ": RRULE could not be parsed; treated as a single event");
      return;
    }
    s->recurring = true;
    if (auto fast = FastShape(rule, *s, rp, cal)) {
      s->fast = std::move(fast);
      ++impl_->stats.fast_series;
    } else {
      s->fallback = std::make_unique<icalrecurrencetype>(rule);
      s->fallback->until = icaltime_null_time();
      s->fallback_until = UntilOf(rule, *s, rp, cal);
      s->ical_start = icalvalue_get_datetime(icalproperty_get_value(
          icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY)));
      s->ical_start.zone = nullptr;
      ++impl_->stats.fallback_series;
    }
  }

  static bool OnlyEmpty(const short* a) { return a[0] == ICAL_RECURRENCE_ARRAY_MAX; }

  // The closed-form shape, or nullopt when libical must expand the rule.
  std::optional<FastRule> FastShape(const icalrecurrencetype& r, const Series& s,
                                    icalproperty* rp, icalcomponent* cal) {
    if (r.freq != ICAL_DAILY_RECURRENCE && r.freq != ICAL_WEEKLY_RECURRENCE) return std::nullopt;
    if (!OnlyEmpty(r.by_second) || !OnlyEmpty(r.by_minute) || !OnlyEmpty(r.by_hour) ||
        !OnlyEmpty(r.by_month_day) || !OnlyEmpty(r.by_year_day) || !OnlyEmpty(r.by_week_no) ||
        !OnlyEmpty(r.by_month) || !OnlyEmpty(r.by_set_pos) || r.rscale != nullptr) {
      return std::nullopt;
    }
    if (s.start.frame == TimeFrame::kVtimezone) return std::nullopt;
    FastRule f;
    f.weekly = r.freq == ICAL_WEEKLY_RECURRENCE;
    f.interval = r.interval > 0 ? r.interval : 1;
    f.count = r.count;
    // libical: SU=1 .. SA=7; ours: MO=0 .. SU=6.
    const auto to_ours = [](int ical_wd) { return (ical_wd + 5) % 7; };
    f.wkst = r.week_start == ICAL_NO_WEEKDAY ? 0 : to_ours(r.week_start);
    for (int i = 0; i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
      if (icalrecurrencetype_day_position(r.by_day[i]) != 0) return std::nullopt;
      f.byday |= static_cast<uint8_t>(1u << to_ours(icalrecurrencetype_day_day_of_week(r.by_day[i])));
    }
    // A DTSTART that does not match BYDAY is not an instance and does not
    // count toward COUNT: libical's behaviour (RFC 5545 would count it).
    if (!f.weekly && f.byday != 0 && f.count > 0 && f.interval != 1) return std::nullopt;
    f.until = UntilOf(r, s, rp, cal);
    return f;
  }

  std::optional<IcsTime> UntilOf(const icalrecurrencetype& r, const Series& s, icalproperty* rp,
                                 icalcomponent* cal) {
    if (icaltime_is_null_time(r.until)) return std::nullopt;
    std::optional<IcsTime> until = FromIcal(r.until, rp, cal);
    if (until && until->frame == TimeFrame::kFloating) {
      until->frame = s.start.frame;  // UNTIL is in DTSTART's frame when not UTC
      until->zone = s.start.zone;
      until->vtz = s.start.vtz;
    }
    return until;
  }

  BusyCalendar::Impl* impl_;
  std::vector<std::pair<icalcomponent*, icalcomponent*>> events_;
};

void MergeInto(std::vector<Span>* spans) {
  std::sort(spans->begin(), spans->end());
  size_t w = 0;
  for (size_t i = 0; i < spans->size(); ++i) {
    if (w > 0 && (*spans)[i].start <= (*spans)[w - 1].end) {
      (*spans)[w - 1].end = std::max((*spans)[w - 1].end, (*spans)[i].end);
    } else {
      (*spans)[w++] = (*spans)[i];
    }
  }
  spans->resize(w);
}

constexpr auto kMemoPadBefore = std::chrono::hours(24);
constexpr auto kMemoPadAfter = std::chrono::hours(24 * 7);
const std::string kEmptyString;
const std::vector<std::string> kNoWarnings;

}  // namespace

BusyCalendar BusyCalendar::FromIcs(std::string_view ics, std::string version, std::string* error) {
  auto impl = std::make_shared<Impl>();
  impl->version = std::move(version);
  const std::string text(ics);
  impl->root.reset(icalparser_parse_string(text.c_str()));
  BusyCalendar out;
  if (impl->root == nullptr) {
    if (error) *error = "busy ICS could not be parsed (not an iCalendar body)";
    return out;
  }
  Parser parser(impl.get());
  parser.CollectEvents(impl->root.get(), nullptr);
  parser.Build();
  out.impl_ = std::move(impl);
  return out;
}

std::vector<Span> BusyCalendar::Instances(TimePoint from, TimePoint to,
                                          const Zone* floating_zone) const {
  std::vector<Span> out;
  if (!impl_ || !(from < to)) return out;
  std::lock_guard lock(impl_->mu);  // libical iteration/VTIMEZONE caches are not shared-safe
  for (const Series& s : impl_->series) ExpandSeries(s, from, to, floating_zone, &out);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<Span> BusyCalendar::Expand(TimePoint from, TimePoint to,
                                       const Zone* floating_zone) const {
  std::vector<Span> out;
  if (!impl_ || !(from < to)) return out;
  const Span window{from, to};
  const auto from_memo = [&](const Impl::Memo& m) {
    auto it = std::lower_bound(m.merged.begin(), m.merged.end(), from,
                               [](const Span& s, TimePoint t) { return s.end <= t; });
    for (; it != m.merged.end() && it->start < to; ++it) {
      if (it->Overlaps(window)) out.push_back(*it);
    }
  };
  {
    std::lock_guard lock(impl_->mu);
    for (const Impl::Memo& m : impl_->memos) {
      if (m.zone != floating_zone || from < m.from || m.to < to) continue;
      from_memo(m);
      return out;
    }
  }
  // Miss: expand a padded window so that a probe's window sliding forward
  // cycle after cycle stays warm.
  Impl::Memo memo{floating_zone, from - kMemoPadBefore, to + kMemoPadAfter, {}};
  memo.merged = Instances(memo.from, memo.to, floating_zone);
  MergeInto(&memo.merged);
  from_memo(memo);
  std::lock_guard lock(impl_->mu);
  auto it = std::find_if(impl_->memos.begin(), impl_->memos.end(),
                         [&](const Impl::Memo& m) { return m.zone == floating_zone; });
  if (it == impl_->memos.end()) it = impl_->memos.insert(impl_->memos.end(), Impl::Memo{});
  *it = std::move(memo);
  return out;
}

std::vector<std::string> BusyCalendar::UidsOverlapping(TimePoint from, TimePoint to,
                                                       const Zone* floating_zone) const {
  std::vector<std::string> uids;
  if (!impl_ || !(from < to)) return uids;
  std::lock_guard lock(impl_->mu);
  std::vector<Span> tmp;
  for (const Series& s : impl_->series) {
    tmp.clear();
    ExpandSeries(s, from, to, floating_zone, &tmp);
    if (!tmp.empty() && std::find(uids.begin(), uids.end(), s.uid) == uids.end()) {
      uids.push_back(s.uid);
    }
  }
  return uids;
}

const std::string& BusyCalendar::version() const { return impl_ ? impl_->version : kEmptyString; }
const std::vector<std::string>& BusyCalendar::warnings() const {
  return impl_ ? impl_->warnings : kNoWarnings;
}
BusyStats BusyCalendar::stats() const { return impl_ ? impl_->stats : BusyStats{}; }

BusyCalendar BusyCalendarCache::Get(const std::string& feed_id, const std::string& version,
                                    std::string_view ics, std::string* error) {
  {
    std::lock_guard lock(mu_);
    auto it = feeds_.find(feed_id);
    if (it != feeds_.end() && !it->second.empty() && it->second.version() == version) {
      return it->second;
    }
  }
  BusyCalendar cal = BusyCalendar::FromIcs(ics, version, error);
  std::lock_guard lock(mu_);
  feeds_[feed_id] = cal;
  return cal;
}

size_t BusyCalendarCache::size() const {
  std::lock_guard lock(mu_);
  return feeds_.size();
}

}  // namespace calprobe::calendar::oracle
