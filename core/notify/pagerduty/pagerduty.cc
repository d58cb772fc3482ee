#include "core/notify/pagerduty/pagerduty.h"

#include <cmath>

#include "core/event.h"

namespace calprobe::core::notify::pagerduty {

const char* Severity(const std::string& s) {
  if (s == "page" || s == "critical") return "critical";
  if (s == "error") return "error";
  if (s == "warning" || s == "warn" || s == "ticket") return "warning";
  if (s == "info") return "info";
  return "error";
}

nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s) {
  nlohmann::json body = {{"routing_key", r.routing_key},
                         {"event_action", n.firing ? "trigger" : "resolve"},
                         {"dedup_key", n.dedup_key}};
  if (!n.firing) return body;  // a resolve needs nothing else

  std::string summary = Summary(n);
  if (summary.size() > 1024) summary.resize(1024);  // the API's limit
  nlohmann::json details = {
      {"rule", n.rule},
      {"labels", n.labels},
      {"value", std::isfinite(n.value) ? nlohmann::json(n.value) : nlohmann::json()},
      {"severity", n.severity},
      {"annotations", n.annotations},
      {"agent_region", n.agent_region}};
  if (!n.runbook.empty()) details["runbook"] = n.runbook;
  nlohmann::json payload = {{"summary", summary},
                            {"source", "calprobe/" + n.agent_region},
                            {"severity", Severity(n.severity)},
                            {"timestamp", FormatRfc3339(n.starts_at)},
                            {"component", "calprobe"},
                            {"class", n.rule},
                            {"custom_details", details}};
  // The group of the alert: its first group label value (region, provider, src_id).
  if (!n.labels.empty()) payload["group"] = n.labels.begin()->second;
  body["payload"] = payload;

  nlohmann::json links = nlohmann::json::array();
  if (std::string url = RunbookUrl(n, s); !url.empty()) {
    links.push_back({{"href", url}, {"text", "Runbook: " + n.runbook}});
  }
  std::string dashboard = r.dashboard_url.empty() ? s.dashboard_url : r.dashboard_url;
  if (!dashboard.empty()) links.push_back({{"href", dashboard}, {"text", "calprobe dashboard"}});
  if (!links.empty()) body["links"] = links;
  body["client"] = "calprobe";
  if (!dashboard.empty()) body["client_url"] = dashboard;
  return body;
}

}  // namespace calprobe::core::notify::pagerduty
