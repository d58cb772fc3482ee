#pragma once
// Byte-level checks of one logical line: UTF-8 validity, control
// characters (anything below 0x20 except HTAB, plus DEL) and NUL bytes.
// The fast path inspects 8 bytes per step and only decodes UTF-8 around
// non-ASCII bytes.

#include <string_view>

namespace calprobe::calendar::internal {

struct TextIssues {
  bool invalid_utf8 = false;
  bool control = false;  // a control character other than HTAB (NUL included)
  bool nul = false;
  bool any() const { return invalid_utf8 || control; }
};

TextIssues CheckText(std::string_view s);

// Shortens `s` for quoting in a finding message: at most `max` bytes (cut on
// a UTF-8 boundary), control characters and invalid bytes as '?'.
std::string QuoteForMessage(std::string_view s, size_t max = 60);

}  // namespace calprobe::calendar::internal
