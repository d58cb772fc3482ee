// SandboxRouter (HTTP mapping without sockets) and the config reader's
// path errors.

#include "sandbox/routes.h"
#include "sandbox_test_util.h"

namespace calprobe::sandbox::testing {
namespace {

using nlohmann::json;

class RouterTest : public SandboxFixture {
 protected:
  void SetUp() override {
    SandboxFixture::SetUp();
    router = std::make_unique<SandboxRouter>(
        RouterDeps{*service, faults, clock, events, *config,
                   [this](std::chrono::milliseconds d) { slept += d; }});
  }
  core::AdminResponse Call(const std::string& method, const std::string& target,
                           const std::string& body = "") {
    core::AdminRequest r;
    r.method = method;
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    return router->Handle(r);
  }
  static json J(const core::AdminResponse& r) { return json::parse(r.body); }
  static std::string Header(const core::AdminResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  EventQueue events{100, false};
  std::unique_ptr<SandboxRouter> router;
  std::chrono::milliseconds slept{0};
};

constexpr const char* kMonday =
    "/api/providers/p/feasibility?from=2027-03-15T00:00:00-04:00&to=2027-03-16T00:00:00-04:00";

TEST_F(RouterTest, FeasibilityJsonUsesProviderOffsets) {
  auto r = Call("GET", kMonday);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = J(r);
  EXPECT_EQ(j["provider_id"], "p");
  ASSERT_EQ(j["slots"].size(), 16u);
  EXPECT_EQ(j["slots"][0]["start"], "2027-03-15T09:00:00-04:00");
  EXPECT_EQ(j["slots"][0]["end"], "2027-03-15T09:30:00-04:00");
  EXPECT_EQ(j["truncated"], false);
  EXPECT_EQ(j["candidate_windows"], 16);
  EXPECT_EQ(j["cache"], "miss");
  EXPECT_EQ(J(Call("GET", kMonday))["cache"], "hit");
  EXPECT_EQ(Header(r, "Date"), "Mon, 15 Mar 2027 10:00:00 GMT");
  // An unencoded '+' in an offset (decoded as a space) is still understood.
  auto berlin = Call(
      "GET",
      "/api/providers/b/feasibility?from=2027-03-16T00:00:00+01:00&to=2027-03-17T00:00:00+01:00");
  ASSERT_EQ(berlin.status, 200) << berlin.body;
  EXPECT_EQ(J(berlin)["slots"][0]["start"], "2027-03-16T08:00:00+01:00");
}

TEST_F(RouterTest, BadParametersGet400NamingThem) {
  auto r = Call("GET", "/api/providers/p/feasibility?to=2027-03-16T00:00:00Z");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(J(r)["param"], "from");
  r = Call("GET", "/api/providers/p/feasibility?from=yesterday&to=2027-03-16T00:00:00Z");
  EXPECT_EQ(J(r)["param"], "from");
  r = Call("GET", std::string(kMonday) + "&duration_minutes=abc");
  EXPECT_EQ(J(r)["param"], "duration_minutes");
  r = Call("POST", "/api/holds", "{not json");
  EXPECT_EQ(J(r)["param"], "body");
  r = Call(
      "POST", "/api/holds",
      R"({"provider_id":"p","start":"2027-03-15T14:00:00Z","end":"2027-03-15T14:30:00Z","ttl_seconds":"60"})");
  EXPECT_EQ(J(r)["param"], "ttl_seconds");
  r = Call("PUT", "/api/providers/p/rules",
           R"({"rules":[{"weekdays":["mon"],"start":"9am","end":"17:00"}]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(J(r)["param"], "rules[0].start");
  EXPECT_EQ(
      Call("GET",
           "/api/providers/nope/feasibility?from=2027-03-15T00:00:00Z&to=2027-03-16T00:00:00Z")
          .status,
      404);
  EXPECT_EQ(Call("GET", "/nowhere").status, 404);
}

TEST_F(RouterTest, HoldLifecycleOverHttpShapes) {
  std::string body =
      R"({"provider_id":"p","start":"2027-03-15T14:00:00Z","end":"2027-03-15T14:30:00Z","ttl_seconds":2,"source":"synthetic"})";
  auto r = Call("POST", "/api/holds", body);
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = J(r)["hold_id"];
  EXPECT_EQ(J(r)["expires_at"], "2027-03-15T10:00:02Z");
  auto dup = Call("POST", "/api/holds", body);
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(J(dup)["overlap_detected"], true);
  EXPECT_EQ(J(Call("GET", "/api/holds?provider_id=p&state=active"))["holds"].size(), 1u);
  auto c = Call("POST", "/api/holds/" + id + "/confirm");
  ASSERT_EQ(c.status, 200) << c.body;
  std::string booking = J(c)["booking_id"];
  EXPECT_EQ(J(Call("GET", "/api/bookings?provider_id=p"))["bookings"].size(), 1u);
  EXPECT_EQ(Call("DELETE", "/api/bookings/" + booking).status, 200);
  EXPECT_EQ(Call("DELETE", "/api/bookings/" + booking).status, 404);
  auto h2 = J(Call("POST", "/api/holds", body));
  EXPECT_EQ(Call("DELETE", "/api/holds/" + h2["hold_id"].get<std::string>()).status, 200);
  EXPECT_EQ(J(Call("GET", "/api/holds/" + h2["hold_id"].get<std::string>()))["state"], "released");
}

TEST_F(RouterTest, FeedEndpointAndTokenRegeneration) {
  auto r = Call("GET", "/feeds/p.ics?token=feedtoken-0123456789&include_holds=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/calendar; charset=utf-8");
  EXPECT_EQ(Call("GET", "/feeds/p.ics").status, 401);
  EXPECT_EQ(J(Call("GET", "/feeds/p.ics?token=feedtoken-0123456789&include_holds=maybe"))["param"],
            "include_holds");
  auto regen = Call("POST", "/api/providers/p/feed-token/regenerate");
  ASSERT_EQ(regen.status, 200);
  std::string fresh = J(regen)["token"];
  EXPECT_EQ(Call("GET", "/feeds/p.ics?token=feedtoken-0123456789").status, 401);
  EXPECT_EQ(Call("GET", "/feeds/p.ics?token=" + fresh).status, 200);
  EXPECT_EQ(J(Call("GET", "/admin/providers/p"))["feed_token"], fresh);
  EXPECT_FALSE(J(Call("GET", "/api/providers/p")).contains("feed_token"));
}

TEST_F(RouterTest, LatencyAndErrorFaultsApplyToApiNotAdmin) {
  auto r = Call("POST", "/admin/faults", R"({"fault":"latency","params":{"ms":250}})");
  ASSERT_EQ(r.status, 200) << r.body;
  Call("GET", kMonday);
  EXPECT_EQ(slept, std::chrono::milliseconds(250));
  ASSERT_NE(sink.Last("cal.feasible.generated"), nullptr);
  EXPECT_GE(sink.Last("cal.feasible.generated")->Number("duration_ms").value_or(0), 250.0);
  Call("GET", "/admin/stats");
  EXPECT_EQ(slept, std::chrono::milliseconds(250));
  ASSERT_EQ(Call("POST", "/admin/faults", R"({"fault":"errors","params":{"rate":0.5}})").status,
            200);
  int failed = 0;
  for (int i = 0; i < 10; ++i) failed += Call("GET", kMonday).status == 503;
  EXPECT_EQ(failed, 5);
  EXPECT_EQ(J(Call("GET", "/admin/faults"))["faults"].size(), 2u);
  EXPECT_EQ(Call("DELETE", "/admin/faults").status, 200);
  EXPECT_EQ(Call("GET", kMonday).status, 200);
  auto bad = Call("POST", "/admin/faults", R"({"fault":"gremlins"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(J(bad)["param"], "fault");
  EXPECT_EQ(J(Call("POST", "/admin/faults", R"({"fault":"latency","provider_id":"zz"})"))["param"],
            "provider_id");
}

TEST_F(RouterTest, ApiTokenGuardsApiButNotFeedsOrAdmin) {
  config->api_token = "api-token-for-tests";
  EXPECT_EQ(Call("GET", "/api/providers").status, 401);
  core::AdminRequest r;
  r.method = "GET";
  r.path = "/api/providers";
  r.authorization = "Bearer api-token-for-tests";
  EXPECT_EQ(router->Handle(r).status, 200);
  r.authorization = "Bearer api-token-for-test";
  EXPECT_EQ(router->Handle(r).status, 401);
  EXPECT_EQ(Call("GET", "/feeds/p.ics?token=feedtoken-0123456789").status, 200);
  EXPECT_EQ(Call("GET", "/admin/stats").status, 200);
}

TEST_F(RouterTest, ClockEndpointMovesNowAndDateHeader) {
  auto r = Call("POST", "/admin/clock", R"({"now":"2027-11-07T05:30:00Z"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(J(r)["now"], "2027-11-07T05:30:00Z");
  EXPECT_EQ(Header(Call("GET", "/healthz"), "Date"), "Sun, 07 Nov 2027 05:30:00 GMT");
  base.Advance(std::chrono::seconds(90));  // the injected clock keeps running
  EXPECT_EQ(J(Call("GET", "/admin/clock"))["now"], "2027-11-07T05:31:30Z");
  Call("POST", "/admin/clock", R"({"offset_seconds":-3600})");
  EXPECT_EQ(clock.Now(), base.Now() - std::chrono::hours(1));
  Call("POST", "/admin/clock", R"({"real":true})");
  EXPECT_EQ(clock.Now(), base.Now());
  EXPECT_EQ(J(Call("POST", "/admin/clock", R"({"now":"soon"})"))["param"], "now");
  EXPECT_EQ(J(Call("POST", "/admin/clock", R"({})"))["param"], "body");
}

TEST(SandboxConfigTest, ShippedConfigIsValid) {
  const char* src = std::getenv("CALPROBE_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  auto cfg = LoadSandboxConfig(std::string(src) + "/config/sandbox.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.error();
  EXPECT_EQ(cfg->providers.size(), 4u);  // p-nyc, p-berlin, synthetic-test, synthetic-journeys
}

struct BadConfig {
  const char* name;
  const char* provider_yaml;
  const char* expected;  // substring of the error, after the file name
};

class SandboxConfigErrorTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(SandboxConfigErrorTest, ReportsPathAndPosition) {
  std::string yaml = std::string("providers:\n  - id: p\n") + GetParam().provider_yaml;
  auto cfg = LoadYaml(yaml, std::string(GetParam().name) + ".yaml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().find(GetParam().expected), std::string::npos) << cfg.error();
}

INSTANTIATE_TEST_SUITE_P(
    Invalid, SandboxConfigErrorTest,
    ::testing::Values(
        BadConfig{"unknown_tz",
                  "    timezone: Mars/Olympus\n    rules:\n      - {weekdays: [mon], start: "
                  "\"09:00\", end: \"17:00\"}\n",
                  ":3:15: providers[0].timezone: unknown time zone"},
        BadConfig{"end_before_start",
                  "    timezone: UTC\n    rules:\n      - {weekdays: [mon], start: \"17:00\", end: "
                  "\"09:00\"}\n",
                  ":5:48: providers[0].rules[0].end: end 09:00 is not after start 17:00"},
        BadConfig{"overlapping_rules",
                  "    timezone: UTC\n    rules:\n      - {weekdays: [mon], start: \"09:00\", end: "
                  "\"12:00\"}\n"
                  "      - {weekdays: [mon, tue], start: \"11:00\", end: \"13:00\"}\n",
                  ":6:9: providers[0].rules[1]: overlaps providers[0].rules[0]"},
        BadConfig{"bad_weekday",
                  "    timezone: UTC\n    rules:\n      - {weekdays: [funday], start: \"09:00\", "
                  "end: \"17:00\"}\n",
                  "providers[0].rules[0].weekdays: unknown weekday \"funday\""},
        BadConfig{"unknown_key",
                  "    timezone: UTC\n    lead_hours: 2\n    rules:\n      - {weekdays: [mon], "
                  "start: \"09:00\", end: \"17:00\"}\n",
                  ":4:5: providers[0].lead_hours: unknown key"},
        BadConfig{"exception_end",
                  "    timezone: UTC\n    rules:\n      - {weekdays: [mon], start: \"09:00\", end: "
                  "\"17:00\"}\n"
                  "    exceptions:\n      - {kind: blocked, start: \"2027-03-15T12:00:00Z\", end: "
                  "\"2027-03-15T11:00:00Z\"}\n",
                  "providers[0].exceptions[0].end: end is not after start"},
        BadConfig{"no_rules", "    timezone: UTC\n",
                  "providers[0]: missing required key \"rules\""}));

TEST(SandboxConfigTest, EventsUrlNeedsToken) {
  auto cfg = LoadYaml(
      "events: {url: \"http://127.0.0.1:1/api/v1/events\"}\nproviders:\n  - id: p\n    timezone: "
      "UTC\n"
      "    rules: [{weekdays: [mon], start: \"09:00\", end: \"17:00\"}]\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().find("events: events.url is set but events.token is empty"),
            std::string::npos)
      << cfg.error();
}

}  // namespace
}  // namespace calprobe::sandbox::testing
