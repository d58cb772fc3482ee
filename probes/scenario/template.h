#pragma once
// Text templates of scenario files: "{{base_url}}/api/holds/{{hold_id}}".
// A placeholder is {{NAME}}, {{NAME+DURATION}} / {{NAME-DURATION}} (NAME's
// value read as an RFC 3339 instant, shifted, written back as UTC, e.g.
// {{now+2d}}), optionally followed by one filter: |url (percent-encoded),
// |string (never typed as a number or bool, see TypedValue()), |ics (an
// instant as an ICS UTC DATE-TIME, 20270315T130000Z) or |minutes (seconds
// as minutes: 90 -> 1.5).
// This is separate from the config loader's ${ENV} substitution, which has
// already run when a template is parsed.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/status.h"

namespace calprobe::probes::scenario {

// Variable values of one journey (declared vars, --set overrides, captures).
using Vars = std::map<std::string, std::string, std::less<>>;

// Variables every journey has: now (RFC 3339 UTC at render time), run_id,
// target.
bool IsBuiltinVariable(std::string_view name);

class TextTemplate {
 public:
  TextTemplate() = default;
  // Parses `text`. Errors name the bad placeholder ("unclosed {{", bad name,
  // bad offset, unknown filter).
  static core::Result<TextTemplate> Parse(std::string_view text);

  // Names of the variables used (builtins included), in order of use.
  std::vector<std::string> Variables() const;
  // Returns the text with every placeholder replaced, or an error naming
  // the first variable without a value (or a value that is not an instant
  // where an offset is applied). `now` is the value of {{now}}.
  core::Result<std::string> Render(const Vars& vars, core::TimePoint now) const;
  // True iff the template is exactly one placeholder (its value may then be
  // typed, see TypedValue()).
  bool IsSolePlaceholder() const;
  bool ForcedString() const;  // the sole placeholder has |string
  bool empty() const { return pieces_.empty(); }
  const std::string& source() const { return source_; }

 private:
  struct Piece {
    bool is_variable = false;
    std::string text;  // literal text, or the variable name
    core::Duration offset{};
    bool has_offset = false;
    std::string filter;  // "", "url", "string", "ics", "minutes"
  };
  static Piece Literal(std::string_view text) {
    Piece p;
    p.text = std::string(text);
    return p;
  }
  std::vector<Piece> pieces_;
  std::string source_;
};

// A rendered value typed for JSON bodies and event fields: "true"/"false"
// become bools, integers and decimals numbers, anything else stays a string.
// Only applied to sole placeholders without |string; literal text keeps the
// YAML scalar's own type.
nlohmann::json TypedValue(const std::string& rendered);
core::FieldValue TypedField(const std::string& rendered);

// Percent-encodes `s` (RFC 3986 unreserved characters stay as they are).
std::string UrlEncode(std::string_view s);

// "2027-03-15T09:00:00Z" (seconds precision, UTC).
std::string FormatUtcSeconds(core::TimePoint t);

// A JSON document whose strings are templates (a request body given as a
// YAML mapping or list).
class JsonTemplate {
 public:
  // Parses every string; the error names the JSON pointer of the bad one.
  static core::Result<JsonTemplate> Parse(const nlohmann::json& doc);
  std::vector<std::string> Variables() const;
  core::Result<nlohmann::json> Render(const Vars& vars, core::TimePoint now) const;

 private:
  nlohmann::json doc_;
  std::map<std::string, TextTemplate> strings_;  // JSON pointer -> template
};

}  // namespace calprobe::probes::scenario
