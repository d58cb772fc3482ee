// Tests core/ics_metrics (kept with the ICS probe's tests: it exists for it).
#include "core/ics_metrics.h"

#include <gtest/gtest.h>

namespace calprobe::core {
namespace {

Event Poll(bool ok, const std::string& src, const std::string& provider, double t, int64_t tier = 0,
           bool matched = false) {
  Event e;
  e.name = ok ? "cal.ics.poll.ok" : "cal.ics.poll.error";
  e.time = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(t)));
  e.labels.Set(Label::kSrcId, src);
  e.labels.Set(Label::kProvider, provider);
  e.labels.Set(Label::kOrigin, "synthetic");
  e.With("http_status", int64_t{ok ? (matched ? 304 : 200) : 503})
      .With("etag_matched", matched)
      .With("delta_event_count", int64_t{2})
      .With("payload_bytes", int64_t{matched ? 0 : 1000})
      .With("retry_tier", tier)
      .With("added", int64_t{2});
  if (!ok) e.With("error_code", "http.server_error");
  return e;
}

std::string Render(const IcsMetrics& m) {
  std::string out;
  MetricsWriter w(&out);
  m.Render(&w, 3, 64);
  return out;
}

TEST(IcsMetrics, PerSourceAndPerProviderSeries) {
  IcsMetrics m({});
  Event first = Poll(true, "a", "p1", 100);
  first.With("refresh_interval_seconds", int64_t{3600});
  m.OnEvent(first);
  m.OnEvent(Poll(true, "a", "p1", 160, 0, true));
  m.OnEvent(Poll(false, "b", "p1", 150, 2));
  std::string out = Render(m);
  auto has = [&](const std::string& line) {
    EXPECT_NE(out.find(line + "\n"), std::string::npos) << line << "\n" << out;
  };
  has("calprobe_ics_last_poll_timestamp_seconds{origin=\"synthetic\",provider=\"p1\",src_id=\"a\"} "
      "160");
  has("calprobe_ics_last_success_timestamp_seconds{origin=\"synthetic\",provider=\"p1\",src_id="
      "\"a\"} 160");
  has("calprobe_ics_retry_tier{origin=\"synthetic\",provider=\"p1\",src_id=\"b\"} 2");
  has("calprobe_ics_payload_bytes{origin=\"synthetic\",provider=\"p1\",src_id=\"a\"} 1000");
  has("calprobe_ics_provider_sources{origin=\"synthetic\",provider=\"p1\"} 2");
  has("calprobe_ics_provider_failing_sources{origin=\"synthetic\",provider=\"p1\"} 1");
  has("calprobe_ics_provider_oldest_poll_timestamp_seconds{origin=\"synthetic\",provider=\"p1\"} "
      "150");
  has("calprobe_ics_polls_total{origin=\"synthetic\",provider=\"p1\",result=\"not_modified\"} 1");
  has("calprobe_ics_poll_errors_total{origin=\"synthetic\",provider=\"p1\",code=\"http.server_"
      "error\"} 1");
  has("calprobe_ics_delta_events_total{origin=\"synthetic\",provider=\"p1\",kind=\"added\"} 6");
  has("calprobe_ics_backlog 3");
  has("calprobe_ics_feed_refresh_interval_seconds{origin=\"synthetic\",provider=\"p1\",src_id="
      "\"a\"} 3600");
  has("calprobe_ics_concurrency_limit 64");
  // b never succeeded: no last-success series for it.
  EXPECT_EQ(
      out.find("calprobe_ics_last_success_timestamp_seconds{origin=\"synthetic\",provider=\"p1\","
               "src_id=\"b\"}"),
      std::string::npos);
}

TEST(IcsMetrics, SrcIdCardinalityIsBoundedButProvidersStayExact) {
  IcsMetrics m({2, 500, 1000});
  m.OnEvent(Poll(true, "a", "p1", 100));
  m.OnEvent(Poll(true, "b", "p1", 100));
  m.OnEvent(Poll(true, "c", "p2", 90));
  m.OnEvent(Poll(false, "d", "p2", 120, 3));
  std::string out = Render(m);
  EXPECT_EQ(out.find("src_id=\"c\""), std::string::npos);
  EXPECT_NE(
      out.find("calprobe_ics_last_poll_timestamp_seconds{origin=\"synthetic\",provider=\"p2\","
               "src_id=\"other\"} 90\n"),
      std::string::npos)
      << out;
  EXPECT_NE(
      out.find(
          "calprobe_ics_retry_tier{origin=\"synthetic\",provider=\"p2\",src_id=\"other\"} 3\n"),
      std::string::npos);
  EXPECT_NE(out.find("calprobe_ics_provider_sources{origin=\"synthetic\",provider=\"p2\"} 2\n"),
            std::string::npos);
  EXPECT_NE(out.find("calprobe_ics_sources_tracked 4\n"), std::string::npos);
}

TEST(IcsMetrics, ExactStateIsBoundedToo) {
  IcsMetrics m({10, 10, 2});
  m.OnEvent(Poll(true, "a", "p1", 1));
  m.OnEvent(Poll(true, "b", "p1", 1));
  m.OnEvent(Poll(true, "c", "p1", 1));
  std::string out = Render(m);
  EXPECT_NE(out.find("calprobe_ics_untracked_polls_total 1\n"), std::string::npos) << out;
  EXPECT_NE(
      out.find("calprobe_ics_polls_total{origin=\"synthetic\",provider=\"p1\",result=\"ok\"} 3\n"),
      std::string::npos);
}

TEST(IcsMetrics, IgnoresOtherEvents) {
  IcsMetrics m({});
  Event e;
  e.name = "cal.hold.created";
  m.OnEvent(e);
  EXPECT_NE(Render(m).find("calprobe_ics_sources_tracked 0\n"), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core
