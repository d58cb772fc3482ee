#include "core/signals/signal_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event.h"

namespace calprobe::core::signals {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kStart = TimePoint{} + hours(24 * 365 * 57);  // ~2027

Event Ev(std::string name, TimePoint t, std::string region, std::string provider = "p1") {
  Event e;
  e.name = std::move(name);
  e.time = t;
  e.labels.Set(Label::kRegion, std::move(region));
  e.labels.Set(Label::kProvider, std::move(provider));
  e.labels.Set(Label::kOrigin, std::string(kOriginPlatform));
  return e;
}

Labels Key(std::string region, std::string provider = "") {
  Labels l;
  l.Set(Label::kRegion, std::move(region));
  l.Set(Label::kProvider, std::move(provider));
  return l;
}

SeriesSpec ByRegion(std::string event, Duration span = hours(1)) {
  SeriesSpec s;
  s.event = std::move(event);
  s.key_by = {Label::kRegion};
  s.window.span = span;
  return s;
}

class SignalsStore : public ::testing::Test {
 protected:
  ManualClock clock_{kStart};
  SignalStore store_{clock_};
};

TEST_F(SignalsStore, RejectsBadSpecsAndDeduplicates) {
  SeriesSpec s = ByRegion("cal.hold.created");
  s.key_by = {Label::kRegion, Label::kRegion};
  EXPECT_EQ(store_.AddSeries(s).error(),
            "series cal.hold.created{region,region}: label region listed twice in key_by");
  s = ByRegion("cal.feasible.generated");
  s.window.keep_sketches = true;
  EXPECT_EQ(store_.AddSeries(s).error(),
            "series cal.feasible.generated{region}: keep_sketches needs a value_field to take "
            "quantiles of");
  s.value_field = "duration_ms";
  auto a = store_.AddSeries(s);
  auto b = store_.AddSeries(s);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(store_.SeriesCount(), 1u);
  const Label region[] = {Label::kRegion};
  EXPECT_EQ(store_.FindSeries("cal.feasible.generated", region, "duration_ms"), *a);
  EXPECT_FALSE(store_.FindSeries("cal.feasible.generated", region).has_value());
}

TEST_F(SignalsStore, HoursOfEventsCountsRatesAndRatios) {
  const SeriesId created = *store_.AddSeries(ByRegion("cal.hold.created", hours(24)));
  const SeriesId expired = *store_.AddSeries(ByRegion("cal.hold.expired", hours(24)));
  const SeriesId converted = *store_.AddSeries(ByRegion("cal.hold.converted", hours(24)));
  // 3 hours at 1 event/s in us-east; every 4th hold expires, every 2nd converts.
  for (int i = 0; i < 3 * 3600; ++i) {
    const TimePoint t = clock_.Now();
    ASSERT_TRUE(store_.Record(Ev("cal.hold.created", t, "us-east")).ok());
    if (i % 4 == 0) {
      ASSERT_TRUE(store_.Record(Ev("cal.hold.expired", t, "us-east")).ok());
    }
    if (i % 2 == 0) {
      ASSERT_TRUE(store_.Record(Ev("cal.hold.converted", t, "us-east")).ok());
    }
    if (i % 60 == 0) {
      ASSERT_TRUE(store_.Record(Ev("cal.hold.created", t, "eu-west")).ok());
    }
    clock_.Advance(seconds(1));
  }
  clock_.Advance(-seconds(1));
  const Labels east = Key("us-east");
  EXPECT_EQ(store_.Count(created, east, minutes(5)), 300u);
  EXPECT_EQ(store_.Count(created, east, minutes(15)), 900u);
  EXPECT_EQ(store_.Count(created, east, minutes(45)), 2700u);
  EXPECT_EQ(store_.Count(created, east, hours(24)), 10800u);
  EXPECT_DOUBLE_EQ(store_.Rate(created, east, minutes(5)), 1.0);
  EXPECT_DOUBLE_EQ(*store_.Ratio(expired, std::vector<SeriesId>{created}, east, minutes(15)), 0.25);
  const SeriesId outcomes[] = {expired, converted};
  EXPECT_DOUBLE_EQ(*store_.Ratio(expired, outcomes, east, minutes(15)), 225.0 / 675.0);
  EXPECT_FALSE(store_.Ratio(expired, std::vector<SeriesId>{created}, Key("nowhere"), minutes(15)));
  EXPECT_EQ(store_.Count(created, Key("eu-west"), minutes(15)), 15u);
  EXPECT_EQ(store_.TotalCount(created, minutes(15)), 915u);
  EXPECT_EQ(store_.KeyCount(created), 2u);
  std::vector<std::pair<std::string, uint64_t>> per_key;
  store_.CountPerKey(created, minutes(5), [&](const Labels& k, uint64_t n) {
    per_key.emplace_back(k.Get(Label::kRegion), n);
  });
  std::sort(per_key.begin(), per_key.end());
  ASSERT_EQ(per_key.size(), 2u);
  EXPECT_EQ(per_key[0], (std::pair<std::string, uint64_t>{"eu-west", 5}));
  EXPECT_EQ(per_key[1], (std::pair<std::string, uint64_t>{"us-east", 300}));
  EXPECT_EQ(store_.Stats().rejected_too_old, 0u);
}

TEST_F(SignalsStore, StalenessOfActiveSources) {
  SeriesSpec s;
  s.event = "cal.ics.poll.ok";
  s.key_by = {Label::kSrcId};
  s.window.span = hours(24);
  const SeriesId polls = *store_.AddSeries(s);
  auto poll = [&](const std::string& src) {
    Event e;
    e.name = "cal.ics.poll.ok";
    e.time = clock_.Now();
    e.labels.Set(Label::kSrcId, src);
    ASSERT_TRUE(store_.Record(e).ok());
  };
  poll("dead");  // never polled again: inactive after 2 hours
  for (int i = 0; i < 12; ++i, clock_.Advance(minutes(10))) {
    poll("s1");
    poll("s2");
  }
  // s1 last polled at 1h50m; it stays silent for 50 minutes while s2 polls.
  for (int i = 0; i < 4; ++i, clock_.Advance(minutes(10))) poll("s2");
  Labels s1;
  s1.Set(Label::kSrcId, "s1");
  EXPECT_EQ(clock_.Now() - *store_.LastSeen(polls, s1), minutes(50));
  auto stalest = store_.MaxAge(polls, hours(1) + minutes(30));
  ASSERT_TRUE(stalest.has_value());
  EXPECT_EQ(stalest->key.Get(Label::kSrcId), "s1");
  EXPECT_EQ(stalest->age, minutes(50));
  EXPECT_GT(stalest->age, minutes(45));
  EXPECT_EQ(stalest->active_keys, 2u);
  EXPECT_FALSE(store_.MaxAge(polls, minutes(5)).has_value());
  Labels unknown;
  unknown.Set(Label::kSrcId, "nope");
  EXPECT_FALSE(store_.LastSeen(polls, unknown).has_value());
}

TEST_F(SignalsStore, QuantileOverWindowAfterOldBucketsExpire) {
  SeriesSpec s = ByRegion("cal.feasible.generated");
  s.value_field = "duration_ms";
  s.window.keep_sketches = true;
  const SeriesId id = *store_.AddSeries(s);
  auto gen = [&](double ms) {
    Event e = Ev("cal.feasible.generated", clock_.Now(), "us-east");
    e.With("duration_ms", ms);
    ASSERT_TRUE(store_.Record(e).ok());
  };
  for (int i = 0; i < 600; ++i, clock_.Advance(seconds(1))) gen(i % 100 == 0 ? 9000 : 2500);
  EXPECT_NEAR(*store_.Quantile(id, Key("us-east"), minutes(5), 0.95), 2500, 25);
  EXPECT_NEAR(*store_.Quantile(id, Key("us-east"), minutes(5), 0.999), 9000, 90);
  for (int i = 0; i < 600; ++i, clock_.Advance(seconds(1))) gen(40 + i % 10);
  clock_.Advance(-seconds(1));  // now == the last event's time
  const QuantileSketch sk = store_.Sketch(id, Key("us-east"), minutes(5));
  EXPECT_EQ(sk.Count(), 300u);
  EXPECT_LT(sk.Quantile(0.99), 50);
  EXPECT_NEAR(store_.Sum(id, Key("us-east"), minutes(5)), 300 * 44.5, 1e-6);
  clock_.Advance(minutes(6));
  EXPECT_FALSE(store_.Quantile(id, Key("us-east"), minutes(5), 0.95).has_value());
}

TEST_F(SignalsStore, OutOfOrderAndTooOldEvents) {
  const SeriesId id = *store_.AddSeries(ByRegion("cal.hold.created", minutes(45)));
  const TimePoint now = clock_.Now();
  EXPECT_TRUE(store_.Record(Ev("cal.hold.created", now - minutes(20), "r")).ok());
  EXPECT_TRUE(store_.Record(Ev("cal.hold.created", now - minutes(2), "r")).ok());
  EXPECT_TRUE(store_.Record(Ev("cal.hold.created", now - minutes(10), "r")).ok());
  Status old = store_.Record(Ev("cal.hold.created", now - minutes(50), "r"));
  EXPECT_FALSE(old.ok());
  EXPECT_NE(old.message().find("older than the 45m retention of series cal.hold.created{region}"),
            std::string::npos)
      << old.message();
  EXPECT_FALSE(store_.Record(Ev("cal.hold.created", now + hours(1), "r")).ok());
  EXPECT_EQ(store_.Count(id, Key("r"), minutes(5)), 1u);
  EXPECT_EQ(store_.Count(id, Key("r"), minutes(15)), 2u);
  EXPECT_EQ(store_.Count(id, Key("r"), minutes(30)), 3u);
  EXPECT_EQ(*store_.LastSeen(id, Key("r")), now - minutes(2));
  EXPECT_EQ(store_.Stats().rejected_too_old, 1u);
  EXPECT_EQ(store_.Stats().rejected_too_new, 1u);
  // A rejected event for a new key leaves no key behind.
  EXPECT_FALSE(store_.Record(Ev("cal.hold.created", now - hours(2), "elsewhere")).ok());
  EXPECT_EQ(store_.KeyCount(id), 1u);
}

TEST_F(SignalsStore, FiltersByOriginAndKeysByProviderRegion) {
  SeriesSpec s = ByRegion("cal.hold.expired");
  s.key_by = {Label::kProvider, Label::kRegion};
  s.match = {{Label::kOrigin, std::string(kOriginPlatform)}};
  const SeriesId id = *store_.AddSeries(s);
  Event synthetic = Ev("cal.hold.expired", clock_.Now(), "r1", "p9");
  synthetic.labels.Set(Label::kOrigin, std::string(kOriginSynthetic));
  EXPECT_TRUE(store_.Record(synthetic).ok());
  EXPECT_TRUE(store_.Record(Ev("cal.hold.expired", clock_.Now(), "r1", "p9")).ok());
  EXPECT_TRUE(store_.Record(Ev("cal.hold.expired", clock_.Now(), "r2", "p9")).ok());
  EXPECT_EQ(store_.Count(id, Key("r1", "p9"), minutes(5)), 1u);
  EXPECT_EQ(store_.Count(id, Key("r2", "p9"), minutes(5)), 1u);
  EXPECT_EQ(store_.Count(id, Key("r1", "p1"), minutes(5)), 0u);
  EXPECT_EQ(store_.Stats().events_unmatched, 1u);
  std::vector<Labels> keys = store_.Keys(id);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].Get(Label::kProvider), "p9");
}

TEST_F(SignalsStore, EvictsLeastRecentlyUpdatedKeysAtTheLimit) {
  SignalStore store(clock_, StoreOptions{.max_keys = 1000});
  SeriesSpec s = ByRegion("cal.ics.feed.token.regenerated", hours(24));
  s.key_by = {Label::kProvider};
  const SeriesId id = *store.AddSeries(s);
  for (int i = 0; i < 1500; ++i) {
    ASSERT_TRUE(store.Record(Ev(s.event, clock_.Now(), "r", "p" + std::to_string(i))).ok());
    // p0 stays hot, so it is never the least recently updated.
    ASSERT_TRUE(store.Record(Ev(s.event, clock_.Now(), "r", "p0")).ok());
    clock_.Advance(seconds(1));
  }
  EXPECT_EQ(store.KeyCount(id), 1000u);
  EXPECT_EQ(store.Stats().keys, 1000u);
  EXPECT_EQ(store.Stats().keys_evicted, 500u);
  EXPECT_EQ(store.SeriesEvictions(id), 500u);
  EXPECT_EQ(store.Count(id, Key("", "p0"), hours(24)), 1501u);
  EXPECT_EQ(store.Count(id, Key("", "p1"), hours(24)), 0u);     // evicted
  EXPECT_EQ(store.Count(id, Key("", "p1499"), hours(24)), 1u);  // kept
  EXPECT_EQ(store.Count(id, Key("", "p501"), hours(24)), 1u);   // oldest kept
  EXPECT_EQ(store.Count(id, Key("", "p500"), hours(24)), 0u);
  // Evicted keys release their interned label values.
  EXPECT_EQ(store.InternedCount(), 1000u);
  // An evicted key comes back empty (its old events are gone) and evicts
  // the now least recently updated key, p501.
  ASSERT_TRUE(store.Record(Ev(s.event, clock_.Now(), "r", "p1")).ok());
  EXPECT_EQ(store.Count(id, Key("", "p1"), hours(24)), 1u);
  EXPECT_EQ(store.Count(id, Key("", "p501"), hours(24)), 0u);
  EXPECT_EQ(store.Stats().keys_evicted, 501u);
  EXPECT_EQ(store.SeriesOf(s.event).size(), 1u);
  EXPECT_TRUE(store.SeriesOf("cal.unknown").empty());
}

TEST_F(SignalsStore, CountPerProviderOverADay) {
  // "More than 3 feed regenerations per provider within 24h".
  SeriesSpec s;
  s.event = "cal.ics.feed.token.regenerated";
  s.key_by = {Label::kProvider};
  s.window.span = hours(24);
  const SeriesId id = *store_.AddSeries(s);
  for (int h = 0; h < 30; ++h, clock_.Advance(hours(1))) {
    for (int p = 0; p < 100; ++p) {
      if (h % (p % 10 + 1) == 0) {
        ASSERT_TRUE(store_.Record(Ev(s.event, clock_.Now(), "r", "p" + std::to_string(p))).ok());
      }
    }
  }
  clock_.Advance(-hours(1));
  int over = 0;
  store_.CountPerKey(id, hours(24), [&](const Labels&, uint64_t n) { over += n > 3; });
  // The window holds hours 6..29; p % 10 == k regenerates every k+1 hours,
  // which is > 3 times for k <= 6.
  EXPECT_EQ(over, 70);
  EXPECT_EQ(store_.Count(id, Key("", "p0"), hours(24)), 24u);
  EXPECT_EQ(store_.Count(id, Key("", "p9"), hours(24)), 2u);  // hours 10 and 20
}

TEST_F(SignalsStore, CompactAndDropIdle) {
  const SeriesId id = *store_.AddSeries(ByRegion("cal.ics.poll.ok", hours(2)));
  for (int i = 0; i < 600; ++i, clock_.Advance(seconds(1))) {
    ASSERT_TRUE(store_.Record(Ev("cal.ics.poll.ok", clock_.Now(), "quiet")).ok());
  }
  clock_.Advance(hours(3));
  ASSERT_TRUE(store_.Record(Ev("cal.ics.poll.ok", clock_.Now(), "busy")).ok());
  EXPECT_EQ(store_.Count(id, Key("quiet"), hours(2)), 0u);
  store_.Compact();
  EXPECT_EQ(store_.KeyCount(id), 2u);
  EXPECT_TRUE(store_.LastSeen(id, Key("quiet")).has_value());  // staleness survives
  EXPECT_EQ(store_.DropIdle(hours(1)), 1u);
  EXPECT_EQ(store_.KeyCount(id), 1u);
  EXPECT_FALSE(store_.LastSeen(id, Key("quiet")).has_value());
  EXPECT_EQ(store_.Stats().keys_evicted, 0u);
  EXPECT_EQ(store_.Count(id, Key("busy"), minutes(5)), 1u);
}

TEST_F(SignalsStore, DistinctFieldValuesPerRegion) {
  SeriesSpec s = ByRegion("cal.ics.poll.error");
  s.distinct_field = "http_status";
  const SeriesId id = *store_.AddSeries(s);
  for (int64_t status : {500, 502, 500, 404, 500}) {
    Event e = Ev(s.event, clock_.Now(), "eu");
    e.With("http_status", status);
    ASSERT_TRUE(store_.Record(e).ok());
    clock_.Advance(minutes(1));
  }
  Event no_field = Ev(s.event, clock_.Now(), "eu");
  ASSERT_TRUE(store_.Record(no_field).ok());
  EXPECT_EQ(store_.Count(id, Key("eu"), minutes(10)), 6u);
  EXPECT_EQ(store_.Distinct(id, Key("eu"), minutes(10)).count, 3u);
  EXPECT_EQ(store_.Distinct(id, Key("eu"), minutes(2)).count, 2u);  // 404, 500
  s.distinct_label = Label::kProvider;
  EXPECT_FALSE(store_.AddSeries(s).ok());
}

TEST_F(SignalsStore, GaugeLastValueAndMean) {
  SeriesSpec s = ByRegion("cal.ics.backlog");
  s.value_field = "size";
  const SeriesId id = *store_.AddSeries(s);
  EXPECT_FALSE(store_.LastValue(id, Key("eu")).has_value());
  for (int64_t size : {10, 20, 60}) {
    Event e = Ev(s.event, clock_.Now(), "eu");
    e.With("size", size).With("queue_size", int64_t{50});
    ASSERT_TRUE(store_.Record(e).ok());
    clock_.Advance(seconds(10));
  }
  // A late sample does not replace the latest value.
  Event late = Ev(s.event, clock_.Now() - minutes(2), "eu");
  late.With("size", int64_t{5});
  ASSERT_TRUE(store_.Record(late).ok());
  ASSERT_TRUE(store_.Record(Ev(s.event, clock_.Now(), "eu")).ok());  // no size field
  EXPECT_EQ(*store_.LastValue(id, Key("eu")), 60);
  EXPECT_DOUBLE_EQ(*store_.Mean(id, Key("eu"), minutes(5)), (10 + 20 + 60 + 5) / 4.0);
  EXPECT_EQ(store_.Count(id, Key("eu"), minutes(5)), 5u);
  EXPECT_FALSE(store_.Mean(id, Key("us"), minutes(5)).has_value());
}

TEST_F(SignalsStore, DistinctProvidersConfigured) {
  SeriesSpec s;
  s.event = "cal.rule.updated";
  s.distinct_label = Label::kProvider;
  s.window.span = hours(24 * 7);
  const SeriesId id = *store_.AddSeries(s);
  for (int d = 0; d < 10; ++d, clock_.Advance(hours(24))) {
    for (int p = 0; p < 50; ++p) {
      ASSERT_TRUE(
          store_.Record(Ev(s.event, clock_.Now(), "r", "p" + std::to_string(d * 10 + p))).ok());
    }
  }
  clock_.Advance(-hours(24));
  // Day 9 covers p90..p139; 7 days cover p30..p139.
  EXPECT_EQ(store_.Distinct(id, Labels{}, hours(1)).count, 50u);
  EXPECT_EQ(store_.Distinct(id, Labels{}, hours(24 * 6) + minutes(1)).count, 110u);
  EXPECT_TRUE(store_.Distinct(id, Labels{}, hours(24)).exact);
}

}  // namespace
}  // namespace calprobe::core::signals
