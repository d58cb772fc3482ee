#include "core/signals/sketch.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace calprobe::core::signals {

QuantileSketch::QuantileSketch(const Options& options)
    : relative_accuracy_(std::clamp(options.relative_accuracy, 1e-4, 0.5)),
      gamma_((1 + relative_accuracy_) / (1 - relative_accuracy_)),
      inv_log_gamma_(1.0 / std::log(gamma_)),
      max_buckets_(std::max<int32_t>(options.max_buckets, 8)) {}

int32_t QuantileSketch::Index(double value) const {
  return static_cast<int32_t>(std::ceil(std::log(value) * inv_log_gamma_));
}

double QuantileSketch::Value(int32_t index) const {
  // Bucket i holds (gamma^(i-1), gamma^i]; this point is within
  // relative_accuracy_ of both ends.
  return 2.0 * std::pow(gamma_, index) / (gamma_ + 1.0);
}

size_t QuantileSketch::Slot(int32_t index) {
  if (counts_.empty()) {
    offset_ = index;
    counts_.assign(1, 0);
    return 0;
  }
  const int32_t lo = offset_;
  const int32_t hi = offset_ + static_cast<int32_t>(counts_.size()) - 1;
  if (index >= lo && index <= hi) return static_cast<size_t>(index - lo);
  int32_t new_lo = std::min(lo, index);
  const int32_t new_hi = std::max(hi, index);
  if (new_hi - new_lo + 1 > max_buckets_) {
    new_lo = new_hi - max_buckets_ + 1;
    collapsed_ = true;
    index = std::max(index, new_lo);
  }
  if (new_lo == lo) {  // growing upwards only: amortised
    counts_.resize(static_cast<size_t>(new_hi - lo + 1), 0);
    return static_cast<size_t>(index - lo);
  }
  std::vector<uint64_t> grown(static_cast<size_t>(new_hi - new_lo + 1), 0);
  for (size_t k = 0; k < counts_.size(); ++k) {
    const int32_t i = std::max(lo + static_cast<int32_t>(k), new_lo);
    grown[static_cast<size_t>(i - new_lo)] += counts_[k];
  }
  counts_.swap(grown);
  offset_ = new_lo;
  return static_cast<size_t>(index - new_lo);
}

void QuantileSketch::Add(double value) {
  if (std::isnan(value)) return;
  if (value < 0) value = 0;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++count_;
  sum_ += value;
  if (value <= kMinIndexable) {
    ++zero_count_;
    return;
  }
  ++counts_[Slot(Index(value))];
}

bool QuantileSketch::Merge(const QuantileSketch& other) {
  if (other.relative_accuracy_ != relative_accuracy_) {
    assert(false && "merging sketches of different accuracy");
    return false;
  }
  if (other.count_ == 0) return true;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
  zero_count_ += other.zero_count_;
  collapsed_ = collapsed_ || other.collapsed_;
  if (other.counts_.empty()) return true;
  // Extend to the other's range first so at most two reallocations happen.
  Slot(other.offset_ + static_cast<int32_t>(other.counts_.size()) - 1);
  Slot(other.offset_);
  for (size_t k = 0; k < other.counts_.size(); ++k) {
    if (other.counts_[k] == 0) continue;
    counts_[Slot(other.offset_ + static_cast<int32_t>(k))] += other.counts_[k];
  }
  return true;
}

void QuantileSketch::Clear() {
  counts_.clear();
  offset_ = 0;
  zero_count_ = count_ = 0;
  sum_ = min_ = max_ = 0;
  collapsed_ = false;
}

double QuantileSketch::Quantile(double q) const {
  if (count_ == 0) return 0;
  if (!(q >= 0)) q = 0;  // also NaN
  if (q > 1) q = 1;
  const auto rank = static_cast<uint64_t>(q * static_cast<double>(count_ - 1));
  uint64_t seen = zero_count_;
  if (rank < seen) return min_;
  for (size_t k = 0; k < counts_.size(); ++k) {
    seen += counts_[k];
    if (seen > rank) {
      return std::clamp(Value(offset_ + static_cast<int32_t>(k)), min_, max_);
    }
  }
  return max_;
}

}  // namespace calprobe::core::signals
