// The seed's six alerts (config/alerts.yaml): each fires exactly when the
// seed's condition holds for the stated window, resolves when it stops, and
// never fires on near-miss variants. ManualClock, 10 s evaluation grid.

#include <gtest/gtest.h>

#include <functional>

#include "core/rules/replay.h"
#include "tests/rules/rules_test_util.h"

namespace calprobe::core::rules::testing {
namespace {

Event Feasible(TimePoint t, double ms, std::string origin = "platform") {
  Event e = Ev("cal.feasible.generated", t, Label::kRegion, "us-east", std::move(origin));
  e.With("duration_ms", ms);
  return e;
}

// Records a feasibility event every 10 s with duration ms(t) from now to end.
void FeasibleStream(RuleHarness& h, TimePoint end, const std::function<double(TimePoint)>& ms,
                    std::string origin = "platform") {
  for (TimePoint t = h.Now(); t < end; t += seconds(10)) {
    h.RunTo(t);
    h.Record(Feasible(t, ms(t), origin));
    h.Eval();
  }
  h.RunTo(end);
}

// --- 1. Feasibility Latency ---

TEST(FeasibilityLatency, FiresAfterFiveMinutesAndResolves) {
  RuleHarness h("FeasibilityLatency");
  FeasibleStream(h, T0() + minutes(8),
                 [](TimePoint t) { return t < T0() + minutes(6) ? 2500 : 100; });
  ASSERT_EQ(h.got().size(), 3u);
  EXPECT_EQ(h.got()[0].to, AlertState::kPending);
  EXPECT_EQ(h.got()[0].at, T0());
  EXPECT_EQ(h.got()[0].labels.at("region"), "us-east");
  EXPECT_EQ(h.got()[1].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[1].at, T0() + minutes(5));
  EXPECT_EQ(h.got()[1].severity, "page");
  EXPECT_EQ(h.got()[1].annotations.at("summary"),
            "Feasibility p95 2500 ms > 2000 ms for 5m in us-east");
  EXPECT_EQ(h.got()[2].to, AlertState::kResolved);
  // Resolves once at most one slow request is left in the trailing minute.
  EXPECT_GT(h.got()[2].at, T0() + minutes(6));
  EXPECT_LE(h.got()[2].at, T0() + minutes(7));
}

TEST(FeasibilityLatency, P95Of1999NeverFires) {
  RuleHarness h("FeasibilityLatency");
  FeasibleStream(h, T0() + minutes(20), [](TimePoint) { return 1999; });
  EXPECT_TRUE(h.got().empty());
}

TEST(FeasibilityLatency, ShorterThanFiveMinutesOnlyPends) {
  RuleHarness h("FeasibilityLatency");
  // Slow for 4m50s: the trailing-minute p95 stays above 2000 until ~5m30s.
  FeasibleStream(h, T0() + minutes(12),
                 [](TimePoint t) { return t < T0() + seconds(290) - minutes(1) ? 2500 : 100; });
  EXPECT_TRUE(h.To(AlertState::kFiring).empty());
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kInactive);
}

TEST(FeasibilityLatency, SyntheticEventsAreIgnored) {
  RuleHarness h("FeasibilityLatency");
  FeasibleStream(
      h, T0() + minutes(10), [](TimePoint) { return 9000; }, "synthetic");
  EXPECT_TRUE(h.got().empty());
}

// --- 2. Hold Expiry Spike ---

void Holds(RuleHarness& h, int created, int expired, std::string region = "eu") {
  for (int i = 0; i < created; ++i)
    h.Record(Ev("cal.hold.created", h.Now(), Label::kRegion, region));
  for (int i = 0; i < expired; ++i)
    h.Record(Ev("cal.hold.expired", h.Now(), Label::kRegion, region));
  h.Eval();
}

TEST(HoldExpirySpike, FiresAbove20PercentAndResolves) {
  RuleHarness h("HoldExpirySpike");
  Holds(h, 20, 5);  // 0.25
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].from, AlertState::kInactive);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(h.got()[0].value, 0.25);
  EXPECT_EQ(h.got()[0].labels.at("region"), "eu");
  h.RunTo(T0() + minutes(14));
  EXPECT_EQ(h.got().size(), 1u);
  h.RunTo(T0() + minutes(16));  // the holds left the 15-minute window
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(HoldExpirySpike, NearMissesNeverFire) {
  {
    RuleHarness h("HoldExpirySpike");
    Holds(h, 100, 19);  // 0.19
    h.RunTo(T0() + minutes(20));
    EXPECT_TRUE(h.got().empty());
  }
  {
    RuleHarness h("HoldExpirySpike");
    Holds(h, 20, 4);  // exactly 0.2 is not > 0.2
    EXPECT_TRUE(h.got().empty());
  }
  {
    RuleHarness h("HoldExpirySpike");
    Holds(h, 9, 9);  // 100% but below min_samples (10 created)
    Holds(h, 0, 5);
    EXPECT_TRUE(h.got().empty());
  }
  {
    RuleHarness h("HoldExpirySpike");
    Holds(h, 1, 1);  // a ratio over 1 event is not a spike
    EXPECT_TRUE(h.got().empty());
  }
}

TEST(HoldExpirySpike, RegionsAreSeparate) {
  RuleHarness h("HoldExpirySpike");
  Holds(h, 20, 2, "eu");
  Holds(h, 20, 6, "us");
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].labels.at("region"), "us");
}

// --- 3. ICS Poll Errors ---

void Polls(RuleHarness& h, int ok, int error) {
  for (int i = 0; i < ok; ++i) h.Record(Ev("cal.ics.poll.ok", h.Now()));
  for (int i = 0; i < error; ++i) h.Record(Ev("cal.ics.poll.error", h.Now()));
  h.Eval();
}

void Backlog(RuleHarness& h, int64_t size, int64_t queue) {
  Event e = Ev("cal.ics.backlog", h.Now());
  e.With("size", size).With("queue_size", queue);
  h.Record(e);
  h.Eval();
}

TEST(IcsPollErrors, ErrorRatioAbove5PercentFiresAndResolves) {
  RuleHarness h("IcsPollErrors");
  Polls(h, 94, 6);  // 6%
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(h.got()[0].value, 0.06);
  h.RunTo(T0() + minutes(16));
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(IcsPollErrors, NearMissesNeverFire) {
  {
    RuleHarness h("IcsPollErrors");
    Polls(h, 95, 5);  // exactly 5%
    EXPECT_TRUE(h.got().empty());
  }
  {
    RuleHarness h("IcsPollErrors");
    Polls(h, 9, 1);  // 10% of 10 polls: below the minimum poll count (20)
    EXPECT_TRUE(h.got().empty());
  }
  {
    RuleHarness h("IcsPollErrors");
    Backlog(h, 100, 100);  // size == queue_size
    EXPECT_TRUE(h.got().empty());
  }
}

TEST(IcsPollErrors, BacklogAboveQueueSizeFiresAndResolves) {
  RuleHarness h("IcsPollErrors");
  Backlog(h, 120, 100);
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(h.got()[0].value, 120);
  h.RunTo(T0() + minutes(1));
  Backlog(h, 50, 100);
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(IcsPollErrors, StaleBacklogReadingResolves) {
  RuleHarness h("IcsPollErrors");
  Backlog(h, 120, 100);
  h.RunTo(T0() + minutes(15));
  EXPECT_EQ(h.got().size(), 1u);
  h.RunTo(T0() + minutes(15) + seconds(10));
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

// --- 4. Sync Staleness ---

void Poll(RuleHarness& h, const std::string& src, bool ok = true) {
  h.Record(Ev(ok ? "cal.ics.poll.ok" : "cal.ics.poll.error", h.Now(), Label::kSrcId, src));
  h.Eval();
}

TEST(SyncStaleness, FiresAfter45MinutesAndResolvesOnPoll) {
  RuleHarness h("SyncStaleness");
  Poll(h, "s1");
  h.RunTo(T0() + minutes(45));  // exactly 45 min: not yet > 45m
  EXPECT_TRUE(h.got().empty());
  h.RunTo(T0() + minutes(45) + seconds(10));
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[0].labels.at("src_id"), "s1");
  EXPECT_DOUBLE_EQ(h.got()[0].value, 2710);
  h.RunTo(T0() + minutes(50));
  Poll(h, "s1", /*ok=*/false);  // an error is a poll attempt too
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(SyncStaleness, SourceSilentFor44MinutesNeverFires) {
  RuleHarness h("SyncStaleness");
  for (int i = 0; i < 6; ++i) {
    h.RunTo(T0() + minutes(44 * i));
    Poll(h, "s1");
  }
  h.RunTo(T0() + minutes(44 * 5 + 44));
  EXPECT_TRUE(h.got().empty());
}

TEST(SyncStaleness, SourceInactiveFor24HoursIsNoLongerStale) {
  RuleHarness h("SyncStaleness");
  Poll(h, "s1");
  h.RunTo(T0() + hours(24));
  ASSERT_EQ(h.got().size(), 1u);
  h.RunTo(T0() + hours(24) + seconds(10));
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

// --- 5. Feed Token Leakage ---

void Regen(RuleHarness& h, TimePoint t, const std::string& provider = "p1") {
  h.RunTo(t);
  h.Record(Ev("cal.ics.feed.token.regenerated", t, Label::kProvider, provider));
  h.Eval();
}

TEST(FeedTokenLeakage, FourthRegenerationIn24HoursFiresThenResolves) {
  RuleHarness h("FeedTokenLeakage");
  Regen(h, T0());
  Regen(h, T0() + hours(6));
  Regen(h, T0() + hours(12));
  EXPECT_TRUE(h.got().empty());
  Regen(h, T0() + hours(23));
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[0].labels.at("provider"), "p1");
  EXPECT_DOUBLE_EQ(h.got()[0].value, 4);
  h.RunTo(T0() + hours(24) + minutes(2));  // the first one left the window
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(FeedTokenLeakage, NearMissesNeverFire) {
  RuleHarness h("FeedTokenLeakage");
  // 3 per provider; and 4 for p2 but spread over more than 24 hours.
  Regen(h, T0(), "p1");
  Regen(h, T0() + hours(1), "p1");
  Regen(h, T0() + hours(2), "p1");
  Regen(h, T0() + hours(3), "p2");
  Regen(h, T0() + hours(4), "p2");
  Regen(h, T0() + hours(5), "p2");
  Regen(h, T0() + hours(3) + hours(24) + minutes(5), "p2");
  EXPECT_TRUE(h.got().empty());
}

// Feed requests for p1: `per_hour` evenly spread from `from` to `to`.
void FeedRequests(RuleHarness& h, TimePoint from, TimePoint to, int per_hour) {
  const auto step = std::chrono::duration_cast<Duration>(hours(1)) / per_hour;
  for (TimePoint t = from; t < to; t += step) {
    h.SkipTo(t);
    Event e = Ev("cal.ics.feed.requested", t, Label::kProvider, "p1");
    e.With("include_holds", false);
    h.Record(e);
  }
}

TEST(FeedTokenLeakage, RequestBurstAgainstSevenDayBaselineFires) {
  RuleHarness h("FeedTokenLeakage");
  const TimePoint burst = T0() + hours(24 * 7) + minutes(30);
  FeedRequests(h, T0(), burst, 10);  // a week at 10 requests an hour
  h.Eval();
  EXPECT_TRUE(h.got().empty());
  FeedRequests(h, burst, burst + minutes(30), 200);  // a leaked URL: 100 in 30 min
  h.Eval();
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[0].labels.at("provider"), "p1");
  EXPECT_GT(h.got()[0].value, 6);  // z-score
}

TEST(FeedTokenLeakage, ModestRiseOrShortHistoryNeverFires) {
  {
    RuleHarness h("FeedTokenLeakage");
    const TimePoint end = T0() + hours(24 * 7) + minutes(30);
    FeedRequests(h, T0(), end, 10);
    FeedRequests(h, end, end + minutes(30), 36);  // ~23 in the hour vs 10: z ~ 4
    h.Eval();
    EXPECT_TRUE(h.got().empty()) << TransitionText(h.got()[0]);
  }
  {
    // Only 2 days observed (min_samples 3 past days): no baseline, no alert.
    RuleHarness h("FeedTokenLeakage");
    const TimePoint end = T0() + hours(48) + minutes(30);
    FeedRequests(h, T0(), end, 10);
    FeedRequests(h, end, end + minutes(30), 200);
    h.Eval();
    EXPECT_TRUE(h.got().empty());
  }
}

// --- Seed §7: slot volume anomaly per cohort ---

void Slots(RuleHarness& h, TimePoint from, TimePoint to, int slot_count, bool eval = false) {
  for (TimePoint t = from; t < to; t += minutes(6)) {
    if (eval) {
      h.RunTo(t);
    } else {
      h.SkipTo(t);
    }
    Event e = Ev("cal.feasible.generated", t, Label::kRegion, "us-east");
    e.labels.Set(Label::kRole, "tutor");
    e.With("slot_count", static_cast<int64_t>(slot_count))
        .With("candidate_windows", int64_t{200})
        .With("duration_ms", 50.0)
        .With("truncated", false);
    h.Record(e);
  }
}

TEST(SlotVolumeAnomaly, CohortLosingMostSlotsFiresAfter15Minutes) {
  RuleHarness h("SlotVolumeAnomaly");
  const TimePoint drop = T0() + hours(24 * 7);
  Slots(h, T0(), drop, 100);  // 1000 slots an hour for a week
  h.Eval();
  EXPECT_TRUE(h.got().empty());
  Slots(h, drop, drop + hours(1), 10, /*eval=*/true);  // availability vanishing
  ASSERT_GE(h.got().size(), 2u);
  EXPECT_EQ(h.got()[0].to, AlertState::kPending);
  EXPECT_EQ(h.got()[1].to, AlertState::kFiring);
  EXPECT_GE(h.got()[1].at - h.got()[0].at, minutes(15));
  EXPECT_EQ(h.got()[1].labels.at("role"), "tutor");
  EXPECT_LT(h.got()[1].value, -4);
}

TEST(SlotVolumeAnomaly, DailyNoiseNeverFires) {
  RuleHarness h("SlotVolumeAnomaly");
  // Each day a little different (900..1100 an hour), today 950.
  for (int d = 0; d < 7; ++d) {
    Slots(h, T0() + hours(24 * d), T0() + hours(24 * (d + 1)), 90 + (d * 7) % 21);
  }
  Slots(h, T0() + hours(24 * 7), T0() + hours(24 * 7 + 2), 95, /*eval=*/true);
  EXPECT_TRUE(h.got().empty()) << TransitionText(h.got()[0]);
}

// --- 6. Dashboard Silence ---

TEST(DashboardSilence, FiresAfter30MinutesInBusinessHoursAndResolves) {
  RuleHarness h("DashboardSilence");
  h.Record(Feasible(T0(), 100));
  h.Eval();
  h.RunTo(T0() + minutes(30));  // exactly 30 min: not yet
  EXPECT_TRUE(h.got().empty());
  h.RunTo(T0() + minutes(30) + seconds(10));
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_TRUE(h.got()[0].labels.empty());
  h.RunTo(T0() + minutes(40));
  h.Record(Ev("cal.rule.updated", h.Now()));
  h.Eval();
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(DashboardSilence, EventsEvery29MinutesNeverFire) {
  RuleHarness h("DashboardSilence");
  for (int i = 0; i < 8; ++i) {
    h.RunTo(T0() + minutes(29 * i));
    h.Record(Ev(i % 2 ? "cal.rule.updated" : "cal.feasible.generated", h.Now()));
    h.Eval();
  }
  EXPECT_TRUE(h.got().empty());
}

TEST(DashboardSilence, SilenceOutsideBusinessHoursNeverFires) {
  RuleHarness h("DashboardSilence");
  h.Record(Feasible(T0(), 100));
  // Wednesday 18:00 EDT (22:00Z) to Thursday 09:00 EDT (13:00Z): closed.
  h.RunTo(*ParseRfc3339("2027-03-17T22:00:00Z"));
  ASSERT_EQ(h.got().size(), 2u);  // fired 11:30, resolved at 18:00 local
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
  EXPECT_EQ(h.got()[1].at, *ParseRfc3339("2027-03-17T22:00:00Z"));
  // Overnight and Thursday's first 30 minutes: nothing.
  h.RunTo(*ParseRfc3339("2027-03-18T13:30:00Z"));
  EXPECT_EQ(h.got().size(), 2u);
  // Silence counts from the opening (09:00 local), not from Wednesday.
  h.RunTo(*ParseRfc3339("2027-03-18T13:30:10Z"));
  ASSERT_EQ(h.got().size(), 3u);
  EXPECT_EQ(h.got()[2].to, AlertState::kFiring);
}

TEST(DashboardSilence, WeekendsAndHolidaysAreClosed) {
  auto rules = DefaultRules();
  ASSERT_TRUE(rules.ok());
  std::vector<Rule> one;
  for (auto& r : *rules) {
    if (r.name == "DashboardSilence") one.push_back(r);
  }
  one[0].business_hours->holidays.insert("2027-03-17");  // T0's day
  RuleHarness h("", one);
  h.RunTo(*ParseRfc3339("2027-03-18T04:00:00Z"));  // the holiday, then night
  EXPECT_TRUE(h.got().empty());

  RuleHarness weekend("DashboardSilence");
  weekend.RunTo(*ParseRfc3339("2027-03-20T13:00:00Z"));  // Saturday 09:00 EDT
  size_t before = weekend.got().size();
  weekend.RunTo(*ParseRfc3339("2027-03-22T12:59:50Z"));  // until Monday 08:59:50 EDT
  EXPECT_EQ(weekend.got().size(), before);
}

}  // namespace
}  // namespace calprobe::core::rules::testing
