#pragma once
// QuantileSketch: a mergeable quantile sketch with relative-error guarantees
// (DDSketch, Masson et al., VLDB 2019). A value x > 0 falls into the log
// bucket i = ceil(log_gamma(x)), gamma = (1 + a) / (1 - a); the bucket's
// representative value is within a relative error `a` of every value in it,
// so any quantile is returned within a relative error `a` of the exact value
// at that rank (while no buckets have been collapsed, see below).
//
// * Values <= kMinIndexable (including 0 and negatives, which are clamped to
//   0) are counted in a separate zero bucket and reported as 0.
// * Bucket count is bounded by Options::max_buckets. When the index span would
//   exceed it, the lowest buckets are collapsed into one: the high quantiles
//   (the ones alerts read) stay accurate, the lowest lose accuracy. With the
//   defaults (a = 1%, 2048 buckets) the span before collapsing is about
//   e^41 ~ 6e17, e.g. 1 ns .. 600 Ms, so collapsing is rare in practice.
// * Memory: one uint64 counter per bucket between the smallest and largest
//   index seen (dense), plus a few scalars.
// * Two sketches can be merged iff they have the same relative accuracy.
//
// Not thread-safe; callers synchronise.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace calprobe::core::signals {

class QuantileSketch {
 public:
  struct Options {
    double relative_accuracy = 0.01;
    int32_t max_buckets = 2048;
    bool operator==(const Options&) const = default;
  };
  static constexpr double kMinIndexable = 1e-9;

  QuantileSketch() : QuantileSketch(Options{}) {}
  explicit QuantileSketch(const Options& options);

  // Adds `value` (weight 1). NaN is ignored; negatives count as 0.
  void Add(double value);
  // Adds everything `other` holds. Requires the same relative accuracy
  // (asserted); returns false and leaves *this unchanged otherwise.
  bool Merge(const QuantileSketch& other);
  // Forgets all values; keeps the options.
  void Clear();

  // Returns the value at quantile q in [0, 1] (q is clamped): the value of
  // rank floor(q * (Count() - 1)) within the relative accuracy, and never
  // outside [Min(), Max()]. Returns 0 when empty.
  double Quantile(double q) const;

  uint64_t Count() const { return count_; }
  double Sum() const { return sum_; }
  // Exact extremes of the values added (0 when empty).
  double Min() const { return count_ ? min_ : 0; }
  double Max() const { return count_ ? max_ : 0; }
  bool empty() const { return count_ == 0; }

  double relative_accuracy() const { return relative_accuracy_; }
  // Number of log buckets currently allocated (memory is ~8 bytes each).
  size_t BucketCount() const { return counts_.size(); }
  // Returns true iff low buckets were ever collapsed (accuracy of low
  // quantiles is then no longer guaranteed).
  bool collapsed() const { return collapsed_; }

 private:
  int32_t Index(double value) const;
  double Value(int32_t index) const;
  // Makes counts_ cover index i (collapsing low buckets when needed) and
  // returns the slot position of i.
  size_t Slot(int32_t index);

  double relative_accuracy_;
  double gamma_;
  double inv_log_gamma_;
  int32_t max_buckets_;
  int32_t offset_ = 0;            // index of counts_[0]
  std::vector<uint64_t> counts_;  // dense counts for indices offset_..
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  bool collapsed_ = false;
};

}  // namespace calprobe::core::signals
