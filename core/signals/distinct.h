#pragma once
// DistinctCounter: number of distinct values (of a label or field) seen in a
// sliding window on event time. Exact while at most `limit` values are held:
// each value keeps its latest event time, and a value is in the window
// [now - w, now] iff that time is >= now - w (values stamped up to
// max_future ahead of now count too). Values older than the retention are
// dropped when room is needed. When the counter is full of values still
// inside the retention, new values are dropped and counts for windows
// overlapping the drop are reported as lower bounds (exact = false).
//
// Memory: one hash-map entry (value string + time) per held value.
// Not thread-safe; callers synchronise.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/signals/interner.h"

namespace calprobe::core::signals {

struct DistinctCount {
  uint64_t count = 0;
  bool exact = true;  // false: values were dropped at the limit; count is a lower bound
};

class DistinctCounter {
 public:
  explicit DistinctCounter(size_t limit) : limit_(limit) {}

  // Records `value` seen at `t`. `oldest_kept` is the start of the retention:
  // values last seen before it may be dropped to make room. Returns false iff
  // the value was dropped because the counter is full.
  bool Add(std::string_view value, TimePoint t, TimePoint oldest_kept);
  // Distinct values last seen at or after now - w.
  DistinctCount Count(TimePoint now, Duration w) const;
  // Values held.
  size_t size() const { return last_seen_.size(); }

 private:
  size_t limit_;
  bool dropped_ = false;
  TimePoint last_drop_{};
  TimePoint pruned_to_ = TimePoint::min() + std::chrono::hours(24);
  std::unordered_map<std::string, TimePoint, StringHash, std::equal_to<>> last_seen_;
};

}  // namespace calprobe::core::signals
