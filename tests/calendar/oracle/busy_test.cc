// Busy calendars from ICS: recurrence expansion near the window, overrides,
// EXDATE, all-day events, transparency, cancellation, and their effect on
// ComputeSlots. Expectations are hand-computed (EST -05, EDT -04).

#include "calendar/oracle/busy.h"

#include <atomic>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar/oracle/oracle.h"
#include "calendar/oracle/test_util.h"

namespace calprobe::calendar::oracle {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Rule;
using testing::Starts;
using testing::T;

std::string Ics(const std::string& events) {
  return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//calprobe//test//EN\r\n" + events +
         "END:VCALENDAR\r\n";
}

std::vector<std::string> InstanceStarts(const BusyCalendar& cal, const std::string& from,
                                        const std::string& to, const char* zone = "UTC") {
  return Starts(cal.Instances(T(from), T(to), FindZone(zone)));
}

const TimePoint kLongAgo = T("2000-01-01T00:00:00Z");

// Weekly Monday 09:00-10:00 New York meeting since 2020, with a moved
// instance (Jun 15 -> Tue Jun 16) and an EXDATE (Jun 29).
const char* kWeekly =
    "BEGIN:VEVENT\r\nUID:standup@x\r\nDTSTART;TZID=America/New_York:20200106T090000\r\n"
    "DTEND;TZID=America/New_York:20200106T100000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO\r\n"
    "EXDATE;TZID=America/New_York:20260629T090000\r\nEND:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:standup@x\r\nRECURRENCE-ID;TZID=America/New_York:20260615T090000\r\n"
    "DTSTART;TZID=America/New_York:20260616T090000\r\n"
    "DTEND;TZID=America/New_York:20260616T100000\r\nEND:VEVENT\r\n";

TEST(BusyCalendar, WeeklySeriesKeepsLocalTimeAcrossDst) {
  auto cal = BusyCalendar::FromIcs(Ics(kWeekly));
  EXPECT_THAT(InstanceStarts(cal, "2026-03-01T00:00:00Z", "2026-03-17T00:00:00Z"),
              ElementsAre("2026-03-02T14:00:00Z", "2026-03-09T13:00:00Z", "2026-03-16T13:00:00Z"));
  EXPECT_EQ(cal.stats().fast_series, 1);
  EXPECT_EQ(cal.stats().fallback_series, 0);
}

TEST(BusyCalendar, RecurrenceIdMovesInstanceAndExdateRemovesOne) {
  auto cal = BusyCalendar::FromIcs(Ics(kWeekly));
  EXPECT_THAT(InstanceStarts(cal, "2026-06-08T00:00:00Z", "2026-07-07T00:00:00Z"),
              ElementsAre("2026-06-08T13:00:00Z", "2026-06-16T13:00:00Z",  // moved to Tuesday
                          "2026-06-22T13:00:00Z", "2026-07-06T13:00:00Z"));  // Jun 29 excluded
}

TEST(BusyCalendar, OverridesAndExdateInSlots) {
  ProviderTruth truth;
  truth.timezone = "America/New_York";
  truth.rules = {Rule(kMonday | kTuesday, 9, 0, 10, 0)};
  truth.slot_minutes = 30;
  truth.granularity_minutes = 30;
  truth.busy = BusyCalendar::FromIcs(Ics(kWeekly));
  auto slots = ComputeSlots(truth, T("2026-06-15T04:00:00Z"), T("2026-06-17T04:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2026-06-15T13:00:00Z", "2026-06-15T13:30:00Z"));
  slots = ComputeSlots(truth, T("2026-06-29T04:00:00Z"), T("2026-06-30T04:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2026-06-29T13:00:00Z", "2026-06-29T13:30:00Z"));
}

TEST(BusyCalendar, CancelledOverrideRemovesInstance) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260601T120000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID:20260603T120000Z\r\nDTSTART:20260603T120000Z\r\n"
      "DURATION:PT1H\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-06-02T00:00:00Z", "2026-06-05T00:00:00Z"),
              ElementsAre("2026-06-02T12:00:00Z", "2026-06-04T12:00:00Z"));
}

TEST(BusyCalendar, TransparentAndCancelledEventsDoNotBlock) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:t\r\nDTSTART:20260601T120000Z\r\nDTEND:20260601T130000Z\r\n"
      "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:c\r\nDTSTART:20260601T140000Z\r\nDTEND:20260601T150000Z\r\n"
      "STATUS:CANCELLED\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260601T160000Z\r\nDTEND:20260601T170000Z\r\n"
      "TRANSP:OPAQUE\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-06-01T00:00:00Z", "2026-06-02T00:00:00Z"),
              ElementsAre("2026-06-01T16:00:00Z"));
}

TEST(BusyCalendar, AllDayEventBlocksProviderLocalDay) {
  // Mon 2026-06-15 all day: in New York that is 04:00Z..04:00Z next day.
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:d\r\nDTSTART;VALUE=DATE:20260615\r\nDTEND;VALUE=DATE:20260616\r\n"
      "END:VEVENT\r\n"));
  auto spans = cal.Expand(T("2026-06-14T00:00:00Z"), T("2026-06-18T00:00:00Z"),
                          FindZone("America/New_York"));
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(FormatSpan(spans[0]), "2026-06-15T04:00:00Z/2026-06-16T04:00:00Z");

  ProviderTruth truth;
  truth.timezone = "America/New_York";
  truth.rules = {Rule(kMonday | kTuesday, 0, 0, 1, 0), Rule(kMonday | kTuesday, 23, 0, 24, 0)};
  truth.slot_minutes = 60;
  truth.granularity_minutes = 60;
  truth.busy = cal;
  auto slots = ComputeSlots(truth, T("2026-06-15T00:00:00Z"), T("2026-06-17T06:00:00Z"), kLongAgo);
  // Monday 00:00 and 23:00 blocked; Tuesday both free.
  EXPECT_THAT(Starts(slots), ElementsAre("2026-06-16T04:00:00Z", "2026-06-17T03:00:00Z"));
}

TEST(BusyCalendar, MultiDayAllDayAndDefaultOneDay) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:e\r\nDTSTART;VALUE=DATE:20270327\r\nDTEND;VALUE=DATE:20270329\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:f\r\nDTSTART;VALUE=DATE:20270401\r\nEND:VEVENT\r\n"));
  auto spans = cal.Expand(T("2027-03-20T00:00:00Z"), T("2027-04-05T00:00:00Z"),
                          FindZone("Europe/Berlin"));
  ASSERT_EQ(spans.size(), 2u);
  // Sat 00:00 CET .. Mon 00:00 CEST (47 h across the change).
  EXPECT_EQ(FormatSpan(spans[0]), "2027-03-26T23:00:00Z/2027-03-28T22:00:00Z");
  EXPECT_EQ(FormatSpan(spans[1]), "2027-03-31T22:00:00Z/2027-04-01T22:00:00Z");
}

TEST(BusyCalendar, NonexistentLocalTimeUsesOffsetBeforeGap) {
  // RFC 5545 3.3.5: 02:30 on 2026-03-08 in New York is read as 02:30 EST
  // (07:30Z); 01:30 on 2026-11-01 is its first occurrence (EDT, 05:30Z).
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:gap\r\nDTSTART;TZID=America/New_York:20260308T023000\r\n"
      "DURATION:PT30M\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:rep\r\nDTSTART;TZID=America/New_York:20261101T013000\r\n"
      "DURATION:PT30M\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-03-01T00:00:00Z", "2026-12-01T00:00:00Z"),
              ElementsAre("2026-03-08T07:30:00Z", "2026-11-01T05:30:00Z"));
}

TEST(BusyCalendar, WeeklyAllDaySeriesBlocksLocalDays) {
  // Every Monday all day since 2019, in Berlin local days (CET then CEST).
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:mon\r\nDTSTART;VALUE=DATE:20190107\r\n"
      "RRULE:FREQ=WEEKLY\r\nEXDATE;VALUE=DATE:20270329\r\nEND:VEVENT\r\n"));
  EXPECT_EQ(cal.stats().fast_series, 1);
  auto spans = cal.Expand(T("2027-03-20T00:00:00Z"), T("2027-04-06T00:00:00Z"),
                          FindZone("Europe/Berlin"));
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(FormatSpan(spans[0]), "2027-03-21T23:00:00Z/2027-03-22T23:00:00Z");
  EXPECT_EQ(FormatSpan(spans[1]), "2027-04-04T22:00:00Z/2027-04-05T22:00:00Z");
  EXPECT_THAT(cal.UidsOverlapping(T("2027-04-05T12:00:00Z"), T("2027-04-05T13:00:00Z"),
                                  FindZone("Europe/Berlin")),
              ElementsAre("mon"));
}

TEST(BusyCalendar, FloatingTimesAreProviderLocal) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:g\r\nDTSTART:20270614T090000\r\nDTEND:20270614T100000\r\n"
      "END:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2027-06-14T00:00:00Z", "2027-06-15T00:00:00Z",
                             "Europe/Berlin"),
              ElementsAre("2027-06-14T07:00:00Z"));
}

TEST(BusyCalendar, CountIntervalAndUntil) {
  auto cal = BusyCalendar::FromIcs(Ics(
      // Mon/Wed, COUNT=3 from Mon Jun 1: Jun 1, Jun 3, Jun 8.
      "BEGIN:VEVENT\r\nUID:c3\r\nDTSTART:20260601T080000Z\r\nDURATION:PT30M\r\n"
      "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=3\r\nEND:VEVENT\r\n"
      // Every other Friday from Jun 5 until Jul 3 inclusive.
      "BEGIN:VEVENT\r\nUID:i2\r\nDTSTART:20260605T100000Z\r\nDURATION:PT30M\r\n"
      "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=20260703T100000Z\r\nEND:VEVENT\r\n"
      // Every 3 days, until a DATE.
      "BEGIN:VEVENT\r\nUID:d3\r\nDTSTART:20260601T200000Z\r\nDURATION:PT30M\r\n"
      "RRULE:FREQ=DAILY;INTERVAL=3;UNTIL=20260607\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-05-01T00:00:00Z", "2026-08-01T00:00:00Z"),
              ElementsAre("2026-06-01T08:00:00Z", "2026-06-01T20:00:00Z", "2026-06-03T08:00:00Z",
                          "2026-06-04T20:00:00Z", "2026-06-05T10:00:00Z", "2026-06-07T20:00:00Z",
                          "2026-06-08T08:00:00Z", "2026-06-19T10:00:00Z", "2026-07-03T10:00:00Z"));
  EXPECT_EQ(cal.stats().fast_series, 3);
}

TEST(BusyCalendar, CountWindowFarAfterStart) {
  // COUNT=10 weekly from 2026-01-05: the last instance is 2026-03-09.
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:c10\r\nDTSTART:20260105T080000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=WEEKLY;COUNT=10\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
              ElementsAre("2026-03-02T08:00:00Z", "2026-03-09T08:00:00Z"));
}

TEST(BusyCalendar, DtstartOutsideBydayIsNotAnInstance) {
  // DTSTART Tue Jun 2; BYDAY=MO,WE; COUNT=4 counts only matching days
  // (libical's reading): Jun 3, 8, 10, 15. Daily with BYDAY likewise.
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:w\r\nDTSTART:20260602T090000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260602T120000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=DAILY;BYDAY=MO,WE;COUNT=3\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-05-01T00:00:00Z", "2026-08-01T00:00:00Z"),
              ElementsAre("2026-06-03T09:00:00Z", "2026-06-03T12:00:00Z", "2026-06-08T09:00:00Z",
                          "2026-06-08T12:00:00Z", "2026-06-10T09:00:00Z", "2026-06-10T12:00:00Z",
                          "2026-06-15T09:00:00Z"));
  EXPECT_EQ(cal.stats().fast_series, 2);
}

TEST(BusyCalendar, RdateAddsInstancesWithTheSeriesDuration) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:r\r\nDTSTART;TZID=Europe/Berlin:20270601T090000\r\n"
      "DTEND;TZID=Europe/Berlin:20270601T093000\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\n"
      "RDATE;TZID=Europe/Berlin:20270603T150000,20270604T150000\r\nEND:VEVENT\r\n"));
  auto spans = cal.Instances(T("2027-05-01T00:00:00Z"), T("2027-07-01T00:00:00Z"), nullptr);
  std::vector<std::string> got;
  for (const auto& s : spans) got.push_back(FormatSpan(s));
  EXPECT_THAT(got, ElementsAre("2027-06-01T07:00:00Z/2027-06-01T07:30:00Z",
                               "2027-06-03T13:00:00Z/2027-06-03T13:30:00Z",
                               "2027-06-04T13:00:00Z/2027-06-04T13:30:00Z",
                               "2027-06-08T07:00:00Z/2027-06-08T07:30:00Z"));
}

TEST(BusyCalendar, OtherShapesUseLibicalFallback) {
  // The 15th of each month, 09:00 Berlin.
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:m\r\nDTSTART;TZID=Europe/Berlin:20200115T090000\r\n"
      "DURATION:PT1H\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=15\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2027-01-01T00:00:00Z", "2027-04-01T00:00:00Z"),
              ElementsAre("2027-01-15T08:00:00Z", "2027-02-15T08:00:00Z", "2027-03-15T08:00:00Z"));
  EXPECT_EQ(cal.stats().fallback_series, 1);
}

TEST(BusyCalendar, BadRruleBecomesSingleEventWithWarning) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:bad\r\nDTSTART:20260601T080000Z\r\nDURATION:PT1H\r\n"
      "RRULE:FREQ=SOMETIMES\r\nEND:VEVENT\r\n"));
  EXPECT_THAT(InstanceStarts(cal, "2026-05-01T00:00:00Z", "2026-08-01T00:00:00Z"),
              ElementsAre("2026-06-01T08:00:00Z"));
  EXPECT_FALSE(cal.warnings().empty());
}

TEST(BusyCalendar, ExpandMergesAndMemoisesWindow) {
  auto cal = BusyCalendar::FromIcs(Ics(
      "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260601T120000Z\r\nDTEND:20260601T130000Z\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20260601T123000Z\r\nDTEND:20260601T140000Z\r\n"
      "END:VEVENT\r\n"));
  auto wide = cal.Expand(T("2026-05-01T00:00:00Z"), T("2026-07-01T00:00:00Z"), nullptr);
  ASSERT_EQ(wide.size(), 1u);
  EXPECT_EQ(FormatSpan(wide[0]), "2026-06-01T12:00:00Z/2026-06-01T14:00:00Z");
  EXPECT_THAT(cal.Expand(T("2026-06-02T00:00:00Z"), T("2026-06-03T00:00:00Z"), nullptr), IsEmpty());
  EXPECT_EQ(cal.Expand(T("2026-06-01T13:00:00Z"), T("2026-06-02T00:00:00Z"), nullptr), wide);
}

TEST(BusyCalendar, SlidingWindowsAgreeWithAFreshCalendar) {
  // The memo pads its window; windows sliding by 2 h stay warm and exact.
  auto warm = BusyCalendar::FromIcs(Ics(kWeekly));
  const Zone* ny = FindZone("America/New_York");
  for (int i = 0; i < 60; ++i) {
    const TimePoint from = T("2026-06-01T00:00:00Z") + std::chrono::hours(2 * i);
    const TimePoint to = from + std::chrono::days(28);
    auto cold = BusyCalendar::FromIcs(Ics(kWeekly));
    ASSERT_EQ(warm.Expand(from, to, ny), cold.Expand(from, to, ny)) << i;
  }
}

TEST(ComputeSlots, ConcurrentCallsShareOneBusyCalendar) {
  ProviderTruth truth;
  truth.timezone = "America/New_York";
  truth.rules = {Rule(kWeekdays, 8, 0, 18, 0)};
  truth.busy = BusyCalendar::FromIcs(Ics(kWeekly));
  const TimePoint from = T("2026-06-01T00:00:00Z"), to = T("2026-06-29T00:00:00Z");
  const auto expected = ComputeSlots(truth, from, to, kLongAgo);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        // Alternate windows so that memo misses and hits interleave.
        const auto shift = std::chrono::hours(24 * 40 * ((i + t) % 2));
        const auto got = ComputeSlots(truth, from + shift, to + shift, kLongAgo);
        if (shift.count() == 0 && got != expected) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(BusyCalendarCache, ReparsesOnlyOnNewVersion) {
  BusyCalendarCache cache;
  const std::string v1 = Ics("BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260601T120000Z\r\n"
                             "DTEND:20260601T130000Z\r\nEND:VEVENT\r\n");
  auto a = cache.Get("feed", "etag-1", v1);
  auto b = cache.Get("feed", "etag-1", "ignored: version unchanged");
  EXPECT_EQ(b.stats().events, 1);
  auto c = cache.Get("feed", "etag-2", Ics(""));
  EXPECT_EQ(c.stats().events, 0);
  EXPECT_EQ(c.version(), "etag-2");
  EXPECT_EQ(cache.size(), 1u);
  (void)a;
}

TEST(BusyCalendar, GarbageIsAnError) {
  std::string error;
  auto cal = BusyCalendar::FromIcs("this is not a calendar", "", &error);
  EXPECT_TRUE(cal.empty());
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace calprobe::calendar::oracle
