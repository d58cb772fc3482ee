// The dispatcher: routing of alert transitions to receivers through the
// outbox, no duplicate firing/resolve per dedup key (also across restarts),
// reconciliation with the engine's firing alerts, Alertmanager re-sends,
// silences and dead letters in the API JSON.

#include "core/notify/dispatcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/event.h"
#include "fakes/fake_http_client.h"

namespace calprobe::core::notify {
namespace {

using nlohmann::json;
using rules::AlertState;
using rules::AlertTransition;
using std::chrono::seconds;
using testing::FakeHttpClient;

rules::Rule MakeRule(const std::string& name, std::vector<std::string> receivers) {
  rules::Rule r;
  r.name = name;
  r.severity = "page";
  r.receivers = std::move(receivers);
  r.runbook = "ops/runbooks/x.md";
  r.annotations = {{"summary", "{{ $labels.region }} is at {{ $value }}"}};
  return r;
}

ReceiverConfig Recv(const std::string& name, ReceiverType t, std::vector<std::string> urls) {
  ReceiverConfig r;
  r.name = name;
  r.type = t;
  r.urls = std::move(urls);
  r.routing_key = "ROUTING-KEY-abcdef";
  r.channel = "#calendars-observability";
  r.all_alerts = t == ReceiverType::kAlertmanager;
  return r;
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            (std::string("calprobe-dispatch-") +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    std::filesystem::remove(path_);
    receivers_ = {
        Recv("pd", ReceiverType::kPagerDuty, {"http://127.0.0.1:1/pd"}),
        Recv("slack", ReceiverType::kSlack, {"http://127.0.0.1:1/slack"}),
        Recv("am", ReceiverType::kAlertmanager, {"http://127.0.0.1:2", "http://127.0.0.1:3"})};
    rules_ = {MakeRule("Global", {"pd", "slack"}), MakeRule("PerRegion", {"slack", "missing"})};
    http_.SetHandler([](const HttpRequest&) { return FakeHttpClient::Ok("ok"); });
    Open();
  }
  void TearDown() override {
    d_.reset();
    store_.reset();
    std::filesystem::remove(path_);
  }
  void Open() {
    d_.reset();
    store_.reset();
    auto s = Store::Open(path_.string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
    DispatcherDeps deps;
    deps.store = store_.get();
    deps.http = &http_;
    deps.clock = &clock_;
    deps.metrics = &metrics_;
    deps.region = "eu-west";
    deps.jitter_seed = 7;
    deps.after = [this](Duration, std::function<void()> fn) { timers_.push_back(std::move(fn)); };
    NotifySettings settings;
    settings.external_url = "http://127.0.0.1:9464";
    auto d = Dispatcher::Create(deps, receivers_, settings);
    ASSERT_TRUE(d.ok()) << d.error();
    d_ = std::move(d.value());
  }
  AlertTransition T(const std::string& rule, rules::LabelMap labels, AlertState from, AlertState to,
                    double value = 1) {
    AlertTransition t;
    t.rule = rule;
    t.labels = std::move(labels);
    t.from = from;
    t.to = to;
    t.value = value;
    t.at = clock_.Now();
    t.severity = "page";
    t.annotations = {{"summary", "s"}};
    return t;
  }
  // "url state" per request, e.g. "http://127.0.0.1:1/pd trigger".
  std::vector<std::string> Sent() {
    std::vector<std::string> out;
    for (const auto& r : http_.requests()) {
      json b = json::parse(r.body);
      std::string what;
      if (b.is_array()) {
        what = std::to_string(b.size()) + " alert(s)";
      } else if (b.contains("event_action")) {
        what = b["event_action"].get<std::string>() + " " + b["dedup_key"].get<std::string>();
      } else {
        what = b["text"].get<std::string>().substr(0, 30);
      }
      out.push_back(r.url + " " + what);
    }
    http_.ClearRequests();
    return out;
  }

  std::filesystem::path path_;
  std::unique_ptr<Store> store_;
  FakeHttpClient http_;
  ManualClock clock_{*ParseRfc3339("2027-03-17T15:00:00Z")};
  MetricsRegistry metrics_;
  std::vector<ReceiverConfig> receivers_;
  std::vector<rules::Rule> rules_;
  std::unique_ptr<Dispatcher> d_;
  std::vector<std::function<void()>> timers_;  // deps.after, run by the test
};

TEST_F(DispatcherTest, RoutesFiringAndResolveToRuleReceiversAndAlertmanager) {
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_EQ(Sent(), (std::vector<std::string>{
                        "http://127.0.0.1:1/pd trigger calprobe/Global",
                        "http://127.0.0.1:1/slack :red_circle: FIRING: s",
                        "http://127.0.0.1:2/api/v2/alerts 1 alert(s)",
                        "http://127.0.0.1:3/api/v2/alerts 1 alert(s)",
                    }));
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  EXPECT_EQ(Sent(), (std::vector<std::string>{
                        "http://127.0.0.1:1/pd resolve calprobe/Global",
                        "http://127.0.0.1:1/slack :large_green_circle: RESOLVED:",
                        "http://127.0.0.1:2/api/v2/alerts 1 alert(s)",
                        "http://127.0.0.1:3/api/v2/alerts 1 alert(s)",
                    }));
  EXPECT_EQ(metrics_.Render().find(
                "calprobe_notifications_total{receiver=\"pd\",result=\"delivered\"} 2") !=
                std::string::npos,
            true)
      << metrics_.Render();
}

TEST_F(DispatcherTest, IgnoresPendingAndDuplicateTransitions) {
  d_->OnTransitions({T("Global", {}, AlertState::kInactive, AlertState::kPending)}, rules_);
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kInactive)}, rules_);
  EXPECT_TRUE(Sent().empty());
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_EQ(Sent().size(), 4u);
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)},
                    rules_);  // replayed
  EXPECT_TRUE(Sent().empty());
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  EXPECT_EQ(Sent().size(), 4u);
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  EXPECT_TRUE(Sent().empty());
}

TEST_F(DispatcherTest, NotifiedStateSurvivesRestartSoNothingRepeats) {
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_EQ(Sent().size(), 4u);
  Open();  // restart
  EXPECT_EQ(d_->NotifiedFiring(), 1u);
  rules::AlertInstance still;
  still.rule = "Global";
  still.state = AlertState::kFiring;
  still.fired_at = clock_.Now();
  d_->Reconcile({still}, rules_);
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_TRUE(Sent().empty());
  // And the resolve after the restart goes where the firing went.
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  EXPECT_EQ(Sent().size(), 4u);
}

TEST_F(DispatcherTest, ReconcileNotifiesMissedFiringAndResolvesVanishedAlerts) {
  // The engine saved "firing" but the process died before the outbox write.
  rules::AlertInstance a;
  a.rule = "PerRegion";
  a.labels = {{"region", "us-east"}};
  a.state = AlertState::kFiring;
  a.fired_at = clock_.Now() - seconds(30);
  a.value = 0.5;
  d_->Reconcile({a}, rules_);
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 3u);  // slack + 2 Alertmanagers; "missing" is not configured
  EXPECT_EQ(sent[0], "http://127.0.0.1:1/slack :red_circle: FIRING: us-east i");
  d_->Reconcile({a}, rules_);
  EXPECT_TRUE(Sent().empty());
  d_->Reconcile({}, rules_);  // no longer firing (e.g. its rule was deleted)
  EXPECT_EQ(Sent().size(), 3u);
}

TEST_F(DispatcherTest, AlertmanagerGetsFiringAlertsAgainEveryResendInterval) {
  d_->OnTransitions(
      {T("Global", {}, AlertState::kPending, AlertState::kFiring),
       T("PerRegion", {{"region", "us-east"}}, AlertState::kPending, AlertState::kFiring)},
      rules_);
  Sent();
  d_->Tick();  // first round right away
  EXPECT_EQ(Sent(), (std::vector<std::string>{"http://127.0.0.1:2/api/v2/alerts 2 alert(s)",
                                              "http://127.0.0.1:3/api/v2/alerts 2 alert(s)"}));
  clock_.Advance(seconds(59));
  d_->Tick();
  EXPECT_TRUE(Sent().empty());
  clock_.Advance(seconds(1));
  d_->Tick();
  EXPECT_EQ(Sent().size(), 2u);
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  Sent();
  clock_.Advance(seconds(60));
  d_->Tick();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"http://127.0.0.1:2/api/v2/alerts 1 alert(s)",
                                              "http://127.0.0.1:3/api/v2/alerts 1 alert(s)"}));
}

TEST_F(DispatcherTest, ResendWaitsWhileTransitionsArePendingForThatAlertmanager) {
  http_.SetHandler([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find(":3/") != std::string::npos ? 503 : 200;
    return resp;
  });
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  Sent();
  d_->Tick();
  // :2 gets the re-send; :3 still owes the firing transition (retrying), so no re-send there.
  EXPECT_EQ(Sent(), (std::vector<std::string>{"http://127.0.0.1:2/api/v2/alerts 1 alert(s)"}));
  EXPECT_EQ(d_->StatusJson()["pending_by_receiver"]["am"], 1);
}

TEST_F(DispatcherTest, ResolveWaitsForARefreshInFlightToTheSameAlertmanager) {
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  Sent();
  http_.SetDeferred(true);
  d_->Tick();  // refresh to :2 and :3 in flight
  EXPECT_EQ(Sent().size(), 2u);
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  // pd and slack go at once; the Alertmanagers' resolves wait for the refresh answers.
  EXPECT_EQ(Sent(),
            (std::vector<std::string>{"http://127.0.0.1:1/pd resolve calprobe/Global",
                                      "http://127.0.0.1:1/slack :large_green_circle: RESOLVED:"}));
  http_.Deliver();  // refresh to :2 answered
  EXPECT_EQ(Sent(), (std::vector<std::string>{"http://127.0.0.1:2/api/v2/alerts 1 alert(s)"}));
  http_.DeliverAll();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"http://127.0.0.1:3/api/v2/alerts 1 alert(s)"}));
  http_.DeliverAll();
  EXPECT_EQ(d_->outbox().Pending(), 0u);
}

TEST_F(DispatcherTest, DrainWaitsForRequestsInFlightAndStartsNoNewOnes) {
  http_.SetDeferred(true);
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_EQ(Sent().size(), 4u);  // in flight
  bool done = false;
  d_->Drain(seconds(5), [&] { done = true; });
  d_->OnTransitions({T("Global", {}, AlertState::kFiring, AlertState::kResolved)}, rules_);
  http_.DeliverAll();
  EXPECT_TRUE(Sent().empty());  // the resolves wait in the outbox for the next start
  EXPECT_FALSE(done);           // noticed at the next check
  ASSERT_FALSE(timers_.empty());
  auto t = std::move(timers_.back());
  timers_.clear();
  t();
  EXPECT_TRUE(done);
  EXPECT_EQ(d_->outbox().Pending(), 4u);
}

TEST_F(DispatcherTest, DrainGivesUpAfterMaxWait) {
  http_.SetDeferred(true);
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  bool done = false;
  d_->Drain(seconds(2), [&] { done = true; });
  for (int i = 0; i < 100 && !done; ++i) {
    clock_.Advance(std::chrono::milliseconds(50));
    auto timers = std::move(timers_);
    timers_.clear();
    for (auto& t : timers) t();
  }
  EXPECT_TRUE(done);
  EXPECT_EQ(d_->outbox().Pending(), 4u);  // unanswered: sent again at the next start
}

TEST_F(DispatcherTest, SilencedAlertsAreNotifiedWhenTheSilenceEnds) {
  bool silenced = true;
  d_->SetSilenced([&](const Notification& n) { return silenced && n.rule == "Global"; });
  rules::AlertInstance a;
  a.rule = "Global";
  a.state = AlertState::kFiring;
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  d_->Reconcile({a}, rules_);
  EXPECT_TRUE(Sent().empty());
  silenced = false;
  d_->Reconcile({a}, rules_);
  EXPECT_EQ(Sent().size(), 4u);
}

TEST_F(DispatcherTest, DeadLettersAppearInJsonAndMetrics) {
  http_.SetHandler([](const HttpRequest& r) {
    HttpResponse resp;
    resp.status = r.url.find("/pd") != std::string::npos ? 400 : 200;
    resp.body = "{\"status\":\"invalid event\"}";
    return resp;
  });
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  json dead = d_->DeadLettersJson();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["receiver"], "pd");
  EXPECT_EQ(dead[0]["rule"], "Global");
  EXPECT_EQ(dead[0]["state"], "firing");
  EXPECT_EQ(dead[0]["dedup_key"], "calprobe/Global");
  EXPECT_EQ(dead[0]["reason"], "http 400: {\"status\":\"invalid event\"}");
  std::string m = metrics_.Render();
  EXPECT_NE(m.find("calprobe_notifications_dead_letter{receiver=\"pd\"} 1"), std::string::npos)
      << m;
  EXPECT_NE(m.find("calprobe_notifications_dead_letter{receiver=\"slack\"} 0"), std::string::npos);
  EXPECT_NE(m.find("calprobe_notifications_total{receiver=\"pd\",result=\"dead_letter\"} 1"),
            std::string::npos);
  EXPECT_NE(m.find("calprobe_notifications_outbox_pending{receiver=\"am\"} 0"), std::string::npos);
  // The routing key never appears in what the API shows.
  EXPECT_EQ(dead.dump().find("ROUTING-KEY"), std::string::npos);
}

TEST_F(DispatcherTest, RemovedReceiverDeadLettersItsPendingDeliveries) {
  http_.SetHandler([](const HttpRequest&) {
    HttpResponse resp;
    resp.status = 503;
    return resp;
  });
  d_->OnTransitions({T("Global", {}, AlertState::kPending, AlertState::kFiring)}, rules_);
  EXPECT_EQ(d_->outbox().Pending(), 4u);
  d_->Configure({receivers_[1]}, NotifySettings{});
  clock_.Advance(seconds(5));
  d_->Tick();
  json dead = d_->DeadLettersJson();
  EXPECT_EQ(dead.size(), 3u);
  EXPECT_EQ(
      dead[0]["reason"].get<std::string>().find("is no longer configured") != std::string::npos,
      true);
  EXPECT_EQ(d_->outbox().Pending(), 1u);  // slack keeps retrying
}

}  // namespace
}  // namespace calprobe::core::notify
