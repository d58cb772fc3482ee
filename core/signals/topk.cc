#include "core/signals/topk.h"

#include <algorithm>
#include <cstddef>

namespace calprobe::core::signals {

TopK::TopK(Options options) : options_(std::move(options)) {
  if (options_.k == 0) options_.k = 1;
  capacity_ = options_.capacity == 0 ? 4 * options_.k : std::max(options_.capacity, options_.k);
  entries_.reserve(capacity_);
  heap_.reserve(capacity_);
}

bool TopK::Less(uint32_t a, uint32_t b) const {
  if (entries_[a].count != entries_[b].count) return entries_[a].count < entries_[b].count;
  return a < b;
}

void TopK::Swap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  pos_[heap_[a]] = static_cast<uint32_t>(a);
  pos_[heap_[b]] = static_cast<uint32_t>(b);
}

void TopK::SiftUp(size_t pos) {
  while (pos > 0) {
    const size_t parent = (pos - 1) / 2;
    if (!Less(heap_[pos], heap_[parent])) break;
    Swap(pos, parent);
    pos = parent;
  }
}

void TopK::SiftDown(size_t pos) {
  for (;;) {
    const size_t l = 2 * pos + 1;
    const size_t r = l + 1;
    size_t least = pos;
    if (l < heap_.size() && Less(heap_[l], heap_[least])) least = l;
    if (r < heap_.size() && Less(heap_[r], heap_[least])) least = r;
    if (least == pos) return;
    Swap(pos, least);
    pos = least;
  }
}

void TopK::Observe(std::string_view value, uint64_t weight) {
  total_ += weight;
  if (auto it = index_.find(value); it != index_.end()) {
    entries_[it->second].count += weight;
    SiftDown(pos_[it->second]);
  } else if (entries_.size() < capacity_) {
    const auto e = static_cast<uint32_t>(entries_.size());
    entries_.push_back(Entry{std::string(value), weight, 0});
    in_top_.push_back(0);
    pos_.push_back(static_cast<uint32_t>(heap_.size()));
    heap_.push_back(e);
    SiftUp(heap_.size() - 1);
    index_.emplace(entries_[e].value, e);
  } else {
    // Space-Saving: the new value takes over the smallest counter.
    const uint32_t e = heap_[0];
    Entry& victim = entries_[e];
    index_.erase(victim.value);
    victim.value.assign(value);
    victim.error = victim.count;
    victim.count += weight;
    in_top_[e] = 0;  // a new value is not exported before the next refresh
    index_.emplace(victim.value, e);
    SiftDown(0);
  }
  if (++since_refresh_ >= capacity_) Refresh();
}

void TopK::Refresh() {
  since_refresh_ = 0;
  std::vector<uint32_t> order(entries_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t k = std::min(options_.k, order.size());
  auto heavier = [&](uint32_t a, uint32_t b) {
    if (entries_[a].count != entries_[b].count) return entries_[a].count > entries_[b].count;
    return entries_[a].value < entries_[b].value;
  };
  std::nth_element(order.begin(), order.begin() + static_cast<ptrdiff_t>(k), order.end(), heavier);
  std::fill(in_top_.begin(), in_top_.end(), 0);
  for (size_t i = 0; i < k; ++i) in_top_[order[i]] = entries_[order[i]].count > 0 ? 1 : 0;
}

bool TopK::Contains(std::string_view value) const {
  auto it = index_.find(value);
  return it != index_.end() && in_top_[it->second];
}

std::string_view TopK::Map(std::string_view value) const {
  return Contains(value) ? value : std::string_view(options_.other);
}

void TopK::Decay() {
  for (Entry& e : entries_) {
    e.count /= 2;
    e.error /= 2;
  }
  total_ /= 2;
  // Halving keeps the heap order up to ties, which Less breaks by index:
  // rebuild to be safe.
  for (size_t i = heap_.size(); i-- > 0;) SiftDown(i);
  Refresh();
}

std::vector<TopK::Entry> TopK::Top() const {
  std::vector<Entry> out(entries_.begin(), entries_.end());
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) {
    if (a.count != b.count) return a.count > b.count;
    return a.value < b.value;
  });
  out.erase(std::remove_if(out.begin(), out.end(), [](const Entry& e) { return e.count == 0; }),
            out.end());
  if (out.size() > options_.k) out.resize(options_.k);
  return out;
}

}  // namespace calprobe::core::signals
