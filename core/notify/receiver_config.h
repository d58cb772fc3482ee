#pragma once
// Notification receivers and delivery settings from the agent config
// (`receivers:` and `notifications:`; schema in docs/notifications.md).
// Parsed and validated while the agent config loads, so `validate-config`
// reports a bad receiver as FILE:LINE:COL: receivers[2].routing_key: ….
// Secrets (PagerDuty routing keys, Slack webhook URLs, webhook bearer tokens
// and signing secrets) must come from ${ENV} or ${file:…}; they are
// registered with Secrets so they are redacted wherever text is printed.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/config_node.h"

namespace calprobe::core::notify {

enum class ReceiverType { kPagerDuty, kSlack, kAlertmanager, kWebhook };
const char* ReceiverTypeName(ReceiverType t);

inline constexpr std::string_view kDefaultSlackChannel = "#calendars-observability";
inline constexpr std::string_view kPagerDutyEventsUrl = "https://events.pagerduty.com/v2/enqueue";

struct ReceiverConfig {
  std::string name;
  ReceiverType type = ReceiverType::kWebhook;
  // Destinations. PagerDuty, Slack and webhook have one; Alertmanager one per
  // replica (base URLs; alerts are POSTed to <url>/api/v2/alerts).
  std::vector<std::string> urls;
  std::string routing_key;     // pagerduty (secret)
  std::string channel;         // slack
  std::string username;        // slack
  std::string bearer_token;    // alertmanager, webhook (secret): Authorization: Bearer
  std::string signing_secret;  // webhook (secret): HMAC-SHA256 of the body in a header
  std::string dashboard_url;   // linked from every message (empty: notifications.dashboard_url)
  bool send_resolved = true;
  // Receives every alert, not only rules naming it (default: alertmanager).
  bool all_alerts = false;
  std::chrono::milliseconds resend_interval{std::chrono::seconds(60)};  // alertmanager
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
};

struct NotifySettings {
  std::string external_url;      // this agent's URL (generatorURL); default http://<agent.listen>
  std::string dashboard_url;     // default dashboard link; default external_url
  std::string runbook_base_url;  // prefix for relative rule runbook paths
  std::chrono::milliseconds initial_backoff{std::chrono::seconds(1)};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(5)};
  std::chrono::milliseconds give_up_after{std::chrono::hours(24)};
  int64_t max_pending = 10000;  // outbox rows waiting; beyond, new ones are dead-lettered
};

// Reads the `receivers:` list. Errors are recorded in `list`'s ConfigErrors.
std::vector<ReceiverConfig> ReadReceivers(const ConfigNode& list);
// Reads the `notifications:` map.
NotifySettings ReadNotifySettings(const ConfigNode& node);

}  // namespace calprobe::core::notify
