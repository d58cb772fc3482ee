#pragma once
// Structured logging on stderr: logfmt (default, for people) or JSON lines
// (for log shippers). Every value passes through Secrets::Redact.
//   Log(LogLevel::kWarn, "config reload failed").Kv("file", path).Kv("error", msg);
// The line is written when the temporary is destroyed. Thread-safe.

#include <cstdint>
#include <iosfwd>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace calprobe::core {

enum class LogFormat { kLogfmt, kJson };
enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// Configures the process-wide logger. `out` must outlive all logging.
void InitLogging(LogFormat format, LogLevel min_level, std::ostream* out = nullptr);
bool ParseLogFormat(std::string_view s, LogFormat* out);
bool ParseLogLevel(std::string_view s, LogLevel* out);

class Log {
 public:
  Log(LogLevel level, std::string_view msg);
  ~Log();
  Log(const Log&) = delete;
  Log& operator=(const Log&) = delete;

  Log& Kv(std::string_view key, std::string_view value);
  Log& Kv(std::string_view key, const std::string& value) { return Kv(key, std::string_view(value)); }
  Log& Kv(std::string_view key, const char* value) { return Kv(key, std::string_view(value)); }
  Log& Kv(std::string_view key, int64_t value);
  Log& Kv(std::string_view key, int value) { return Kv(key, static_cast<int64_t>(value)); }
  Log& Kv(std::string_view key, size_t value) { return Kv(key, static_cast<int64_t>(value)); }
  Log& Kv(std::string_view key, double value);
  Log& Kv(std::string_view key, bool value);

 private:
  bool enabled_;
  LogLevel level_;
  std::string msg_;
  // (key, value, quoted-in-json)
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> kvs_;
};

}  // namespace calprobe::core
