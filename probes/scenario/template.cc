#include "probes/scenario/template.h"
#include "core/http/http_client.h"

#include <cctype>
#include <charconv>
#include <ctime>

#include "core/config/config_node.h"

namespace calprobe::probes::scenario {
namespace {

bool ValidName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

// |ics: an RFC 3339 instant as an ICS UTC DATE-TIME (20270315T130000Z);
// |minutes: a number of seconds as minutes (ttl_seconds 90 -> 1.5).
core::Result<std::string> ApplyFilter(const std::string& filter, const std::string& value) {
  if (filter == "ics") {
    auto t = core::ParseRfc3339(value);
    if (!t)
      return core::Status::Error("needs an RFC 3339 instant, got \"" + value.substr(0, 40) + "\"");
    std::string s = FormatUtcSeconds(*t);  // 2027-03-15T13:00:00Z
    std::string out;
    for (char c : s) {
      if (c != '-' && c != ':') out.push_back(c);
    }
    return out;
  }
  double seconds = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || p != value.data() + value.size()) {
    return core::Status::Error("needs a number of seconds, got \"" + value.substr(0, 40) + "\"");
  }
  nlohmann::json j = seconds / 60;
  if (seconds / 60 == static_cast<double>(static_cast<int64_t>(seconds / 60))) {
    j = static_cast<int64_t>(seconds / 60);
  }
  return j.dump();
}

}  // namespace

bool IsBuiltinVariable(std::string_view name) {
  return name == "now" || name == "run_id" || name == "target";
}

core::Result<TextTemplate> TextTemplate::Parse(std::string_view text) {
  TextTemplate t;
  t.source_ = std::string(text);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back(Literal(text.substr(pos)));
      break;
    }
    if (open > pos) t.pieces_.push_back(Literal(text.substr(pos, open - pos)));
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return core::Status::Error("unclosed \"{{\" at offset " + std::to_string(open) +
                                 "; placeholders look like {{hold_id}}");
    }
    std::string inner = Trim(text.substr(open + 2, close - open - 2));
    Piece p;
    p.is_variable = true;
    if (size_t bar = inner.find('|'); bar != std::string::npos) {
      p.filter = Trim(inner.substr(bar + 1));
      inner = Trim(inner.substr(0, bar));
      if (p.filter != "url" && p.filter != "string" && p.filter != "ics" && p.filter != "minutes") {
        return core::Status::Error("unknown filter \"|" + p.filter + "\" in {{" + inner +
                                   "}} (filters: url, string, ics, minutes)");
      }
    }
    size_t sign = inner.find_first_of("+-");
    if (sign != std::string::npos) {
      std::string dur = Trim(inner.substr(sign + 1));
      auto d = core::ParseDuration(dur);
      if (!d) {
        return core::Status::Error("bad offset \"" + dur + "\" in {{" + inner +
                                   "}}; expected a duration such as 30m or 2d");
      }
      p.has_offset = true;
      p.offset = inner[sign] == '-' ? -core::Duration(*d) : core::Duration(*d);
      inner = Trim(inner.substr(0, sign));
    }
    if (!ValidName(inner)) {
      return core::Status::Error("bad variable name \"" + inner +
                                 "\" in a placeholder; names use letters, digits and _");
    }
    p.text = inner;
    t.pieces_.push_back(std::move(p));
    pos = close + 2;
  }
  return t;
}

std::vector<std::string> TextTemplate::Variables() const {
  std::vector<std::string> out;
  for (const auto& p : pieces_) {
    if (p.is_variable) out.push_back(p.text);
  }
  return out;
}

bool TextTemplate::IsSolePlaceholder() const {
  return pieces_.size() == 1 && pieces_[0].is_variable;
}

bool TextTemplate::ForcedString() const {
  return IsSolePlaceholder() && pieces_[0].filter == "string";
}

core::Result<std::string> TextTemplate::Render(const Vars& vars, core::TimePoint now) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.is_variable) {
      out += p.text;
      continue;
    }
    std::string value;
    if (p.text == "now") {
      value = FormatUtcSeconds(now);
    } else {
      auto it = vars.find(p.text);
      if (it == vars.end()) {
        return core::Status::Error("variable \"" + p.text + "\" has no value");
      }
      value = it->second;
    }
    if (p.has_offset) {
      auto t = core::ParseRfc3339(value);
      if (!t) {
        return core::Status::Error("{{" + p.text + "±…}} needs an RFC 3339 instant, \"" + p.text +
                                   "\" is \"" + value.substr(0, 40) + "\"");
      }
      value = FormatUtcSeconds(*t + p.offset);
    }
    if (p.filter == "ics" || p.filter == "minutes") {
      auto v = ApplyFilter(p.filter, value);
      if (!v.ok()) return core::Status::Error("{{" + p.text + "|" + p.filter + "}}: " + v.error());
      value = std::move(*v);
    }
    out += p.filter == "url" ? UrlEncode(value) : value;
  }
  return out;
}

nlohmann::json TypedValue(const std::string& s) {
  if (s == "true") return true;
  if (s == "false") return false;
  if (!s.empty()) {
    int64_t i = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && p == s.data() + s.size()) return i;
    double d = 0;
    auto [p2, ec2] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec2 == std::errc() && p2 == s.data() + s.size()) return d;
  }
  return s;
}

core::FieldValue TypedField(const std::string& s) {
  nlohmann::json j = TypedValue(s);
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number()) return j.get<double>();
  return s;
}

std::string UrlEncode(std::string_view s) { return core::PercentEncode(s); }

std::string FormatUtcSeconds(core::TimePoint t) {
  std::time_t tt =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {
core::Status CollectStrings(const nlohmann::json& doc, const std::string& ptr,
                            std::map<std::string, TextTemplate>* out) {
  if (doc.is_string()) {
    auto t = TextTemplate::Parse(doc.get<std::string>());
    if (!t.ok()) return core::Status::Error((ptr.empty() ? "/" : ptr) + ": " + t.error());
    (*out)[ptr] = std::move(t.value());
  } else if (doc.is_object()) {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      std::string key = it.key();
      std::string esc;
      for (char c : key) esc += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      if (auto s = CollectStrings(it.value(), ptr + "/" + esc, out); !s.ok()) return s;
    }
  } else if (doc.is_array()) {
    for (size_t i = 0; i < doc.size(); ++i) {
      if (auto s = CollectStrings(doc[i], ptr + "/" + std::to_string(i), out); !s.ok()) return s;
    }
  }
  return core::Status::Ok();
}
}  // namespace

core::Result<JsonTemplate> JsonTemplate::Parse(const nlohmann::json& doc) {
  JsonTemplate t;
  t.doc_ = doc;
  if (auto s = CollectStrings(doc, "", &t.strings_); !s.ok()) return s;
  return t;
}

std::vector<std::string> JsonTemplate::Variables() const {
  std::vector<std::string> out;
  for (const auto& [ptr, t] : strings_) {
    for (auto& v : t.Variables()) out.push_back(std::move(v));
  }
  return out;
}

core::Result<nlohmann::json> JsonTemplate::Render(const Vars& vars, core::TimePoint now) const {
  nlohmann::json out = doc_;
  for (const auto& [ptr, t] : strings_) {
    auto r = t.Render(vars, now);
    if (!r.ok()) return r.status();
    nlohmann::json v =
        t.IsSolePlaceholder() && !t.ForcedString() ? TypedValue(*r) : nlohmann::json(*r);
    if (ptr.empty()) {
      out = std::move(v);
    } else {
      out[nlohmann::json::json_pointer(ptr)] = std::move(v);
    }
  }
  return out;
}

}  // namespace calprobe::probes::scenario
