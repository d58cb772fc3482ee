#include "calendar/ics/scanner.h"

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace calprobe::calendar::internal {
namespace {

constexpr size_t kMaxOctetsPerLine = 75;

// RFC 5545 names are [A-Za-z0-9-]; '_' is tolerated because generators
// emit it in X- names and parsers accept it. A table: this runs on every
// byte of every property name.
constexpr std::array<bool, 256> kNameChar = [] {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c) {
    t[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  }
  return t;
}();

inline bool IsNameChar(unsigned char c) { return kNameChar[c]; }

// memchr for the short distances of content lines (~40-80 bytes): inline
// 16-byte steps instead of a library call per physical line.
inline const char* FindByte(const char* p, const char* end, char c) {
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)));
    if (m != 0) return p + __builtin_ctz(m);
  }
#endif
  return static_cast<const char*>(std::memchr(p, c, static_cast<size_t>(end - p)));
}

}  // namespace

Scanner::Scanner(std::string_view body) : body_(body) {
  if (body_.size() >= 3 && static_cast<unsigned char>(body_[0]) == 0xEF &&
      static_cast<unsigned char>(body_[1]) == 0xBB && static_cast<unsigned char>(body_[2]) == 0xBF) {
    has_bom_ = true;
    pos_ = 3;
  }
  // A body with CR but no LF anywhere uses old Mac line endings.
  if (std::memchr(body_.data(), '\n', body_.size()) == nullptr &&
      std::memchr(body_.data(), '\r', body_.size()) != nullptr) {
    cr_only_ = true;
    eol_ = '\r';
  }
}

size_t Scanner::FindLineEnd(size_t start, size_t* content_end, bool* bare_lf,
                            bool* extra_cr) const {
  const char* base = body_.data();
  const char* hit = FindByte(base + start, base + body_.size(), eol_);
  *bare_lf = false;
  *extra_cr = false;
  if (hit == nullptr) {
    *content_end = body_.size();
    return body_.size();
  }
  size_t eol = static_cast<size_t>(hit - base);
  size_t end = eol;
  if (eol_ == '\n') {
    if (end > start && base[end - 1] == '\r') {
      --end;
      // "\r\r\n" (a CRLF converted twice): strip every CR, report it.
      while (end > start && base[end - 1] == '\r') {
        --end;
        *extra_cr = true;
      }
    } else {
      *bare_lf = true;
    }
  }
  *content_end = end;
  return eol + 1;
}

bool Scanner::Next(ContentLine* out) {
  const size_t n = body_.size();
  while (pos_ < n) {
    size_t start = pos_;
    size_t end;
    bool bare_lf;
    bool extra_cr;
    size_t next = FindLineEnd(start, &end, &bare_lf, &extra_cr);
    ++line_no_;
    pos_ = next;
    Reset(out);
    out->line = line_no_;
    if (bare_lf) out->bare_lf_line = line_no_;
    if (extra_cr) out->extra_cr_line = line_no_;
    if (end - start > kMaxOctetsPerLine) out->long_line = line_no_;
    if (end == start) continue;  // blank line: ignored (most parsers do)
    char first = body_[start];
    if (first == ' ' || first == '\t') {
      // A continuation here has no logical line before it (we consume
      // continuations eagerly below): report it as its own line.
      bool all_blank = true;
      for (size_t i = start; i < end; ++i) {
        if (body_[i] != ' ' && body_[i] != '\t') {
          all_blank = false;
          break;
        }
      }
      if (all_blank) continue;
      out->leading_continuation = true;
    }
    // Peek for continuation lines.
    if (pos_ < n && (body_[pos_] == ' ' || body_[pos_] == '\t')) {
      scratch_.assign(body_.data() + start, end - start);
      while (pos_ < n && (body_[pos_] == ' ' || body_[pos_] == '\t')) {
        size_t cstart = pos_;
        size_t cend;
        bool cbare;
        bool cextra;
        size_t cnext = FindLineEnd(cstart, &cend, &cbare, &cextra);
        ++line_no_;
        ++out->physical_lines;
        if (cbare && out->bare_lf_line == 0) out->bare_lf_line = line_no_;
        if (cextra && out->extra_cr_line == 0) out->extra_cr_line = line_no_;
        if (cend - cstart > kMaxOctetsPerLine && out->long_line == 0) out->long_line = line_no_;
        scratch_.append(body_.data() + cstart + 1, cend - cstart - 1);
        pos_ = cnext;
      }
      out->raw = scratch_;
    } else {
      out->raw = body_.substr(start, end - start);
    }
    Split(out);
    return true;
  }
  return false;
}

// Field by field: `*out = ContentLine{}` compiled to a `rep stos` into a
// temporary plus a copy, a measurable share of the scan on every line.
void Scanner::Reset(ContentLine* out) {
  out->raw = out->name = out->params = out->value = std::string_view();
  out->line = 0;
  out->physical_lines = 1;
  out->long_line = out->bare_lf_line = out->extra_cr_line = 0;
  out->has_colon = out->name_valid = out->leading_continuation = false;
}

void Scanner::Split(ContentLine* out) {
  std::string_view raw = out->raw;
  const size_t n = raw.size();
  size_t i = 0;
  while (i < n && IsNameChar(static_cast<unsigned char>(raw[i]))) ++i;
  out->name = raw.substr(0, i);
  out->name_valid = i > 0 && (i == n || raw[i] == ';' || raw[i] == ':');
  if (i < n && raw[i] == ':') {
    out->has_colon = true;
    out->value = raw.substr(i + 1);
    return;
  }
  if (i >= n || raw[i] != ';') {
    // Not NAME: or NAME; -- find a colon anyway so garbage is recognisable.
    const void* c = std::memchr(raw.data() + i, ':', n - i);
    if (c != nullptr) {
      size_t ci = static_cast<const char*>(c) - raw.data();
      out->has_colon = true;
      out->value = raw.substr(ci + 1);
    }
    return;
  }
  const size_t pstart = i + 1;
  // Quoted parameter values (CN="Doe, Jane: CEO") may contain ':'. Hop
  // from quote to quote: the value starts at the first colon outside them
  // (usually there is no quote before the first colon).
  const char* end = raw.data() + n;
  const char* from = raw.data() + pstart;
  while (true) {
    const char* colon_at = FindByte(from, end, ':');
    if (colon_at == nullptr) break;
    const char* quote = FindByte(from, colon_at, '"');
    if (quote == nullptr) {
      const size_t at = static_cast<size_t>(colon_at - raw.data());
      out->params = raw.substr(pstart, at - pstart);
      out->value = raw.substr(at + 1);
      out->has_colon = true;
      return;
    }
    const char* close = FindByte(quote + 1, end, '"');
    if (close == nullptr) break;  // an open quote runs to the end: no value
    from = close + 1;
  }
  out->params = raw.substr(pstart);
}

std::string_view FindParam(std::string_view params, std::string_view name, bool* found) {
  std::string_view result;
  bool hit = false;
  ForEachParam(params, [&](std::string_view pname, std::string_view value) {
    hit = EqualsIgnoreCase(pname, name);
    if (hit) result = value;
    return !hit;
  });
  if (found != nullptr) *found = hit;
  return result;
}

}  // namespace calprobe::calendar::internal
