#pragma once
// TopK: bounds the cardinality of an exported label. Tracks the heaviest
// values of a stream with the Space-Saving algorithm (Metwally et al., 2005)
// in `capacity` counters (default 4 * k) and maps a value to itself when it is
// one of the k heaviest, or to `other` ("other") otherwise, so a label with
// hundreds of thousands of values exports at most k + 1 series.
//
// Guarantees (Space-Saving): a tracked value's count overestimates its true
// count by at most its `error`, and every error <= N / capacity (N = total
// weight observed); any value with true count > N / capacity is tracked.
//
// Membership is recomputed by Refresh(), which runs automatically every
// `capacity` observations and can be called explicitly (e.g. once per
// scrape); between refreshes Map() answers are stable, so series do not flap.
// Decay() halves every count so heavy hitters of the past fade.
//
// Memory: O(capacity). Observe is O(log capacity), Map O(1), Refresh
// O(capacity). Not thread-safe; callers synchronise.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/signals/interner.h"

namespace calprobe::core::signals {

class TopK {
 public:
  struct Options {
    size_t k = 100;
    size_t capacity = 0;  // counters kept; 0: 4 * k (at least k)
    std::string other = "other";
  };
  struct Entry {
    std::string value;
    uint64_t count = 0;  // estimated weight (an overestimate by at most error)
    uint64_t error = 0;
  };

  explicit TopK(Options options);

  // Adds `weight` to `value`.
  void Observe(std::string_view value, uint64_t weight = 1);
  // Returns `value` if it was among the k heaviest at the last refresh,
  // else the `other` value. The result views `value` or this object.
  std::string_view Map(std::string_view value) const;
  // Returns true iff Map(value) == value.
  bool Contains(std::string_view value) const;
  // Recomputes the top-k membership from the current counts.
  void Refresh();
  // Halves every count and error (counts reaching 0 stay tracked until
  // displaced); refreshes.
  void Decay();
  // The current k heaviest, heaviest first (ties by value).
  std::vector<Entry> Top() const;

  size_t k() const { return options_.k; }
  size_t capacity() const { return capacity_; }
  uint64_t total() const { return total_; }
  const std::string& other() const { return options_.other; }

 private:
  void SiftUp(size_t pos);
  void SiftDown(size_t pos);
  void Swap(size_t a, size_t b);
  bool Less(uint32_t a, uint32_t b) const;  // heap order on entries a, b

  Options options_;
  size_t capacity_;
  uint64_t total_ = 0;
  size_t since_refresh_ = 0;
  std::vector<Entry> entries_;
  std::vector<uint8_t> in_top_;  // per entry, as of the last Refresh
  std::vector<uint32_t> heap_;   // min-heap of entry indices by count
  std::vector<uint32_t> pos_;    // entry index -> position in heap_
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> index_;
};

}  // namespace calprobe::core::signals
