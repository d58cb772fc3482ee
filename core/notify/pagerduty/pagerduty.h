#pragma once
// PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events/):
// a firing alert is a "trigger", a resolved one a "resolve", both with the
// alert's deterministic dedup_key, so PagerDuty merges the same alert sent
// by several agents or twice after a crash into one incident.

#include <nlohmann/json.hpp>

#include "core/notify/notification.h"
#include "core/notify/receiver_config.h"

namespace calprobe::core::notify::pagerduty {

// Maps a rule severity to PagerDuty's: page/critical -> critical,
// error -> error, warning/warn/ticket -> warning, info -> info, else error.
const char* Severity(const std::string& rule_severity);

// The event body: routing_key, event_action, dedup_key; for triggers also
// payload {summary, source, severity, timestamp, component, group, class,
// custom_details}, links (runbook, dashboard), client and client_url.
nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s);

}  // namespace calprobe::core::notify::pagerduty
