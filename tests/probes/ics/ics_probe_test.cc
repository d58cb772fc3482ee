#include "probes/ics/ics_probe.h"

#include <gtest/gtest.h>

#include "probes/ics/fake_context.h"

namespace calprobe::probes::ics {
namespace {

using testing::FakeContext;
using testing::Feed;
using testing::Status;

struct Made {
  std::unique_ptr<core::Probe> probe;
  std::string errors;
};

Made Make(const std::string& yaml, const core::TargetInfo& info) {
  auto factory = NewFactory();
  core::ConfigErrors errors;
  core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>("t.yaml"),
                     "targets[0].ics", &errors);
  Made m;
  m.probe = factory->Create(n, info);
  m.errors = errors.ToString();
  return m;
}

core::TargetInfo Info(const std::string& src_id = "") {
  core::TargetInfo info;
  info.name = "feed-1";
  info.probe_type = "ics";
  if (!src_id.empty()) info.labels.Set(core::Label::kSrcId, src_id);
  return info;
}

class IcsProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = core::Store::Open(":memory:");
    ASSERT_TRUE(s.ok());
    store_ = std::move(s.value());
  }
  core::ProbeOutcome RunOnce(core::Probe& p, FakeContext& ctx) {
    core::ProbeOutcome out;
    bool called = false;
    p.Run(ctx, [&](core::ProbeOutcome o) {
      out = std::move(o);
      called = true;
    });
    EXPECT_TRUE(called);
    return out;
  }
  std::string Header(const core::HttpRequest& q, const std::string& name) {
    for (const auto& [k, v] : q.headers) {
      if (k == name) return v;
    }
    return "";
  }

  core::ManualClock clock_{std::chrono::system_clock::from_time_t(1'800'000'000)};
  std::unique_ptr<core::Store> store_;
};

TEST_F(IcsProbeTest, ConditionalGetAndEvents) {
  Made m = Make("url: webcal://cal.example/a.ics\n", Info("src-a"));
  ASSERT_TRUE(m.probe) << m.errors;
  FakeContext ctx(&clock_, store_.get());
  ctx.http_client.responses.push_back(Feed(3, "1", "\"v1\""));
  core::ProbeOutcome first = RunOnce(*m.probe, ctx);
  EXPECT_TRUE(first.success) << first.message;
  EXPECT_EQ(ctx.http_client.requests[0].url, "https://cal.example/a.ics");
  EXPECT_EQ(Header(ctx.http_client.requests[0], "If-None-Match"), "");

  ctx.http_client.responses.push_back(Status(304));
  core::ProbeOutcome second = RunOnce(*m.probe, ctx);
  EXPECT_TRUE(second.success);
  EXPECT_EQ(Header(ctx.http_client.requests[1], "If-None-Match"), "\"v1\"");
  EXPECT_EQ(second.details["etag_matched"], true);

  ASSERT_EQ(ctx.sink.events.size(), 2u);
  const core::Event& e0 = ctx.sink.events[0];
  EXPECT_EQ(e0.name, "cal.ics.poll.ok");
  EXPECT_EQ(e0.labels.Get(core::Label::kSrcId), "src-a");
  EXPECT_EQ(e0.labels.Get(core::Label::kOrigin), "synthetic");
  EXPECT_EQ(e0.labels.Get(core::Label::kProvider), "p1");
  EXPECT_EQ(e0.Number("delta_event_count"), 3);
  EXPECT_EQ(e0.Number("http_status"), 200);
  EXPECT_EQ(e0.Bool("etag_matched"), false);
  const core::Event& e1 = ctx.sink.events[1];
  EXPECT_EQ(e1.Bool("etag_matched"), true);
  EXPECT_EQ(e1.Number("delta_event_count"), 0);
  EXPECT_EQ(e1.Number("http_status"), 304);
}

TEST_F(IcsProbeTest, BackoffSkipsTheNetworkAndSaysSo) {
  Made m = Make("url: https://cal.example/a.ics\nretry_tiers: [2s, 10s]\n", Info());
  ASSERT_TRUE(m.probe) << m.errors;
  FakeContext ctx(&clock_, store_.get());
  ctx.http_client.responses.push_back(Status(503, "1"));
  core::ProbeOutcome failed = RunOnce(*m.probe, ctx);
  EXPECT_EQ(failed.reason, "http.server_error");
  EXPECT_EQ(failed.details["retry_tier"], 1);
  ASSERT_EQ(ctx.sink.events.size(), 1u);
  EXPECT_EQ(ctx.sink.events[0].name, "cal.ics.poll.error");
  EXPECT_EQ(ctx.sink.events[0].String("error_code"), "http.server_error");
  EXPECT_EQ(ctx.sink.events[0].labels.Get(core::Label::kSrcId), "feed-1");  // default src_id

  clock_.Advance(std::chrono::seconds(1));
  core::ProbeOutcome skipped = RunOnce(*m.probe, ctx);
  EXPECT_EQ(skipped.reason, "ics.backoff");
  EXPECT_NE(skipped.message.find("http.server_error"), std::string::npos);
  EXPECT_EQ(ctx.http_client.requests.size(), 1u);  // no request
  EXPECT_EQ(ctx.sink.events.size(), 1u);           // no poll, no event

  clock_.Advance(std::chrono::seconds(2));
  ctx.http_client.responses.push_back(Status(503));
  EXPECT_EQ(RunOnce(*m.probe, ctx).details["retry_tier"], 2);
  clock_.Advance(std::chrono::seconds(11));
  ctx.http_client.responses.push_back(Feed(1));
  core::ProbeOutcome ok = RunOnce(*m.probe, ctx);
  EXPECT_TRUE(ok.success);
  EXPECT_EQ(ok.details["retry_tier"], 0);
}

TEST_F(IcsProbeTest, StateSurvivesARestart) {
  {
    Made m = Make("url: https://cal.example/a.ics\n", Info("s"));
    FakeContext ctx(&clock_, store_.get());
    ctx.http_client.responses.push_back(Feed(4, "1", "\"e\""));
    RunOnce(*m.probe, ctx);
  }
  Made again = Make("url: https://cal.example/a.ics\n", Info("s"));
  FakeContext ctx(&clock_, store_.get());
  ctx.http_client.responses.push_back(Feed(5, "1", "\"f\""));
  core::ProbeOutcome out = RunOnce(*again.probe, ctx);
  EXPECT_EQ(Header(ctx.http_client.requests[0], "If-None-Match"), "\"e\"");
  EXPECT_EQ(out.details["added"], 1);
  EXPECT_EQ(out.details["first_poll"], false);
}

TEST_F(IcsProbeTest, WorksWithoutAStore) {
  Made m = Make("url: https://cal.example/a.ics\n", Info());
  FakeContext ctx(&clock_, nullptr);
  ctx.http_client.responses.push_back(Feed(2, "1", "\"e\""));
  ctx.http_client.responses.push_back(Feed(2, "2", "\"g\""));
  RunOnce(*m.probe, ctx);
  core::ProbeOutcome out = RunOnce(*m.probe, ctx);
  EXPECT_EQ(out.details["changed"], 1);
}

TEST(IcsProbeConfig, RejectsBadOptionsWithPaths) {
  const std::pair<std::string, std::string> cases[] = {
      {"{}", "targets[0].ics: missing required key \"url\""},
      {"url: ftp://x/a.ics", "targets[0].ics.url: expected an http://, https:// or webcal:// URL"},
      {"url: https://x\nmass_deletion_threshold: 1.5",
       "targets[0].ics.mass_deletion_threshold: "
       "expected a share in (0, 1]"},
      {"url: https://x\nretry_tiers: []", "targets[0].ics.retry_tiers: expected a non-empty list"},
      {"url: https://x\nretry_tiers: [5m, 1m]",
       "targets[0].ics.retry_tiers[1]: retry tiers must "
       "not decrease"},
      {"url: https://x\nbogus: 1", "targets[0].ics.bogus"},
  };
  for (const auto& [yaml, want] : cases) {
    Made m = Make(yaml, Info());
    EXPECT_FALSE(m.probe) << yaml;
    EXPECT_NE(m.errors.find(want), std::string::npos) << yaml << "\n got: " << m.errors;
  }
  Made none = Make("", Info());
  EXPECT_FALSE(none.probe);
  EXPECT_NE(none.errors.find("the ics probe needs options"), std::string::npos) << none.errors;
}

}  // namespace
}  // namespace calprobe::probes::ics
