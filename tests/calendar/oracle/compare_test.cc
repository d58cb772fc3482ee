// The classifier and CompareSlots: each class on a hand-built wrong slot,
// and dst_shift on a block of slots moved by one hour.

#include "calendar/oracle/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calendar/oracle/test_util.h"

namespace calprobe::calendar::oracle {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Rule;
using testing::Slots;
using testing::Starts;
using testing::T;

// Berlin, Mon 2027-06-14 (CEST, +02): rule 09:00-12:00 local = 07:00Z-10:00Z.
ProviderTruth Truth() {
  ProviderTruth t;
  t.timezone = "Europe/Berlin";
  t.rules = {Rule(kMonday, 9, 0, 12, 0)};
  t.slot_minutes = 30;
  t.granularity_minutes = 30;
  t.lead_time_hours = 2;
  t.blocked = {{T("2027-06-14T08:00:00Z"), T("2027-06-14T08:30:00Z")}};
  t.holds = {{T("2027-06-14T08:30:00Z"), T("2027-06-14T09:00:00Z")}};
  t.bookings = {{T("2027-06-14T09:30:00Z"), T("2027-06-14T10:00:00Z")}};
  t.busy = BusyCalendar::FromIcs(
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\n"
      "DTSTART:20270614T090000Z\r\nDTEND:20270614T093000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  return t;
}
const Span kWindow{T("2027-06-14T00:00:00Z"), T("2027-06-15T00:00:00Z")};
const TimePoint kNow = T("2027-06-14T05:15:00Z");  // cutoff 07:15Z

SlotClass Class(const std::string& start, int minutes = 30) {
  return ClassifySlot(Truth(), kWindow, kNow, Slots({start}, minutes)[0]).cls;
}

TEST(ClassifySlot, EachClass) {
  EXPECT_EQ(Class("2027-06-13T23:45:00Z"), SlotClass::kOutsideWindow);
  EXPECT_EQ(Class("2027-06-14T07:30:00Z", 45), SlotClass::kWrongDuration);
  EXPECT_EQ(Class("2027-06-14T10:00:00Z"), SlotClass::kOutsideRules);  // 12:00 local
  EXPECT_EQ(Class("2027-06-14T09:45:00Z"), SlotClass::kOutsideRules);  // runs past 12:00
  EXPECT_EQ(Class("2027-06-14T07:40:00Z"), SlotClass::kMisaligned);
  EXPECT_EQ(Class("2027-06-14T08:00:00Z"), SlotClass::kInsideException);
  EXPECT_EQ(Class("2027-06-14T09:00:00Z"), SlotClass::kBusyOverlap);
  EXPECT_EQ(Class("2027-06-14T08:30:00Z"), SlotClass::kHeld);  // hold
  EXPECT_EQ(Class("2027-06-14T09:30:00Z"), SlotClass::kHeld);  // booking
  EXPECT_EQ(Class("2027-06-14T07:00:00Z"), SlotClass::kLeadTime);
}

TEST(ClassifySlot, DetailsNameTheEvidence) {
  auto c = ClassifySlot(Truth(), kWindow, kNow, Slots({"2027-06-14T09:00:00Z"}, 30)[0]);
  EXPECT_EQ(c.detail, "overlaps busy event UID x 2027-06-14T09:00:00Z/2027-06-14T09:30:00Z");
  c = ClassifySlot(Truth(), kWindow, kNow, Slots({"2027-06-14T10:00:00Z"}, 30)[0]);
  EXPECT_THAT(c.detail, HasSubstr("Mon 2027-06-14 12:00 local"));
  EXPECT_EQ(SlotClassName(SlotClass::kBusyOverlap), "busy_overlap");
  EXPECT_EQ(SlotClassName(SlotClass::kDstShift), "dst_shift");
}

TEST(CompareSlots, ExactAnswerIsOk) {
  auto truth = Truth();
  // Expected: 07:30Z (09:30 local); 07:00 is before the cutoff, 08:00..10:00 taken.
  auto c = CompareSlots(truth, kWindow, kNow, Slots({"2027-06-14T07:30:00Z"}, 30));
  EXPECT_TRUE(c.ok());
  EXPECT_THAT(Starts(c.expected), ElementsAre("2027-06-14T07:30:00Z"));
}

TEST(CompareSlots, MissingExtraCountsAndDuplicates) {
  auto c = CompareSlots(Truth(), kWindow, kNow,
                        Slots({"2027-06-14T09:00:00Z", "2027-06-14T09:00:00Z",
                               "2027-06-14T07:00:00Z", "2027-06-14T08:00:00Z"},
                              30));
  EXPECT_THAT(Starts(c.missing), ElementsAre("2027-06-14T07:30:00Z"));
  ASSERT_EQ(c.extra.size(), 3u);
  EXPECT_EQ(c.extra[0].cls, SlotClass::kLeadTime);
  EXPECT_EQ(c.extra[1].cls, SlotClass::kInsideException);
  EXPECT_EQ(c.extra[2].cls, SlotClass::kBusyOverlap);
  EXPECT_EQ(c.count(SlotClass::kBusyOverlap), 1);
  EXPECT_EQ(c.count(SlotClass::kHeld), 0);
  EXPECT_EQ(c.duplicates, 1);
}

TEST(CompareSlots, LeadTimeToleranceSkipsSlotsNearTheCutoff) {
  CompareOptions options;
  options.lead_time_tolerance = std::chrono::minutes(20);  // cutoff 07:15Z +- 20 min
  auto c = CompareSlots(Truth(), kWindow, kNow, Slots({"2027-06-14T07:00:00Z"}, 30), options);
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.unjudged, 2);  // 07:00 extra and 07:30 missing
}

TEST(CompareSlots, DstShiftAfterSpringForward) {
  // Berlin 09:00-12:00 daily, 60-min slots. The system keeps CET (+01)
  // after Sun 2027-03-28: from then on, every slot is one hour late in UTC.
  ProviderTruth truth;
  truth.timezone = "Europe/Berlin";
  truth.rules = {Rule(kEveryDay, 9, 0, 12, 0)};
  truth.slot_minutes = 60;
  truth.granularity_minutes = 60;
  const Span window{T("2027-03-27T00:00:00Z"), T("2027-03-30T00:00:00Z")};
  auto returned = Slots({"2027-03-27T08:00:00Z", "2027-03-27T09:00:00Z", "2027-03-27T10:00:00Z",
                         "2027-03-28T08:00:00Z", "2027-03-28T09:00:00Z", "2027-03-28T10:00:00Z",
                         "2027-03-29T08:00:00Z", "2027-03-29T09:00:00Z", "2027-03-29T10:00:00Z"},
                        60);
  auto c = CompareSlots(truth, window, T("2027-03-01T00:00:00Z"), returned);
  EXPECT_THAT(Starts(c.missing), ElementsAre("2027-03-28T07:00:00Z", "2027-03-29T07:00:00Z"));
  ASSERT_TRUE(c.dst_shift.has_value());
  EXPECT_EQ(c.dst_shift->delta, std::chrono::hours(1));
  ASSERT_EQ(c.extra.size(), 2u);  // 10:00Z each day; 08:00Z/09:00Z are also expected slots
  EXPECT_EQ(c.count(SlotClass::kDstShift), 2);
  EXPECT_THAT(c.extra[0].detail, HasSubstr("shifted by +1h"));
}

TEST(CompareSlots, DstShiftAfterFallBackInNewYork) {
  // New York 09:00-10:00, 30-min slots; after Sun 2026-11-01 the system
  // keeps EDT (-04), so its slots come one hour early in UTC.
  ProviderTruth truth;
  truth.timezone = "America/New_York";
  truth.rules = {Rule(kEveryDay, 9, 0, 10, 0)};
  truth.slot_minutes = 30;
  truth.granularity_minutes = 30;
  const Span window{T("2026-10-31T04:00:00Z"), T("2026-11-03T05:00:00Z")};
  auto returned = Slots({"2026-10-31T13:00:00Z", "2026-10-31T13:30:00Z",   // right (EDT)
                         "2026-11-01T13:00:00Z", "2026-11-01T13:30:00Z",   // should be 14:00Z
                         "2026-11-02T13:00:00Z", "2026-11-02T13:30:00Z"},  // should be 14:00Z
                        30);
  auto c = CompareSlots(truth, window, T("2026-10-01T00:00:00Z"), returned);
  EXPECT_THAT(Starts(c.missing), ElementsAre("2026-11-01T14:00:00Z", "2026-11-01T14:30:00Z",
                                             "2026-11-02T14:00:00Z", "2026-11-02T14:30:00Z"));
  ASSERT_TRUE(c.dst_shift.has_value());
  EXPECT_EQ(c.dst_shift->delta, -std::chrono::hours(1));
  EXPECT_EQ(c.count(SlotClass::kDstShift), 4);
  EXPECT_EQ(c.extra.size(), 4u);
}

TEST(CompareSlots, SingleOffByAnHourSlotIsNotDstShift) {
  ProviderTruth truth;
  truth.timezone = "America/New_York";
  truth.rules = {Rule(kEveryDay, 9, 0, 10, 0)};
  const Span window{T("2026-11-02T05:00:00Z"), T("2026-11-03T05:00:00Z")};
  auto c = CompareSlots(truth, window, T("2026-10-01T00:00:00Z"),
                        Slots({"2026-11-02T14:00:00Z", "2026-11-02T14:30:00Z",
                               "2026-11-02T15:00:00Z"}, 30));
  EXPECT_FALSE(c.dst_shift.has_value());
  ASSERT_EQ(c.extra.size(), 1u);
  EXPECT_EQ(c.extra[0].cls, SlotClass::kOutsideRules);
}

TEST(DetectDstShift, NeedsABlockAndADstZone) {
  ProviderTruth truth;
  truth.timezone = "Europe/Berlin";
  auto expected = Slots({"2027-06-14T07:00:00Z", "2027-06-14T08:00:00Z"}, 60);
  auto one = Slots({"2027-06-14T09:00:00Z"}, 60);
  EXPECT_FALSE(DetectDstShift(truth, expected, one).has_value());
  auto two = Slots({"2027-06-14T06:00:00Z", "2027-06-14T05:00:00Z"}, 60);
  EXPECT_FALSE(DetectDstShift(truth, expected, two).has_value());  // 05:00 is 2 h off
  auto block = Slots({"2027-06-14T06:00:00Z", "2027-06-14T07:00:00Z"}, 60);
  EXPECT_FALSE(DetectDstShift(truth, expected, block).has_value());  // 07:00Z is expected
  auto shift = DetectDstShift(truth, expected, block, 1);
  ASSERT_TRUE(shift.has_value());
  EXPECT_EQ(shift->delta, -std::chrono::hours(1));
  EXPECT_EQ(shift->slots.size(), 1u);
  auto expected_late = Slots({"2027-06-14T07:00:00Z", "2027-06-14T08:00:00Z", "2027-06-14T12:00:00Z"}, 60);
  auto late = Slots({"2027-06-14T13:00:00Z", "2027-06-14T09:00:00Z"}, 60);
  shift = DetectDstShift(truth, expected_late, late);
  ASSERT_TRUE(shift.has_value());
  EXPECT_EQ(shift->delta, std::chrono::hours(1));
  EXPECT_EQ(shift->slots.size(), 2u);

  truth.timezone = "Asia/Tokyo";  // no DST
  EXPECT_FALSE(DetectDstShift(truth, expected, block, 1).has_value());
}

}  // namespace
}  // namespace calprobe::calendar::oracle
