// The closed-form expander against libical's iterator run from DTSTART (no
// set_start, no shortcuts) for the rule shapes the fast path claims, plus
// the libical fallback path on the same rules (a no-op BYMONTH forces it),
// and the VTIMEZONE-only fallback. libical walls are converted with tz.h.
// Iterating from DTSTART with a floating start is the reference: libical
// with a zone attached drifts after an instance falls in a DST gap.

#include <libical/ical.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar/oracle/busy.h"
#include "calendar/oracle/test_util.h"
#include "calendar/oracle/tz.h"

namespace calprobe::calendar::oracle {
namespace {

using ::testing::ElementsAre;
using testing::Starts;
using testing::T;

std::vector<std::string> LibicalStarts(const std::string& rule, const std::string& dtstart,
                                       const Zone& zone, const Span& window, int minutes) {
  icalrecur_iterator* it = icalrecur_iterator_new(icalrecurrencetype_from_string(rule.c_str()),
                                                  icaltime_from_string(dtstart.c_str()));
  std::vector<Slot> out;
  for (int n = 0; n < 5000; ++n) {
    const icaltimetype t = icalrecur_iterator_next(it);
    if (icaltime_is_null_time(t)) break;
    const auto day = date::sys_days{date::year{t.year} / t.month / t.day}.time_since_epoch();
    const LocalSeconds wall = std::chrono::duration_cast<LocalSeconds>(day) +
                              LocalSeconds(t.hour * 3600 + t.minute * 60 + t.second);
    const TimePoint start = LocalToUtc(zone, wall, GapPolicy::kOffsetBefore);
    const Span span{start, start + std::chrono::minutes(minutes)};
    if (span.start >= window.end) break;
    if (span.Overlaps(window)) out.push_back(span);
  }
  icalrecur_iterator_free(it);
  return Starts(out);
}

struct Case {
  const char* rule;
  const char* dtstart;  // local wall time in America/New_York
};

class FastVsLibical : public ::testing::TestWithParam<Case> {};

TEST_P(FastVsLibical, SameInstances) {
  const Case& c = GetParam();
  const Zone* ny = FindZone("America/New_York");
  ASSERT_NE(ny, nullptr);
  const std::string ics = std::string("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u\r\n") +
                          "DTSTART;TZID=America/New_York:" + c.dtstart +
                          "\r\nDURATION:PT45M\r\nRRULE:" + c.rule + "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto cal = BusyCalendar::FromIcs(ics);
  ASSERT_EQ(cal.stats().fast_series, 1) << c.rule;
  // The same rule with a no-op BYMONTH takes the libical fallback path.
  std::string slow_ics = ics;
  slow_ics.insert(slow_ics.find("\r\n", slow_ics.find("RRULE:")), ";BYMONTH=1,2,3,4,5,6,7,8,9,10,11,12");
  auto slow = BusyCalendar::FromIcs(slow_ics);
  ASSERT_EQ(slow.stats().fallback_series, 1) << slow_ics;
  // Windows before, across and after both 2026 DST changes.
  for (const auto& [from, to] : std::vector<std::pair<const char*, const char*>>{
           {"2026-02-20T00:00:00Z", "2026-03-20T00:00:00Z"},
           {"2026-06-01T00:00:00Z", "2026-06-29T00:00:00Z"},
           {"2026-10-20T00:00:00Z", "2026-11-17T00:00:00Z"},
           {"2027-01-04T03:00:00Z", "2027-02-01T00:00:00Z"}}) {
    const Span window{T(from), T(to)};
    EXPECT_EQ(Starts(cal.Instances(window.start, window.end, nullptr)),
              LibicalStarts(c.rule, c.dtstart, *ny, window, 45))
        << c.rule << " window " << from;
    EXPECT_EQ(Starts(slow.Instances(window.start, window.end, nullptr)),
              Starts(cal.Instances(window.start, window.end, nullptr)))
        << c.rule << " (fallback) window " << from;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, FastVsLibical,
    ::testing::Values(Case{"FREQ=WEEKLY", "20250106T090000"},
                      Case{"FREQ=WEEKLY;BYDAY=MO,WE,FR", "20250106T083000"},
                      Case{"FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "20250107T170000"},
                      Case{"FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,MO;WKST=SU", "20250105T010000"},
                      Case{"FREQ=WEEKLY;INTERVAL=2;BYDAY=SU,MO;WKST=MO", "20250105T013000"},
                      Case{"FREQ=WEEKLY;BYDAY=MO,TH;COUNT=130", "20250106T120000"},
                      Case{"FREQ=WEEKLY;INTERVAL=2;COUNT=40", "20250108T230000"},
                      Case{"FREQ=WEEKLY;BYDAY=TU;UNTIL=20261105T000000Z", "20250107T100000"},
                      Case{"FREQ=DAILY", "20250301T020000"},
                      Case{"FREQ=DAILY;INTERVAL=5", "20250301T091500"},
                      Case{"FREQ=DAILY;INTERVAL=2;COUNT=300", "20250301T150000"},
                      Case{"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "20250303T073000"},
                      Case{"FREQ=DAILY;BYDAY=SA,SU;COUNT=150", "20250301T110000"},
                      Case{"FREQ=DAILY;UNTIL=20260610T000000Z", "20250301T010000"},
                      // In the 2026-03-08 gap and the 2026-11-01 overlap.
                      Case{"FREQ=WEEKLY;BYDAY=SU", "20250105T023000"},
                      Case{"FREQ=DAILY", "20250105T013000"}));

TEST(BusyCalendar, FeedDefinedVtimezoneFallsBackToLibical) {
  // A Windows-style TZID defined only by the feed's VTIMEZONE (US rules).
  const std::string ics =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
      "BEGIN:VTIMEZONE\r\nTZID:Eastern Standard Time\r\n"
      "BEGIN:STANDARD\r\nDTSTART:16011104T020000\r\nRRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n"
      "TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n"
      "BEGIN:DAYLIGHT\r\nDTSTART:16010311T020000\r\nRRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\n"
      "TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
      "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Eastern Standard Time:20250106T090000\r\n"
      "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  auto cal = BusyCalendar::FromIcs(ics);
  EXPECT_EQ(cal.stats().fallback_series, 1);
  EXPECT_THAT(Starts(cal.Instances(T("2026-03-01T00:00:00Z"), T("2026-03-17T00:00:00Z"), nullptr)),
              ElementsAre("2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"));
}

}  // namespace
}  // namespace calprobe::calendar::oracle
