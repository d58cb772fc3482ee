#include "core/notify/receiver_config.h"

#include <map>
#include <regex>
#include <set>

#include "core/secrets.h"

namespace calprobe::core::notify {
namespace {

bool ValidReceiverName(const std::string& s) {
  static const std::regex kName(R"(^[A-Za-z0-9_.-]{1,128}$)");
  return std::regex_match(s, kName);
}

bool ParseType(const std::string& s, ReceiverType* t) {
  static const std::map<std::string, ReceiverType> kTypes = {
      {"pagerduty", ReceiverType::kPagerDuty},
      {"slack", ReceiverType::kSlack},
      {"alertmanager", ReceiverType::kAlertmanager},
      {"webhook", ReceiverType::kWebhook}};
  auto it = kTypes.find(s);
  if (it == kTypes.end()) return false;
  *t = it->second;
  return true;
}

// Only loopback-free checks here: scheme and host present. Where the agent
// may send is the operator's decision.
bool ValidHttpUrl(const std::string& u) {
  static const std::regex kUrl(R"(^https?://[^/\s?#]+(/[^\s]*)?$)");
  return std::regex_match(u, kUrl);
}

// Reads a secret that must come from ${ENV} or ${file:…}: a literal in the
// file would end up in version control. Registers the value as secret.
std::string ReadSecret(const ConfigNode& r, std::string_view key, const std::string& example) {
  ConfigNode c = r[key];
  if (!c.defined()) return "";
  if (c.IsScalar() && c.raw().Scalar().find("${") == std::string::npos) {
    c.Error("must come from the environment or a file, e.g. " + example +
            " (a literal secret in the config would be committed with it)");
    return "";
  }
  std::string v = c.AsString().value_or("");
  if (v.empty() && c.IsScalar()) c.Error("is empty (check the variable or file it names)");
  Secrets::Register(v);
  return v;
}

}  // namespace

const char* ReceiverTypeName(ReceiverType t) {
  switch (t) {
    case ReceiverType::kPagerDuty:
      return "pagerduty";
    case ReceiverType::kSlack:
      return "slack";
    case ReceiverType::kAlertmanager:
      return "alertmanager";
    case ReceiverType::kWebhook:
      return "webhook";
  }
  return "?";
}

std::vector<ReceiverConfig> ReadReceivers(const ConfigNode& list) {
  std::vector<ReceiverConfig> out;
  if (!list.defined()) return out;
  if (!list.IsSequence()) {
    list.Error("expected a list of receivers (each starting with \"- name: …\")");
    return out;
  }
  std::map<std::string, std::string> seen;  // name -> path of first definition
  for (size_t i = 0; i < list.size(); ++i) {
    ConfigNode r = list.At(i);
    if (!r.ExpectMap()) {
      if (!r.defined()) r.Error("empty receiver");
      continue;
    }
    size_t before = r.errors()->size();
    ReceiverConfig rc;
    rc.name = r.RequiredString("name");
    if (!rc.name.empty() && !ValidReceiverName(rc.name)) {
      r["name"].Error("receiver names use letters, digits and _-. (max 128), got \"" + rc.name +
                      "\"");
    }
    if (!rc.name.empty()) {
      auto [it, inserted] = seen.emplace(rc.name, r.path());
      if (!inserted)
        r["name"].Error("duplicate receiver name \"" + rc.name + "\" (first in " + it->second +
                        ")");
    }
    std::string type = r.RequiredString("type");
    if (!type.empty() && !ParseType(type, &rc.type)) {
      r["type"].Error("unknown receiver type \"" + type +
                      "\" (one of pagerduty, slack, alertmanager, webhook)");
      r.RejectUnknownKeys();
      continue;
    }
    rc.dashboard_url = r.String("dashboard_url");
    if (!rc.dashboard_url.empty() && !ValidHttpUrl(rc.dashboard_url)) {
      r["dashboard_url"].Error("expected an http:// or https:// URL");
    }
    rc.send_resolved = r.Bool("send_resolved", true);
    rc.timeout = r.Duration("timeout", rc.timeout);
    if (rc.timeout < std::chrono::milliseconds(100) || rc.timeout > std::chrono::minutes(5)) {
      r["timeout"].Error("must be between 100ms and 5m");
    }
    rc.all_alerts = r.Bool("all_alerts", rc.type == ReceiverType::kAlertmanager);

    switch (rc.type) {
      case ReceiverType::kPagerDuty:
        rc.urls = {r.String("url", std::string(kPagerDutyEventsUrl))};
        rc.routing_key = ReadSecret(r, "routing_key", "${PAGERDUTY_ROUTING_KEY}");
        if (!r.Has("routing_key"))
          r.Error("missing required key \"routing_key\" (the Events API v2 integration key)");
        break;
      case ReceiverType::kSlack:
        if (!r.Has("url")) {
          r.Error(
              "missing required key \"url\" (the incoming webhook URL, e.g. ${SLACK_WEBHOOK_URL})");
        } else {
          rc.urls = {ReadSecret(r, "url", "${SLACK_WEBHOOK_URL}")};
        }
        rc.channel = r.String("channel", std::string(kDefaultSlackChannel));
        if (rc.channel.empty() ||
            (rc.channel[0] != '#' && rc.channel[0] != '@' && rc.channel[0] != 'C')) {
          r["channel"].Error("expected a channel such as #calendars-observability");
        }
        rc.username = r.String("username", "calprobe");
        break;
      case ReceiverType::kAlertmanager: {
        if (r.Has("url") && r.Has("urls")) r["urls"].Error("use url or urls, not both");
        rc.urls = r.StringList(r.Has("urls") ? "urls" : "url");
        if (rc.urls.empty())
          r.Error("missing required key \"urls\" (Alertmanager base URLs, one per replica)");
        rc.resend_interval = r.Duration("resend_interval", rc.resend_interval);
        if (rc.resend_interval < std::chrono::seconds(1))
          r["resend_interval"].Error("must be at least 1s");
        rc.bearer_token = ReadSecret(r, "bearer_token", "${ALERTMANAGER_TOKEN}");
        break;
      }
      case ReceiverType::kWebhook:
        rc.urls = {r.RequiredString("url")};
        rc.bearer_token = ReadSecret(r, "bearer_token", "${WEBHOOK_TOKEN}");
        rc.signing_secret = ReadSecret(r, "signing_secret", "${file:/run/secrets/webhook-secret}");
        break;
    }
    std::set<std::string> unique_urls;
    for (size_t u = 0; u < rc.urls.size(); ++u) {
      const std::string& url = rc.urls[u];
      if (url.empty()) continue;  // already reported
      ConfigNode at =
          r.Has("urls") ? (r["urls"].IsSequence() ? r["urls"].At(u) : r["urls"]) : r["url"];
      if (!ValidHttpUrl(url)) {
        // Never echo a Slack webhook URL: it is the secret.
        at.Error(rc.type == ReceiverType::kSlack
                     ? std::string("expected an http:// or https:// URL")
                     : "expected an http:// or https:// URL, got \"" + RedactUrl(url) + "\"");
      } else if (!unique_urls.insert(url).second) {
        at.Error("duplicate URL \"" + RedactUrl(url) + "\"");
      }
    }
    r.RejectUnknownKeys();
    if (r.errors()->size() != before) continue;
    out.push_back(std::move(rc));
  }
  return out;
}

NotifySettings ReadNotifySettings(const ConfigNode& n) {
  NotifySettings s;
  if (!n.ExpectMap()) return s;
  s.external_url = n.String("external_url");
  s.dashboard_url = n.String("dashboard_url");
  s.runbook_base_url = n.String("runbook_base_url");
  for (const char* key : {"external_url", "dashboard_url", "runbook_base_url"}) {
    std::string v = n.String(key);
    if (!v.empty() && !ValidHttpUrl(v)) n[key].Error("expected an http:// or https:// URL");
  }
  ConfigNode retry = n["retry"];
  if (retry.ExpectMap()) {
    s.initial_backoff = retry.Duration("initial_backoff", s.initial_backoff);
    s.max_backoff = retry.Duration("max_backoff", s.max_backoff);
    s.give_up_after = retry.Duration("give_up_after", s.give_up_after);
    if (s.initial_backoff < std::chrono::milliseconds(10)) {
      retry["initial_backoff"].Error("must be at least 10ms");
    }
    if (s.max_backoff < s.initial_backoff) {
      retry["max_backoff"].Error("must not be shorter than initial_backoff (" +
                                 FormatDuration(s.initial_backoff) + ")");
    }
    if (s.give_up_after < std::chrono::minutes(1))
      retry["give_up_after"].Error("must be at least 1m");
    retry.RejectUnknownKeys();
  }
  s.max_pending = n.Int("max_pending", s.max_pending, 10, 10'000'000);
  n.RejectUnknownKeys();
  return s;
}

}  // namespace calprobe::core::notify
