// RRULE checks: libical's parser decides validity (a rule it rejects turns
// the event into a single occurrence), our own checks catch rules that
// parse but misbehave: UNTIL type mismatches, unbounded high frequencies,
// rules that can never produce an instance.

#include <libical/ical.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "calendar/ics/analyzer.h"
#include "calendar/ics/text.h"

namespace calprobe::calendar::internal {
namespace {

constexpr Severity kError = Severity::kError;
constexpr Severity kWarning = Severity::kWarning;

struct RruleParts {
  std::string_view freq;
  bool has_count = false;
  int64_t count = -1;
  bool has_until = false;
  std::string_view until;
  int64_t interval = 1;
  std::string_view bymonth;
  std::string_view bymonthday;
};

int64_t ParseSmallInt(std::string_view v, bool* ok) {
  int64_t n = 0;
  size_t i = 0;
  bool neg = false;
  if (i < v.size() && (v[i] == '+' || v[i] == '-')) neg = v[i++] == '-';
  *ok = i < v.size() && v.size() - i <= 9;
  for (; i < v.size() && *ok; ++i) {
    if (v[i] < '0' || v[i] > '9') *ok = false;
    n = n * 10 + (v[i] - '0');
  }
  return neg ? -n : n;
}

RruleParts SplitRrule(std::string_view rule) {
  RruleParts p;
  while (!rule.empty()) {
    size_t semi = rule.find(';');
    std::string_view part = rule.substr(0, semi);
    size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    bool ok = false;
    if (EqualsIgnoreCase(name, "FREQ")) {
      p.freq = value;
    } else if (EqualsIgnoreCase(name, "COUNT")) {
      p.has_count = true;
      p.count = ParseSmallInt(value, &ok);
    } else if (EqualsIgnoreCase(name, "UNTIL")) {
      p.has_until = true;
      p.until = value;
    } else if (EqualsIgnoreCase(name, "INTERVAL")) {
      p.interval = std::max<int64_t>(1, ParseSmallInt(value, &ok));
    } else if (EqualsIgnoreCase(name, "BYMONTH")) {
      p.bymonth = value;
    } else if (EqualsIgnoreCase(name, "BYMONTHDAY")) {
      p.bymonthday = value;
    }
    if (semi == std::string_view::npos) break;
    rule.remove_prefix(semi + 1);
  }
  return p;
}

int64_t FreqSeconds(std::string_view freq) {
  if (EqualsIgnoreCase(freq, "SECONDLY")) return 1;
  if (EqualsIgnoreCase(freq, "MINUTELY")) return 60;
  if (EqualsIgnoreCase(freq, "HOURLY")) return 3600;
  if (EqualsIgnoreCase(freq, "DAILY")) return 86400;
  if (EqualsIgnoreCase(freq, "WEEKLY")) return 7 * 86400;
  if (EqualsIgnoreCase(freq, "MONTHLY")) return 31 * 86400;
  return 366 * 86400;
}

// True iff some (BYMONTH, BYMONTHDAY) pair exists in some year.
bool MonthDaysPossible(std::string_view bymonth, std::string_view bymonthday) {
  if (bymonth.empty() || bymonthday.empty()) return true;
  for (std::string_view months = bymonth; !months.empty();) {
    size_t c = months.find(',');
    bool ok = false;
    int64_t m = ParseSmallInt(months.substr(0, c), &ok);
    if (!ok || m < 1 || m > 12) return true;  // libical judges syntax
    int max_days = DaysInMonth(2000, static_cast<int>(m));  // leap year: Feb 29 exists
    for (std::string_view days = bymonthday; !days.empty();) {
      size_t d = days.find(',');
      int64_t md = ParseSmallInt(days.substr(0, d), &ok);
      if (!ok) return true;
      if (md != 0 && std::llabs(md) <= max_days) return true;
      if (d == std::string_view::npos) break;
      days.remove_prefix(d + 1);
    }
    if (c == std::string_view::npos) break;
    months.remove_prefix(c + 1);
  }
  return false;
}

}  // namespace

int64_t Analyzer::CheckRrule() {
  const EventState& e = event_;
  const int line = e.rrule_line;
  RruleParts parts = SplitRrule(e.rrule);
  const DateProp& start = e.dtstart;

  if (parts.has_count && parts.count == 0) {
    sink_.Report("rrule.no_instances", kWarning, line, [] {
      return std::make_pair(std::string("RRULE has COUNT=0: the series has no occurrences."),
                            std::string("Use COUNT of at least 1, or remove the event."));
    });
    return INT64_MIN;
  }

  // libical needs a NUL-terminated copy; its parse is re-entrant (errno is
  // per thread). Absurdly long rules never reach it.
  bool valid = false;
  if (e.rrule.size() <= kMaxRruleBytes) {
    cstr_buf_.assign(e.rrule);
    icalerror_clear_errno();
    struct icalrecurrencetype rule = icalrecurrencetype_from_string(cstr_buf_.c_str());
    icalerror_clear_errno();
    valid = rule.freq != ICAL_NO_RECURRENCE;
  }
  if (!valid) {
    sink_.Report("rrule.invalid", kError, line, [&] {
      return std::make_pair(
          "RRULE:" + QuoteForMessage(e.rrule, 80) +
              " is not a valid recurrence rule; clients show only the first occurrence.",
          std::string("Write an RFC 5545 rule: FREQ first, at most one of COUNT/UNTIL, valid "
                      "BYxxx values (e.g. FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20251231T235959Z)."));
    });
    return start.valid ? start.value.ToUnixApprox() : INT64_MIN;
  }

  DateTime until;
  bool until_ok = parts.has_until && ParseDateOrDateTime(parts.until, &until);
  if (until_ok && start.valid) {
    const DateTime& s = start.value;
    const char* why = nullptr;
    if (until.is_date && !s.is_date) {
      why = "UNTIL is a DATE but DTSTART is a DATE-TIME";
    } else if (!until.is_date && s.is_date) {
      why = "UNTIL is a DATE-TIME but DTSTART is a DATE";
    } else if (!s.is_date && (s.utc || !start.tzid.empty()) && !until.utc) {
      why = "UNTIL must be in UTC (ending in Z) when DTSTART has a TZID or is UTC";
    } else if (!s.is_date && !s.utc && start.tzid.empty() && until.utc) {
      why = "UNTIL is UTC but DTSTART is a floating time";
    }
    if (why != nullptr) {
      sink_.Report("rrule.until_type_mismatch", kWarning, line, [&] {
        return std::make_pair(
            std::string(why) + ": clients disagree on the last occurrence (some drop the rule).",
            std::string("Write UNTIL with the value type of DTSTART; for DATE-TIME starts with "
                        "TZID, convert UNTIL to UTC (e.g. UNTIL=20251231T225959Z)."));
      });
    }
  }

  int64_t freq_seconds = FreqSeconds(parts.freq);
  if (freq_seconds <= 3600 && !parts.has_count && !parts.has_until) {
    sink_.Report("rrule.unbounded_high_frequency", kWarning, line, [&] {
      return std::make_pair(
          "RRULE:" + QuoteForMessage(e.rrule, 60) +
              " repeats every " + (freq_seconds == 1 ? "second" : freq_seconds == 60 ? "minute" : "hour") +
              " forever; clients expanding it hang or cap it arbitrarily.",
          std::string("Bound the rule with COUNT or UNTIL, or use a coarser FREQ."));
    });
  }

  bool none = false;
  const char* why_none = nullptr;
  if (until_ok && start.valid) {
    int64_t u = until.ToUnixApprox();
    int64_t s = start.value.ToUnixApprox();
    if (until.is_date && !start.value.is_date) u += 86399;  // whole UNTIL day
    // A UTC UNTIL against a local start can differ by up to 14 hours.
    int64_t slack = (until.utc != start.value.utc) ? 14 * 3600 : 0;
    if (u + slack < s) {
      none = true;
      why_none = "UNTIL is before DTSTART";
    }
  }
  // BYMONTH/BYMONTHDAY expand (YEARLY, MONTHLY) or filter (finer FREQs):
  // either way an impossible pair yields nothing.
  if (!none && !MonthDaysPossible(parts.bymonth, parts.bymonthday)) {
    none = true;
    why_none = "no month in BYMONTH has a day listed in BYMONTHDAY";
  }
  if (none) {
    sink_.Report("rrule.no_instances", kWarning, line, [&] {
      return std::make_pair(
          "RRULE:" + QuoteForMessage(e.rrule, 60) + " produces no occurrences: " + why_none + ".",
          std::string("Fix the rule (or remove the event); clients show nothing or only "
                      "DTSTART, depending on the implementation."));
    });
  }

  if (!start.valid) return INT64_MIN;
  int64_t s = start.value.ToUnixApprox();
  if (until_ok) return until.ToUnixApprox();
  if (parts.has_count && parts.count > 0) {
    int64_t span = freq_seconds * parts.interval;
    if (parts.count > INT64_MAX / 2 / std::max<int64_t>(1, span)) return INT64_MAX;
    return s + parts.count * span;
  }
  return INT64_MAX;
}

}  // namespace calprobe::calendar::internal
