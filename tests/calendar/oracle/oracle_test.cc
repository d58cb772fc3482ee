// ComputeSlots and ValidateTruth against hand-written expectations. Every
// expected instant below was worked out by hand from the zone's offsets:
// America/New_York EST -05 / EDT -04 (2026: Mar 8, Nov 1);
// Europe/Berlin CET +01 / CEST +02 (2027: Mar 28, Oct 31).

#include "calendar/oracle/oracle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar/oracle/test_util.h"

namespace calprobe::calendar::oracle {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Rule;
using testing::Starts;
using testing::T;

ProviderTruth Truth(const std::string& tz, std::vector<WeeklyRule> rules, int slot = 30,
                    int granularity = 30) {
  ProviderTruth t;
  t.timezone = tz;
  t.rules = std::move(rules);
  t.slot_minutes = slot;
  t.granularity_minutes = granularity;
  return t;
}

const TimePoint kLongAgo = T("2000-01-01T00:00:00Z");

TEST(ComputeSlots, NewYorkSpringForwardKeepsLocalHours) {
  // Sat Mar 7 (EST), Sun Mar 8 (change at 02:00), Mon Mar 9 (EDT).
  auto truth = Truth("America/New_York", {Rule(kEveryDay, 9, 0, 10, 0)});
  auto slots = ComputeSlots(truth, T("2026-03-07T00:00:00Z"), T("2026-03-10T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots),
              ElementsAre("2026-03-07T14:00:00Z", "2026-03-07T14:30:00Z",  // 09:00 EST
                          "2026-03-08T13:00:00Z", "2026-03-08T13:30:00Z",  // 09:00 EDT
                          "2026-03-09T13:00:00Z", "2026-03-09T13:30:00Z"));
  for (const auto& s : slots) EXPECT_EQ(s.end - s.start, std::chrono::minutes(30));
}

TEST(ComputeSlots, NewYorkFallBackKeepsLocalHours) {
  auto truth = Truth("America/New_York", {Rule(kEveryDay, 9, 0, 10, 0)});
  auto slots = ComputeSlots(truth, T("2026-10-31T00:00:00Z"), T("2026-11-03T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots),
              ElementsAre("2026-10-31T13:00:00Z", "2026-10-31T13:30:00Z",  // EDT
                          "2026-11-01T14:00:00Z", "2026-11-01T14:30:00Z",  // EST
                          "2026-11-02T14:00:00Z", "2026-11-02T14:30:00Z"));
}

TEST(ComputeSlots, BerlinSpringForwardWeek) {
  // 09:00-17:00 hourly, Mon-Sun; the change is Sun 2027-03-28 02:00 CET.
  auto truth = Truth("Europe/Berlin", {Rule(kEveryDay, 9, 0, 17, 0)}, 60, 60);
  auto slots = ComputeSlots(truth, T("2027-03-27T00:00:00Z"), T("2027-03-29T00:00:00Z"), kLongAgo);
  ASSERT_EQ(slots.size(), 16u);
  EXPECT_EQ(FormatUtc(slots[0].start), "2027-03-27T08:00:00Z");   // 09:00 CET
  EXPECT_EQ(FormatUtc(slots[7].end), "2027-03-27T16:00:00Z");     // 17:00 CET
  EXPECT_EQ(FormatUtc(slots[8].start), "2027-03-28T07:00:00Z");   // 09:00 CEST
  EXPECT_EQ(FormatUtc(slots[15].end), "2027-03-28T15:00:00Z");    // 17:00 CEST
}

TEST(ComputeSlots, BerlinFallBackWeek) {
  auto truth = Truth("Europe/Berlin", {Rule(kSaturday | kSunday | kMonday, 9, 0, 17, 0)}, 60, 60);
  auto slots = ComputeSlots(truth, T("2027-10-30T00:00:00Z"), T("2027-11-02T00:00:00Z"), kLongAgo);
  ASSERT_EQ(slots.size(), 24u);
  EXPECT_EQ(FormatUtc(slots[0].start), "2027-10-30T07:00:00Z");   // Sat 09:00 CEST
  EXPECT_EQ(FormatUtc(slots[8].start), "2027-10-31T08:00:00Z");   // Sun 09:00 CET
  EXPECT_EQ(FormatUtc(slots[16].start), "2027-11-01T08:00:00Z");  // Mon 09:00 CET
  EXPECT_EQ(FormatUtc(slots[23].end), "2027-11-01T16:00:00Z");
}

TEST(ComputeSlots, RuleStartInSpringGapMovesToFirstValidInstant) {
  // 02:30 does not exist on 2026-03-08 in New York: the rule opens at 03:00 EDT.
  auto truth = Truth("America/New_York", {Rule(kSunday, 2, 30, 4, 0)});
  auto slots = ComputeSlots(truth, T("2026-03-08T00:00:00Z"), T("2026-03-09T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2026-03-08T07:00:00Z", "2026-03-08T07:30:00Z"));
}

TEST(ComputeSlots, RuleEntirelyInSpringGapIsEmpty) {
  auto truth = Truth("America/New_York", {Rule(kSunday, 2, 0, 3, 0)});
  EXPECT_THAT(ComputeSlots(truth, T("2026-03-08T00:00:00Z"), T("2026-03-09T00:00:00Z"), kLongAgo),
              IsEmpty());
}

TEST(ComputeSlots, RepeatedHourUsesFirstOccurrence) {
  // 01:00 happens twice on 2026-11-01; the rule opens at the first (05:00Z,
  // EDT) and closes at 02:00 EST (07:00Z): two hours of elapsed time.
  auto truth = Truth("America/New_York", {Rule(kSunday, 1, 0, 2, 0)}, 60, 60);
  auto slots = ComputeSlots(truth, T("2026-11-01T00:00:00Z"), T("2026-11-02T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2026-11-01T05:00:00Z", "2026-11-01T06:00:00Z"));
}

TEST(ComputeSlots, LeadTimeCrossingMidnight) {
  // now = Wed 2026-06-10 22:30 EDT; lead 12 h -> cutoff Thu 10:30 EDT (14:30Z).
  auto truth = Truth("America/New_York", {Rule(kEveryDay, 9, 0, 11, 0)});
  truth.lead_time_hours = 12;
  auto slots = ComputeSlots(truth, T("2026-06-10T04:00:00Z"), T("2026-06-13T04:00:00Z"),
                            T("2026-06-11T02:30:00Z"));
  EXPECT_THAT(Starts(slots),
              ElementsAre("2026-06-11T14:30:00Z",  // Thu 10:30, exactly at the cutoff
                          "2026-06-12T13:00:00Z", "2026-06-12T13:30:00Z", "2026-06-12T14:00:00Z",
                          "2026-06-12T14:30:00Z"));
}

TEST(ComputeSlots, LeadTimeDoesNotShiftTheGrid) {
  // cutoff 09:10 local: the next slot is 09:30, not 09:10.
  auto truth = Truth("Europe/Berlin", {Rule(kMonday, 9, 0, 10, 0)});
  truth.lead_time_hours = 1;
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"),
                            T("2027-06-14T06:10:00Z"));
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T07:30:00Z"));
}

TEST(ComputeSlots, BlockedExceptionCutsRule) {
  // Mon 2027-06-14 Berlin (CEST): 09:00-12:00 with 10:15-11:00 blocked.
  auto truth = Truth("Europe/Berlin", {Rule(kMonday, 9, 0, 12, 0)});
  truth.blocked = {{T("2027-06-14T08:15:00Z"), T("2027-06-14T09:00:00Z")}};
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T07:00:00Z", "2027-06-14T07:30:00Z",
                                         "2027-06-14T09:00:00Z", "2027-06-14T09:30:00Z"));
}

TEST(ComputeSlots, ExtraAddsOutsideRulesWithItsOwnGrid) {
  auto truth = Truth("Europe/Berlin", {Rule(kMonday, 9, 0, 12, 0)});
  // Saturday 14:00-15:15 local: two 30-minute slots fit; Monday 11:45-13:00
  // overlaps the rule's end and brings its own grid (11:45, 12:15).
  truth.extra = {{T("2027-06-19T12:00:00Z"), T("2027-06-19T13:15:00Z")},
                 {T("2027-06-14T09:45:00Z"), T("2027-06-14T11:00:00Z")}};
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-21T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots),
              ElementsAre("2027-06-14T07:00:00Z", "2027-06-14T07:30:00Z", "2027-06-14T08:00:00Z",
                          "2027-06-14T08:30:00Z", "2027-06-14T09:00:00Z", "2027-06-14T09:30:00Z",
                          "2027-06-14T09:45:00Z", "2027-06-14T10:15:00Z",
                          "2027-06-19T12:00:00Z", "2027-06-19T12:30:00Z"));
}

TEST(ComputeSlots, BlockedWinsOverExtra) {
  auto truth = Truth("Europe/Berlin", {});
  truth.extra = {{T("2027-06-19T12:00:00Z"), T("2027-06-19T14:00:00Z")}};
  truth.blocked = {{T("2027-06-19T12:30:00Z"), T("2027-06-19T13:00:00Z")}};
  auto slots = ComputeSlots(truth, T("2027-06-19T00:00:00Z"), T("2027-06-20T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-19T12:00:00Z", "2027-06-19T13:00:00Z",
                                         "2027-06-19T13:30:00Z"));
}

TEST(ComputeSlots, HoldsAndBookingsRemoveSlots) {
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 12, 0)}, 60, 60);
  truth.holds = {{T("2027-06-14T09:30:00Z"), T("2027-06-14T09:45:00Z")}};
  truth.bookings = {{T("2027-06-14T11:00:00Z"), T("2027-06-14T12:00:00Z")}};
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T10:00:00Z"));
}

TEST(ComputeSlots, TouchingUnavailabilityDoesNotBlock) {
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 10, 0)}, 60, 60);
  truth.bookings = {{T("2027-06-14T08:00:00Z"), T("2027-06-14T09:00:00Z")},
                    {T("2027-06-14T10:00:00Z"), T("2027-06-14T11:00:00Z")}};
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T09:00:00Z"));
}

TEST(ComputeSlots, GranularityFinerThanDuration) {
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 11, 0)}, 60, 15);
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T09:00:00Z", "2027-06-14T09:15:00Z",
                                         "2027-06-14T09:30:00Z", "2027-06-14T09:45:00Z",
                                         "2027-06-14T10:00:00Z"));
}

TEST(ComputeSlots, GranularityCoarserThanDuration) {
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 11, 0)}, 20, 45);
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T09:00:00Z", "2027-06-14T09:45:00Z",
                                         "2027-06-14T10:30:00Z"));
}

TEST(ComputeSlots, SlotsMustFitInsideTheWindow) {
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 11, 0)}, 60, 30);
  auto slots = ComputeSlots(truth, T("2027-06-14T09:15:00Z"), T("2027-06-14T10:45:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T09:30:00Z"));
}

TEST(ComputeSlots, AdjacentRulesDoNotJoin) {
  // Two rules meeting at 12:00: a slot never spans both (one span, one grid).
  auto truth = Truth("UTC", {Rule(kMonday, 9, 0, 12, 0), Rule(kMonday, 12, 0, 13, 30)}, 60, 60);
  auto slots = ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo);
  EXPECT_THAT(Starts(slots), ElementsAre("2027-06-14T09:00:00Z", "2027-06-14T10:00:00Z",
                                         "2027-06-14T11:00:00Z", "2027-06-14T12:00:00Z"));
}

TEST(ComputeSlots, UnknownZoneYieldsNothing) {
  auto truth = Truth("Mars/Olympus", {Rule(kEveryDay, 9, 0, 17, 0)});
  EXPECT_THAT(ComputeSlots(truth, T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z"), kLongAgo),
              IsEmpty());
}

TEST(ValidateTruth, ValidTruthHasNoErrors) {
  auto truth = Truth("Europe/Berlin", {Rule(kWeekdays, 9, 0, 12, 0), Rule(kWeekdays, 13, 0, 17, 0)});
  EXPECT_THAT(ValidateTruth(truth), IsEmpty());
}

TEST(ValidateTruth, ReportsEachProblemWithItsPath) {
  auto truth = Truth("Europe/Berln", {Rule(kMonday, 9, 0, 12, 0), Rule(kTuesday, 9, 0, 17, 0),
                                      Rule(kTuesday, 17, 0, 9, 0), Rule(kMonday | kFriday, 11, 0, 13, 0)},
                     0, -5);
  truth.lead_time_hours = -1;
  truth.blocked = {{T("2027-06-14T10:00:00Z"), T("2027-06-14T09:00:00Z")}};
  std::vector<std::string> got;
  for (const auto& e : ValidateTruth(truth)) got.push_back(e.ToString());
  EXPECT_THAT(got,
              ElementsAre(
                  "truth.timezone: unknown time zone \"Europe/Berln\"; give an IANA name such as "
                  "\"America/New_York\" (see /usr/share/zoneinfo)",
                  "truth.rules[2].end: end 09:00 is not after start 17:00; split rules that "
                  "cross midnight into two",
                  "truth.rules[3]: overlaps truth.rules[0] on Monday (11:00-13:00 vs 09:00-12:00); "
                  "merge them or make them disjoint",
                  "truth.slot_minutes: must be between 1 and 1440, got 0",
                  "truth.granularity_minutes: must be positive, got -5",
                  "truth.lead_time_hours: must be 0 or more, got -1",
                  "truth.blocked[0].end: end 2027-06-14T09:00:00Z is not after start "
                  "2027-06-14T10:00:00Z; give a non-empty span"));
}

TEST(ValidateTruth, PrefixAndWeekdayMask) {
  ProviderTruth truth = Truth("", {WeeklyRule{0, 60, 120}});
  auto errors = ValidateTruth(truth, "targets[3].truth");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].path, "targets[3].truth.timezone");
  EXPECT_EQ(errors[1].path, "targets[3].truth.rules[0].weekdays");
}

}  // namespace
}  // namespace calprobe::calendar::oracle
