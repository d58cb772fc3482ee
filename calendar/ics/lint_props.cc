// Per-property checks: calendar-level properties, event properties, value
// types libical would silently drop, enumerations and TZID references.

#include <algorithm>

#include "calendar/ics/analyzer.h"
#include "calendar/ics/text.h"

namespace calprobe::calendar::internal {
namespace {

constexpr Severity kError = Severity::kError;
constexpr Severity kWarning = Severity::kWarning;

constexpr std::string_view kNotARealDate =
    " is not a real date or time (e.g. February 30, month 13, hour 24); libical keeps it and "
    "rolls it over to another day, other clients drop the event.";

bool OneOf(std::string_view v, std::initializer_list<std::string_view> allowed) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](std::string_view a) { return EqualsIgnoreCase(v, a); });
}

bool HasTzidParam(Prop p) {
  return p == Prop::kDtstart || p == Prop::kDtend || p == Prop::kRecurrenceId ||
         p == Prop::kExdate || p == Prop::kRdate;
}

DateParams ReadDateParams(std::string_view params) {
  DateParams p;
  bool has_type = false;
  ForEachParam(params, [&](std::string_view name, std::string_view value) {
    if (!p.has_tzid && EqualsIgnoreCase(name, "TZID")) {
      p.has_tzid = true;
      p.tzid = value;
    } else if (!has_type && EqualsIgnoreCase(name, "VALUE")) {
      has_type = true;
      p.type = value;
    }
    return !(p.has_tzid && has_type);
  });
  return p;
}

}  // namespace

void EventState::Reset(int line, size_t stack_depth) {
  begin_line = line;
  depth = stack_depth;
  hash = 0;
  has_uid = false;
  uid.clear();
  has_recurrence_id = false;
  recurrence_id.clear();
  has_dtstamp = false;
  dtstart.present = dtstart.valid = false;
  dtstart.tzid.clear();
  dtend.present = dtend.valid = false;
  dtend.tzid.clear();
  has_duration = duration_valid = false;
  duration_seconds = 0;
  has_rrule = false;
  rrule.clear();
  rrule_line = 0;
  exdate_date_line = exdate_datetime_line = 0;
  last_change = 0;
  dtstamp_unix = 0;
}

void Analyzer::HandleProperty(const ContentLine& cl, Prop prop) {
  if (stack_.empty()) {
    sink_.Report("content.structure", kError, cl.line, [&] {
      return std::make_pair(
          "Property " + QuoteForMessage(cl.name, 40) + " outside of any component" +
              (saw_calendar_end_ ? " (after END:VCALENDAR)." : "."),
          std::string("Nothing may follow END:VCALENDAR (check for appended debug output or "
                      "HTML); every property belongs inside a component."));
    });
    return;
  }
  Component top = stack_.back().kind;
  if (top == Component::kTimezone) {
    if (prop == Prop::kTzid && defined_tzids_.size() < kMaxTrackedTzids) {
      defined_tzids_.emplace_back(cl.value);
    }
    return;
  }
  if (top == Component::kTzRule) return;
  DateParams dp;
  if (HasTzidParam(prop)) {
    dp = ReadDateParams(cl.params);
    if (dp.has_tzid) NoteTzid(dp.tzid, cl.line);
  }
  if (top == Component::kCalendar) {
    HandleCalendarProperty(cl, prop);
  } else if (top == Component::kEvent && in_event_ && stack_.size() == event_.depth) {
    HandleEventProperty(cl, prop, dp);
  }
}

void Analyzer::HandleCalendarProperty(const ContentLine& cl, Prop prop) {
  switch (prop) {
    case Prop::kVersion:
      calendar_has_version_ = true;
      if (cl.value != "2.0") ReportInvalid(cl, "2.0 (iCalendar); 1.0 is the old vCalendar format");
      break;
    case Prop::kProdid:
      calendar_has_prodid_ = true;
      break;
    case Prop::kXWrTimezone:
      x_wr_timezone_line_ = cl.line;
      x_wr_timezone_.assign(cl.value);
      break;
    case Prop::kRefreshInterval:
    case Prop::kXPublishedTtl: {
      int64_t seconds = 0;
      if (!ParseDuration(cl.value, &seconds) || seconds <= 0) {
        ReportInvalid(cl, "a positive DURATION such as PT1H or P1D");
      } else if (prop == Prop::kRefreshInterval || !result_.refresh_interval_seconds) {
        result_.refresh_interval_seconds = seconds;
      }
      break;
    }
    default:
      break;
  }
}

// `dp`: the parameters of date-valued properties (see HasTzidParam).
void Analyzer::HandleEventProperty(const ContentLine& cl, Prop prop, const DateParams& dp) {
  EventState& e = event_;
  switch (prop) {
    case Prop::kUid:
      // An empty UID identifies nothing: treated as missing.
      e.has_uid = !cl.value.empty();
      e.uid.assign(cl.value);
      break;
    case Prop::kDtstamp: {
      e.has_dtstamp = true;
      DateTime d;
      if (!ParseDateOrDateTime(cl.value, &d) || d.is_date) {
        ReportInvalid(cl, "a DATE-TIME such as 20250101T120000Z",
                      HasDateShape(cl.value) ? kNotARealDate : std::string_view());
      } else {
        e.dtstamp_unix = d.ToUnixApprox();
      }
      break;
    }
    case Prop::kLastModified:
    case Prop::kCreated: {
      DateTime d;
      if (!ParseDateOrDateTime(cl.value, &d) || d.is_date) {
        ReportInvalid(cl, "a DATE-TIME such as 20250101T120000Z",
                      HasDateShape(cl.value) ? kNotARealDate : std::string_view());
      } else {
        e.last_change = std::max(e.last_change, d.ToUnixApprox());
      }
      break;
    }
    case Prop::kDtstart:
      ReadDateProp(cl, dp, &e.dtstart);
      if (e.dtstart.valid && !e.dtstart.value.is_date && !e.dtstart.value.utc &&
          e.dtstart.tzid.empty()) {
        floating_lines_.push_back(cl.line);
      }
      break;
    case Prop::kDtend:
      ReadDateProp(cl, dp, &e.dtend);
      break;
    case Prop::kDuration:
      e.has_duration = true;
      e.duration_line = cl.line;
      e.duration_valid = ParseDuration(cl.value, &e.duration_seconds);
      if (!e.duration_valid) ReportInvalid(cl, "a DURATION such as PT1H30M or P1D");
      break;
    case Prop::kRecurrenceId: {
      e.has_recurrence_id = true;
      e.recurrence_id.assign(cl.value);
      DateTime d;
      if (!ParseDateOrDateTime(cl.value, &d)) {
        ReportInvalid(cl, "a DATE-TIME such as 20250101T120000 or a DATE such as 20250101",
                      HasDateShape(cl.value) ? kNotARealDate : std::string_view());
      }
      break;
    }
    case Prop::kRrule:
      e.has_rrule = true;
      e.rrule.assign(cl.value);
      e.rrule_line = cl.line;
      break;
    case Prop::kExdate:
      CheckDateList(cl, true);
      break;
    case Prop::kRdate:
      if (!EqualsIgnoreCase(dp.type, "PERIOD")) CheckDateList(cl, false);
      break;
    case Prop::kStatus:
      if (!OneOf(cl.value, {"TENTATIVE", "CONFIRMED", "CANCELLED"})) {
        sink_.Report("event.invalid_value", kWarning, cl.line, [&] {
          return std::make_pair(
              "STATUS:" + QuoteForMessage(cl.value, 40) + " is not a VEVENT status.",
              std::string("Use TENTATIVE, CONFIRMED or CANCELLED; clients ignore other values "
                          "(a cancelled event would still block time)."));
        });
      }
      break;
    case Prop::kTransp:
      if (!OneOf(cl.value, {"OPAQUE", "TRANSPARENT"})) {
        sink_.Report("event.invalid_value", kWarning, cl.line, [&] {
          return std::make_pair(
              "TRANSP:" + QuoteForMessage(cl.value, 40) + " is not OPAQUE or TRANSPARENT.",
              std::string("Use OPAQUE (busy) or TRANSPARENT (free); other values make clients "
                          "guess the free/busy state."));
        });
      }
      break;
    case Prop::kClass:
      if (!OneOf(cl.value, {"PUBLIC", "PRIVATE", "CONFIDENTIAL"}) &&
          !(cl.value.size() > 2 && EqualsIgnoreCase(cl.value.substr(0, 2), "X-"))) {
        sink_.Report("event.invalid_value", kWarning, cl.line, [&] {
          return std::make_pair(
              "CLASS:" + QuoteForMessage(cl.value, 40) + " is not a standard class.",
              std::string("Use PUBLIC, PRIVATE or CONFIDENTIAL; RFC 5545 tells clients to treat "
                          "unknown classes as PRIVATE, hiding the event's details."));
        });
      }
      break;
    case Prop::kPriority:
      if (!IsValidInteger(cl.value)) {
        ReportInvalid(cl, "an INTEGER from 0 to 9");
      } else {
        int64_t n = 0;
        for (char c : cl.value) {
          if (c >= '0' && c <= '9') n = n * 10 + (c - '0');
        }
        if (cl.value[0] == '-' && n != 0) n = -n;
        if (n < 0 || n > 9) {
          sink_.Report("event.invalid_value", kWarning, cl.line, [&] {
            return std::make_pair("PRIORITY:" + QuoteForMessage(cl.value, 20) +
                                      " is outside 0-9.",
                                  std::string("Use 0 (undefined) or 1 (highest) to 9 (lowest)."));
          });
        }
      }
      break;
    case Prop::kSequence:
      if (!IsValidInteger(cl.value)) ReportInvalid(cl, "an INTEGER");
      break;
    default:
      break;
  }
}

void Analyzer::ReadDateProp(const ContentLine& cl, const DateParams& dp, DateProp* out) {
  out->present = true;
  out->line = cl.line;
  out->tzid.assign(dp.tzid);
  out->valid = ParseDateOrDateTime(cl.value, &out->value);
  constexpr std::string_view kExpected =
      "a DATE-TIME such as 20250101T120000 / 20250101T120000Z or, with VALUE=DATE, a DATE "
      "such as 20250101";
  if (!out->valid) {
    ReportInvalid(cl, kExpected, HasDateShape(cl.value) ? kNotARealDate : std::string_view());
    return;
  }
  const std::string_view type = dp.type;
  if ((EqualsIgnoreCase(type, "DATE") && !out->value.is_date) ||
      (EqualsIgnoreCase(type, "DATE-TIME") && out->value.is_date)) {
    ReportInvalid(cl, kExpected,
                  " does not match its VALUE parameter; libical silently changes the value "
                  "type, other clients reject the property.");
  } else if (!out->tzid.empty() && out->value.utc) {
    ReportInvalid(cl, "either TZID=<zone> with a local time or a UTC time ending in Z",
                  " has both a TZID and a UTC time (Z), which RFC 5545 forbids; clients "
                  "disagree on which one wins.");
  }
}

void Analyzer::CheckDateList(const ContentLine& cl, bool is_exdate) {
  std::string_view v = cl.value;
  bool reported = false;
  while (true) {
    size_t comma = v.find(',');
    std::string_view item = v.substr(0, comma);
    DateTime d;
    if (!ParseDateOrDateTime(item, &d)) {
      if (!reported) {
        ReportInvalid(cl, "a comma-separated list of DATE-TIME or DATE values");
        reported = true;
      }
    } else if (is_exdate) {
      int& slot = d.is_date ? event_.exdate_date_line : event_.exdate_datetime_line;
      if (slot == 0) slot = cl.line;
    }
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
}

void Analyzer::NoteTzid(std::string_view tzid, int line) {
  if (tzid == last_tzid_) return;
  last_tzid_.assign(tzid);
  // Bounded: a hostile feed with a million distinct TZIDs must not make
  // the end-of-feed checks quadratic. Real feeds use a handful.
  if (referenced_tzids_.size() >= kMaxTrackedTzids) return;
  referenced_tzids_.try_emplace(last_tzid_, line);
}

void Analyzer::ReportInvalid(const ContentLine& cl, std::string_view expected,
                             std::string_view why) {
  sink_.Report("property.invalid", kError, cl.line, [&] {
    return std::make_pair(
        QuoteForMessage(cl.name, 40) + ":" + QuoteForMessage(cl.value) +
            (why.empty() ? " is not a valid value; libical-based clients drop this property "
                           "silently."
                         : std::string(why)),
        "Write " + std::string(expected) + ".");
  });
}

}  // namespace calprobe::calendar::internal
