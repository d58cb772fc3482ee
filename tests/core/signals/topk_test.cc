#include "core/signals/topk.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace calprobe::core::signals {
namespace {

TEST(SignalsTopK, MapsHeavyHittersToThemselvesAndTheRestToOther) {
  TopK top({.k = 3});
  for (int i = 0; i < 100; ++i) top.Observe("big");
  for (int i = 0; i < 50; ++i) top.Observe("mid");
  for (int i = 0; i < 20; ++i) top.Observe("small");
  top.Observe("tiny");
  top.Refresh();
  EXPECT_EQ(top.Map("big"), "big");
  EXPECT_EQ(top.Map("mid"), "mid");
  EXPECT_EQ(top.Map("small"), "small");
  EXPECT_EQ(top.Map("tiny"), "other");
  EXPECT_EQ(top.Map("never-seen"), "other");
  auto entries = top.Top();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].value, "big");
  EXPECT_EQ(entries[0].count, 100u);
  EXPECT_EQ(entries[2].value, "small");
}

TEST(SignalsTopK, BoundedSeriesUnderHundredsOfThousandsOfProviders) {
  // 200k providers: 20 heavy ones carry half the traffic (Zipf-like tail).
  TopK top({.k = 20});
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<int> heavy(0, 19);
  std::uniform_int_distribution<int> tail(20, 200'000);
  std::unordered_map<std::string, uint64_t> truth;
  for (int i = 0; i < 1'000'000; ++i) {
    const int p = (i % 2) ? heavy(rng) : tail(rng);
    const std::string v = "provider-" + std::to_string(p);
    ++truth[v];
    top.Observe(v);
  }
  top.Refresh();
  std::unordered_set<std::string> exported;
  for (const auto& [v, n] : truth) exported.insert(std::string(top.Map(v)));
  EXPECT_LE(exported.size(), 21u);  // k + "other"
  for (int p = 0; p < 20; ++p) {
    const std::string v = "provider-" + std::to_string(p);
    EXPECT_EQ(top.Map(v), v);
  }
  // Space-Saving bounds: count - error <= true count <= count.
  for (const auto& e : top.Top()) {
    EXPECT_LE(e.count - e.error, truth[e.value]);
    EXPECT_GE(e.count, truth[e.value]);
    EXPECT_LE(e.error, top.total() / top.capacity());
  }
  EXPECT_EQ(top.total(), 1'000'000u);
}

TEST(SignalsTopK, MembershipIsStableBetweenRefreshesAndDecayLetsNewLeadersIn) {
  TopK top({.k = 1, .capacity = 8, .other = "__other__"});
  for (int i = 0; i < 4; ++i) top.Observe("old");
  top.Refresh();
  EXPECT_EQ(top.Map("old"), "old");
  top.Observe("new", 5);  // heavier now, but not until the next refresh
  EXPECT_EQ(top.Map("new"), "__other__");
  EXPECT_TRUE(top.Contains("old"));
  top.Refresh();
  EXPECT_EQ(top.Map("new"), "new");
  EXPECT_EQ(top.Map("old"), "__other__");
  // After decays, recent traffic dominates.
  for (int i = 0; i < 6; ++i) top.Decay();
  top.Observe("old", 3);
  top.Refresh();
  EXPECT_EQ(top.Map("old"), "old");
}

TEST(SignalsTopK, RefreshesAutomaticallyEveryCapacityObservations) {
  TopK top({.k = 2});  // capacity 8
  for (int i = 0; i < 8; ++i) top.Observe(i < 5 ? "a" : "b");
  EXPECT_EQ(top.Map("a"), "a");
  EXPECT_EQ(top.Map("b"), "b");
}

}  // namespace
}  // namespace calprobe::core::signals
