// Snapshot identity, deltas and the compact binary serialisation:
//   "CPS1" varint(count) { varint(len) uid varint(len) recurrence_id u64le hash }*
// entries sorted by key so equal snapshots serialise to equal bytes.

#include <algorithm>
#include <cstring>

#include "calendar/ics/hash.h"
#include "calendar/ics/ics.h"

namespace calprobe::calendar {
namespace {

constexpr std::string_view kMagic = "CPS1";

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    auto b = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    r |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = r;
      return true;
    }
  }
  return false;
}

bool GetString(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  out->assign(in->data(), n);
  in->remove_prefix(n);
  return true;
}

}  // namespace

size_t EventKeyHashOf(std::string_view uid, std::string_view recurrence_id) {
  return internal::HashBytes(uid, internal::HashBytes(recurrence_id));
}

size_t EventKeyHash::operator()(const EventKey& k) const {
  return EventKeyHashOf(k.uid, k.recurrence_id);
}

Delta ComputeDelta(const Snapshot& before, const Snapshot& after) {
  Delta d;
  for (const auto& [key, hash] : after.events) {
    auto it = before.events.find(key);
    if (it == before.events.end()) {
      ++d.added;
    } else if (it->second != hash) {
      ++d.changed;
    }
  }
  // Keys are unique in each snapshot: the keys of `before` not matched
  // above (after.size() - added were) are the removed ones.
  const size_t matched = after.events.size() - static_cast<size_t>(d.added);
  d.removed = static_cast<int>(before.events.size() - matched);
  return d;
}

std::string SerializeSnapshot(const Snapshot& s) {
  std::vector<const std::pair<const EventKey, uint64_t>*> entries;
  entries.reserve(s.events.size());
  size_t bytes = kMagic.size() + 10;
  for (const auto& e : s.events) {
    entries.push_back(&e);
    bytes += e.first.uid.size() + e.first.recurrence_id.size() + 12;
  }
  std::sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) {
    if (a->first.uid != b->first.uid) return a->first.uid < b->first.uid;
    return a->first.recurrence_id < b->first.recurrence_id;
  });
  std::string out;
  out.reserve(bytes);
  out.append(kMagic);
  PutVarint(&out, entries.size());
  for (const auto* e : entries) {
    PutVarint(&out, e->first.uid.size());
    out.append(e->first.uid);
    PutVarint(&out, e->first.recurrence_id.size());
    out.append(e->first.recurrence_id);
    char h[8];
    for (int i = 0; i < 8; ++i) h[i] = static_cast<char>((e->second >> (8 * i)) & 0xFF);
    out.append(h, 8);
  }
  return out;
}

std::optional<Snapshot> DeserializeSnapshot(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  bytes.remove_prefix(kMagic.size());
  uint64_t count = 0;
  if (!GetVarint(&bytes, &count)) return std::nullopt;
  // Each entry needs at least 10 bytes: never trust the count for reserve.
  if (count > bytes.size() / 10) return std::nullopt;
  Snapshot s;
  s.events.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    EventKey key;
    if (!GetString(&bytes, &key.uid) || !GetString(&bytes, &key.recurrence_id)) {
      return std::nullopt;
    }
    if (bytes.size() < 8) return std::nullopt;
    uint64_t h = 0;
    for (int b = 0; b < 8; ++b) h |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[b])) << (8 * b);
    bytes.remove_prefix(8);
    if (!s.events.emplace(std::move(key), h).second) return std::nullopt;
  }
  if (!bytes.empty()) return std::nullopt;
  return s;
}

}  // namespace calprobe::calendar
