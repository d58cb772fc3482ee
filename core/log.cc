#include "core/log.h"

#include <chrono>
#include <iostream>
#include <mutex>

#include "core/clock.h"
#include "core/event.h"
#include "core/secrets.h"

namespace calprobe::core {
namespace {

struct LoggerState {
  std::mutex mu;
  LogFormat format = LogFormat::kLogfmt;
  LogLevel min_level = LogLevel::kInfo;
  std::ostream* out = &std::cerr;
};
LoggerState& State() {
  static LoggerState s;
  return s;
}

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          *out += buf;
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

void AppendLogfmtValue(std::string* out, std::string_view s) {
  bool quote = s.empty();
  for (char c : s) {
    if (c == ' ' || c == '=' || c == '"' || c == '\n' || c == '\t') quote = true;
  }
  if (!quote) {
    *out += s;
    return;
  }
  AppendJsonString(out, s);
}

}  // namespace

void InitLogging(LogFormat format, LogLevel min_level, std::ostream* out) {
  auto& s = State();
  std::lock_guard lock(s.mu);
  s.format = format;
  s.min_level = min_level;
  s.out = out ? out : &std::cerr;
}

bool ParseLogFormat(std::string_view s, LogFormat* out) {
  if (s == "logfmt") *out = LogFormat::kLogfmt;
  else if (s == "json") *out = LogFormat::kJson;
  else return false;
  return true;
}

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  if (s == "debug") *out = LogLevel::kDebug;
  else if (s == "info") *out = LogLevel::kInfo;
  else if (s == "warn") *out = LogLevel::kWarn;
  else if (s == "error") *out = LogLevel::kError;
  else return false;
  return true;
}

Log::Log(LogLevel level, std::string_view msg)
    : enabled_(level >= State().min_level), level_(level), msg_(msg) {}

Log& Log::Kv(std::string_view key, std::string_view value) {
  if (enabled_) kvs_.push_back({std::string(key), {Secrets::Redact(value), true}});
  return *this;
}
Log& Log::Kv(std::string_view key, int64_t value) {
  if (enabled_) kvs_.push_back({std::string(key), {std::to_string(value), false}});
  return *this;
}
Log& Log::Kv(std::string_view key, double value) {
  if (enabled_) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", value);
    kvs_.push_back({std::string(key), {buf, false}});
  }
  return *this;
}
Log& Log::Kv(std::string_view key, bool value) {
  if (enabled_) kvs_.push_back({std::string(key), {value ? "true" : "false", false}});
  return *this;
}

Log::~Log() {
  if (!enabled_) return;
  auto& s = State();
  std::string line;
  std::string ts = FormatRfc3339(std::chrono::system_clock::now());
  std::string msg = Secrets::Redact(msg_);
  if (s.format == LogFormat::kJson) {
    line = "{\"ts\":\"" + ts + "\",\"level\":\"" + LevelName(level_) + "\",\"msg\":";
    AppendJsonString(&line, msg);
    for (const auto& [k, v] : kvs_) {
      line += ',';
      AppendJsonString(&line, k);
      line += ':';
      if (v.second) AppendJsonString(&line, v.first);
      else line += v.first;
    }
    line += "}\n";
  } else {
    line = "ts=" + ts + " level=" + LevelName(level_) + " msg=";
    AppendLogfmtValue(&line, msg);
    for (const auto& [k, v] : kvs_) {
      line += ' ';
      line += k;
      line += '=';
      AppendLogfmtValue(&line, v.first);
    }
    line += '\n';
  }
  std::lock_guard lock(s.mu);
  *s.out << line << std::flush;
}

}  // namespace calprobe::core
