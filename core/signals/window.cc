#include "core/signals/window.h"

#include <algorithm>
#include <cstddef>
#include <string>

namespace calprobe::core::signals {

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

constexpr int64_t kMaxBucketsPerTier = 1'000'000;

}  // namespace

std::string FormatDuration(Duration d) {
  using std::chrono::duration_cast;
  if (d.count() == 0) return "0s";
  std::string out;
  if (d.count() < 0) {
    out = "-";
    d = -d;
  }
  const auto ms = duration_cast<milliseconds>(d).count();
  const int64_t parts[] = {ms / 86'400'000, ms / 3'600'000 % 24, ms / 60'000 % 60, ms / 1000 % 60,
                           ms % 1000};
  const char* units[] = {"d", "h", "m", "s", "ms"};
  for (size_t i = 0; i < 5; ++i) {
    if (parts[i] != 0) out += std::to_string(parts[i]) + units[i];
  }
  if (ms == 0) out += std::to_string(duration_cast<std::chrono::microseconds>(d).count()) + "us";
  return out;
}

Status ValidateWindowOptions(const WindowOptions& o) {
  if (o.span.count() <= 0) return Status::Error("window span must be positive");
  if (o.fine_resolution.count() <= 0) {
    return Status::Error("window fine_resolution must be positive");
  }
  if (o.fine_span < o.fine_resolution) {
    return Status::Error("window fine_span (" + FormatDuration(o.fine_span) +
                         ") must be at least fine_resolution (" +
                         FormatDuration(o.fine_resolution) + ")");
  }
  if (o.max_future.count() < 0) return Status::Error("window max_future must not be negative");
  if (o.keep_sketches && !o.keep_buckets) {
    return Status::Error("window keep_sketches needs keep_buckets (sketches live in buckets)");
  }
  const Duration fine = std::min(o.span, o.fine_span);
  if (CeilDiv(fine.count(), o.fine_resolution.count()) > kMaxBucketsPerTier) {
    return Status::Error(
        "window fine tier would hold more than 1e6 buckets; raise fine_resolution");
  }
  if (o.span > o.fine_span) {
    if (o.coarse_resolution < o.fine_resolution) {
      return Status::Error("window coarse_resolution (" + FormatDuration(o.coarse_resolution) +
                           ") must be at least fine_resolution (" +
                           FormatDuration(o.fine_resolution) + ")");
    }
    if (CeilDiv(o.span.count(), o.coarse_resolution.count()) > kMaxBucketsPerTier) {
      return Status::Error("window span " + FormatDuration(o.span) +
                           " needs more than 1e6 coarse buckets; raise coarse_resolution");
    }
  }
  return Status::Ok();
}

Window::Tier::Tier(Duration res, Duration span)
    : res_(res), buckets_in_span_(CeilDiv(span.count(), res.count())) {}

int64_t Window::Tier::SlotOf(TimePoint t) const {
  return FloorDiv(t.time_since_epoch().count(), res_.count());
}

void Window::Tier::Prune(int64_t min_slot) {
  while (begin_ < buckets_.size() && buckets_[begin_].slot < min_slot) {
    buckets_[begin_].sketch.reset();
    ++begin_;
  }
  if (begin_ == buckets_.size()) {
    buckets_.clear();
    begin_ = 0;
    oldest_slot_ = INT64_MAX;
    return;
  }
  oldest_slot_ = buckets_[begin_].slot;
  if (begin_ >= 32 && begin_ * 2 >= buckets_.size()) {
    buckets_.erase(buckets_.begin(), buckets_.begin() + static_cast<ptrdiff_t>(begin_));
    begin_ = 0;
  }
}

bool Window::Tier::Accepts(TimePoint now, TimePoint t) const {
  return SlotOf(t) >= MinSlot(now);
}

Window::Bucket* Window::Tier::Find(TimePoint now, TimePoint t) {
  const int64_t slot = SlotOf(t);
  const int64_t min_slot = MinSlot(now);
  if (slot < min_slot) return nullptr;
  if (oldest_slot_ < min_slot) Prune(min_slot);
  oldest_slot_ = std::min(oldest_slot_, slot);
  if (buckets_.size() == begin_ || buckets_.back().slot < slot) {
    buckets_.push_back(Bucket{slot});
    return &buckets_.back();
  }
  if (buckets_.back().slot == slot) return &buckets_.back();
  // Out of order: binary search among the live buckets.
  auto it = std::lower_bound(buckets_.begin() + static_cast<ptrdiff_t>(begin_), buckets_.end(),
                             slot, [](const Bucket& b, int64_t s) { return b.slot < s; });
  if (it->slot != slot) it = buckets_.insert(it, Bucket{slot});
  return &*it;
}

template <typename Fn>
void Window::Tier::ForEach(TimePoint now, Duration w, Fn&& fn) const {
  if (w.count() <= 0 || !enabled()) return;
  const int64_t n = std::min(CeilDiv(w.count(), res_.count()), buckets_in_span_);
  const int64_t hi = SlotOf(now);
  const int64_t lo = hi - n + 1;
  auto it = std::lower_bound(buckets_.begin() + static_cast<ptrdiff_t>(begin_), buckets_.end(), lo,
                             [](const Bucket& b, int64_t s) { return b.slot < s; });
  for (; it != buckets_.end() && it->slot <= hi; ++it) fn(*it);
}

Window::Window(const WindowOptions* options) : options_(options) {
  const Duration fine_span = std::min(options->span, options->fine_span);
  fine_ = Tier(options->fine_resolution, fine_span);
  if (options->span > options->fine_span) coarse_ = Tier(options->coarse_resolution, options->span);
}

AddOutcome Window::Add(TimePoint now, TimePoint t) { return AddImpl(now, t, nullptr); }

AddOutcome Window::Add(TimePoint now, TimePoint t, double value) { return AddImpl(now, t, &value); }

AddOutcome Window::AddImpl(TimePoint now, TimePoint t, const double* value) {
  if (t > now + options_->max_future) return AddOutcome::kTooNew;
  if (!options_->keep_buckets) {
    // Same acceptance as a stored event: inside the span's oldest bucket.
    const Tier& tier = coarse_.enabled() ? coarse_ : fine_;
    return tier.Accepts(now, t) ? AddOutcome::kOk : AddOutcome::kTooOld;
  }
  Bucket* buckets[2] = {nullptr, nullptr};
  if (coarse_.enabled()) {
    buckets[0] = coarse_.Find(now, t);
    if (buckets[0] == nullptr) return AddOutcome::kTooOld;
    buckets[1] = fine_.Find(now, t);  // nullptr: older than the fine span
  } else {
    buckets[0] = fine_.Find(now, t);
    if (buckets[0] == nullptr) return AddOutcome::kTooOld;
  }
  for (Bucket* b : buckets) {
    if (b == nullptr) continue;
    ++b->count;
    if (value == nullptr) continue;
    ++b->value_count;
    b->sum += *value;
    if (options_->keep_sketches) {
      if (!b->sketch) b->sketch = std::make_unique<QuantileSketch>(options_->sketch);
      b->sketch->Add(*value);
    }
  }
  return AddOutcome::kOk;
}

const Window::Tier& Window::TierFor(Duration w) const {
  return (w <= options_->fine_span || !coarse_.enabled()) ? fine_ : coarse_;
}

Duration Window::Resolution(Duration w) const {
  return (w <= options_->fine_span || !coarse_.enabled()) ? options_->fine_resolution
                                                          : options_->coarse_resolution;
}

uint64_t Window::Count(TimePoint now, Duration w) const {
  uint64_t n = 0;
  TierFor(w).ForEach(now, w, [&](const Bucket& b) { n += b.count; });
  return n;
}

double Window::Sum(TimePoint now, Duration w) const {
  double s = 0;
  TierFor(w).ForEach(now, w, [&](const Bucket& b) { s += b.sum; });
  return s;
}

uint64_t Window::ValueCount(TimePoint now, Duration w) const {
  uint64_t n = 0;
  TierFor(w).ForEach(now, w, [&](const Bucket& b) { n += b.value_count; });
  return n;
}

QuantileSketch Window::Sketch(TimePoint now, Duration w) const {
  QuantileSketch merged(options_->sketch);
  TierFor(w).ForEach(now, w, [&](const Bucket& b) {
    if (b.sketch) merged.Merge(*b.sketch);
  });
  return merged;
}

std::optional<double> Window::Quantile(TimePoint now, Duration w, double q) const {
  QuantileSketch s = Sketch(now, w);
  if (s.empty()) return std::nullopt;
  return s.Quantile(q);
}

size_t Window::BucketCount() const { return fine_.size() + coarse_.size(); }

void Window::Prune(TimePoint now) {
  fine_.Prune(fine_.MinSlot(now));
  if (coarse_.enabled()) coarse_.Prune(coarse_.MinSlot(now));
}

}  // namespace calprobe::core::signals
