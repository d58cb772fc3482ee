#include "core/signals/window.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/signals/distinct.h"

namespace calprobe::core::signals {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const TimePoint kStart = TimePoint{} + hours(24 * 365 * 57);  // ~2027

TEST(SignalsWindow, ValidatesOptions) {
  EXPECT_TRUE(ValidateWindowOptions({}).ok());
  WindowOptions o;
  o.span = Duration::zero();
  EXPECT_EQ(ValidateWindowOptions(o).message(), "window span must be positive");
  o = {};
  o.span = hours(24 * 7);
  o.coarse_resolution = milliseconds(1);
  EXPECT_EQ(ValidateWindowOptions(o).message(),
            "window coarse_resolution (1ms) must be at least fine_resolution (1s)");
  o.coarse_resolution = minutes(1);
  EXPECT_TRUE(ValidateWindowOptions(o).ok());
}

TEST(SignalsWindow, FormatsDurations) {
  EXPECT_EQ(FormatDuration(hours(24 * 7)), "7d");
  EXPECT_EQ(FormatDuration(hours(1) + minutes(30)), "1h30m");
  EXPECT_EQ(FormatDuration(seconds(45)), "45s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(Duration::zero()), "0s");
  EXPECT_EQ(FormatDuration(-minutes(5)), "-5m");
  EXPECT_EQ(FormatDuration(std::chrono::microseconds(20)), "20us");
}

TEST(SignalsWindow, ThreeHoursAtOnePerSecond) {
  WindowOptions o;
  o.span = hours(24);
  ManualClock clock(kStart);
  Window w(&o);
  for (int i = 0; i < 3 * 3600; ++i) {
    ASSERT_EQ(w.Add(clock.Now(), clock.Now()), AddOutcome::kOk);
    clock.Advance(seconds(1));
  }
  clock.Advance(-seconds(1));  // now == time of the last event
  const TimePoint now = clock.Now();
  EXPECT_EQ(w.Count(now, minutes(5)), 300u);
  EXPECT_EQ(w.Count(now, minutes(15)), 900u);
  EXPECT_EQ(w.Count(now, minutes(45)), 2700u);
  EXPECT_EQ(w.Resolution(minutes(45)), seconds(1));
  // 24h reads the per-minute tier: all 3 hours.
  EXPECT_EQ(w.Resolution(hours(24)), minutes(1));
  EXPECT_EQ(w.Count(now, hours(24)), 3u * 3600);
  // The 2h window is read at minute resolution: between 119 and 120 minutes.
  const uint64_t two_h = w.Count(now, hours(2));
  EXPECT_GE(two_h, 119u * 60);
  EXPECT_LE(two_h, 120u * 60);
  // Fine buckets beyond the last hour were dropped.
  EXPECT_LE(w.BucketCount(), 3600u + 181u);
}

TEST(SignalsWindow, SumAndQuantileAfterOldBucketsExpire) {
  WindowOptions o;
  o.keep_sketches = true;
  ManualClock clock(kStart);
  Window w(&o);
  // 10 minutes of slow requests (5000 ms), then 10 minutes of fast (100 ms).
  for (int i = 0; i < 600; ++i, clock.Advance(seconds(1))) w.Add(clock.Now(), clock.Now(), 5000);
  EXPECT_NEAR(*w.Quantile(clock.Now(), minutes(5), 0.95), 5000, 50);
  for (int i = 0; i < 600; ++i, clock.Advance(seconds(1))) w.Add(clock.Now(), clock.Now(), 100);
  const TimePoint now = clock.Now() - seconds(1);
  EXPECT_NEAR(*w.Quantile(now, minutes(5), 0.95), 100, 1);
  EXPECT_NEAR(*w.Quantile(now, minutes(15), 0.95), 5000, 50);
  EXPECT_DOUBLE_EQ(w.Sum(now, minutes(5)), 300 * 100.0);
  EXPECT_EQ(w.ValueCount(now, minutes(5)), 300u);
  // An hour later everything has left every window.
  EXPECT_FALSE(w.Quantile(now + hours(1), minutes(5), 0.5).has_value());
  EXPECT_EQ(w.Count(now + hours(2), hours(1)), 0u);
  w.Prune(now + hours(2));
  EXPECT_EQ(w.BucketCount(), 0u);
}

TEST(SignalsWindow, OutOfOrderEventsLandInTheirBucket) {
  WindowOptions o;
  ManualClock clock(kStart + hours(1));
  Window w(&o);
  const TimePoint now = clock.Now();
  EXPECT_EQ(w.Add(now, now), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - minutes(10)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - minutes(3)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - minutes(3)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - seconds(30)), AddOutcome::kOk);
  EXPECT_EQ(w.Count(now, minutes(1)), 2u);
  EXPECT_EQ(w.Count(now, minutes(5)), 4u);
  EXPECT_EQ(w.Count(now, minutes(15)), 5u);
  EXPECT_EQ(w.BucketCount(), 4u);
}

TEST(SignalsWindow, RejectsEventsOutsideTheSpan) {
  WindowOptions o;
  o.span = minutes(45);
  ManualClock clock(kStart);
  Window w(&o);
  const TimePoint now = clock.Now();
  EXPECT_EQ(w.Add(now, now - minutes(44)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - minutes(46)), AddOutcome::kTooOld);
  EXPECT_EQ(w.Add(now, now + minutes(4)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now + minutes(6)), AddOutcome::kTooNew);
  // The future event counts once its time has come.
  EXPECT_EQ(w.Count(now, minutes(45)), 1u);
  EXPECT_EQ(w.Count(now + minutes(4), minutes(5)), 1u);
  // A longer window is clamped to the span.
  EXPECT_EQ(w.Count(now, hours(5)), 1u);
}

TEST(SignalsWindow, WithoutBucketsAcceptsLikeAStoredWindowButStoresNothing) {
  WindowOptions o;
  o.span = minutes(15);
  o.keep_buckets = false;
  ASSERT_TRUE(ValidateWindowOptions(o).ok());
  ManualClock clock(kStart);
  Window w(&o);
  // An hour of one event per second: memory stays flat.
  for (int i = 0; i < 3600; ++i) {
    clock.Advance(seconds(1));
    ASSERT_EQ(w.Add(clock.Now(), clock.Now(), 1.0), AddOutcome::kOk);
  }
  EXPECT_EQ(w.BucketCount(), 0u);
  EXPECT_EQ(w.Count(clock.Now(), minutes(15)), 0u);
  // Same acceptance as with buckets.
  const TimePoint now = clock.Now();
  EXPECT_EQ(w.Add(now, now - minutes(14)), AddOutcome::kOk);
  EXPECT_EQ(w.Add(now, now - minutes(16)), AddOutcome::kTooOld);
  EXPECT_EQ(w.Add(now, now + minutes(6)), AddOutcome::kTooNew);
  o.keep_sketches = true;
  EXPECT_EQ(ValidateWindowOptions(o).message(),
            "window keep_sketches needs keep_buckets (sketches live in buckets)");
}

TEST(SignalsWindow, SevenDaysAtMinuteResolution) {
  WindowOptions o;
  o.span = hours(24 * 7);
  ManualClock clock(kStart);
  Window w(&o);
  // One event a minute for 8 days.
  for (int i = 0; i < 8 * 24 * 60; ++i, clock.Advance(minutes(1))) {
    ASSERT_EQ(w.Add(clock.Now(), clock.Now()), AddOutcome::kOk);
  }
  const TimePoint now = clock.Now() - minutes(1);
  EXPECT_EQ(w.Count(now, hours(24 * 7)), 7u * 24 * 60);
  EXPECT_EQ(w.Count(now, hours(24)), 24u * 60);
  EXPECT_EQ(w.Count(now, minutes(30)), 30u);
  // Per-minute buckets for 7 days + per-second buckets for the last hour.
  EXPECT_LE(w.BucketCount(), 7u * 24 * 60 + 60);
  EXPECT_EQ(w.Add(now, now - hours(24 * 7) - minutes(1)), AddOutcome::kTooOld);
  EXPECT_EQ(w.Add(now, now - hours(24 * 6)), AddOutcome::kOk);  // old but retained
  EXPECT_EQ(w.Count(now, hours(24 * 7)), 7u * 24 * 60 + 1);
  EXPECT_EQ(w.Count(now, hours(1)), 60u);  // the fine tier never saw it
}

TEST(SignalsWindow, DistinctCounterIsExactUpToItsLimit) {
  DistinctCounter d(3);
  const TimePoint t0 = kStart;
  EXPECT_TRUE(d.Add("p1", t0, t0 - hours(1)));
  EXPECT_TRUE(d.Add("p2", t0 + minutes(10), t0 - hours(1)));
  EXPECT_TRUE(d.Add("p1", t0 + minutes(20), t0 - hours(1)));
  EXPECT_TRUE(d.Add("p3", t0 + minutes(30), t0 - hours(1)));
  EXPECT_EQ(d.Count(t0 + minutes(30), minutes(15)).count, 2u);  // p1, p3
  EXPECT_EQ(d.Count(t0 + minutes(30), minutes(25)).count, 3u);
  EXPECT_TRUE(d.Count(t0 + minutes(30), hours(1)).exact);
  // Full and nothing expired: p4 is dropped, counts become lower bounds.
  EXPECT_FALSE(d.Add("p4", t0 + minutes(31), t0 - hours(1)));
  EXPECT_FALSE(d.Count(t0 + minutes(31), hours(1)).exact);
  // Once p2 is past the retention it makes room.
  EXPECT_TRUE(d.Add("p5", t0 + minutes(40), t0 + minutes(15)));
  EXPECT_EQ(d.size(), 3u);
  EXPECT_TRUE(d.Count(t0 + hours(2), minutes(30)).exact);
}

}  // namespace
}  // namespace calprobe::core::signals
