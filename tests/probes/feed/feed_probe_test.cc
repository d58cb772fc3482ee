// The feed probe over a fake HttpClient: both include_holds variants, the
// token in the query (redacted in messages), lint and status failures,
// include_holds not respected, and cal.ics.feed.requested events validated
// against the real catalog.

#include "probes/feed/feed_probe.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/catalog.h"
#include "core/secrets.h"
#include "tests/fakes/fake_probe_context.h"

namespace calprobe::probes::feed {
namespace {

using core::HttpRequest;
using core::HttpResponse;
using testing::FakeHttpClient;
using testing::FakeProbeContext;

std::string Feed(bool with_hold) {
  std::string s =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
      "BEGIN:VEVENT\r\nUID:b1@x\r\nDTSTAMP:20270315T090000Z\r\nDTSTART:20270316T130000Z\r\n"
      "DTEND:20270316T133000Z\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\n";
  if (with_hold) {
    s += "BEGIN:VEVENT\r\nUID:h1@x\r\nDTSTAMP:20270315T090000Z\r\nDTSTART:20270316T140000Z\r\n"
         "DTEND:20270316T143000Z\r\nSTATUS:TENTATIVE\r\nEND:VEVENT\r\n";
  }
  return s + "END:VCALENDAR\r\n";
}

class FeedProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* src = std::getenv("CALPROBE_SOURCE_DIR");
    ASSERT_NE(src, nullptr);
    ASSERT_TRUE(catalog_.LoadFile(std::string(src) + "/config/events.yaml").ok());
    ctx_.sink().SetCatalog(&catalog_);
  }
  std::unique_ptr<core::Probe> Make(const std::string& yaml) {
    core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>("agent.yaml"),
                       "targets[0].feed", &errors_);
    return NewFactory()->Create(n, ctx_.target());
  }
  core::ProbeOutcome RunWith(std::function<HttpResponse(const HttpRequest&)> h,
                             const std::string& yaml = kOptions) {
    auto p = Make(yaml);
    EXPECT_TRUE(p) << errors_.ToString();
    ctx_.fake_http().SetHandler(std::move(h));
    auto o = testing::RunOnce(*p, ctx_);
    EXPECT_TRUE(o);
    EXPECT_TRUE(ctx_.sink().rejected.empty());
    return o.value_or(core::ProbeOutcome{});
  }
  static constexpr const char* kOptions =
      "url: http://127.0.0.1:9/feeds/p1.ics\ntoken: feed-token-secret-1\nlatency_budget: 1s\n";
  core::Catalog catalog_;
  FakeProbeContext ctx_;
  core::ConfigErrors errors_;
};

HttpResponse Serve(const HttpRequest& r, bool holds_in_plain_feed = false) {
  if (r.url.find("token=feed-token-secret-1") == std::string::npos) {
    HttpResponse resp;
    resp.status = 401;
    return resp;
  }
  bool holds = r.url.find("include_holds=true") != std::string::npos;
  return FakeHttpClient::Ok(Feed(holds || holds_in_plain_feed),
                            {{"content-type", "text/calendar"}});
}

TEST_F(FeedProbeTest, HealthyFeedBothVariants) {
  auto o = RunWith([](const HttpRequest& r) { return Serve(r); });
  EXPECT_TRUE(o.success) << o.reason << ": " << o.message;
  ASSERT_EQ(ctx_.fake_http().requests().size(), 2u);
  EXPECT_EQ(ctx_.fake_http().requests()[0].url,
            "http://127.0.0.1:9/feeds/p1.ics?include_holds=false&token=feed-token-secret-1");
  EXPECT_EQ(o.details["fetches"][1]["tentative"], 1);
  auto events = ctx_.sink().Named("cal.ics.feed.requested");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].Bool("include_holds"), false);
  EXPECT_EQ(events[1].Bool("include_holds"), true);
  EXPECT_EQ(events[1].String("source"), "synthetic");
  EXPECT_EQ(events[1].Number("status"), 200);
}

TEST_F(FeedProbeTest, HoldsInTheFeedWithoutHolds) {
  auto o = RunWith([](const HttpRequest& r) { return Serve(r, true); });
  EXPECT_FALSE(o.success);
  EXPECT_EQ(o.reason, "include_holds");
  EXPECT_EQ(o.message, "include_holds=false: 1 tentative events (holds) in a feed without holds");
}

TEST_F(FeedProbeTest, RejectedTokenIsAnAssertionAndTheTokenIsRedacted) {
  auto o = RunWith([](const HttpRequest&) {
    HttpResponse r;
    r.status = 401;
    r.body = "wrong token feed-token-secret-1";
    return r;
  });
  EXPECT_EQ(o.reason, "assertion");
  EXPECT_EQ(o.message, "include_holds=false: status 401, expected 200 (wrong token <redacted>)");
}

TEST_F(FeedProbeTest, LintErrorsAndLatency) {
  auto o =
      RunWith([](const HttpRequest&) { return FakeHttpClient::Ok("<html>not a calendar</html>"); });
  EXPECT_EQ(o.reason, "lint");
  auto slow = RunWith([](const HttpRequest& r) {
    HttpResponse resp = Serve(r);
    resp.timings.total = 2.5;
    return resp;
  });
  EXPECT_EQ(slow.reason, "latency");
  EXPECT_EQ(slow.message, "include_holds=false: generated in 2500 ms, budget 1s");
}

TEST_F(FeedProbeTest, EventMissingFromTheFeedWithHolds) {
  auto o = RunWith([](const HttpRequest& r) {
    if (r.url.find("include_holds=true") != std::string::npos) {
      return FakeHttpClient::Ok(
          "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nEND:VCALENDAR\r\n");
    }
    return Serve(r);
  });
  EXPECT_EQ(o.reason, "include_holds");
  EXPECT_EQ(o.message, "event b1@x is in the feed without holds but not in the feed with holds");
}

TEST_F(FeedProbeTest, ConfigErrors) {
  EXPECT_FALSE(Make("url: ftp://x\ninclude_holds: sometimes\ntokn: x\n"));
  std::string e = errors_.ToString();
  EXPECT_NE(e.find("agent.yaml:1:6: targets[0].feed.url: expected an http:// or https:// URL"),
            std::string::npos)
      << e;
  EXPECT_NE(
      e.find("targets[0].feed.include_holds: expected true, false or both, got \"sometimes\""),
      std::string::npos)
      << e;
  EXPECT_NE(e.find("targets[0].feed.tokn: unknown key \"tokn\"; did you mean \"token\"?"),
            std::string::npos)
      << e;
}

}  // namespace
}  // namespace calprobe::probes::feed
