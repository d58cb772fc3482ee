#include "calendar/ics/text.h"

#include <cstdint>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace calprobe::calendar::internal {
namespace {

#if !defined(__SSE2__)
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;

// True when some byte of w is < 0x20 or has the high bit set.
inline bool NeedsSlowPath(uint64_t w) {
  return ((w - kOnes * 0x20) | w) & kHighs;
}
#endif

// Validates one UTF-8 sequence at s[i]; returns its length or 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = s.size();
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    return (i + 1 < n && (b(i + 1) & 0xC0) == 0x80) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    if (i + 2 >= n) return 0;
    unsigned char c1 = b(i + 1);
    if ((c1 & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80) return 0;
    if (c == 0xE0 && c1 < 0xA0) return 0;  // overlong
    if (c == 0xED && c1 > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (i + 3 >= n) return 0;
    unsigned char c1 = b(i + 1);
    if ((c1 & 0xC0) != 0x80 || (b(i + 2) & 0xC0) != 0x80 || (b(i + 3) & 0xC0) != 0x80) return 0;
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

TextIssues CheckText(std::string_view s) {
  TextIssues r;
  const char* p = s.data();
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
#if defined(__SSE2__)
    // 16 bytes per step: a signed compare with 0x20 flags both control
    // characters and every non-ASCII byte; DEL is checked separately. The
    // tail is checked with an overlapping load (or a space-padded copy).
    const char* src;
    unsigned skip = 0;  // bytes of the loaded block before position i
    alignas(16) char pad[16];
    if (i + 16 <= n) {
      src = p + i;
    } else if (n >= 16) {
      src = p + n - 16;
      skip = static_cast<unsigned>(16 - (n - i));
    } else {
      std::memset(pad, ' ', sizeof pad);
      std::memcpy(pad, p + i, n - i);
      src = pad;
    }
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                               _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));
    unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(bad)) >> skip;
    if (mask == 0) {
      i += 16 - skip;
      continue;
    }
    i += static_cast<size_t>(__builtin_ctz(mask));
#else
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!NeedsSlowPath(w)) {
        uint64_t x = w ^ (kOnes * 0x7F);
        if (!(((x - kOnes) & ~x) & kHighs)) {
          i += 8;
          continue;
        }
      }
    }
#endif
    unsigned char c = static_cast<unsigned char>(p[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t') || c == 0x7F) {
        r.control = true;
        if (c == 0) r.nul = true;
      }
      ++i;
      continue;
    }
    size_t len = Utf8Length(s, i);
    if (len == 0) {
      r.invalid_utf8 = true;
      ++i;
    } else {
      i += len;
    }
  }
  return r;
}

std::string QuoteForMessage(std::string_view s, size_t max) {
  std::string out;
  bool cut = false;
  if (s.size() > max) {
    size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    s = s.substr(0, end);
    cut = true;
  }
  out.reserve(s.size() + 3);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) {
      out.push_back('?');
      ++i;
      continue;
    }
    size_t len = Utf8Length(s, i);
    if (len == 0) {
      out.push_back('?');
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace calprobe::calendar::internal
