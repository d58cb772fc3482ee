#pragma once
// SignalStore: the signals the rules engine, the exporter and the dashboard
// read, computed from events over sliding windows on event time.
//
// A *series* is registered with AddSeries: an event name, the labels it is
// keyed by (e.g. {region} or {provider, region}; empty = one key), optional
// label filters (e.g. origin=platform), an optional numeric value field (for
// Sum / Quantile), an optional label or field whose distinct values are
// counted, and its window options (retention and resolution, window.h).
// Several series may read the same event. Record(event) updates every series
// of that event name whose filters match, at the key made of the event's
// values for the series' key labels (an absent label is the empty string).
//
// Keys are exact (no sampling) up to StoreOptions::max_keys across all
// series; beyond that the least-recently-updated key (of any series) is
// evicted and counted (Stats().keys_evicted, SeriesEvictions()). An event's
// key is found by hashing its label values; strings are interned (stored once,
// reference-counted) only when a key is created, so recording into an
// existing key allocates nothing beyond amortised bucket growth.
//
// Queries name a series and a key as a Labels value (only the series' key
// labels are read); an unknown key reads as empty (0, nullopt). "now" is
// the injected Clock's Now(). A SeriesId not returned by AddSeries is a
// programming error (not checked).
//
// Thread safety: none. A SignalStore is used from one thread (the agent's
// io_context thread); other threads post to it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/signals/distinct.h"
#include "core/signals/interner.h"
#include "core/signals/window.h"
#include "core/status.h"

namespace calprobe::core::signals {

using SeriesId = uint32_t;

struct SeriesSpec {
  std::string event;                                 // event name, e.g. "cal.hold.created"
  std::vector<Label> key_by;                         // labels of a key; empty: one key
  std::vector<std::pair<Label, std::string>> match;  // only events with these label values
  std::string value_field;                           // numeric field for Sum/Quantile, or ""
  std::optional<Label> distinct_label;               // count distinct values of this label
  std::string distinct_field;                        // ... or of this field (string/int/bool)
  size_t distinct_limit = 10'000;                    // per key, see distinct.h
  WindowOptions window;                              // retention, resolution, sketches

  bool operator==(const SeriesSpec&) const = default;
};

struct StoreOptions {
  size_t max_keys = 200'000;  // across all series
};

struct StoreStats {
  uint64_t events = 0;            // Record() calls
  uint64_t events_unmatched = 0;  // events no series reads (name or filters)
  uint64_t updates = 0;           // (event, series) pairs recorded
  uint64_t rejected_too_old = 0;  // (event, series) pairs older than the retention
  uint64_t rejected_too_new = 0;  // (event, series) pairs beyond max_future
  uint64_t keys_evicted = 0;
  uint64_t keys = 0;  // live keys, all series
};

// The oldest last-seen among active keys (see MaxAge).
struct KeyAge {
  Duration age{};          // now - last seen of the stalest active key
  Labels key;              // that key
  size_t active_keys = 0;  // keys seen within the activity window
};

class SignalStore {
 public:
  // `clock` must outlive the store.
  explicit SignalStore(const Clock& clock, StoreOptions options = {});
  ~SignalStore();
  SignalStore(const SignalStore&) = delete;
  SignalStore& operator=(const SignalStore&) = delete;

  // Registers a series. Returns its id; the id of an identical existing
  // series; or an error naming the bad field (invalid window, duplicate key
  // label, sketches without a value field, ...).
  Result<SeriesId> AddSeries(SeriesSpec spec);
  // Returns the id of the unfiltered series of `event` keyed by `key_by`
  // with `value_field`, or nullopt.
  std::optional<SeriesId> FindSeries(std::string_view event, std::span<const Label> key_by,
                                     std::string_view value_field = "") const;
  const SeriesSpec& Spec(SeriesId id) const;
  // Ids of every series of `event` (empty when none).
  std::span<const SeriesId> SeriesOf(std::string_view event) const;
  size_t SeriesCount() const { return series_.size(); }

  // Records `event` in every matching series. Returns ok when every matching
  // series accepted it (or none matched); otherwise an error saying why the
  // first rejecting series rejected it (too old for its retention, or too far
  // in the future). Rejections are counted in Stats().
  Status Record(const Event& event);

  // Events in the window w ending now.
  uint64_t Count(SeriesId id, const Labels& key, Duration w) const;
  // Count / w in events per second (w clamped to the series' span).
  double Rate(SeriesId id, const Labels& key, Duration w) const;
  // Sum of the value field over the window.
  double Sum(SeriesId id, const Labels& key, Duration w) const;
  // Count(numerator) / sum of Count(denominators), each at `key`; nullopt
  // when the denominator is 0.
  std::optional<double> Ratio(SeriesId numerator, std::span<const SeriesId> denominators,
                              const Labels& key, Duration w) const;
  // Sum / number of events carrying the value field; nullopt when none.
  std::optional<double> Mean(SeriesId id, const Labels& key, Duration w) const;
  // The value field of the key's latest event (by event time) that carried
  // it, e.g. a gauge such as cal.ics.backlog.size; not windowed.
  std::optional<double> LastValue(SeriesId id, const Labels& key) const;
  // Quantile q of the value field over the window (series needs
  // window.keep_sketches); nullopt when no values.
  std::optional<double> Quantile(SeriesId id, const Labels& key, Duration w, double q) const;
  // The window's merged sketch (for p50/p95/p99 at once).
  QuantileSketch Sketch(SeriesId id, const Labels& key, Duration w) const;
  // Latest event time recorded at the key (not windowed); nullopt if none.
  std::optional<TimePoint> LastSeen(SeriesId id, const Labels& key) const;
  // Distinct values of the series' distinct label/field at key in window.
  DistinctCount Distinct(SeriesId id, const Labels& key, Duration w) const;

  // Sum of Count over every key of the series.
  uint64_t TotalCount(SeriesId id, Duration w) const;
  // Calls fn(key, count) for each key with a non-zero count in the window.
  void CountPerKey(SeriesId id, Duration w,
                   const std::function<void(const Labels& key, uint64_t count)>& fn) const;
  // Calls fn(key) for every key the series holds (order unspecified). `key`
  // is reused between calls.
  void ForEachKey(SeriesId id, const std::function<void(const Labels& key)>& fn) const;
  // All keys of the series (allocates; prefer ForEachKey for big series).
  std::vector<Labels> Keys(SeriesId id) const;
  size_t KeyCount(SeriesId id) const;
  // Among keys last seen within `active_within` of now, the one last seen
  // longest ago ("max now - last_poll_at over active sources"); nullopt when
  // no key is active.
  std::optional<KeyAge> MaxAge(SeriesId id, Duration active_within) const;

  // Housekeeping, e.g. once a minute from a timer. Releases buckets no
  // window can read any more (Record only prunes the key it updates, so a
  // key that went silent keeps its buckets until then).
  void Compact();
  // Removes keys last seen more than `idle` ago (not counted as evictions;
  // their LastSeen is forgotten, so keep `idle` longer than any staleness
  // activity window). Returns the number removed.
  size_t DropIdle(Duration idle);

  const StoreStats& Stats() const { return stats_; }
  uint64_t SeriesEvictions(SeriesId id) const;
  // Distinct label values held for live keys (memory accounting).
  size_t InternedCount() const { return interner_.size(); }
  const Clock& clock() const { return clock_; }

 private:
  // A key: the interned ids of its label values, and a hash of the value
  // strings so an event's key is found without interning (KeyProbe).
  struct KeyIds {
    std::array<uint32_t, kLabelCount> ids;
    uint64_t hash;
    bool operator==(const KeyIds&) const = default;
  };
  struct KeyProbe {  // an event's or query's key, not interned
    uint64_t hash;
    const Labels* labels;
    const std::vector<Label>* key_by;
    const StringInterner* interner;
  };
  struct KeyIdsHash {
    using is_transparent = void;
    size_t operator()(const KeyIds& k) const { return static_cast<size_t>(k.hash); }
    size_t operator()(const KeyProbe& k) const { return static_cast<size_t>(k.hash); }
  };
  struct KeyIdsEq {
    using is_transparent = void;
    bool operator()(const KeyIds& a, const KeyIds& b) const { return a == b; }
    bool operator()(const KeyProbe& p, const KeyIds& k) const;
    bool operator()(const KeyIds& k, const KeyProbe& p) const { return (*this)(p, k); }
  };
  struct KeyState;
  struct Series;

  KeyProbe Probe(const Series& s, const Labels& labels) const;
  // Looks up the key of `labels` in series s without creating it.
  const KeyState* FindKey(const Series& s, const Labels& labels) const;
  uint32_t NewKey(Series& s, SeriesId id, const KeyIds& ids);
  void FreeKey(uint32_t slot);
  void Touch(uint32_t slot);
  void Unlink(uint32_t slot);
  void EvictOverLimit();
  void FillLabels(const Series& s, const KeyIds& ids, Labels* out) const;

  const Clock& clock_;
  StoreOptions options_;
  StoreStats stats_;
  StringInterner interner_;
  std::vector<std::unique_ptr<Series>> series_;
  std::unordered_map<std::string, std::vector<SeriesId>, StringHash, std::equal_to<>> by_event_;
  std::vector<KeyState> slots_;  // key states; freed slots are reused
  std::vector<uint32_t> free_slots_;
  uint32_t lru_head_;  // most recently updated
  uint32_t lru_tail_;  // least recently updated
};

}  // namespace calprobe::core::signals
