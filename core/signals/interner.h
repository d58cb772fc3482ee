#pragma once
// StringInterner: maps strings (label values) to small reference-counted ids
// so series keys are arrays of integers, cheap to hash and compare, and each
// distinct label value is stored once however many keys use it.
//
// Not thread-safe; callers synchronise.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace calprobe::core::signals {

// Transparent hash so maps keyed by std::string can be probed with a
// std::string_view without allocating.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class StringInterner {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Returns the id of `s`, creating it if needed, and takes one reference.
  uint32_t Acquire(std::string_view s);
  // Takes one more reference on an existing id.
  void AddRef(uint32_t id) { ++entries_[id].refs; }
  // Drops one reference; the id is freed (and may be reused for another
  // string) when no references remain.
  void Release(uint32_t id);
  // Returns the id of `s`, or kNone. Takes no reference.
  uint32_t Find(std::string_view s) const {
    auto it = ids_.find(s);
    return it == ids_.end() ? kNone : it->second;
  }
  // Returns the string of a live id.
  const std::string& Get(uint32_t id) const { return entries_[id].value; }
  // Number of live strings.
  size_t size() const { return ids_.size(); }

 private:
  struct Entry {
    std::string value;
    uint32_t refs = 0;
  };
  std::deque<Entry> entries_;  // deque: values never move, so views stay valid
  std::vector<uint32_t> free_;
  std::unordered_map<std::string_view, uint32_t, StringHash> ids_;
};

}  // namespace calprobe::core::signals
