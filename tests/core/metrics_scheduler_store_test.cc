#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "core/metrics.h"
#include "core/scheduler.h"
#include "core/store.h"

namespace calprobe::core {
namespace {

TEST(MetricsTest, RendersPrometheusText) {
  MetricsRegistry r;
  auto& c = r.Counter("calprobe_x_total", "Things.\nSecond line", {"target"});
  c.Inc({"a\"b\\c\nd"}, 2);
  auto& h = r.Histogram("calprobe_d_seconds", "Durations.", {"t"}, {0.1, 1});
  h.Observe({"x"}, 0.05);
  h.Observe({"x"}, 0.5);
  h.Observe({"x"}, 5);
  r.Gauge("calprobe_g", "G.", {}).Set({}, std::nan(""));
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP calprobe_x_total Things.\\nSecond line\n# TYPE calprobe_x_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("calprobe_x_total{target=\"a\\\"b\\\\c\\nd\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("calprobe_d_seconds_bucket{t=\"x\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("calprobe_d_seconds_bucket{t=\"x\",le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("calprobe_d_seconds_bucket{t=\"x\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("calprobe_d_seconds_sum{t=\"x\"} 5.55\n"), std::string::npos) << text;
  EXPECT_NE(text.find("calprobe_d_seconds_count{t=\"x\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("calprobe_g NaN\n"), std::string::npos);
  c.Remove({"a\"b\\c\nd"});
  EXPECT_EQ(c.size(), 0u);
}

TEST(MetricsTest, ABigExpositionRendersTheSameTwice) {
  // The second render reserves the first one's size up front.
  MetricsRegistry r;
  auto& h = r.Histogram("calprobe_d_seconds", "Durations.", {"target"}, {0.1, 1});
  for (int i = 0; i < 2000; ++i) h.Observe({"t" + std::to_string(i)}, 0.5);
  const std::string first = r.Render();
  EXPECT_GT(first.size(), 64u * 1024);
  EXPECT_EQ(r.Render(), first);
  h.Observe({"t-new"}, 0.5);
  const std::string grown = r.Render();
  EXPECT_GT(grown.size(), first.size());
  EXPECT_NE(grown.find("calprobe_d_seconds_count{target=\"t-new\"} 1\n"), std::string::npos);
}

TEST(SchedulerTest, PhaseIsDeterministicAndSpreadsEvenly) {
  using std::chrono::milliseconds;
  const milliseconds interval(1000);
  EXPECT_EQ(Scheduler::Phase("target-1", interval), Scheduler::Phase("target-1", interval));
  // 5,000 targets over 10 buckets of 100 ms: each bucket within ±15% of 500.
  std::map<int64_t, int> buckets;
  for (int i = 0; i < 5000; ++i) {
    ++buckets[Scheduler::Phase("target-" + std::to_string(i), interval).count() / 100];
  }
  ASSERT_EQ(buckets.size(), 10u);
  for (auto [b, n] : buckets) EXPECT_NEAR(n, 500, 75) << "bucket " << b;
}

TEST(SchedulerTest, NextDueIsOnTheTargetsGrid) {
  using std::chrono::milliseconds;
  const milliseconds interval(30000);
  TimePoint now(milliseconds(1'800'000'012'345));
  TimePoint next = Scheduler::NextDue("api", interval, now);
  EXPECT_GT(next, now);
  EXPECT_LE(next - now, interval);
  auto ms = std::chrono::duration_cast<milliseconds>(next.time_since_epoch()).count();
  EXPECT_EQ(ms % interval.count(), Scheduler::Phase("api", interval).count());
  // Exactly on a grid point: the next one is a full interval later.
  EXPECT_EQ(Scheduler::NextDue("api", interval, next), next + interval);
}

TEST(StoreTest, MigratesAndKeepsState) {
  std::string path = testing::TempDir() + "/store-test-" + std::to_string(getpid()) + ".db";
  std::remove(path.c_str());
  {
    auto s = Store::Open(path);
    ASSERT_TRUE(s.ok()) << s.error();
    EXPECT_EQ((*s)->schema_version(), Store::LatestSchemaVersion());
    ASSERT_TRUE((*s)->PutTargetResults({{"a", "{\"success\":true}"}, {"b", "{}"}}).ok());
    ASSERT_TRUE((*s)->PutTargetResults({{"a", "{\"success\":false}"}}).ok());
    ASSERT_TRUE((*s)->Put("ics.validators", "src1", std::string("etag\0binary", 11)).ok());
  }
  auto s = Store::Open(path);
  ASSERT_TRUE(s.ok());
  auto results = (*s)->LoadTargetResults();
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(results->size(), 2u);
  EXPECT_EQ(results->at("a"), "{\"success\":false}");
  auto v = (*s)->Get("ics.validators", "src1");
  ASSERT_TRUE(v.ok() && v->has_value());
  EXPECT_EQ(v->value(), std::string("etag\0binary", 11));
  ASSERT_TRUE((*s)->Delete("ics.validators", "src1").ok());
  EXPECT_FALSE((*s)->Get("ics.validators", "src1")->has_value());
}

TEST(StoreTest, RefusesNewerSchemaAndBadPaths) {
  std::string path = testing::TempDir() + "/store-newer-" + std::to_string(getpid()) + ".db";
  std::remove(path.c_str());
  {
    auto s = Store::Open(path);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Exec("PRAGMA user_version=999").ok());
  }
  auto s = Store::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("newer than this calprobe"), std::string::npos);
  auto bad = Store::Open("/nonexistent-dir/x.db");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("agent.store"), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core
