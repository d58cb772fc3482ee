// The feasibility probe end to end over a fake HttpClient and a manual clock:
// request templating, the oracle comparison, events (validated against the
// real catalog), outcomes and details.

#include <gtest/gtest.h>

#include <cstdlib>

#include "calendar/oracle/oracle.h"
#include "core/auth/credentials.h"
#include "core/catalog.h"
#include "core/event.h"
#include "core/metrics.h"
#include "probes/feasibility/feasibility_probe.h"
#include "tests/fakes/fake_probe_context.h"

namespace calprobe::probes::feasibility {
namespace {

namespace oracle = calendar::oracle;
using core::HttpRequest;
using core::HttpResponse;
using std::chrono::hours;
using testing::FakeHttpClient;
using testing::FakeProbeContext;

core::TimePoint T(const char* s) { return *core::ParseRfc3339(s); }

// Friday 2027-03-12 12:00Z; US DST starts Sunday 2027-03-14.
const core::TimePoint kAgentNow = T("2027-03-12T12:00:00Z");
// next_day + 7d in New York: Sat 00:00 EST .. Sat 00:00 EDT.
const oracle::Span kWindow{T("2027-03-13T05:00:00Z"), T("2027-03-20T04:00:00Z")};

const char kOptions[] = R"(
provider_id: synthetic-1
request:
  url: "http://127.0.0.1:9/api/providers/{{provider_id}}/feasibility?from={{from}}&to={{to}}&duration_minutes={{duration_minutes}}"
  headers: {X-Now: "{{now}}"}
window: 7d
window_start: next_day
latency_budget: 1s
max_slots: 100
truth:
  timezone: America/New_York
  slot_minutes: 60
  rules: [{weekdays: mon-fri, start: "09:00", end: "12:00"}]
)";

class FeasibilityProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = std::getenv("CALPROBE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    ASSERT_TRUE(catalog_.LoadFile(std::string(src) + "/config/events.yaml").ok());
    ctx_.sink().SetCatalog(&catalog_);
  }

  std::unique_ptr<core::Probe> Make(const std::string& yaml) {
    core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>("agent.yaml"),
                       "targets[0].feasibility", &errors_);
    auto p = NewFactory()->Create(n, ctx_.target());
    EXPECT_TRUE(errors_.empty()) << errors_.ToString();
    return p;
  }

  // The oracle's own slots as the sandbox's JSON (a healthy system), with
  // `shift` added to slots starting at or after `shift_from`.
  static std::string Answer(const oracle::ProviderTruth& truth, const oracle::Span& w,
                            core::TimePoint now, core::Duration shift = {},
                            core::TimePoint shift_from = {}) {
    nlohmann::json slots = nlohmann::json::array();
    for (const auto& s : oracle::ComputeSlots(truth, w.start, w.end, now)) {
      const core::Duration d = s.start >= shift_from ? shift : core::Duration{};
      slots.push_back(
          {{"start", core::FormatRfc3339(s.start + d)}, {"end", core::FormatRfc3339(s.end + d)}});
    }
    return nlohmann::json{{"provider_id", "synthetic-1"},
                          {"slots", slots},
                          {"truncated", false},
                          {"candidate_windows", 5}}
        .dump();
  }

  static oracle::ProviderTruth NewYork() {
    oracle::ProviderTruth t;
    t.timezone = "America/New_York";
    t.slot_minutes = 60;
    t.granularity_minutes = 60;
    t.rules = {{oracle::kWeekdays, 9 * 60, 12 * 60}};
    return t;
  }

  core::Catalog catalog_;
  core::ConfigErrors errors_;
  FakeProbeContext ctx_{kAgentNow};
};

TEST_F(FeasibilityProbeTest, HealthyAnswerAcrossDstSucceeds) {
  auto probe = Make(kOptions);
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Ok(Answer(NewYork(), kWindow, kAgentNow), {}, 0.05);
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->success) << out->message << out->details.dump();
  ASSERT_EQ(ctx_.fake_http().requests().size(), 1u);
  const HttpRequest& req = ctx_.fake_http().requests()[0];
  EXPECT_EQ(req.url,
            "http://127.0.0.1:9/api/providers/synthetic-1/feasibility?from=2027-03-13T05%3A00%3A00Z"
            "&to=2027-03-20T04%3A00%3A00Z&duration_minutes=60");
  EXPECT_EQ(req.headers.at(0).second, "2027-03-12T12:00:00Z");
  EXPECT_EQ(out->details["expected"], 15);
  EXPECT_EQ(out->details["missing"], 0);
  EXPECT_EQ(out->details["now_source"], "agent");
  auto gen = ctx_.sink().Named("cal.feasible.generated");
  ASSERT_EQ(gen.size(), 1u);
  EXPECT_EQ(gen[0].Number("slot_count"), 15);
  EXPECT_EQ(gen[0].Number("candidate_windows"), 5);
  EXPECT_DOUBLE_EQ(*gen[0].Number("duration_ms"), 50);
  EXPECT_EQ(gen[0].String("source"), "synthetic");
  EXPECT_EQ(gen[0].labels.Get(core::Label::kOrigin), "synthetic");
  EXPECT_TRUE(ctx_.sink().Named("calprobe.feasibility.mismatch").empty());
  EXPECT_TRUE(ctx_.sink().rejected.empty());
}

// request.auth names a credential: its header is added; an expired one fails
// the run with the credential's reason and sends nothing.
TEST_F(FeasibilityProbeTest, AuthAddsTheCredentialAndExpiredOnesFailFirst) {
  core::MetricsRegistry metrics;
  core::auth::CredentialSet creds(ctx_.fake_http(), ctx_.sink(), metrics, ctx_.manual_clock());
  core::auth::CredentialSpec api;
  api.name = "platform";
  api.kind = core::auth::CredentialKind::kBearer;
  api.token = "tok-123456";
  core::auth::CredentialSpec old = api;
  old.name = "old";
  old.declared_expiry = kAgentNow - hours(1);
  creds.Configure({api, old}, "test");
  ctx_.set_credentials(&creds);
  std::string with_auth = std::string(kOptions);
  with_auth.replace(with_auth.find("  headers:"), 0, "  auth: platform\n");
  auto probe = Make(with_auth);
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Ok(Answer(NewYork(), kWindow, kAgentNow), {}, 0.05);
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->success) << out->message;
  ASSERT_EQ(ctx_.fake_http().requests().size(), 1u);
  const auto& headers = ctx_.fake_http().requests()[0].headers;
  EXPECT_NE(
      std::find(headers.begin(), headers.end(),
                std::make_pair(std::string("Authorization"), std::string("Bearer tok-123456"))),
      headers.end());

  std::string expired = std::string(kOptions);
  expired.replace(expired.find("  headers:"), 0, "  auth: old\n");
  auto probe2 = Make(expired);
  out = testing::RunOnce(*probe2, ctx_);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->success);
  EXPECT_EQ(out->reason, "credential.expired");
  EXPECT_EQ(ctx_.fake_http().requests().size(), 1u);  // nothing sent
  ASSERT_EQ(ctx_.sink().Named("calprobe.credential.expired").size(), 1u);
  EXPECT_EQ(ctx_.sink().Named("calprobe.credential.expired")[0].String("credential"), "old");
  EXPECT_EQ(metrics.Gauge("calprobe_credential_valid", "", {"credential", "kind"})
                .Value({"old", "bearer"}),
            0);
}

TEST_F(FeasibilityProbeTest, SlotsLeftOnWinterTimeAreDstShift) {
  auto probe = Make(kOptions);
  // After the change the system still uses EST: every slot one hour late.
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Ok(
        Answer(NewYork(), kWindow, kAgentNow, hours(1), T("2027-03-14T12:00:00Z")));
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->success);
  EXPECT_EQ(out->reason, "mismatch");
  // 09-12 shifted by +1h: 10 and 11 are right by accident, 12 is the
  // shifted 11 (dst_shift) and 09 is missing, on each of 5 days.
  EXPECT_EQ(out->details["counts"]["dst_shift"], 5);
  EXPECT_EQ(out->details["missing"], 5);
  EXPECT_EQ(out->details["wrong_slots"].size(), 10u);
  EXPECT_EQ(out->details["dst_shift_seconds"], 3600);
  auto mm = ctx_.sink().Named("calprobe.feasibility.mismatch");
  ASSERT_EQ(mm.size(), 1u);
  EXPECT_EQ(mm[0].Number("dst_shift"), 5);
  EXPECT_TRUE(ctx_.sink().rejected.empty()) << ctx_.sink().rejected[0];
}

TEST_F(FeasibilityProbeTest, DateHeaderDrivesTheOracleAndResyncsTheWindow) {
  auto probe = Make(std::string(kOptions) + "now_from: date_header\n");
  // The system lives on 2026-11-02 (Monday), far from the agent's clock.
  const core::TimePoint system_now = T("2026-11-02T15:00:00Z");
  const oracle::Span sys_window{T("2026-11-03T05:00:00Z"), T("2026-11-10T05:00:00Z")};
  ctx_.fake_http().SetHandler([&](const HttpRequest& r) {
    auto resp = FakeHttpClient::Ok(Answer(NewYork(), sys_window, system_now),
                                   {{"date", "Mon, 02 Nov 2026 15:00:00 GMT"}});
    if (r.url.find("from=2026-11-03T05%3A00%3A00Z") == std::string::npos) resp.body = "{}";
    return resp;
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->success) << out->message;
  EXPECT_EQ(ctx_.fake_http().requests().size(), 2u);  // stale window, then resynced
  EXPECT_EQ(out->details["now"], "2026-11-02T15:00:00Z");
  EXPECT_EQ(out->details["now_source"], "date_header");
  // The next run starts from the learned offset: one request.
  ctx_.fake_http().ClearRequests();
  ctx_.manual_clock().Advance(std::chrono::seconds(30));
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_TRUE(out->success) << out->message;
  EXPECT_EQ(ctx_.fake_http().requests().size(), 1u);
}

TEST_F(FeasibilityProbeTest, SlowAnswerFailsWithLatency) {
  auto probe = Make(kOptions);
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Ok(Answer(NewYork(), kWindow, kAgentNow), {}, 2.5);
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->reason, "latency");
  EXPECT_EQ(out->message, "answered in 2500 ms, budget 1s");
  EXPECT_DOUBLE_EQ(out->details["duration_ms"].get<double>(), 2500);
  EXPECT_EQ(out->details["latency_budget_ms"], 1000);
}

TEST_F(FeasibilityProbeTest, TransportStatusAndShapeFailures) {
  auto probe = Make(kOptions);
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    return FakeHttpClient::Failed(core::TransportError::kTimeout, "timed out");
  });
  auto out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(out->reason, "http.timeout");
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    auto r = FakeHttpClient::Ok("{\"error\":\"boom\"}");
    r.status = 500;
    return r;
  });
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(out->reason, "assertion");
  EXPECT_EQ(out->message, "status 500, expected 2xx");
  EXPECT_EQ(out->http_status, 500);
  ctx_.fake_http().SetHandler(
      [](const HttpRequest&) { return FakeHttpClient::Ok(R"({"slots":[{"start":1}]})"); });
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(out->reason, "response");
  EXPECT_EQ(out->message, "/slots/0/start: 1 is not a string");
  EXPECT_TRUE(ctx_.sink().Named("cal.feasible.generated").empty());
}

TEST_F(FeasibilityProbeTest, BusyIcsFromUrlIsFetchedOncePerRefresh) {
  auto probe = Make(R"(
provider_id: synthetic-1
request: {url: "http://127.0.0.1:9/f?from={{from}}&to={{to}}"}
window: 7d
window_start: next_day
truth:
  timezone: America/New_York
  slot_minutes: 60
  rules: [{weekdays: mon-fri, start: "09:00", end: "12:00"}]
  busy_ics: {url: "http://127.0.0.1:9/busy.ics", refresh: 10m}
)");
  const char* ics =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:standup\r\n"
      "DTSTAMP:20270101T000000Z\r\nDTSTART;TZID=America/New_York:20270315T100000\r\n"
      "DTEND;TZID=America/New_York:20270315T110000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  int ics_fetches = 0;
  ctx_.fake_http().SetHandler([&](const HttpRequest& r) {
    if (r.url.find("busy.ics") != std::string::npos) {
      ++ics_fetches;
      return FakeHttpClient::Ok(ics, {{"etag", "\"v1\""}});
    }
    // The system ignores the busy event (Monday 10:00 EDT is offered).
    return FakeHttpClient::Ok(Answer(NewYork(), kWindow, kAgentNow));
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->reason, "mismatch");
  EXPECT_EQ(out->details["counts"]["busy_overlap"], 1);
  EXPECT_EQ(out->details["wrong_slots"][0]["start"], "2027-03-15T14:00:00Z");
  ctx_.manual_clock().Advance(std::chrono::minutes(5));
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(ics_fetches, 1);
  ctx_.manual_clock().Advance(std::chrono::minutes(6));
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(ics_fetches, 2);
  EXPECT_EQ(ctx_.fake_http().requests().back().url.find("busy.ics"), std::string::npos);
  bool sent_etag = false;
  for (const auto& r : ctx_.fake_http().requests()) {
    for (const auto& [k, v] : r.headers) sent_etag |= k == "If-None-Match" && v == "\"v1\"";
  }
  EXPECT_TRUE(sent_etag);
}

TEST_F(FeasibilityProbeTest, MissingIcsFailsAsTruthSource) {
  auto probe = Make(R"(
provider_id: p
request: {url: "http://127.0.0.1:9/f"}
truth:
  timezone: UTC
  rules: []
  busy_ics: {url: "http://127.0.0.1:9/busy.ics"}
)");
  ctx_.fake_http().SetHandler([](const HttpRequest&) {
    HttpResponse r;
    r.status = 404;
    return r;
  });
  auto out = testing::RunOnce(*probe, ctx_);
  EXPECT_EQ(out->reason, "truth_source");
  EXPECT_EQ(out->message, "busy ICS http://127.0.0.1:9/busy.ics: status 404");
}

TEST_F(FeasibilityProbeTest, LiveHoldsSeenBeforeAndAfterCountAsHolds) {
  auto probe = Make(std::string(kOptions) + R"(
  live_spans:
    - {url: "http://127.0.0.1:9/api/holds?provider_id=synthetic-1&state=active"}
)");
  // A scenario probe holds Monday 10:00 EDT; the system hides it.
  const oracle::Span hold{T("2027-03-15T14:00:00Z"), T("2027-03-15T15:00:00Z")};
  int hold_lists = 0;
  bool hold_vanishes = false;
  ctx_.fake_http().SetHandler([&](const HttpRequest& r) {
    if (r.url.find("/api/holds") != std::string::npos) {
      ++hold_lists;
      nlohmann::json holds = nlohmann::json::array();
      if (!(hold_vanishes && hold_lists % 2 == 0)) {
        holds.push_back(
            {{"start", core::FormatRfc3339(hold.start)}, {"end", core::FormatRfc3339(hold.end)}});
      }
      return FakeHttpClient::Ok(nlohmann::json{{"holds", holds}}.dump());
    }
    auto truth = NewYork();
    truth.holds.push_back(hold);
    return FakeHttpClient::Ok(Answer(truth, kWindow, kAgentNow));
  });
  auto out = testing::RunOnce(*probe, ctx_);
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->success) << out->message;
  EXPECT_EQ(hold_lists, 2);  // before and after the query
  EXPECT_EQ(out->details["live_spans"], 1);
  EXPECT_EQ(out->details["expected"], 14);

  // The hold expires while the query runs: its slot is not judged.
  hold_vanishes = true;
  out = testing::RunOnce(*probe, ctx_);
  EXPECT_TRUE(out->success) << out->message;
  EXPECT_EQ(out->details["unjudged"], 1);

  // Without live_spans the same answer is one missing slot.
  auto plain = Make(kOptions);
  out = testing::RunOnce(*plain, ctx_);
  EXPECT_EQ(out->message, "1 missing, 0 extra");
}

}  // namespace
}  // namespace calprobe::probes::feasibility
