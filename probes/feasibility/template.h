#pragma once
// Request templating for the feasibility probe: strings with {{variable}}
// placeholders (distinct from the config loader's ${ENV} substitution, which
// has already run when a template is parsed). The variables are fixed:
// provider_id, from, to, duration_minutes, now.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace calprobe::probes::feasibility {

// Values of the template variables for one run.
using TemplateVars = std::map<std::string, std::string, std::less<>>;

// The variable names a template may use.
const std::vector<std::string>& TemplateVariableNames();

// How a value is escaped where it is substituted.
enum class Escape {
  kNone,  // as is (headers, string bodies)
  kUrl,   // percent-encoded except RFC 3986 unreserved characters (URLs)
};

class Template {
 public:
  Template() = default;
  // Parses `text`. Error on an unknown variable or an unclosed "{{", naming it.
  static core::Result<Template> Parse(std::string_view text);

  // Returns the text with every placeholder replaced by its value in `vars`
  // (escaped as asked); a variable missing from `vars` renders empty.
  std::string Render(const TemplateVars& vars, Escape escape = Escape::kNone) const;
  // Returns the variable name iff the template is exactly one placeholder.
  std::string_view SoleVariable() const;

 private:
  struct Piece {
    bool is_variable = false;
    std::string text;  // literal text or variable name
  };
  std::vector<Piece> pieces_;
};

// Percent-encodes `s` (RFC 3986 unreserved characters stay as they are).
std::string UrlEncode(std::string_view s);

// A JSON body whose string values are templates. A string that is exactly
// "{{duration_minutes}}" renders as a JSON number.
class JsonTemplate {
 public:
  JsonTemplate() = default;
  // Checks every string in `doc`; the error names the JSON pointer of the bad string.
  static core::Result<JsonTemplate> Parse(nlohmann::json doc);
  nlohmann::json Render(const TemplateVars& vars) const;

 private:
  nlohmann::json doc_;
};

}  // namespace calprobe::probes::feasibility
