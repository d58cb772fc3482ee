// receivers: and notifications: in the agent config: defaults, secrets only
// from the environment or files, and exact error messages with paths.

#include "core/notify/receiver_config.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/secrets.h"

namespace calprobe::core::notify {
namespace {

struct Parsed {
  std::vector<ReceiverConfig> receivers;
  NotifySettings settings;
  std::string errors;
};

Parsed Parse(const std::string& yaml) {
  ConfigErrors errors;
  ConfigNode top(YAML::Load(yaml), std::make_shared<const std::string>("agent.yaml"), "", &errors);
  Parsed p;
  p.receivers = ReadReceivers(top["receivers"]);
  p.settings = ReadNotifySettings(top["notifications"]);
  p.errors = errors.ToString();
  return p;
}

class ReceiverConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("CALPROBE_TEST_PD_KEY", "pd-routing-key-0123456789", 1);
    setenv("CALPROBE_TEST_SLACK_URL", "http://127.0.0.1:8/hooks/T0/B0/XYZsecret", 1);
  }
};

TEST_F(ReceiverConfigTest, ParsesEveryTypeWithDefaults) {
  Parsed p = Parse(R"(
receivers:
  - name: pagerduty-ops
    type: pagerduty
    routing_key: ${CALPROBE_TEST_PD_KEY}
  - name: slack-calendars-observability
    type: slack
    url: ${CALPROBE_TEST_SLACK_URL}
    dashboard_url: http://grafana.example.test/d/cal
  - name: am
    type: alertmanager
    urls: [http://127.0.0.1:9093, http://127.0.0.1:9094]
    resend_interval: 30s
  - name: hook
    type: webhook
    url: http://127.0.0.1:7000/hook
    send_resolved: false
notifications:
  external_url: http://agent.example.test:9464
  retry: {initial_backoff: 2s, max_backoff: 1m, give_up_after: 2h}
)");
  ASSERT_EQ(p.errors, "");
  ASSERT_EQ(p.receivers.size(), 4u);
  const auto& pd = p.receivers[0];
  EXPECT_EQ(pd.type, ReceiverType::kPagerDuty);
  EXPECT_EQ(pd.urls, std::vector<std::string>{"https://events.pagerduty.com/v2/enqueue"});
  EXPECT_EQ(pd.routing_key, "pd-routing-key-0123456789");
  EXPECT_FALSE(pd.all_alerts);
  const auto& slack = p.receivers[1];
  EXPECT_EQ(slack.channel, "#calendars-observability");
  EXPECT_EQ(slack.dashboard_url, "http://grafana.example.test/d/cal");
  const auto& am = p.receivers[2];
  EXPECT_EQ(am.urls.size(), 2u);
  EXPECT_TRUE(am.all_alerts);
  EXPECT_EQ(am.resend_interval, std::chrono::seconds(30));
  EXPECT_FALSE(p.receivers[3].send_resolved);
  EXPECT_EQ(p.settings.initial_backoff, std::chrono::seconds(2));
  EXPECT_EQ(p.settings.max_backoff, std::chrono::minutes(1));
  EXPECT_EQ(p.settings.give_up_after, std::chrono::hours(2));
  // Secrets are redacted wherever text is printed.
  EXPECT_EQ(Secrets::Redact("key pd-routing-key-0123456789"), "key <redacted>");
  EXPECT_EQ(Secrets::Redact("http://127.0.0.1:8/hooks/T0/B0/XYZsecret").find("XYZsecret"),
            std::string::npos);
}

TEST_F(ReceiverConfigTest, SecretsMustComeFromEnvironmentOrFile) {
  Parsed p = Parse(R"(
receivers:
  - name: pd
    type: pagerduty
    routing_key: abcdef0123456789
  - name: s
    type: slack
    url: https://hooks.slack.com/services/T0/B0/literal
)");
  EXPECT_EQ(
      p.errors,
      "agent.yaml:5:18: receivers[0].routing_key: must come from the environment or a file, "
      "e.g. ${PAGERDUTY_ROUTING_KEY} (a literal secret in the config would be committed with it)\n"
      "agent.yaml:8:10: receivers[1].url: must come from the environment or a file, e.g. "
      "${SLACK_WEBHOOK_URL} (a literal secret in the config would be committed with it)\n");
  EXPECT_TRUE(p.receivers.empty());
}

TEST_F(ReceiverConfigTest, ReportsBadTypesUrlsDuplicatesAndUnknownKeys) {
  Parsed p = Parse(R"(
receivers:
  - name: a
    type: opsgenie
  - name: b
    type: alertmanager
  - name: c
    type: webhook
    url: ftp://127.0.0.1/x
    chanel: "#x"
  - name: c
    type: pagerduty
notifications:
  retry: {initial_backoff: 10s, max_backoff: 1s}
)");
  EXPECT_EQ(
      p.errors,
      "agent.yaml:4:11: receivers[0].type: unknown receiver type \"opsgenie\" (one of pagerduty, "
      "slack, alertmanager, webhook)\n"
      "agent.yaml:5:5: receivers[1]: missing required key \"urls\" (Alertmanager base URLs, one "
      "per replica)\n"
      "agent.yaml:9:10: receivers[2].url: expected an http:// or https:// URL, got "
      "\"ftp://127.0.0.1/x\"\n"
      "agent.yaml:10:5: receivers[2].chanel: unknown key \"chanel\" (allowed here: all_alerts, "
      "bearer_token, dashboard_url, name, send_resolved, signing_secret, timeout, type, url)\n"
      "agent.yaml:11:11: receivers[3].name: duplicate receiver name \"c\" (first in receivers[2])\n"
      "agent.yaml:11:5: receivers[3]: missing required key \"routing_key\" (the Events API v2 "
      "integration key)\n"
      "agent.yaml:14:46: notifications.retry.max_backoff: must not be shorter than initial_backoff "
      "(10s)\n");
}

}  // namespace
}  // namespace calprobe::core::notify
