#pragma once
// Single-pass RFC 5545 content-line scanner. Finds physical lines (CRLF,
// bare LF, or CR-only bodies), unfolds continuation lines (a line break
// followed by a space or tab), records the 1-based physical line where each
// logical line starts and splits NAME;PARAM=..;PARAM="..":VALUE.
//
// Unfolded lines are views into the body when the line was not folded and
// into a scratch buffer owned by the scanner otherwise: a ContentLine is
// valid only until the next call to Next(). No per-line heap allocation
// once the scratch buffer has grown to the longest folded line.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace calprobe::calendar::internal {

// Scanner::Reset sets every field: keep it in step when adding one.
struct ContentLine {
  std::string_view raw;     // the unfolded logical line, no terminator
  std::string_view name;    // up to the first ';' or ':' (may be invalid)
  std::string_view params;  // between the name and the value, without the leading ';'
  std::string_view value;   // after the first ':' outside quotes
  int line = 0;             // 1-based physical line where the logical line starts
  int physical_lines = 1;   // 1 + number of continuation lines
  int long_line = 0;        // first physical line > 75 octets, 0 = none
  int bare_lf_line = 0;     // first physical line ended by LF alone, 0 = none
  int extra_cr_line = 0;    // first physical line ended by CR CR LF (stripped), 0 = none
  bool has_colon = false;   // false: not a content line (bad folding, garbage)
  bool name_valid = false;  // name is non-empty and only [A-Za-z0-9_-]
  bool leading_continuation = false;  // continuation with no line to continue
};

class Scanner {
 public:
  explicit Scanner(std::string_view body);

  // Reads the next non-blank logical line into *out. Returns false at the
  // end of the body.
  bool Next(ContentLine* out);

  bool has_bom() const { return has_bom_; }
  bool cr_only() const { return cr_only_; }
  // Bytes consumed so far (offset into the body).
  size_t offset() const { return pos_; }

 private:
  // Finds the end of the physical line starting at pos_; sets *content_end
  // (exclusive, terminator stripped) and returns the offset after the
  // terminator.
  // Inlined into Next(): called for every physical line.
  [[gnu::always_inline]] inline size_t FindLineEnd(size_t start, size_t* content_end, bool* bare_lf,
                                                   bool* extra_cr) const;
  static void Split(ContentLine* out);
  static void Reset(ContentLine* out);  // = ContentLine{}, without a temporary

  std::string_view body_;
  size_t pos_ = 0;
  int line_no_ = 0;  // physical lines consumed
  bool has_bom_ = false;
  bool cr_only_ = false;
  char eol_ = '\n';
  std::string scratch_;
};

// Calls f(name, value) for each parameter of a params string as produced
// by the scanner, in order, with the value's surrounding quotes removed,
// until f returns false. A value runs to the next ';' outside quotes.
template <typename F>
void ForEachParam(std::string_view params, F f) {
  size_t i = 0;
  const size_t n = params.size();
  while (i < n) {
    size_t eq = i;
    while (eq < n && params[eq] != '=' && params[eq] != ';') ++eq;
    const std::string_view name = params.substr(i, eq - i);
    size_t j = eq < n && params[eq] == '=' ? eq + 1 : eq;
    const size_t vstart = j;
    bool quoted = false;
    while (j < n && (quoted || params[j] != ';')) {
      if (params[j] == '"') quoted = !quoted;
      ++j;
    }
    std::string_view value = params.substr(vstart, j - vstart);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!f(name, value)) return;
    i = j + 1;
  }
}

// Returns the value of parameter `name` (case-insensitive) in a params
// string as produced by the scanner, without surrounding quotes; empty
// when absent. *found (optional) tells absent from empty.
std::string_view FindParam(std::string_view params, std::string_view name,
                           bool* found = nullptr);

// ASCII case-insensitive equality (inline: called on every content line).
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]);
    unsigned char y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace calprobe::calendar::internal
