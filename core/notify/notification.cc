#include "core/notify/notification.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "core/hash.h"

namespace calprobe::core::notify {
namespace {

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

std::string DedupKey(const std::string& rule, const LabelMap& labels) {
  std::string key = "calprobe/" + rule;
  for (const auto& [k, v] : labels) key += "/" + k + "=" + v;
  if (key.size() <= 200) return key;
  return "calprobe/" + rule.substr(0, 100) + "/" + Hex64(StableHash64(key));
}

LabelMap AlertLabels(const Notification& n) {
  LabelMap l = n.labels;
  l["alertname"] = n.rule;
  if (!n.severity.empty()) l["severity"] = n.severity;
  return l;
}

std::string Fingerprint(const Notification& n) {
  std::string text;
  for (const auto& [k, v] : AlertLabels(n)) text += k + '\xff' + v + '\xff';
  return Hex64(StableHash64(text));
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "n/a";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

std::string Summary(const Notification& n) {
  auto it = n.annotations.find("summary");
  if (it != n.annotations.end() && !it->second.empty()) return it->second;
  std::string s = n.rule;
  if (!n.labels.empty()) {
    s += "{";
    bool first = true;
    for (const auto& [k, v] : n.labels) {
      s += (first ? "" : ",") + k + "=\"" + v + "\"";
      first = false;
    }
    s += "}";
  }
  return s + " value=" + FormatValue(n.value);
}

std::string RunbookUrl(const Notification& n, const NotifySettings& settings) {
  if (n.runbook.empty()) return "";
  if (n.runbook.rfind("http://", 0) == 0 || n.runbook.rfind("https://", 0) == 0) return n.runbook;
  if (settings.runbook_base_url.empty()) return "";
  std::string base = settings.runbook_base_url;
  std::string path = n.runbook;
  if (!base.empty() && base.back() == '/') base.pop_back();
  if (!path.empty() && path.front() == '/') path.erase(0, 1);
  return base + "/" + path;
}

std::string ToJson(const Notification& n) {
  nlohmann::json j = {{"rule", n.rule},
                      {"labels", n.labels},
                      {"state", n.firing ? "firing" : "resolved"},
                      {"severity", n.severity},
                      {"annotations", n.annotations},
                      {"runbook", n.runbook},
                      {"starts_at_ms", Ms(n.starts_at)},
                      {"ends_at_ms", Ms(n.ends_at)},
                      {"agent_region", n.agent_region},
                      {"dedup_key", n.dedup_key}};
  if (std::isfinite(n.value)) j["value"] = n.value;  // JSON has no NaN
  return j.dump();
}

Result<Notification> NotificationFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return Status::Error("stored notification is not a JSON object");
  try {
    Notification n;
    n.rule = j.at("rule").get<std::string>();
    n.labels = j.at("labels").get<LabelMap>();
    n.firing = j.at("state").get<std::string>() == "firing";
    n.value =
        j.contains("value") ? j["value"].get<double>() : std::numeric_limits<double>::quiet_NaN();
    n.severity = j.value("severity", "");
    n.annotations = j.value("annotations", LabelMap{});
    n.runbook = j.value("runbook", "");
    n.starts_at = TimePoint(std::chrono::milliseconds(j.value("starts_at_ms", int64_t{0})));
    n.ends_at = TimePoint(std::chrono::milliseconds(j.value("ends_at_ms", int64_t{0})));
    n.agent_region = j.value("agent_region", "");
    n.dedup_key = j.value("dedup_key", DedupKey(n.rule, n.labels));
    return n;
  } catch (const nlohmann::json::exception& e) {
    return Status::Error(std::string("stored notification: ") + e.what());
  }
}

}  // namespace calprobe::core::notify
