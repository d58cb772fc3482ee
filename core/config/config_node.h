#pragma once
// Checked reading of YAML config (blackbox_exporter style): every value is
// read through a ConfigNode that knows its file, line, column and config
// path, records type errors instead of throwing, and reports keys nobody
// read as unknown. Errors print as
//   agent.yaml:12:15: targets[3].interval: expected a duration like 30s
// Not thread-safe; used while loading.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace calprobe::core {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string path;
  std::string message;
  std::string ToString() const;
};

class ConfigErrors {
 public:
  void Add(ConfigError e) { errors_.push_back(std::move(e)); }
  bool empty() const { return errors_.empty(); }
  size_t size() const { return errors_.size(); }
  const std::vector<ConfigError>& all() const { return errors_; }
  // One error per line.
  std::string ToString() const;

 private:
  std::vector<ConfigError> errors_;
};

class ConfigNode {
 public:
  ConfigNode(YAML::Node node, std::shared_ptr<const std::string> file, std::string path,
             ConfigErrors* errors);

  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool IsMap() const { return node_.IsMap(); }
  bool IsSequence() const { return node_.IsSequence(); }
  bool IsScalar() const { return node_.IsScalar(); }
  const std::string& path() const { return path_; }
  const std::string& file() const { return *file_; }
  const YAML::Node& raw() const { return node_; }
  ConfigErrors* errors() const { return errors_; }

  // Map child; marks `key` as known. Undefined child when absent.
  ConfigNode operator[](std::string_view key) const;
  // Returns true iff this map has `key` (does not mark it known).
  bool Has(std::string_view key) const;
  // Sequence element i (path "targets[3]").
  ConfigNode At(size_t i) const;
  size_t size() const { return node_.IsSequence() || node_.IsMap() ? node_.size() : 0; }
  // Map keys in document order (marks them known).
  std::vector<std::string> Keys() const;

  // Scalar readers for this node. On a wrong type an error is recorded
  // and nullopt returned. Strings get ${ENV} substitution.
  std::optional<std::string> AsString() const;
  std::optional<int64_t> AsInt(int64_t min, int64_t max) const;
  std::optional<double> AsDouble() const;
  std::optional<bool> AsBool() const;
  std::optional<std::chrono::milliseconds> AsDuration() const;
  std::optional<uint64_t> AsBytes() const;

  // Keyed convenience readers: absent key -> fallback, no error.
  std::string String(std::string_view key, std::string fallback = "") const;
  int64_t Int(std::string_view key, int64_t fallback, int64_t min = INT64_MIN,
              int64_t max = INT64_MAX) const;
  double Double(std::string_view key, double fallback) const;
  bool Bool(std::string_view key, bool fallback) const;
  std::chrono::milliseconds Duration(std::string_view key, std::chrono::milliseconds fallback) const;
  uint64_t Bytes(std::string_view key, uint64_t fallback) const;
  std::vector<std::string> StringList(std::string_view key) const;  // scalar or list
  // Required string: records "missing required key" when absent.
  std::string RequiredString(std::string_view key) const;

  // Records an error located at this node.
  void Error(std::string message) const;
  // Reports each key of this map that was never read as unknown, listing
  // the keys that are allowed.
  void RejectUnknownKeys() const;
  // Expects a map (or absent); records an error otherwise. Returns IsMap().
  bool ExpectMap() const;

 private:
  YAML::Node node_;
  std::shared_ptr<const std::string> file_;
  std::string path_;
  ConfigErrors* errors_;
  std::shared_ptr<std::set<std::string, std::less<>>> known_;  // keys read (maps only)
};

// Parses "30s", "1m30s", "250ms", "2h", "7d". Returns nullopt when invalid.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view s);
// Formats a duration the way ParseDuration reads it ("1m30s").
std::string FormatDuration(std::chrono::milliseconds d);
// Parses a wall-clock time "HH:MM" (00:00 to 24:00) into minutes since
// midnight; nullopt when invalid. 24:00 ends a day.
std::optional<int> ParseClockTime(std::string_view s);
// Parses "1048576", "512KiB", "8MiB", "1GiB", "10MB", "64kB". nullopt when invalid.
std::optional<uint64_t> ParseBytes(std::string_view s);

// Substitutes ${VAR}, ${VAR:-default} and ${file:/path} in `in`. Values from
// variables whose name looks secret, and all ${file:…} values, are
// registered with Secrets. Returns nullopt and sets *error when a variable is
// unset (without default) or a file cannot be read.
std::optional<std::string> ExpandEnv(std::string_view in, std::string* error);

}  // namespace calprobe::core
