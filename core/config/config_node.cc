#include "core/config/config_node.h"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/secrets.h"

namespace calprobe::core {

std::string ConfigError::ToString() const {
  std::string s = file;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!path.empty()) s += path + ": ";
  s += message;
  return s;
}

std::string ConfigErrors::ToString() const {
  std::string s;
  for (const auto& e : errors_) s += e.ToString() + "\n";
  return s;
}

ConfigNode::ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path,
                       ConfigErrors* errors)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), errors_(errors) {
  if (node_.IsMap()) known_ = std::make_shared<std::set<std::string, std::less<>>>();
}

namespace {
std::string Join(const std::string& base, std::string_view key) {
  if (base.empty()) return std::string(key);
  return base + "." + std::string(key);
}
}  // namespace

ConfigNode ConfigNode::operator[](std::string_view key) const {
  std::string p = Join(path_, key);
  if (!node_.IsMap()) return ConfigNode(YAML::Node(), file_, p, errors_);
  known_->emplace(key);
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) {
      return ConfigNode(it->second, file_, p, errors_);
    }
  }
  return ConfigNode(YAML::Node(), file_, p, errors_);
}

bool ConfigNode::Has(std::string_view key) const {
  if (!node_.IsMap()) return false;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return !it->second.IsNull();
  }
  return false;
}

ConfigNode ConfigNode::At(size_t i) const {
  std::string p = path_ + "[" + std::to_string(i) + "]";
  if (!node_.IsSequence() || i >= node_.size()) {
    return ConfigNode(YAML::Node(), file_, p, errors_);
  }
  // Const access: the non-const operator[] allocates key nodes inside the
  // document (interleaving them with long-lived objects: heap fragmentation).
  return ConfigNode(std::as_const(node_)[i], file_, p, errors_);
}

std::vector<std::string> ConfigNode::Keys() const {
  std::vector<std::string> keys;
  if (!node_.IsMap()) return keys;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    if (!it->first.IsScalar()) continue;
    keys.push_back(it->first.Scalar());
    known_->emplace(it->first.Scalar());
  }
  return keys;
}

void ConfigNode::Error(std::string message) const {
  ConfigError e;
  e.file = *file_;
  if (node_.IsDefined()) {
    YAML::Mark m = node_.Mark();
    if (m.line >= 0) {
      e.line = m.line + 1;
      e.column = m.column + 1;
    }
  }
  e.path = path_;
  e.message = std::move(message);
  errors_->Add(std::move(e));
}

bool ConfigNode::ExpectMap() const {
  if (!defined()) return false;
  if (!node_.IsMap()) {
    Error("expected a mapping (key: value)");
    return false;
  }
  return true;
}

namespace {
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

void ConfigNode::RejectUnknownKeys() const {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    if (known_->count(key)) continue;
    std::string allowed, suggestion;
    size_t best = 3;  // suggest only close matches (typos)
    for (const auto& k : *known_) {
      allowed += (allowed.empty() ? "" : ", ") + k;
      size_t d = EditDistance(key, k);
      if (d < best) {
        best = d;
        suggestion = k;
      }
    }
    ConfigError e;
    e.file = *file_;
    YAML::Mark m = it->first.Mark();
    e.line = m.line + 1;
    e.column = m.column + 1;
    e.path = Join(path_, key);
    e.message = "unknown key \"" + key + "\"" +
                (suggestion.empty() ? "" : "; did you mean \"" + suggestion + "\"?") +
                (allowed.empty() ? "" : " (allowed here: " + allowed + ")");
    errors_->Add(std::move(e));
  }
}

std::optional<std::string> ConfigNode::AsString() const {
  if (!node_.IsScalar()) {
    Error("expected a string");
    return std::nullopt;
  }
  std::string err;
  auto v = ExpandEnv(node_.Scalar(), &err);
  if (!v) {
    Error(err);
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> ConfigNode::AsInt(int64_t min, int64_t max) const {
  auto s = AsString();
  if (!s) return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
  if (ec != std::errc() || p != s->data() + s->size()) {
    Error("expected an integer, got \"" + *s + "\"");
    return std::nullopt;
  }
  if (v < min || v > max) {
    Error("must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
          std::to_string(v));
    return std::nullopt;
  }
  return v;
}

std::optional<double> ConfigNode::AsDouble() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s->c_str(), &end);
  if (s->empty() || end != s->c_str() + s->size()) {
    Error("expected a number, got \"" + *s + "\"");
    return std::nullopt;
  }
  return v;
}

std::optional<bool> ConfigNode::AsBool() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  if (*s == "true" || *s == "yes" || *s == "on") return true;
  if (*s == "false" || *s == "no" || *s == "off") return false;
  Error("expected true or false, got \"" + *s + "\"");
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ConfigNode::AsDuration() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  auto d = ParseDuration(*s);
  if (!d) Error("expected a duration like 30s, got \"" + *s + "\" (units: ms, s, m, h, d)");
  return d;
}

std::optional<uint64_t> ConfigNode::AsBytes() const {
  auto s = AsString();
  if (!s) return std::nullopt;
  auto b = ParseBytes(*s);
  if (!b) Error("expected a size like 512KiB or 8MiB, got \"" + *s + "\"");
  return b;
}

std::string ConfigNode::String(std::string_view key, std::string fallback) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsString().value_or(fallback);
}

int64_t ConfigNode::Int(std::string_view key, int64_t fallback, int64_t min, int64_t max) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsInt(min, max).value_or(fallback);
}

double ConfigNode::Double(std::string_view key, double fallback) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsDouble().value_or(fallback);
}

bool ConfigNode::Bool(std::string_view key, bool fallback) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsBool().value_or(fallback);
}

std::chrono::milliseconds ConfigNode::Duration(std::string_view key,
                                               std::chrono::milliseconds fallback) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsDuration().value_or(fallback);
}

uint64_t ConfigNode::Bytes(std::string_view key, uint64_t fallback) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) return fallback;
  return c.AsBytes().value_or(fallback);
}

std::vector<std::string> ConfigNode::StringList(std::string_view key) const {
  ConfigNode c = (*this)[key];
  std::vector<std::string> out;
  if (!c.defined()) return out;
  if (c.IsScalar()) {
    if (auto s = c.AsString()) out.push_back(*s);
    return out;
  }
  if (!c.IsSequence()) {
    c.Error("expected a string or a list of strings");
    return out;
  }
  for (size_t i = 0; i < c.size(); ++i) {
    if (auto s = c.At(i).AsString()) out.push_back(*s);
  }
  return out;
}

std::string ConfigNode::RequiredString(std::string_view key) const {
  ConfigNode c = (*this)[key];
  if (!c.defined()) {
    Error("missing required key \"" + std::string(key) + "\"");
    return "";
  }
  return c.AsString().value_or("");
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return std::nullopt;
    int64_t n = 0;
    std::from_chars(s.data() + start, s.data() + i, n);
    if (n > 1'000'000'000) return std::nullopt;
    size_t ustart = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view unit = s.substr(ustart, i - ustart);
    int64_t mult;
    if (unit == "ms") mult = 1;
    else if (unit == "s") mult = 1000;
    else if (unit == "m") mult = 60'000;
    else if (unit == "h") mult = 3'600'000;
    else if (unit == "d") mult = 86'400'000;
    else if (unit == "w") mult = 7 * 86'400'000LL;
    else return std::nullopt;
    total += n * mult;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [mult, name] : units) {
    if (ms >= mult) {
      out += std::to_string(ms / mult) + name;
      ms %= mult;
    }
  }
  return out;
}

std::optional<int> ParseClockTime(std::string_view s) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (s.size() != 5 || s[2] != ':' || !digit(s[0]) || !digit(s[1]) || !digit(s[3]) || !digit(s[4])) {
    return std::nullopt;
  }
  int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (m > 59 || h > 24 || (h == 24 && m != 0)) return std::nullopt;
  return h * 60 + m;
}

std::optional<uint64_t> ParseBytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == 0) return std::nullopt;
  uint64_t n = 0;
  std::from_chars(s.data(), s.data() + i, n);
  std::string_view unit = s.substr(i);
  uint64_t mult;
  if (unit.empty() || unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1024;
  else if (unit == "MiB") mult = 1024 * 1024;
  else if (unit == "GiB") mult = 1024ull * 1024 * 1024;
  else if (unit == "kB" || unit == "KB") mult = 1000;
  else if (unit == "MB") mult = 1000 * 1000;
  else if (unit == "GB") mult = 1000ull * 1000 * 1000;
  else return std::nullopt;
  return n * mult;
}

std::optional<std::string> ExpandEnv(std::string_view in, std::string* error) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    size_t p = in.find("${", i);
    if (p == std::string_view::npos) {
      out.append(in.substr(i));
      break;
    }
    out.append(in.substr(i, p - i));
    size_t end = in.find('}', p);
    if (end == std::string_view::npos) {
      *error = "unterminated ${ in \"" + std::string(in) + "\"";
      return std::nullopt;
    }
    std::string_view expr = in.substr(p + 2, end - p - 2);
    if (expr.substr(0, 5) == "file:") {
      std::string path(expr.substr(5));
      std::ifstream f(path);
      if (!f) {
        *error = "cannot read secret file " + path + " (referenced as ${file:…})";
        return std::nullopt;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      std::string v = ss.str();
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      Secrets::Register(v);
      out += v;
    } else {
      std::string_view name = expr;
      std::optional<std::string_view> def;
      size_t dash = expr.find(":-");
      if (dash != std::string_view::npos) {
        name = expr.substr(0, dash);
        def = expr.substr(dash + 2);
      }
      std::string n(name);
      const char* v = std::getenv(n.c_str());
      if (!v || (!*v && def)) {
        if (!def) {
          *error = "environment variable " + n + " is not set (export it, or write ${" + n +
                   ":-default})";
          return std::nullopt;
        }
        out.append(*def);
      } else {
        if (Secrets::LooksSecret(n)) Secrets::Register(v);
        out += v;
      }
    }
    i = end + 1;
  }
  return out;
}

}  // namespace calprobe::core
