#include "core/signals/distinct.h"

#include <algorithm>

namespace calprobe::core::signals {

bool DistinctCounter::Add(std::string_view value, TimePoint t, TimePoint oldest_kept) {
  if (auto it = last_seen_.find(value); it != last_seen_.end()) {
    it->second = std::max(it->second, t);
    return true;
  }
  // Expiring is a full scan: do it at most once per second of retention
  // progress (entries only ever get newer, so nothing else can expire).
  if (last_seen_.size() >= limit_ && oldest_kept >= pruned_to_ + std::chrono::seconds(1)) {
    pruned_to_ = oldest_kept;
    std::erase_if(last_seen_, [&](const auto& kv) { return kv.second < oldest_kept; });
  }
  if (last_seen_.size() >= limit_) {
    last_drop_ = dropped_ ? std::max(last_drop_, t) : t;
    dropped_ = true;
    return false;
  }
  last_seen_.emplace(std::string(value), t);
  return true;
}

DistinctCount DistinctCounter::Count(TimePoint now, Duration w) const {
  const TimePoint from = now - w;
  DistinctCount out;
  for (const auto& [value, t] : last_seen_) {
    if (t >= from) ++out.count;
  }
  out.exact = !dropped_ || last_drop_ < from;
  return out;
}

}  // namespace calprobe::core::signals
