// Payload builders (PagerDuty, Slack, Alertmanager, webhook) and response
// classification: shapes checked field by field against the receivers'
// documented APIs.

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "core/notify/alertmanager/alertmanager.h"
#include "core/notify/notifier.h"
#include "core/notify/pagerduty/pagerduty.h"
#include "core/notify/slack/slack.h"
#include "core/notify/webhook/webhook.h"

namespace calprobe::core::notify {
namespace {

using nlohmann::json;

TimePoint At(const char* s) { return *ParseRfc3339(s); }

Notification Firing() {
  Notification n;
  n.rule = "HoldExpirySpike";
  n.labels = {{"region", "us-east"}};
  n.firing = true;
  n.value = 0.3125;
  n.severity = "page";
  n.annotations = {{"summary", "Hold expiry ratio 0.3125 > 0.2 over 15m in us-east"},
                   {"action", "Investigate overlapping holds"}};
  n.runbook = "ops/runbooks/booking-hold-degradation.md";
  n.starts_at = At("2027-03-15T09:15:00Z");
  n.agent_region = "us-east";
  n.dedup_key = DedupKey(n.rule, n.labels);
  return n;
}

NotifySettings Settings() {
  NotifySettings s;
  s.external_url = "http://127.0.0.1:9464";
  s.dashboard_url = "http://dash.example.test/d/cal";
  s.runbook_base_url = "https://git.example.test/calprobe/blob/main/";
  return s;
}

ReceiverConfig Receiver(ReceiverType t) {
  ReceiverConfig r;
  r.name = "r1";
  r.type = t;
  r.urls = {"http://127.0.0.1:1/x"};
  r.routing_key = "R0UTINGKEY0123456789012345678901";
  r.channel = std::string(kDefaultSlackChannel);
  r.username = "calprobe";
  return r;
}

TEST(NotifyDedupKey, DeterministicFromRuleAndGroupLabels) {
  EXPECT_EQ(DedupKey("HoldExpirySpike", {{"region", "us-east"}}),
            "calprobe/HoldExpirySpike/region=us-east");
  EXPECT_EQ(DedupKey("R", {{"b", "2"}, {"a", "1"}}), DedupKey("R", {{"a", "1"}, {"b", "2"}}));
  EXPECT_NE(DedupKey("R", {{"region", "eu"}}), DedupKey("R", {{"region", "us"}}));
  EXPECT_NE(DedupKey("R1", {}), DedupKey("R2", {}));
  std::string long_value(300, 'x');
  std::string k = DedupKey("SyncStaleness", {{"src_id", long_value}});
  EXPECT_LE(k.size(), 255u);  // PagerDuty's limit
  EXPECT_EQ(k, DedupKey("SyncStaleness", {{"src_id", long_value}}));
  EXPECT_NE(k, DedupKey("SyncStaleness", {{"src_id", long_value + "y"}}));
}

TEST(NotifyPagerDuty, TriggerHasEventsApiV2Shape) {
  json b = pagerduty::Body(Receiver(ReceiverType::kPagerDuty), Firing(), Settings());
  EXPECT_EQ(b["routing_key"], "R0UTINGKEY0123456789012345678901");
  EXPECT_EQ(b["event_action"], "trigger");
  EXPECT_EQ(b["dedup_key"], "calprobe/HoldExpirySpike/region=us-east");
  const json& p = b["payload"];
  EXPECT_EQ(p["summary"], "Hold expiry ratio 0.3125 > 0.2 over 15m in us-east");
  EXPECT_EQ(p["source"], "calprobe/us-east");
  EXPECT_EQ(p["severity"], "critical");
  EXPECT_EQ(p["timestamp"], "2027-03-15T09:15:00.000Z");
  EXPECT_EQ(p["class"], "HoldExpirySpike");
  EXPECT_EQ(p["group"], "us-east");
  EXPECT_EQ(p["custom_details"]["labels"]["region"], "us-east");
  EXPECT_DOUBLE_EQ(p["custom_details"]["value"].get<double>(), 0.3125);
  EXPECT_EQ(p["custom_details"]["runbook"], "ops/runbooks/booking-hold-degradation.md");
  ASSERT_EQ(b["links"].size(), 2u);
  EXPECT_EQ(b["links"][0]["href"],
            "https://git.example.test/calprobe/blob/main/ops/runbooks/booking-hold-degradation.md");
  EXPECT_EQ(b["links"][1]["href"], "http://dash.example.test/d/cal");
  EXPECT_EQ(b["client"], "calprobe");
}

TEST(NotifyPagerDuty, ResolveCarriesOnlyKeyAndAction) {
  Notification n = Firing();
  n.firing = false;
  json b = pagerduty::Body(Receiver(ReceiverType::kPagerDuty), n, Settings());
  EXPECT_EQ(b, json({{"routing_key", "R0UTINGKEY0123456789012345678901"},
                     {"event_action", "resolve"},
                     {"dedup_key", "calprobe/HoldExpirySpike/region=us-east"}}));
}

TEST(NotifyPagerDuty, SeverityMapping) {
  EXPECT_STREQ(pagerduty::Severity("page"), "critical");
  EXPECT_STREQ(pagerduty::Severity("critical"), "critical");
  EXPECT_STREQ(pagerduty::Severity("warning"), "warning");
  EXPECT_STREQ(pagerduty::Severity("info"), "info");
  EXPECT_STREQ(pagerduty::Severity("error"), "error");
  EXPECT_STREQ(pagerduty::Severity("weird"), "error");
}

TEST(NotifyPagerDuty, SummaryCappedAt1024AndNoRunbookUrlWithoutBase) {
  Notification n = Firing();
  n.annotations["summary"] = std::string(2000, 's');
  NotifySettings s = Settings();
  s.runbook_base_url.clear();
  s.dashboard_url.clear();
  json b = pagerduty::Body(Receiver(ReceiverType::kPagerDuty), n, s);
  EXPECT_EQ(b["payload"]["summary"].get<std::string>().size(), 1024u);
  EXPECT_FALSE(b.contains("links"));  // a relative path is no href
}

TEST(NotifySlack, FiringMessageIsReadable) {
  json b = slack::Body(Receiver(ReceiverType::kSlack), Firing(), Settings());
  EXPECT_EQ(b["channel"], "#calendars-observability");
  EXPECT_EQ(b["username"], "calprobe");
  EXPECT_EQ(b["text"],
            ":red_circle: FIRING: Hold expiry ratio 0.3125 &gt; 0.2 over 15m in us-east");
  std::string all = b["blocks"].dump();
  EXPECT_NE(all.find("*FIRING* HoldExpirySpike (page)"), std::string::npos) << all;
  EXPECT_NE(all.find("`region=us-east`"), std::string::npos);
  EXPECT_NE(all.find("*Value*\\n0.3125"), std::string::npos);
  EXPECT_NE(all.find("*Firing since*\\n2027-03-15T09:15:00.000Z"), std::string::npos);
  EXPECT_NE(all.find("Investigate overlapping holds"), std::string::npos);
  EXPECT_NE(all.find("<https://git.example.test/calprobe/blob/main/ops/runbooks/"
                     "booking-hold-degradation.md|Runbook>"),
            std::string::npos);
  EXPECT_NE(all.find("<http://dash.example.test/d/cal|Dashboard>"), std::string::npos);
}

TEST(NotifySlack, ResolvedMessageAndEscaping) {
  Notification n = Firing();
  n.firing = false;
  n.ends_at = At("2027-03-15T09:45:00Z");
  n.labels = {{"provider", "<p&1>"}};
  ReceiverConfig r = Receiver(ReceiverType::kSlack);
  r.channel = "#ops";
  json b = slack::Body(r, n, Settings());
  EXPECT_EQ(b["channel"], "#ops");
  EXPECT_EQ(b["text"].get<std::string>().rfind(":large_green_circle: RESOLVED: ", 0), 0u);
  std::string all = b["blocks"].dump();
  EXPECT_NE(all.find("*Resolved at*\\n2027-03-15T09:45:00.000Z"), std::string::npos);
  EXPECT_NE(all.find("provider=&lt;p&amp;1&gt;"), std::string::npos);
  EXPECT_EQ(all.find("*Action*"), std::string::npos);  // only while firing
}

TEST(NotifyAlertmanager, PostableAlertWithoutAgentRegionLabel) {
  Notification n = Firing();
  n.rule = "DashboardSilence";
  n.labels = {};  // no group_by: a global alert
  n.agent_region = "eu-west";
  ReceiverConfig r = Receiver(ReceiverType::kAlertmanager);
  r.resend_interval = std::chrono::seconds(60);
  TimePoint now = At("2027-03-15T10:00:00Z");
  json a = alertmanager::Body(r, {n}, Settings(), now);
  ASSERT_TRUE(a.is_array());
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0]["labels"], json({{"alertname", "DashboardSilence"}, {"severity", "page"}}));
  EXPECT_EQ(a[0]["annotations"]["agent_region"], "eu-west");
  EXPECT_EQ(a[0]["annotations"]["value"], "0.3125");
  EXPECT_EQ(a[0]["annotations"]["summary"], "Hold expiry ratio 0.3125 > 0.2 over 15m in us-east");
  EXPECT_EQ(a[0]["startsAt"], "2027-03-15T09:15:00.000Z");
  EXPECT_EQ(a[0]["endsAt"], "2027-03-15T10:04:00.000Z");  // now + 4 x resend_interval
  EXPECT_EQ(a[0]["generatorURL"], "http://127.0.0.1:9464/api/v1/alerts");
  n.firing = false;
  n.ends_at = At("2027-03-15T09:59:00Z");
  EXPECT_EQ(alertmanager::Alert(r, n, Settings(), now)["endsAt"], "2027-03-15T09:59:00.000Z");
}

TEST(NotifyAlertmanager, UrlAndBatchRequest) {
  EXPECT_EQ(alertmanager::AlertsUrl("http://127.0.0.1:9093"),
            "http://127.0.0.1:9093/api/v2/alerts");
  EXPECT_EQ(alertmanager::AlertsUrl("http://127.0.0.1:9093/"),
            "http://127.0.0.1:9093/api/v2/alerts");
  EXPECT_EQ(alertmanager::AlertsUrl("http://am/api/v2/alerts"), "http://am/api/v2/alerts");
  ReceiverConfig r = Receiver(ReceiverType::kAlertmanager);
  r.urls = {"http://127.0.0.1:9093", "http://127.0.0.1:9094"};
  Notification a = Firing(), b = Firing();
  b.labels["region"] = "eu-west";
  HttpRequest req = BuildRequest(r, 1, {a, b}, Settings(), At("2027-03-15T10:00:00Z"));
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.url, "http://127.0.0.1:9094/api/v2/alerts");
  EXPECT_EQ(json::parse(req.body).size(), 2u);
}

TEST(NotifyWebhook, AlertmanagerWebhookShapeAndSignature) {
  ReceiverConfig r = Receiver(ReceiverType::kWebhook);
  r.signing_secret = "s3cret-value";
  Notification n = Firing();
  HttpRequest req = BuildRequest(r, 0, {n}, Settings(), At("2027-03-15T10:00:00Z"));
  json b = json::parse(req.body);
  EXPECT_EQ(b["version"], "4");
  EXPECT_EQ(b["status"], "firing");
  EXPECT_EQ(b["receiver"], "r1");
  EXPECT_EQ(b["groupKey"], "calprobe/HoldExpirySpike/region=us-east");
  EXPECT_EQ(b["groupLabels"], json({{"region", "us-east"}}));
  EXPECT_EQ(b["commonLabels"]["alertname"], "HoldExpirySpike");
  EXPECT_EQ(b["truncatedAlerts"], 0);
  ASSERT_EQ(b["alerts"].size(), 1u);
  EXPECT_EQ(b["alerts"][0]["status"], "firing");
  EXPECT_EQ(b["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(b["alerts"][0]["fingerprint"].get<std::string>().size(), 16u);
  std::string sig, idem;
  for (const auto& [k, v] : req.headers) {
    if (k == "X-Calprobe-Signature") sig = v;
    if (k == "Idempotency-Key") idem = v;
  }
  EXPECT_EQ(sig, webhook::Signature("s3cret-value", req.body));
  EXPECT_EQ(idem, "calprobe/HoldExpirySpike/region=us-east/firing/1805102100000");
  // RFC 4231 test case 2.
  EXPECT_EQ(webhook::Signature("Jefe", "what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(NotifyClassify, StatusesAndRetryAfter) {
  TimePoint now = At("2015-10-21T07:27:00Z");
  HttpResponse r;
  r.status = 202;
  EXPECT_EQ(Classify(r, now).kind, Verdict::kDelivered);
  r.status = 429;
  r.headers = {{"retry-after", "7"}};
  Verdict v = Classify(r, now);
  EXPECT_EQ(v.kind, Verdict::kRetry);
  ASSERT_TRUE(v.retry_after);
  EXPECT_EQ(*v.retry_after, std::chrono::seconds(7));
  r.headers = {{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}};
  EXPECT_EQ(*Classify(r, now).retry_after, std::chrono::seconds(60));
  r.status = 500;
  r.headers.clear();
  EXPECT_EQ(Classify(r, now).kind, Verdict::kRetry);
  r.status = 400;
  r.body = "invalid_payload";
  v = Classify(r, now);
  EXPECT_EQ(v.kind, Verdict::kPermanent);
  EXPECT_EQ(v.reason, "http 400: invalid_payload");
  r.status = 404;
  EXPECT_EQ(Classify(r, now).kind, Verdict::kPermanent);
  r.status = 408;
  EXPECT_EQ(Classify(r, now).kind, Verdict::kRetry);
  HttpResponse t;
  t.error = TransportError::kConnectionRefused;
  t.error_message = "refused";
  v = Classify(t, now);
  EXPECT_EQ(v.kind, Verdict::kRetry);
  EXPECT_EQ(v.reason, "http.connection_refused: refused");
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_FALSE(ParseRetryAfter("-3", now));
}

TEST(NotifyNotification, JsonRoundTripKeepsNaN) {
  Notification n = Firing();
  n.value = std::nan("");
  auto back = NotificationFromJson(ToJson(n));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(std::isnan(back->value));
  EXPECT_EQ(back->labels, n.labels);
  EXPECT_EQ(back->annotations, n.annotations);
  EXPECT_EQ(back->starts_at, n.starts_at);
  EXPECT_EQ(back->dedup_key, n.dedup_key);
  EXPECT_EQ(FormatValue(std::nan("")), "n/a");
  EXPECT_EQ(FormatValue(2710), "2710");
  EXPECT_FALSE(NotificationFromJson("[1]").ok());
}

}  // namespace
}  // namespace calprobe::core::notify
