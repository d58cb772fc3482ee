#include "core/signals/signal_store.h"

#include <algorithm>

namespace calprobe::core::signals {

namespace {

constexpr uint32_t kNil = UINT32_MAX;

std::string LabelList(std::span<const Label> labels) {
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ",";
    out += kLabelNames[static_cast<size_t>(labels[i])];
  }
  return out + "}";
}

// Appends the text of a distinct-able field value to *out; false if none.
bool FieldText(const FieldValue& v, std::string* out) {
  if (auto* s = std::get_if<std::string>(&v)) {
    *out = *s;
  } else if (auto* i = std::get_if<int64_t>(&v)) {
    *out = std::to_string(*i);
  } else if (auto* b = std::get_if<bool>(&v)) {
    *out = *b ? "true" : "false";
  } else {
    return false;  // doubles are not distinct-counted
  }
  return true;
}

}  // namespace

struct SignalStore::KeyState {
  explicit KeyState(const WindowOptions* options) : window(options) {}
  SeriesId series = 0;
  KeyIds ids{};
  TimePoint last_seen{};
  TimePoint last_value_time = TimePoint::min();
  double last_value = 0;
  bool has_value = false;
  Window window;
  std::unique_ptr<DistinctCounter> distinct;
  uint32_t prev = kNil;
  uint32_t next = kNil;
  bool live = false;
};

struct SignalStore::Series {
  SeriesSpec spec;
  std::unordered_map<KeyIds, uint32_t, KeyIdsHash, KeyIdsEq> keys;  // -> slots_ index
  uint64_t evictions = 0;
};

bool SignalStore::KeyIdsEq::operator()(const KeyProbe& p, const KeyIds& k) const {
  if (p.hash != k.hash) return false;
  for (size_t i = 0; i < p.key_by->size(); ++i) {
    if (p.interner->Get(k.ids[i]) != p.labels->Get((*p.key_by)[i])) return false;
  }
  return true;
}

SignalStore::KeyProbe SignalStore::Probe(const Series& s, const Labels& labels) const {
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (Label l : s.spec.key_by) {
    h ^= std::hash<std::string_view>{}(labels.Get(l));
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return KeyProbe{h, &labels, &s.spec.key_by, &interner_};
}

SignalStore::SignalStore(const Clock& clock, StoreOptions options)
    : clock_(clock), options_(options), lru_head_(kNil), lru_tail_(kNil) {
  if (options_.max_keys == 0) options_.max_keys = 1;
}

SignalStore::~SignalStore() = default;

Result<SeriesId> SignalStore::AddSeries(SeriesSpec spec) {
  const std::string where = "series " + spec.event + LabelList(spec.key_by) + ": ";
  if (spec.event.empty()) return Status::Error("series: event name is empty");
  for (size_t i = 0; i < spec.key_by.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spec.key_by[i] == spec.key_by[j]) {
        return Status::Error(where + "label " +
                             std::string(kLabelNames[static_cast<size_t>(spec.key_by[i])]) +
                             " listed twice in key_by");
      }
    }
  }
  if (Status st = ValidateWindowOptions(spec.window); !st.ok()) {
    return Status::Error(where + st.message());
  }
  if (spec.window.keep_sketches && spec.value_field.empty()) {
    return Status::Error(where + "keep_sketches needs a value_field to take quantiles of");
  }
  if (spec.distinct_label && !spec.distinct_field.empty()) {
    return Status::Error(where + "set distinct_label or distinct_field, not both");
  }
  if ((spec.distinct_label || !spec.distinct_field.empty()) && spec.distinct_limit == 0) {
    return Status::Error(where + "distinct_limit must be positive");
  }
  for (SeriesId id = 0; id < series_.size(); ++id) {
    if (series_[id]->spec == spec) return id;
  }
  const auto id = static_cast<SeriesId>(series_.size());
  auto series = std::make_unique<Series>();
  series->spec = std::move(spec);
  auto it = by_event_.find(series->spec.event);
  if (it == by_event_.end())
    it = by_event_.emplace(series->spec.event, std::vector<SeriesId>{}).first;
  it->second.push_back(id);
  series_.push_back(std::move(series));
  return id;
}

std::optional<SeriesId> SignalStore::FindSeries(std::string_view event,
                                                std::span<const Label> key_by,
                                                std::string_view value_field) const {
  auto it = by_event_.find(event);
  if (it == by_event_.end()) return std::nullopt;
  for (SeriesId id : it->second) {
    const SeriesSpec& s = series_[id]->spec;
    if (s.match.empty() && s.value_field == value_field &&
        std::equal(s.key_by.begin(), s.key_by.end(), key_by.begin(), key_by.end())) {
      return id;
    }
  }
  return std::nullopt;
}

const SeriesSpec& SignalStore::Spec(SeriesId id) const { return series_[id]->spec; }

std::span<const SeriesId> SignalStore::SeriesOf(std::string_view event) const {
  auto it = by_event_.find(event);
  if (it == by_event_.end()) return {};
  return it->second;
}

uint64_t SignalStore::SeriesEvictions(SeriesId id) const { return series_[id]->evictions; }

size_t SignalStore::KeyCount(SeriesId id) const { return series_[id]->keys.size(); }

// ---- LRU list and key slots ------------------------------------------------

void SignalStore::Unlink(uint32_t slot) {
  KeyState& k = slots_[slot];
  if (k.prev != kNil)
    slots_[k.prev].next = k.next;
  else
    lru_head_ = k.next;
  if (k.next != kNil)
    slots_[k.next].prev = k.prev;
  else
    lru_tail_ = k.prev;
  k.prev = k.next = kNil;
}

void SignalStore::Touch(uint32_t slot) {
  if (lru_head_ == slot) return;
  KeyState& k = slots_[slot];
  if (k.prev != kNil || k.next != kNil || lru_tail_ == slot) Unlink(slot);
  k.next = lru_head_;
  k.prev = kNil;
  if (lru_head_ != kNil) slots_[lru_head_].prev = slot;
  lru_head_ = slot;
  if (lru_tail_ == kNil) lru_tail_ = slot;
}

uint32_t SignalStore::NewKey(Series& s, SeriesId id, const KeyIds& ids) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot].window = Window(&s.spec.window);
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back(&s.spec.window);
  }
  KeyState& k = slots_[slot];
  k.series = id;
  k.ids = ids;
  k.last_seen = TimePoint::min();
  k.last_value_time = TimePoint::min();
  k.has_value = false;
  k.live = true;
  if (s.spec.distinct_label || !s.spec.distinct_field.empty()) {
    k.distinct = std::make_unique<DistinctCounter>(s.spec.distinct_limit);
  }
  s.keys.emplace(ids, slot);
  ++stats_.keys;
  return slot;
}

void SignalStore::FreeKey(uint32_t slot) {
  KeyState& k = slots_[slot];
  Series& s = *series_[k.series];
  Unlink(slot);
  s.keys.erase(k.ids);
  for (size_t i = 0; i < s.spec.key_by.size(); ++i) interner_.Release(k.ids.ids[i]);
  k.window = Window(&s.spec.window);  // releases the buckets
  k.distinct.reset();
  k.live = false;
  free_slots_.push_back(slot);
  --stats_.keys;
}

void SignalStore::EvictOverLimit() {
  while (stats_.keys > options_.max_keys && lru_tail_ != kNil) {
    const uint32_t victim = lru_tail_;
    ++series_[slots_[victim].series]->evictions;
    ++stats_.keys_evicted;
    FreeKey(victim);
  }
}

void SignalStore::Compact() {
  const TimePoint now = clock_.Now();
  for (KeyState& k : slots_) {
    if (k.live) k.window.Prune(now);
  }
}

size_t SignalStore::DropIdle(Duration idle) {
  const TimePoint from = clock_.Now() - idle;
  size_t dropped = 0;
  // Update order is not event-time order, so every key is checked.
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    if (slots_[slot].live && slots_[slot].last_seen < from) {
      FreeKey(slot);
      ++dropped;
    }
  }
  return dropped;
}

// ---- Record ----------------------------------------------------------------

Status SignalStore::Record(const Event& event) {
  ++stats_.events;
  auto it = by_event_.find(std::string_view(event.name));
  if (it == by_event_.end()) {
    ++stats_.events_unmatched;
    return Status::Ok();
  }
  const TimePoint now = clock_.Now();
  Status result;
  bool matched = false;
  for (SeriesId id : it->second) {
    Series& s = *series_[id];
    const SeriesSpec& spec = s.spec;
    bool match = true;
    for (const auto& [label, value] : spec.match) match = match && event.labels.Get(label) == value;
    if (!match) continue;
    matched = true;

    // Find the key by hashing the event's label values; intern (and copy)
    // the strings only when the key is new.
    const KeyProbe probe = Probe(s, event.labels);
    uint32_t slot = kNil;
    if (auto k = s.keys.find(probe); k != s.keys.end()) slot = k->second;
    bool created = false;
    if (slot == kNil) {
      KeyIds ids;
      ids.ids.fill(StringInterner::kNone);
      ids.hash = probe.hash;
      for (size_t i = 0; i < spec.key_by.size(); ++i) {
        ids.ids[i] = interner_.Acquire(event.labels.Get(spec.key_by[i]));
      }
      slot = NewKey(s, id, ids);  // takes over the references
      created = true;
    }

    KeyState& key = slots_[slot];
    std::optional<double> value;
    if (!spec.value_field.empty()) {
      value = event.Number(spec.value_field);
      // Booleans read as 1/0, so "last success < 1" works on any bool field.
      if (!value) {
        if (auto b = event.Bool(spec.value_field)) value = *b ? 1.0 : 0.0;
      }
    }
    const AddOutcome outcome =
        value ? key.window.Add(now, event.time, *value) : key.window.Add(now, event.time);
    if (outcome != AddOutcome::kOk) {
      if (created) FreeKey(slot);
      const bool too_old = outcome == AddOutcome::kTooOld;
      ++(too_old ? stats_.rejected_too_old : stats_.rejected_too_new);
      if (result.ok()) {
        result = Status::Error(
            "event " + event.name + " at " + FormatRfc3339(event.time) +
            (too_old ? " is older than the " + FormatDuration(spec.window.span) +
                           " retention of series " + spec.event + LabelList(spec.key_by)
                     : " is more than " + FormatDuration(spec.window.max_future) +
                           " in the future (now " + FormatRfc3339(now) + ")"));
      }
      continue;
    }
    ++stats_.updates;
    key.last_seen = std::max(key.last_seen, event.time);
    if (value && event.time >= key.last_value_time) {
      key.last_value_time = event.time;
      key.last_value = *value;
      key.has_value = true;
    }
    if (key.distinct) {
      std::string text;
      bool have = false;
      if (spec.distinct_label) {
        text = event.labels.Get(*spec.distinct_label);
        have = !text.empty();
      } else if (const FieldValue* f = event.Find(spec.distinct_field)) {
        have = FieldText(*f, &text);
      }
      if (have) key.distinct->Add(text, event.time, now - spec.window.span);
    }
    Touch(slot);
    if (created) EvictOverLimit();
  }
  if (!matched) ++stats_.events_unmatched;
  return result;
}

// ---- Queries ---------------------------------------------------------------

const SignalStore::KeyState* SignalStore::FindKey(const Series& s, const Labels& labels) const {
  auto it = s.keys.find(Probe(s, labels));
  return it == s.keys.end() ? nullptr : &slots_[it->second];
}

void SignalStore::FillLabels(const Series& s, const KeyIds& ids, Labels* out) const {
  for (size_t i = 0; i < s.spec.key_by.size(); ++i) {
    out->Set(s.spec.key_by[i], interner_.Get(ids.ids[i]));
  }
}

uint64_t SignalStore::Count(SeriesId id, const Labels& key, Duration w) const {
  const KeyState* k = FindKey(*series_[id], key);
  return k ? k->window.Count(clock_.Now(), w) : 0;
}

double SignalStore::Rate(SeriesId id, const Labels& key, Duration w) const {
  if (w.count() <= 0) return 0;
  const Duration span = std::min(w, series_[id]->spec.window.span);
  return static_cast<double>(Count(id, key, w)) / ToSeconds(span);
}

double SignalStore::Sum(SeriesId id, const Labels& key, Duration w) const {
  const KeyState* k = FindKey(*series_[id], key);
  return k ? k->window.Sum(clock_.Now(), w) : 0;
}

std::optional<double> SignalStore::Ratio(SeriesId numerator, std::span<const SeriesId> denominators,
                                         const Labels& key, Duration w) const {
  uint64_t den = 0;
  for (SeriesId d : denominators) den += Count(d, key, w);
  if (den == 0) return std::nullopt;
  return static_cast<double>(Count(numerator, key, w)) / static_cast<double>(den);
}

std::optional<double> SignalStore::Mean(SeriesId id, const Labels& key, Duration w) const {
  const KeyState* k = FindKey(*series_[id], key);
  if (!k) return std::nullopt;
  const TimePoint now = clock_.Now();
  const uint64_t n = k->window.ValueCount(now, w);
  if (n == 0) return std::nullopt;
  return k->window.Sum(now, w) / static_cast<double>(n);
}

std::optional<double> SignalStore::LastValue(SeriesId id, const Labels& key) const {
  const KeyState* k = FindKey(*series_[id], key);
  if (!k || !k->has_value) return std::nullopt;
  return k->last_value;
}

std::optional<double> SignalStore::Quantile(SeriesId id, const Labels& key, Duration w,
                                            double q) const {
  const KeyState* k = FindKey(*series_[id], key);
  return k ? k->window.Quantile(clock_.Now(), w, q) : std::nullopt;
}

QuantileSketch SignalStore::Sketch(SeriesId id, const Labels& key, Duration w) const {
  const KeyState* k = FindKey(*series_[id], key);
  return k ? k->window.Sketch(clock_.Now(), w) : QuantileSketch(series_[id]->spec.window.sketch);
}

std::optional<TimePoint> SignalStore::LastSeen(SeriesId id, const Labels& key) const {
  const KeyState* k = FindKey(*series_[id], key);
  if (!k) return std::nullopt;
  return k->last_seen;
}

DistinctCount SignalStore::Distinct(SeriesId id, const Labels& key, Duration w) const {
  const KeyState* k = FindKey(*series_[id], key);
  return (k && k->distinct) ? k->distinct->Count(clock_.Now(), w) : DistinctCount{};
}

uint64_t SignalStore::TotalCount(SeriesId id, Duration w) const {
  const TimePoint now = clock_.Now();
  uint64_t n = 0;
  for (const auto& [ids, slot] : series_[id]->keys) n += slots_[slot].window.Count(now, w);
  return n;
}

void SignalStore::CountPerKey(
    SeriesId id, Duration w,
    const std::function<void(const Labels& key, uint64_t count)>& fn) const {
  const Series& s = *series_[id];
  const TimePoint now = clock_.Now();
  Labels labels;
  for (const auto& [ids, slot] : s.keys) {
    const uint64_t n = slots_[slot].window.Count(now, w);
    if (n == 0) continue;
    FillLabels(s, ids, &labels);
    fn(labels, n);
  }
}

void SignalStore::ForEachKey(SeriesId id, const std::function<void(const Labels& key)>& fn) const {
  const Series& s = *series_[id];
  Labels labels;
  for (const auto& [ids, slot] : s.keys) {
    FillLabels(s, ids, &labels);
    fn(labels);
  }
}

std::vector<Labels> SignalStore::Keys(SeriesId id) const {
  std::vector<Labels> out;
  out.reserve(series_[id]->keys.size());
  ForEachKey(id, [&](const Labels& key) { out.push_back(key); });
  return out;
}

std::optional<KeyAge> SignalStore::MaxAge(SeriesId id, Duration active_within) const {
  const Series& s = *series_[id];
  const TimePoint now = clock_.Now();
  const TimePoint active_from = now - active_within;
  const KeyIds* stalest = nullptr;
  TimePoint oldest = TimePoint::max();
  size_t active = 0;
  for (const auto& [ids, slot] : s.keys) {
    const TimePoint t = slots_[slot].last_seen;
    if (t < active_from) continue;
    ++active;
    if (t < oldest) {
      oldest = t;
      stalest = &ids;
    }
  }
  if (stalest == nullptr) return std::nullopt;
  KeyAge out;
  out.age = std::max(Duration::zero(), now - oldest);
  out.active_keys = active;
  FillLabels(s, *stalest, &out.key);
  return out;
}

}  // namespace calprobe::core::signals
