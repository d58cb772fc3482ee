#pragma once
// Generic webhook in Alertmanager's webhook JSON shape (version "4"), so
// any receiver written for Alertmanager webhooks accepts calprobe's too:
// {version, groupKey, truncatedAlerts, status, receiver, groupLabels,
//  commonLabels, commonAnnotations, externalURL, alerts: [{status, labels,
//  annotations, startsAt, endsAt, generatorURL, fingerprint}]}.
// One message per notification; groupKey is the dedup key. With a
// signing_secret the body's HMAC-SHA256 is sent as
// X-Calprobe-Signature: sha256=<hex>; Idempotency-Key is <dedup key>/<state>/<startsAt ms>.

#include <nlohmann/json.hpp>
#include <string>

#include "core/notify/notification.h"
#include "core/notify/receiver_config.h"

namespace calprobe::core::notify::webhook {

nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s);
// "sha256=" + lower-case hex HMAC-SHA256(secret, body).
std::string Signature(const std::string& secret, const std::string& body);

}  // namespace calprobe::core::notify::webhook
