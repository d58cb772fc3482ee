#include "core/signals/interner.h"

#include <cassert>

namespace calprobe::core::signals {

uint32_t StringInterner::Acquire(std::string_view s) {
  if (auto it = ids_.find(s); it != ids_.end()) {
    ++entries_[it->second].refs;
    return it->second;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[id];
  e.value.assign(s);
  e.refs = 1;
  ids_.emplace(std::string_view(e.value), id);
  return id;
}

void StringInterner::Release(uint32_t id) {
  Entry& e = entries_[id];
  assert(e.refs > 0);
  if (--e.refs > 0) return;
  ids_.erase(std::string_view(e.value));
  e.value.clear();
  e.value.shrink_to_fit();
  free_.push_back(id);
}

}  // namespace calprobe::core::signals
