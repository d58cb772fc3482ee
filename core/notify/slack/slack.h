#pragma once
// Slack incoming webhook messages (https://api.slack.com/messaging/webhooks):
// one message per firing and per resolved alert, with the summary, labels,
// value, since-when, the rule's action text, and links to the runbook and
// the dashboard. Slack cannot deduplicate: a crash between Slack's answer
// and the outbox recording it repeats one message (docs/notifications.md).

#include <nlohmann/json.hpp>

#include "core/notify/notification.h"
#include "core/notify/receiver_config.h"

namespace calprobe::core::notify::slack {

// Escapes &, < and > for Slack mrkdwn.
std::string Escape(const std::string& text);

// {channel, username, text, blocks}: `text` is the notification line
// (":red_circle: FIRING: summary"), blocks the readable message.
nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s);

}  // namespace calprobe::core::notify::slack
