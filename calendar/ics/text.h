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

// Returns the length of a prefix of `body` that is valid UTF-8 and has no
// control characters other than HTAB, LF and the CR of CR LF: the whole
// body when it is so, else a point at or a few bytes before the first
// defect (or the first CR CR LF, which it leaves to the per-line check).
// Every logical line that lies inside that prefix, folded or not, passes
// CheckText (unfolding removes only line ends and ASCII blanks, which sit
// on character boundaries), so the analyzer checks the body in a few large
// SIMD steps instead of line by line and calls CheckText only after the
// prefix. Not meaningful for CR-only bodies.
size_t CleanPrefix(std::string_view body);

// Shortens `s` for quoting in a finding message: at most `max` bytes (cut on
// a UTF-8 boundary), control characters and invalid bytes as '?'.
std::string QuoteForMessage(std::string_view s, size_t max = 60);

}  // namespace calprobe::calendar::internal
