#pragma once
// Window: counts, sums and quantile sketches of one series key over sliding
// windows on event time. Time is passed in (`now`, normally Clock::Now() read
// by the caller), so hours and days of events replay in milliseconds.
//
// Storage is two tiers of time buckets, each a sorted vector that holds only
// non-empty buckets (a key seeing 3 events a day costs 3 buckets):
//   fine:   `fine_resolution` buckets (default 1 s) for the last `fine_span`
//           (default 1 h) -- answers 5m/15m/30m/45m windows;
//   coarse: `coarse_resolution` buckets (default 1 min) up to `span` -- answers
//           24h/7d windows. Only present when span > fine_span.
// Every event goes into both tiers; a query for a window w reads the fine
// tier iff w <= fine_span, else the coarse tier.
//
// Resolution error: a query for window w at time `now` reads the
// ceil(w / res) buckets ending with the one containing `now`, i.e. the span
// [floor(now/res)*res - (ceil(w/res)-1)*res, now]. Events in the oldest
// partial bucket's missing part are not counted, so the effective window is
// between w - res and w long (at most 1 s short for windows <= 1 h with the
// defaults, at most 1 min short for 24h/7d: 0.07% / 0.01%).
// Windows longer than `span` are clamped to `span`.
//
// Memory: about 48 bytes per non-empty bucket; with keep_sketches add a
// QuantileSketch per bucket (~110 bytes + 8 per log bucket its values span).
// A key with an event every second holds up to 3600 fine + span/1min coarse
// buckets (24h: 5040 buckets, ~240 KB; with sketches a few MB). For series
// with sketches and many keys, raise fine_resolution (e.g. 10 s) or keep the
// span at 1 h.
//
// Acceptance: an event older than the oldest bucket a `span` window can read
// is rejected (kTooOld); one later than now + max_future is rejected
// (kTooNew). Out-of-order events inside the span land in their own bucket.
//
// Not thread-safe; callers synchronise.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/signals/sketch.h"
#include "core/status.h"

namespace calprobe::core::signals {

struct WindowOptions {
  // Longest window that can be queried; older events are rejected.
  Duration span = std::chrono::hours(1);
  Duration fine_resolution = std::chrono::seconds(1);
  Duration fine_span = std::chrono::hours(1);
  Duration coarse_resolution = std::chrono::minutes(1);
  // Events later than now + max_future are rejected.
  Duration max_future = std::chrono::minutes(5);
  // Keep one QuantileSketch per bucket (needed for Quantile; costs memory).
  bool keep_sketches = false;
  // Keep time buckets at all. A series read only for its latest value and
  // last-seen time (rule kinds `last` and `absence`) turns this off: events
  // are still checked against the span and max_future, but nothing is
  // stored, so Count/Sum/Quantile read 0 and a key costs the same whether
  // it sees one event a day or one a second (a 15m window of 1 s buckets
  // would otherwise hold up to 900 buckets, ~36 KB, per probe target).
  bool keep_buckets = true;
  QuantileSketch::Options sketch;

  bool operator==(const WindowOptions&) const = default;
};

// Formats d compactly for messages: "7d", "1h30m", "45s", "250ms".
std::string FormatDuration(Duration d);

// Returns an error naming the bad option, or ok.
Status ValidateWindowOptions(const WindowOptions& options);

enum class AddOutcome : uint8_t { kOk, kTooOld, kTooNew };

class Window {
 public:
  // `options` must be valid (ValidateWindowOptions) and outlive the Window;
  // many Windows share one options object.
  explicit Window(const WindowOptions* options);
  Window(Window&&) noexcept = default;
  Window& operator=(Window&&) noexcept = default;

  // Records one event at time `t` (without a value, or with `value` added
  // to the sum and, with keep_sketches, to the bucket's sketch).
  AddOutcome Add(TimePoint now, TimePoint t);
  AddOutcome Add(TimePoint now, TimePoint t, double value);

  // Events in the window of length w ending at `now` (see resolution above).
  uint64_t Count(TimePoint now, Duration w) const;
  // Sum of the values added in the window.
  double Sum(TimePoint now, Duration w) const;
  // Number of events added with a value in the window.
  uint64_t ValueCount(TimePoint now, Duration w) const;
  // The merged sketch of the window's buckets (empty without keep_sketches).
  QuantileSketch Sketch(TimePoint now, Duration w) const;
  // Quantile q of the window's values; nullopt when it has none.
  std::optional<double> Quantile(TimePoint now, Duration w, double q) const;

  // Bucket width a query for window w reads at.
  Duration Resolution(Duration w) const;
  // Non-empty buckets held (both tiers), for memory accounting and tests.
  size_t BucketCount() const;
  // Drops buckets that no query at `now` can read any more.
  void Prune(TimePoint now);

 private:
  struct Bucket {
    explicit Bucket(int64_t s) : slot(s) {}
    int64_t slot;
    uint64_t count = 0;
    uint64_t value_count = 0;
    double sum = 0;
    std::unique_ptr<QuantileSketch> sketch;
  };
  class Tier {
   public:
    Tier() = default;
    Tier(Duration res, Duration span);
    bool enabled() const { return res_.count() > 0; }
    // Returns the bucket for t, creating it; nullptr when t is too old.
    Bucket* Find(TimePoint now, TimePoint t);
    // Whether Find would accept t (without creating anything).
    bool Accepts(TimePoint now, TimePoint t) const;
    void Prune(int64_t min_slot);
    // Calls fn(const Bucket&) for each bucket of the window w at now.
    template <typename Fn>
    void ForEach(TimePoint now, Duration w, Fn&& fn) const;
    int64_t MinSlot(TimePoint now) const { return SlotOf(now) - buckets_in_span_ + 1; }
    size_t size() const { return buckets_.size() - begin_; }

   private:
    int64_t SlotOf(TimePoint t) const;
    Duration res_{0};
    int64_t buckets_in_span_ = 0;
    std::vector<Bucket> buckets_;  // sorted by slot; [begin_, end) are live
    size_t begin_ = 0;
    int64_t oldest_slot_ = INT64_MAX;  // buckets_[begin_].slot, cached (no cache miss)
  };

  AddOutcome AddImpl(TimePoint now, TimePoint t, const double* value);
  const Tier& TierFor(Duration w) const;

  const WindowOptions* options_;
  Tier fine_;
  Tier coarse_;
};

}  // namespace calprobe::core::signals
