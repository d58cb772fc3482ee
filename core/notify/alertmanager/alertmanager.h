#pragma once
// Alertmanager API v2 (POST <url>/api/v2/alerts): a JSON array of
// {labels, annotations, startsAt, endsAt, generatorURL}. Identity in
// Alertmanager is the label set (alertname, severity, the rule's group_by
// labels); the agent's region is an annotation unless the rule groups by
// region, so one global alert sent by agents in several regions is ONE
// alert there. Firing alerts are re-sent every resend_interval with endsAt =
// now + 4 × resend_interval (Prometheus does the same), so Alertmanager
// resolves them by itself if every agent stops.

#include <nlohmann/json.hpp>
#include <vector>

#include "core/notify/notification.h"
#include "core/notify/receiver_config.h"

namespace calprobe::core::notify::alertmanager {

// One postable alert.
nlohmann::json Alert(const ReceiverConfig& r, const Notification& n, const NotifySettings& s,
                     TimePoint now);
// The request body: an array of alerts.
nlohmann::json Body(const ReceiverConfig& r, const std::vector<Notification>& batch,
                    const NotifySettings& s, TimePoint now);
// <base>/api/v2/alerts (a base already ending in /api/v2/alerts is kept).
std::string AlertsUrl(const std::string& base);

}  // namespace calprobe::core::notify::alertmanager
