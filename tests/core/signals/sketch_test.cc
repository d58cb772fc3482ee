#include "core/signals/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace calprobe::core::signals {
namespace {

double Exact(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

void ExpectAccurate(const std::vector<double>& values, const QuantileSketch& s, double rel) {
  for (double q : {0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double want = Exact(values, q);
    const double got = s.Quantile(q);
    EXPECT_LE(std::abs(got - want), rel * want + 1e-12) << "q=" << q << " want " << want;
  }
}

TEST(SignalsSketch, EmptySketch) {
  QuantileSketch s;
  EXPECT_EQ(s.Count(), 0u);
  EXPECT_EQ(s.Quantile(0.5), 0);
  EXPECT_TRUE(s.empty());
}

TEST(SignalsSketch, UniformRandomWithinOnePercent) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(1, 5000);
  std::vector<double> values;
  QuantileSketch s;
  for (int i = 0; i < 100000; ++i) {
    values.push_back(dist(rng));
    s.Add(values.back());
  }
  EXPECT_EQ(s.Count(), values.size());
  double sum = 0;
  for (double v : values) sum += v;
  EXPECT_NEAR(s.Sum(), sum, 1e-6 * sum);
  ExpectAccurate(values, s, 0.01);
  EXPECT_FALSE(s.collapsed());
}

TEST(SignalsSketch, SkewedHeavyTailWithinOnePercent) {
  // Log-normal and Pareto latencies: most sub-10ms, a tail into minutes.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lognormal(1.0, 2.0);
  std::vector<double> values;
  QuantileSketch s;
  for (int i = 0; i < 50000; ++i) {
    values.push_back(lognormal(rng));
    s.Add(values.back());
  }
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 50000; ++i) {
    values.push_back(0.5 / std::pow(1 - u(rng), 1 / 1.1));  // Pareto, alpha 1.1
    s.Add(values.back());
  }
  ExpectAccurate(values, s, 0.01);
}

TEST(SignalsSketch, ZeroAndSubMillisecondValues) {
  std::vector<double> values;
  QuantileSketch s;
  for (int i = 0; i < 100; ++i) {
    values.push_back(0);
    s.Add(0);
  }
  for (int i = 1; i <= 900; ++i) {
    values.push_back(i * 1e-6);  // 1 us .. 0.9 ms
    s.Add(values.back());
  }
  ExpectAccurate(values, s, 0.01);
  EXPECT_EQ(s.Quantile(0.05), 0);
  EXPECT_EQ(s.Min(), 0);
  s.Add(-3);  // clamped to 0
  EXPECT_EQ(s.Count(), 1001u);
  EXPECT_EQ(s.Min(), 0);
  s.Add(std::nan(""));
  EXPECT_EQ(s.Count(), 1001u);
}

TEST(SignalsSketch, MergeEqualsSketchOfUnion) {
  std::mt19937_64 rng(3);
  std::exponential_distribution<double> dist(0.01);
  std::vector<double> all;
  QuantileSketch a, b, whole;
  for (int i = 0; i < 20000; ++i) {
    const double v = dist(rng);
    all.push_back(v);
    (i % 3 ? a : b).Add(v);
    whole.Add(v);
  }
  ASSERT_TRUE(a.Merge(b));
  EXPECT_EQ(a.Count(), whole.Count());
  for (double q : {0.1, 0.5, 0.95, 0.99}) EXPECT_DOUBLE_EQ(a.Quantile(q), whole.Quantile(q));
  ExpectAccurate(all, a, 0.01);
  QuantileSketch empty;
  ASSERT_TRUE(empty.Merge(a));
  EXPECT_DOUBLE_EQ(empty.Quantile(0.99), a.Quantile(0.99));
}

TEST(SignalsSketch, BucketCountIsBoundedAndHighQuantilesStayAccurate) {
  QuantileSketch s(QuantileSketch::Options{.relative_accuracy = 0.01, .max_buckets = 128});
  std::vector<double> values;
  for (int e = -9; e <= 9; ++e) {
    for (int i = 1; i <= 100; ++i) {
      values.push_back(std::pow(10.0, e) * i);
      s.Add(values.back());
    }
  }
  EXPECT_LE(s.BucketCount(), 128u);
  EXPECT_TRUE(s.collapsed());
  for (double q : {0.95, 0.99, 1.0}) {
    const double want = Exact(values, q);
    EXPECT_LE(std::abs(s.Quantile(q) - want), 0.01 * want) << q;
  }
}

TEST(SignalsSketch, SingleValueIsExact) {
  QuantileSketch s;
  s.Add(2000);
  EXPECT_DOUBLE_EQ(s.Quantile(0.5), 2000);
  EXPECT_DOUBLE_EQ(s.Quantile(0.99), 2000);
}

}  // namespace
}  // namespace calprobe::core::signals
