// Per-minute panel rollups and the panels document (core/panels/): bucketing
// by event time, filters, TTL consumption, the backlog gauge across keys,
// retention, label bounding, persistence through the Store, query parsing.

#include "core/panels/rollup.h"

#include <gtest/gtest.h>

#include "core/panels/panels.h"
#include "core/store.h"

namespace calprobe::core::panels {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kT0 = *ParseRfc3339("2027-03-15T09:00:00Z");

Event Ev(std::string name, TimePoint t, std::string provider = "p1",
         std::string origin = "platform") {
  Event e;
  e.name = std::move(name);
  e.time = t;
  e.labels.Set(Label::kProvider, std::move(provider));
  e.labels.Set(Label::kRole, "host");
  e.labels.Set(Label::kOrigin, std::move(origin));
  return e;
}

class RollupTest : public ::testing::Test {
 protected:
  ManualClock clock_{kT0 + minutes(10)};
  Rollups r_{clock_, RollupOptions{hours(26), 3, 1000, "us-east"}};
  Filter platform_;
};

TEST_F(RollupTest, BucketsByEventTimeAndStep) {
  for (int m = 0; m < 10; ++m) {
    for (int i = 0; i <= m; ++i) {
      r_.Record(Ev("cal.feasible.generated", kT0 + minutes(m) + seconds(i))
                    .With("duration_ms", 100.0 * (i + 1))
                    .With("truncated", i == 0));
    }
  }
  auto q = r_.Query(platform_, kT0, kT0 + minutes(10), 1);
  ASSERT_EQ(q.buckets.size(), 10u);
  for (int m = 0; m < 10; ++m) EXPECT_EQ(q.buckets[m].c[kFeasible], m + 1) << m;
  EXPECT_EQ(q.total.c[kFeasible], 55);
  EXPECT_EQ(q.total.c[kFeasibleTruncated], 10);
  auto q5 = r_.Query(platform_, kT0, kT0 + minutes(10), 5);
  ASSERT_EQ(q5.buckets.size(), 2u);
  EXPECT_EQ(q5.buckets[0].c[kFeasible], 1 + 2 + 3 + 4 + 5);
  // Value 100*k ms occurs 11-k times: the exact p99 (rank 53 of 55) is 900,
  // the median (rank 27) 400; the histogram is within ~4%.
  double p99 = *q.total.h[kFeasibleMs].Quantile(0.99);
  EXPECT_NEAR(p99, 900, 36);
  EXPECT_NEAR(*q.total.h[kFeasibleMs].Quantile(0.5), 400, 16);
}

TEST_F(RollupTest, FiltersByLabelsAndOrigin) {
  r_.Record(Ev("cal.search.slots_surfaced", kT0, "p1").With("count", int64_t{10}));
  r_.Record(Ev("cal.search.slots_surfaced", kT0, "p2").With("count", int64_t{5}));
  r_.Record(Ev("cal.search.slots_surfaced", kT0, "p2", "synthetic").With("count", int64_t{7}));
  EXPECT_EQ(r_.Query(platform_, kT0, kT0 + minutes(1), 1).total.c[kSlotsSurfaced], 15);
  Filter p2;
  p2.provider = "p2";
  EXPECT_EQ(r_.Query(p2, kT0, kT0 + minutes(1), 1).total.c[kSlotsSurfaced], 5);
  Filter synth;
  synth.origin = "synthetic";
  EXPECT_EQ(r_.Query(synth, kT0, kT0 + minutes(1), 1).total.c[kSlotsSurfaced], 7);
  Filter any;
  any.origin = "";
  EXPECT_EQ(r_.Query(any, kT0, kT0 + minutes(1), 1).total.c[kSlotsSurfaced], 22);
  Filter eu;
  eu.region = "eu-west";  // events without a region count under the agent's
  EXPECT_EQ(r_.Query(eu, kT0, kT0 + minutes(1), 1).total.c[kSlotsSurfaced], 0);
}

TEST_F(RollupTest, TtlConsumptionFromCreatedToConverted) {
  auto hold = [&](const char* name, TimePoint t, const char* id) {
    r_.Record(Ev(name, t)
                  .With("source", std::string("search"))
                  .With("ttl_minutes", 10.0)
                  .With("overlap_detected", false)
                  .With("hold_id", std::string(id)));
  };
  hold("cal.hold.created", kT0, "a");
  hold("cal.hold.converted", kT0 + minutes(2), "a");  // 20% of the TTL
  hold("cal.hold.created", kT0, "b");
  hold("cal.hold.expired", kT0 + minutes(10), "b");  // all of it
  hold("cal.hold.converted", kT0, "unknown");        // no created seen: not counted
  auto t = r_.Query(platform_, kT0, kT0 + minutes(11), 1).total;
  EXPECT_EQ(t.c[kHoldCreated], 2);
  EXPECT_EQ(t.c[kHoldConverted], 2);
  EXPECT_EQ(t.c[kTtlUsedN], 2);
  EXPECT_DOUBLE_EQ(t.c[kTtlUsedSum] / t.c[kTtlUsedN], (0.2 + 1.0) / 2);
}

TEST_F(RollupTest, BacklogIsLatestPerKeySummedOverKeys) {
  auto backlog = [&](TimePoint t, const char* region, int64_t size) {
    Event e = Ev("cal.ics.backlog", t, "");
    e.labels.Set(Label::kRegion, region);
    r_.Record(e.With("size", size).With("queue_size", int64_t{50}));
  };
  backlog(kT0, "us-east", 7);
  backlog(kT0 + seconds(30), "us-east", 3);  // latest of us-east
  backlog(kT0 + minutes(1), "eu-west", 4);
  auto q = r_.Query(platform_, kT0, kT0 + minutes(2), 2);
  EXPECT_EQ(q.total.backlog_size, 3 + 4);
  EXPECT_EQ(q.total.backlog_queue, 100);
  auto q1 = r_.Query(platform_, kT0, kT0 + minutes(2), 1);
  EXPECT_EQ(q1.buckets[0].backlog_size, 3);
  EXPECT_EQ(q1.buckets[1].backlog_size, 4);
}

TEST_F(RollupTest, BoundsLabelValuesAndDropsOldMinutes) {
  for (int i = 0; i < 10; ++i) {
    r_.Record(Ev("cal.booking.instant", kT0, "p" + std::to_string(i)).With("accepted", true));
  }
  auto providers = r_.Values(0);
  EXPECT_LE(providers.size(), 3u + 1u) << "top-K (3) plus other";
  EXPECT_TRUE(providers.count("other"));
  EXPECT_EQ(r_.Query(platform_, kT0, kT0 + minutes(1), 1).total.c[kInstant], 10);
  // Older than the retention: ignored.
  r_.Record(Ev("cal.booking.instant", kT0 - hours(30)).With("accepted", true));
  EXPECT_EQ(r_.Query(platform_, kT0 - hours(31), kT0 - hours(29), 1).total.c[kInstant], 0);
}

TEST_F(RollupTest, PersistsMinutesAndEntities) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  r_.Record(Ev("cal.rule.updated", kT0)
                .With("weekday_mask", int64_t{31})
                .With("timezone", std::string("UTC"))
                .With("lead_time_hours", 2.0));
  r_.Record(Ev("cal.ics.poll.error", kT0, "p1")
                .WithLabel(Label::kSrcId, "gcal")
                .With("http_status", int64_t{503})
                .With("etag_matched", false)
                .With("delta_event_count", int64_t{0})
                .With("error_code", std::string("http.server_error")));
  r_.Record(Ev("cal.feasible.generated", kT0 + minutes(1))
                .With("duration_ms", 250.0)
                .With("truncated", false));
  ASSERT_TRUE(r_.Flush(**store).ok());

  Rollups again(clock_, RollupOptions{hours(26), 3, 1000, "us-east"});
  ASSERT_TRUE(again.Load(**store).ok());
  auto a = r_.Query(platform_, kT0, kT0 + minutes(5), 1);
  auto b = again.Query(platform_, kT0, kT0 + minutes(5), 1);
  EXPECT_EQ(a.total.c, b.total.c);
  EXPECT_NEAR(*b.total.h[kFeasibleMs].Quantile(0.5), 250, 10);
  ASSERT_EQ(again.providers().size(), 1u);
  ASSERT_EQ(again.sources().size(), 1u);
  EXPECT_EQ(again.sources().begin()->second.error_code, "http.server_error");

  // Minutes past the retention are deleted from the store at the next flush.
  clock_.Advance(hours(27));
  ASSERT_TRUE(again.Flush(**store).ok());
  Rollups third(clock_, RollupOptions{hours(26), 3, 1000, "us-east"});
  ASSERT_TRUE(third.Load(**store).ok());
  EXPECT_EQ(third.minute_count(), 0u);
}

TEST_F(RollupTest, SkipsDamagedRowsAndKeepsTheRest) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  r_.Record(Ev("cal.booking.instant", kT0).With("accepted", true));
  ASSERT_TRUE(r_.Flush(**store).ok());
  ASSERT_TRUE((*store)->Put("panels.minutes", "000000000001|[1,2,3,4]", "{}").ok());
  ASSERT_TRUE((*store)->Put("panels.providers", "[\"p\",\"r\",\"g\"]", "not a number").ok());
  Rollups again(clock_, RollupOptions{hours(26), 3, 1000, "us-east"});
  Status s = again.Load(**store);
  EXPECT_EQ(s.message(), "2 unreadable panel rollup rows in the store were skipped");
  EXPECT_EQ(again.Query(platform_, kT0, kT0 + minutes(1), 1).total.c[kInstant], 1);
}

TEST(PanelQueryTest, ParsesAndRejects) {
  TimePoint now = kT0;
  auto q = ParsePanelQueryMap({{"range", "6h"}, {"provider", "p1"}}, now, hours(26));
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(q->from, now - hours(6));
  EXPECT_EQ(q->step_minutes, 3);  // at most 120 points
  EXPECT_EQ(q->filter.provider, "p1");
  EXPECT_EQ(q->filter.origin, "platform");
  EXPECT_EQ(ParsePanelQueryMap({{"origin", "all"}}, now, hours(26))->filter.origin, "");
  EXPECT_EQ(ParsePanelQueryMap({{"range", "30s"}}, now, hours(26)).error(),
            "range: must be a duration of at least 1m such as 15m, 6h or 24h");
  EXPECT_EQ(ParsePanelQueryMap({{"origin", "x"}}, now, hours(26)).error(),
            "origin: must be platform, synthetic or all, got \"x\"");
  EXPECT_FALSE(ParsePanelQueryMap({{"range", "48h"}}, now, hours(26)).ok());
  EXPECT_FALSE(ParsePanelQueryMap({{"to", "yesterday"}}, now, hours(26)).ok());
}

TEST(PanelsDocumentTest, SixPanelsWithChartsOverTheRange) {
  ManualClock clock(kT0 + minutes(5));
  Rollups r(clock, RollupOptions{hours(26), 50, 1000, "us-east"});
  r.Record(Ev("cal.booking.instant", kT0).With("accepted", true));
  r.Record(Ev("cal.booking.instant", kT0 + minutes(1)).With("accepted", false));
  auto q = ParsePanelQueryMap({{"range", "15m"}}, clock.Now(), hours(26));
  ASSERT_TRUE(q.ok());
  auto doc = BuildPanels(r, *q, clock.Now());
  ASSERT_EQ(doc["panels"].size(), 6u);
  std::vector<std::string> ids;
  for (const auto& p : doc["panels"]) ids.push_back(p["id"]);
  EXPECT_EQ(ids, (std::vector<std::string>{"availability_intake", "feasibility_engine",
                                           "hold_to_confirm", "external_calendar_sync",
                                           "ics_feed_outbound", "user_impact"}));
  const auto& u = doc["panels"][5];
  EXPECT_TRUE(u["has_data"]);
  EXPECT_FALSE(doc["panels"][0]["has_data"]);
  EXPECT_DOUBLE_EQ(u["values"]["instant_book_acceptance_rate"].get<double>(), 0.5);
  EXPECT_TRUE(u["values"]["rebook_latency_p50_ms"].is_null());
  // 15 one-minute points; the acceptance chart has values where events were.
  const auto& pts = u["charts"][1]["series"][0]["points"];
  ASSERT_EQ(pts.size(), 15u);
  int with_values = 0;
  for (const auto& p : pts) with_values += p[1].is_null() ? 0 : 1;
  EXPECT_EQ(with_values, 2);
}

}  // namespace
}  // namespace calprobe::core::panels
