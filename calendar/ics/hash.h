#pragma once
// Fast non-cryptographic 64-bit hashing for content lines (wyhash-style:
// 16 bytes per step through a 64x64->128 multiply). Used for per-event
// content hashes in snapshots; stable across runs and platforms with the
// same endianness (values are stored, so never change the constants).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace calprobe::calendar::internal {

inline constexpr uint64_t kHashP0 = 0xa0761d6478bd642full;
inline constexpr uint64_t kHashP1 = 0xe7037ed1a0b428dbull;
inline constexpr uint64_t kHashP2 = 0x8ebc6af09c88c6e3ull;
inline constexpr uint64_t kHashP3 = 0x589965cc75374cc3ull;

inline uint64_t Mum(uint64_t a, uint64_t b) {
  __uint128_t r = static_cast<__uint128_t>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

inline uint64_t Read64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

inline uint64_t Read32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Hashes `len` bytes at `p`.
inline uint64_t HashBytes(const char* p, size_t len, uint64_t seed = 0) {
  uint64_t a;
  uint64_t b;
  seed ^= kHashP0;
  if (len <= 16) {
    if (len >= 4) {
      a = (Read32(p) << 32) | Read32(p + ((len >> 3) << 2));
      b = (Read32(p + len - 4) << 32) | Read32(p + len - 4 - ((len >> 3) << 2));
    } else if (len > 0) {
      a = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
          (static_cast<uint64_t>(static_cast<unsigned char>(p[len >> 1])) << 8) |
          static_cast<unsigned char>(p[len - 1]);
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t i = len;
    uint64_t see1 = seed;
    while (i > 32) {
      seed = Mum(Read64(p) ^ kHashP1, Read64(p + 8) ^ seed);
      see1 = Mum(Read64(p + 16) ^ kHashP2, Read64(p + 24) ^ see1);
      p += 32;
      i -= 32;
    }
    seed ^= see1;
    while (i > 16) {
      seed = Mum(Read64(p) ^ kHashP1, Read64(p + 8) ^ seed);
      p += 16;
      i -= 16;
    }
    a = Read64(p + i - 16);
    b = Read64(p + i - 8);
  }
  return Mum(kHashP1 ^ len, Mum(a ^ kHashP1, b ^ seed));
}

inline uint64_t HashBytes(std::string_view s, uint64_t seed = 0) {
  return HashBytes(s.data(), s.size(), seed);
}

// Final avalanche for combining line hashes order-insensitively.
inline uint64_t MixHash(uint64_t h) { return Mum(h ^ kHashP3, kHashP2); }

}  // namespace calprobe::calendar::internal
