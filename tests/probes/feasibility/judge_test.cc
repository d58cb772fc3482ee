#include "probes/feasibility/judge.h"

#include <gtest/gtest.h>

#include "core/event.h"

namespace calprobe::probes::feasibility {
namespace {

namespace oracle = calendar::oracle;
using std::chrono::hours;
using std::chrono::minutes;

core::TimePoint T(const char* s) { return *core::ParseRfc3339(s); }

JudgeOptions Opts(int max_slots, int tolerance_seconds = 120, size_t max_listed = 10) {
  JudgeOptions o;
  o.max_slots = max_slots;
  o.skew_tolerance = std::chrono::seconds(tolerance_seconds);
  o.max_listed = max_listed;
  return o;
}

// Monday 2027-03-15, UTC, 09:00-12:00, hourly slots: 09, 10, 11.
oracle::ProviderTruth Truth() {
  oracle::ProviderTruth t;
  t.timezone = "UTC";
  t.rules = {{oracle::kWeekdays, 9 * 60, 12 * 60}};
  t.slot_minutes = 60;
  t.granularity_minutes = 60;
  t.blocked = {{T("2027-03-16T10:00:00Z"), T("2027-03-16T11:00:00Z")}};
  return t;
}
const oracle::Span kDay{T("2027-03-15T00:00:00Z"), T("2027-03-16T00:00:00Z")};
const core::TimePoint kNow = T("2027-03-14T00:00:00Z");

MappedResponse Slots(std::initializer_list<const char*> starts, int minutes_long = 60) {
  MappedResponse r;
  for (const char* s : starts) r.slots.push_back({T(s), T(s) + minutes(minutes_long)});
  return r;
}

TEST(FeasibilityJudgeTest, ExactAnswerIsOk) {
  auto v =
      Judge(Truth(), kDay, kNow,
            Slots({"2027-03-15T11:00:00Z", "2027-03-15T09:00:00Z", "2027-03-15T10:00:00Z"}), {});
  EXPECT_TRUE(v.ok()) << v.Summary();
  EXPECT_EQ(v.judged_expected, 3);
}

TEST(FeasibilityJudgeTest, MissingAndClassifiedExtraSlots) {
  auto r = Slots({"2027-03-15T09:00:00Z", "2027-03-15T13:00:00Z", "2027-03-15T09:30:00Z"});
  r.slots.push_back({T("2027-03-15T10:00:00Z"), T("2027-03-15T10:30:00Z")});
  auto v = Judge(Truth(), kDay, kNow, r, {});
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.Summary(), "2 missing, 3 extra (wrong_duration 1, outside_rules 1, misaligned 1)");
  nlohmann::json d = VerdictDetails(v, Opts(0, 120, 3));
  EXPECT_EQ(d["missing"], 2);
  EXPECT_EQ(d["extra"], 3);
  EXPECT_EQ(d["counts"]["outside_rules"], 1);
  ASSERT_EQ(d["wrong_slots"].size(), 3u);
  EXPECT_EQ(d["wrong_slots_omitted"], 2);
  EXPECT_EQ(d["wrong_slots"][0]["start"], "2027-03-15T09:30:00Z");
  EXPECT_EQ(d["wrong_slots"][0]["class"], "misaligned");
  EXPECT_EQ(d["wrong_slots"][1]["class"], "wrong_duration");
  EXPECT_EQ(d["wrong_slots"][2]["class"], "missing");

  core::Event e;
  e.name = "calprobe.feasibility.mismatch";
  AddMismatchFields(v, &e);
  EXPECT_EQ(e.Number("missing"), 2);
  EXPECT_EQ(e.Number("extra"), 3);
  EXPECT_EQ(e.Number("misaligned"), 1);
  EXPECT_EQ(e.Find("lead_time"), nullptr);  // zero counts are left out
}

TEST(FeasibilityJudgeTest, TruncationAgainstTheLimit) {
  const JudgeOptions two = Opts(2);
  auto first_two = Slots({"2027-03-15T09:00:00Z", "2027-03-15T10:00:00Z"});
  first_two.truncated = true;
  auto v = Judge(Truth(), kDay, kNow, first_two, two);
  EXPECT_TRUE(v.ok()) << v.Summary();
  EXPECT_TRUE(v.expect_truncated);
  EXPECT_EQ(v.judged_expected, 2);

  first_two.truncated = false;
  v = Judge(Truth(), kDay, kNow, first_two, two);
  EXPECT_EQ(v.Summary(),
            "0 missing, 0 extra; truncated=false, but the oracle has 3 slots (limit 2)");

  auto all = Slots({"2027-03-15T09:00:00Z", "2027-03-15T10:00:00Z", "2027-03-15T11:00:00Z"});
  v = Judge(Truth(), kDay, kNow, all, two);
  EXPECT_EQ(v.truncation_message, "returned 3 slots, above the limit 2");

  all.truncated = true;
  v = Judge(Truth(), kDay, kNow, all, Opts(5));
  EXPECT_EQ(v.truncation_message, "truncated=true, but the oracle has only 3 slots (limit 5)");

  // Limit unknown: a truncated answer is judged up to its last slot.
  first_two.truncated = true;
  v = Judge(Truth(), kDay, kNow, first_two, {});
  EXPECT_TRUE(v.ok()) << v.Summary();
}

TEST(FeasibilityJudgeTest, LeadTimeToleranceLeavesSkewedSlotsUnjudged) {
  auto truth = Truth();
  truth.lead_time_hours = 2;
  // The agent's now is 08:01 (cutoff 10:01); the system's clock is 2 min
  // behind (cutoff 09:59) and still offers 10:00.
  const core::TimePoint now = T("2027-03-15T08:01:00Z");
  const auto answer = Slots({"2027-03-15T10:00:00Z", "2027-03-15T11:00:00Z"});
  auto v = Judge(truth, kDay, now, answer, Opts(0, 120));
  EXPECT_TRUE(v.ok()) << v.Summary();
  EXPECT_EQ(v.comparison.unjudged, 1);
  v = Judge(truth, kDay, now, answer, Opts(0, 0));
  EXPECT_EQ(v.Summary(), "0 missing, 1 extra (lead_time 1)");
}

TEST(FeasibilityJudgeTest, ConcreteReasonBeatsAccidentalDstShift) {
  // Exceptions on Monday and Tuesday 10:00-12:00 EDT; the system ignores
  // them. Each 10:00 slot equals the expected 09:00 moved by the DST delta,
  // which the oracle alone would call dst_shift.
  oracle::ProviderTruth t;
  t.timezone = "America/New_York";
  t.rules = {{oracle::kWeekdays, 9 * 60, 12 * 60}};
  t.slot_minutes = 60;
  t.granularity_minutes = 60;
  t.blocked = {{T("2027-03-15T14:00:00Z"), T("2027-03-15T16:00:00Z")},
               {T("2027-03-16T14:00:00Z"), T("2027-03-16T16:00:00Z")}};
  const oracle::Span days{T("2027-03-15T04:00:00Z"), T("2027-03-17T04:00:00Z")};
  auto v = Judge(t, days, kNow,
                 Slots({"2027-03-15T13:00:00Z", "2027-03-15T14:00:00Z", "2027-03-15T15:00:00Z",
                        "2027-03-16T13:00:00Z", "2027-03-16T14:00:00Z", "2027-03-16T15:00:00Z"}),
                 {});
  EXPECT_EQ(v.Summary(), "0 missing, 4 extra (inside_exception 4)");
  EXPECT_FALSE(VerdictDetails(v, {}).contains("dst_shift_seconds"));
}

}  // namespace
}  // namespace calprobe::probes::feasibility
