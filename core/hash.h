#pragma once
// A stable 64-bit string hash (FNV-1a with a murmur3 finaliser): the same
// value on every machine and run, so schedule phases and shard assignment
// survive restarts and agree between replicas. Not for security.

#include <cstdint>
#include <string_view>

namespace calprobe::core {

inline uint64_t StableHash64(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  // Final mix so similar names ("t1", "t2") land far apart.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace calprobe::core
