#pragma once
// Notification: one alert state change as every notifier sees it (firing or
// resolved), independent of the receiver. Built from a rules::AlertTransition
// plus its Rule; persisted as JSON in the outbox so a delivery survives a
// restart and is rebuilt into a request only when it is sent (secrets such
// as routing keys are never stored).

#include <map>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/notify/receiver_config.h"
#include "core/status.h"

namespace calprobe::core::notify {

using LabelMap = std::map<std::string, std::string>;

struct Notification {
  std::string rule;
  LabelMap labels;  // the rule's group_by labels (never the agent's region unless grouped by it)
  bool firing = true;
  double value = 0;  // NaN when none
  std::string severity;
  LabelMap annotations;  // rendered
  std::string runbook;   // as in the rule (path or URL)
  TimePoint starts_at;   // when the alert started firing
  TimePoint ends_at;     // resolved only: when it resolved
  std::string agent_region;
  std::string dedup_key;  // DedupKey(rule, labels)
};

// Deterministic key of an alert: the same rule and group labels give the same
// key on every agent and restart, so PagerDuty (and our outbox) merge
// duplicates. Readable ("calprobe/HoldExpirySpike/region=us-east") up to 200
// bytes; longer keys end in a hash of the full text instead.
std::string DedupKey(const std::string& rule, const LabelMap& labels);

// Alertmanager-style identity labels: alertname, severity, group labels.
LabelMap AlertLabels(const Notification& n);
// A 16-hex-digit fingerprint of AlertLabels (stable, like Alertmanager's).
std::string Fingerprint(const Notification& n);

// "summary" annotation, else "<rule> <labels> value=<v>".
std::string Summary(const Notification& n);
// The runbook as a URL: absolute runbooks as is; relative paths joined to
// settings.runbook_base_url; empty when no URL can be made.
std::string RunbookUrl(const Notification& n, const NotifySettings& settings);
// Formats a value for people: integers without decimals, others with up to 4
// significant decimals; "n/a" for NaN.
std::string FormatValue(double v);

std::string ToJson(const Notification& n);
Result<Notification> NotificationFromJson(const std::string& text);

}  // namespace calprobe::core::notify
