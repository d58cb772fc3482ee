// Running journeys over a fake HttpClient and a manual clock: step order,
// captures, poll_until, failures that name the step and what was seen,
// cleanup after a failure and after a timeout, and the events (validated
// against the real catalog).

#include "probes/scenario/runner.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "core/catalog.h"
#include "core/store.h"
#include "probes/scenario/journal.h"
#include "probes/scenario/scenario.h"
#include "tests/fakes/fake_probe_context.h"

namespace calprobe::probes::scenario {
namespace {

using core::HttpRequest;
using core::HttpResponse;
using testing::FakeHttpClient;
using testing::FakeProbeContext;

// FakeProbeContext with a fixed deadline and an optional store.
class Ctx final : public core::ProbeContext {
 public:
  explicit Ctx(core::Duration timeout) : inner_(*core::ParseRfc3339("2027-03-15T09:00:00Z")) {
    deadline_ = inner_.clock().Now() + timeout;
    inner_.mutable_target().name = "journey-1";
    inner_.mutable_target().labels.Set(core::Label::kTarget, "journey-1");
  }
  core::HttpClient& http() override { return inner_.http(); }
  const core::Clock& clock() override { return inner_.clock(); }
  core::EventSink& events() override { return inner_.events(); }
  core::Store* store() override { return store_; }
  const core::TargetInfo& target() override { return inner_.target(); }
  core::TimePoint deadline() override { return deadline_; }
  void After(core::Duration d, std::function<void()> fn) override {
    inner_.After(d, std::move(fn));
  }

  FakeProbeContext inner_;
  core::Store* store_ = nullptr;
  core::TimePoint deadline_;
};

// A tiny holds API: POST /holds -> 201 {hold_id}, GET /holds/ID -> state
// (becomes "ready" after `ready_after` GETs), DELETE /holds/ID -> 200.
struct FakeApi {
  int gets = 0;
  int ready_after = 2;
  int post_status = 201;
  std::vector<std::string> log;
  HttpResponse operator()(const HttpRequest& r) {
    log.push_back(r.method + " " + r.url.substr(r.url.find("/holds")));
    HttpResponse resp = FakeHttpClient::Ok("");
    if (r.method == "POST") {
      resp.status = post_status;
      resp.body = post_status == 201 ? R"({"hold_id":"h42","secret_code":"s3cr3t-code-value"})"
                                     : R"({"error":"unavailable"})";
    } else if (r.method == "GET") {
      resp.body = ++gets >= ready_after ? R"({"state":"ready"})" : R"({"state":"pending"})";
    } else {
      resp.body = R"({"state":"released"})";
    }
    return resp;
  }
};

const char kJourney[] = R"(scenario: demo
vars: {base_url: "http://127.0.0.1:1", provider_id: p1}
steps:
  - name: create
    request:
      method: POST
      url: "{{base_url}}/holds"
      body: {provider_id: "{{provider_id}}", ttl_seconds: 120}
    expect: {status: 201}
    capture:
      hold_id: /hold_id
      code: {json: /secret_code, secret: true}
    emit:
      - event: cal.hold.created
        labels: {provider: "{{provider_id}}"}
        fields: {source: synthetic, ttl_minutes: "{{ttl|minutes}}", overlap_detected: false, hold_id: "{{hold_id}}"}
  - name: ready
    request: {url: "{{base_url}}/holds/{{hold_id}}"}
    expect: {json: [{pointer: /state, equals: ready}]}
    poll_until: {interval: 100ms, deadline: 5s}
    measure: time_to_ready
  - name: pause
    wait: 30s
cleanup:
  - name: release
    request: {method: DELETE, url: "{{base_url}}/holds/{{hold_id}}"}
)";

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = std::getenv("CALPROBE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    ASSERT_TRUE(catalog_.LoadFile(std::string(src) + "/config/events.yaml").ok());
  }

  std::shared_ptr<const Scenario> Load(std::string yaml, Vars overrides = {{"ttl", "120"}}) {
    if (overrides.count("ttl")) yaml.replace(yaml.find("vars: {"), 7, "vars: {ttl: 1, ");
    core::ConfigErrors errors;
    core::ConfigNode root(YAML::Load(yaml), std::make_shared<const std::string>("j.yaml"), "",
                          &errors);
    core::TargetInfo target;
    auto s = ParseScenario(root, overrides, target);
    EXPECT_TRUE(s) << errors.ToString();
    return s ? std::make_shared<const Scenario>(std::move(*s)) : nullptr;
  }

  // Runs the journey, moving the manual clock 50 ms at a time.
  JourneyReport Run(Ctx& ctx, std::shared_ptr<const Scenario> s) {
    ctx.inner_.sink().SetCatalog(&catalog_);
    std::optional<JourneyReport> out;
    RunJourney(s, ctx, {}, [&](JourneyReport r) { out = std::move(r); });
    for (int i = 0; i < 4000 && !out; ++i) {
      ctx.inner_.manual_clock().Advance(std::chrono::milliseconds(50));
      ctx.inner_.RunTimers();
    }
    EXPECT_TRUE(out.has_value());
    EXPECT_TRUE(ctx.inner_.sink().rejected.empty()) << ctx.inner_.sink().rejected[0];
    return out.value_or(JourneyReport{});
  }

  core::Catalog catalog_;
  FakeApi api_;
};

TEST_F(RunnerTest, PassingJourneyRunsStepsThenCleanup) {
  Ctx ctx(std::chrono::seconds(60));
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_TRUE(r.success) << r.message;
  EXPECT_EQ(api_.log, (std::vector<std::string>{"POST /holds", "GET /holds/h42", "GET /holds/h42",
                                                "DELETE /holds/h42"}));
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[1].attempts, 2);
  EXPECT_EQ(r.steps[1].measure, "time_to_ready");
  EXPECT_NEAR(r.steps[2].seconds, 30.0, 0.1);
  EXPECT_EQ(r.steps[3].phase, "cleanup");
  EXPECT_EQ(r.steps[3].status, StepStatus::kPassed);
  // The JSON body is typed: ttl_seconds stays a number.
  EXPECT_EQ(ctx.inner_.fake_http().requests()[0].body, R"({"provider_id":"p1","ttl_seconds":120})");
  // Events: the step's own cal.hold.created, one calprobe.scenario.step per step, one run.
  auto created = ctx.inner_.sink().Named("cal.hold.created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].labels.Get(core::Label::kProvider), "p1");
  EXPECT_EQ(created[0].labels.Get(core::Label::kOrigin), "synthetic");
  EXPECT_EQ(created[0].Number("ttl_minutes"), 2.0);
  EXPECT_EQ(created[0].String("hold_id"), "h42");
  EXPECT_EQ(ctx.inner_.sink().Named("calprobe.scenario.step").size(), 4u);
  auto run = ctx.inner_.sink().Named("calprobe.scenario.run");
  ASSERT_EQ(run.size(), 1u);
  EXPECT_EQ(run[0].Bool("success"), true);
}

TEST_F(RunnerTest, FailedStepNamesItselfSkipsTheRestAndCleansUp) {
  Ctx ctx(std::chrono::seconds(60));
  api_.ready_after = 1000;  // never ready
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.reason, "assertion");
  EXPECT_EQ(r.failed_step, "ready");
  EXPECT_EQ(r.message.rfind(
                "step 2 ready: JSON /state = \"pending\", expected \"ready\" (still after ", 0),
            0u)
      << r.message;
  ASSERT_EQ(r.steps.size(), 4u);
  EXPECT_EQ(r.steps[1].status, StepStatus::kFailed);
  EXPECT_GE(r.steps[1].attempts, 45);  // every 100 ms for 5 s
  EXPECT_EQ(r.steps[2].status, StepStatus::kSkipped);
  EXPECT_EQ(r.steps[3].name, "release");
  EXPECT_EQ(r.steps[3].status, StepStatus::kPassed);
  EXPECT_EQ(api_.log.back(), "DELETE /holds/h42");
  EXPECT_TRUE(ctx.inner_.sink().Named("cal.hold.created").size() == 1);
}

TEST_F(RunnerTest, ExcerptsAndMessagesAreRedacted) {
  Ctx ctx(std::chrono::seconds(60));
  api_.ready_after = 1000;
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) {
    HttpResponse resp = api_(r);
    if (r.method == "GET") resp.body = R"({"state":"s3cr3t-code-value"})";
    return resp;
  });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_EQ(r.failed_step, "ready");
  std::string all = r.ToJson().dump();
  EXPECT_EQ(all.find("s3cr3t-code-value"), std::string::npos) << all;
  EXPECT_NE(all.find("<redacted>"), std::string::npos);
}

TEST_F(RunnerTest, TimedOutJourneyStillRunsItsCleanup) {
  Ctx ctx(std::chrono::seconds(10));  // the 30 s wait cannot finish
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_FALSE(r.success);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(r.reason, "scenario.timeout");
  EXPECT_EQ(r.failed_step, "pause");
  EXPECT_EQ(r.message, "step 3 pause: the journey's timeout ran out while waiting");
  EXPECT_EQ(api_.log.back(), "DELETE /holds/h42");
  EXPECT_TRUE(r.cleanup_ok);
}

TEST_F(RunnerTest, CleanupStepsWithUncapturedVariablesAreNotRun) {
  Ctx ctx(std::chrono::seconds(60));
  api_.post_status = 503;
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_EQ(r.failed_step, "create");
  EXPECT_NE(r.message.find("status 503, expected 201"), std::string::npos) << r.message;
  EXPECT_EQ(api_.log, std::vector<std::string>{"POST /holds"});
  EXPECT_EQ(r.steps.back().message, "not needed: its variables were never captured");
}

TEST_F(RunnerTest, TransportErrorIsAnError) {
  Ctx ctx(std::chrono::seconds(60));
  ctx.inner_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Failed(core::TransportError::kConnectionRefused, "Connection refused");
  });
  JourneyReport r = Run(ctx, Load(kJourney));
  EXPECT_EQ(r.reason, "http.connection_refused");
  EXPECT_EQ(r.steps[0].status, StepStatus::kError);
}

TEST_F(RunnerTest, WhenFalseSkipsAStep) {
  Ctx ctx(std::chrono::seconds(60));
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  std::string yaml = kJourney;
  yaml.replace(yaml.find("  - name: pause\n"), 16, "  - name: pause\n    when: \"{{flag}}\"\n");
  yaml.replace(yaml.find("provider_id: p1}"), 16, "provider_id: p1, flag: \"\"}");
  JourneyReport r = Run(ctx, Load(yaml));
  EXPECT_TRUE(r.success) << r.message;
  EXPECT_EQ(r.steps[2].status, StepStatus::kSkipped);
  EXPECT_LT(r.seconds, 5);
}

TEST_F(RunnerTest, JournalHoldsPendingCleanupUntilTheJourneyEnds) {
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  Ctx ctx(std::chrono::seconds(60));
  ctx.store_ = store->get();
  ctx.inner_.fake_http().SetHandler([this](const HttpRequest& r) { return api_(r); });
  ctx.inner_.sink().SetCatalog(&catalog_);
  std::optional<JourneyReport> out;
  RunJourney(Load(kJourney), ctx, {}, [&](JourneyReport r) { out = std::move(r); });
  // Now in the 30 s wait: the DELETE of h42 is journaled.
  for (int i = 0; i < 10; ++i) {
    ctx.inner_.manual_clock().Advance(std::chrono::milliseconds(100));
    ctx.inner_.RunTimers();
  }
  ASSERT_FALSE(out);
  auto pending = CleanupJournal(store->get()).Pending();
  ASSERT_TRUE(pending.ok());
  ASSERT_TRUE(pending->contains("journey-1")) << pending->dump();
  const auto& req = (*pending)["journey-1"]["requests"][0];
  EXPECT_EQ(req["method"], "DELETE");
  EXPECT_EQ(req["url"], "http://127.0.0.1:1/holds/h42");
  EXPECT_EQ((*pending)["journey-1"]["scenario"], "demo");
  for (int i = 0; i < 400 && !out; ++i) {
    ctx.inner_.manual_clock().Advance(std::chrono::milliseconds(100));
    ctx.inner_.RunTimers();
  }
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->success);
  EXPECT_TRUE(CleanupJournal(store->get()).Pending()->empty());
}

}  // namespace
}  // namespace calprobe::probes::scenario
