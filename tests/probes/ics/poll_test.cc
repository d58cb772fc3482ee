#include "probes/ics/poll.h"

#include <gtest/gtest.h>

#include "probes/ics/fake_context.h"

namespace calprobe::probes::ics {
namespace {

using std::chrono::minutes;
using testing::Feed;
using testing::Status;

class IcsPollTest : public ::testing::Test {
 protected:
  PollVerdict Poll(const core::HttpResponse& r) {
    PollVerdict v = JudgePoll(
        o_, r, [this] { return stored_; }, now_, &state_);
    if (v.new_snapshot) stored_ = *v.new_snapshot;
    return v;
  }
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now_.time_since_epoch()).count();
  }

  Options o_;
  SourceState state_;
  std::optional<calendar::Snapshot> stored_;
  core::TimePoint now_ = std::chrono::system_clock::from_time_t(1'800'000'000);
};

TEST_F(IcsPollTest, FirstPollStoresSnapshotAndValidators) {
  PollVerdict v = Poll(Feed(5, "1", "\"a\""));
  EXPECT_TRUE(v.success);
  EXPECT_TRUE(v.first_poll);
  EXPECT_EQ(v.delta.added, 5);
  EXPECT_EQ(v.event_count, 5);
  EXPECT_TRUE(v.new_snapshot);
  EXPECT_EQ(state_.etag, "\"a\"");
  EXPECT_EQ(state_.event_count, 5);
  EXPECT_EQ(state_.tier, 0);
}

TEST_F(IcsPollTest, NotModifiedIsSuccessWithZeroDelta) {
  Poll(Feed(5, "1", "\"a\""));
  PollVerdict v = Poll(Status(304));
  EXPECT_TRUE(v.success);
  EXPECT_TRUE(v.etag_matched);
  EXPECT_EQ(v.delta.total(), 0);
  EXPECT_FALSE(v.new_snapshot);
  EXPECT_EQ(v.event_count, 5);
}

TEST_F(IcsPollTest, DeltaCountsAddedRemovedChanged) {
  Poll(Feed(5, "1"));
  PollVerdict v = Poll(Feed(6, "2"));  // event 0 changed, event 5 added
  EXPECT_TRUE(v.success);
  EXPECT_EQ(v.delta.added, 1);
  EXPECT_EQ(v.delta.changed, 1);
  EXPECT_EQ(v.delta.removed, 0);
  PollVerdict same = Poll(Feed(6, "2"));
  EXPECT_EQ(same.delta.total(), 0);
  EXPECT_FALSE(same.new_snapshot);  // nothing to rewrite
}

TEST_F(IcsPollTest, UnusableBodyKeepsSnapshotAndValidators) {
  Poll(Feed(5, "1", "\"a\""));
  core::HttpResponse html;
  html.status = 200;
  html.headers.emplace_back("content-type", "text/html");
  html.headers.emplace_back("etag", "\"login\"");
  html.body = "<html><body>Sign in</body></html>";
  PollVerdict v = Poll(html);
  EXPECT_FALSE(v.success);
  EXPECT_EQ(v.error_code, "content.not_ics");
  EXPECT_FALSE(v.new_snapshot);
  EXPECT_EQ(state_.etag, "\"a\"");
  EXPECT_EQ(state_.event_count, 5);
  EXPECT_EQ(state_.tier, 1);
  EXPECT_EQ(stored_->events.size(), 5u);
  EXPECT_EQ(v.finding_counts.count("http.content_type"), 1u);
}

TEST_F(IcsPollTest, LadderClimbsCapsAndResets) {
  const int64_t expect_ms[] = {60000, 300000, 900000, 1800000, 1800000};
  for (int i = 0; i < 5; ++i) {
    PollVerdict v = Poll(Status(503));
    EXPECT_EQ(v.error_code, "http.server_error");
    EXPECT_EQ(state_.tier, std::min(i + 1, 4));
    EXPECT_EQ(v.backoff.count(), expect_ms[i]) << i;
    EXPECT_EQ(state_.backoff_until_ms, NowMs() + expect_ms[i]);
  }
  PollVerdict ok = Poll(Feed(2));
  EXPECT_TRUE(ok.success);
  EXPECT_EQ(state_.tier, 0);
  EXPECT_EQ(state_.backoff_until_ms, 0);
}

TEST_F(IcsPollTest, RetryAfterIsHonouredButCappedAtTopTier) {
  PollVerdict v = Poll(Status(429, "600"));
  EXPECT_EQ(v.error_code, "http.rate_limited");
  EXPECT_EQ(v.backoff, minutes(10));  // tier 1 would be 1m
  PollVerdict w = Poll(Status(429, "86400"));
  EXPECT_EQ(w.backoff, minutes(30));  // capped: never stale by politeness
}

TEST_F(IcsPollTest, TransportErrorsClimbToo) {
  core::HttpResponse r;
  r.error = core::TransportError::kDecompressionLimit;
  PollVerdict v = Poll(r);
  EXPECT_EQ(v.error_code, "http.decompression_limit");
  EXPECT_EQ(state_.tier, 1);
  EXPECT_EQ(state_.last_error, "http.decompression_limit");
}

TEST_F(IcsPollTest, MassDeletionKeepsBaselineUntilConfirmed) {
  Poll(Feed(10, "1", "\"full\""));
  for (int i = 1; i < o_.mass_deletion_confirmations; ++i) {
    PollVerdict v = Poll(Feed(3, "1", "\"partial\""));
    EXPECT_FALSE(v.success) << i;
    EXPECT_EQ(v.error_code, "sync.mass_deletion");
    EXPECT_EQ(v.delta.removed, 7);
    EXPECT_EQ(v.previous_event_count, 10);
    EXPECT_FALSE(v.new_snapshot);
    EXPECT_EQ(state_.etag, "\"full\"");  // so the next poll downloads again
    EXPECT_EQ(state_.tier, 0);           // not a fetch error: no backoff
  }
  PollVerdict accepted = Poll(Feed(3, "1", "\"partial\""));
  EXPECT_TRUE(accepted.success);
  EXPECT_TRUE(accepted.mass_deletion_accepted);
  EXPECT_EQ(stored_->events.size(), 3u);
  EXPECT_EQ(state_.etag, "\"partial\"");
}

TEST_F(IcsPollTest, MassDeletionCandidateResetsWhenContentDiffers) {
  Poll(Feed(10));
  EXPECT_EQ(Poll(Feed(3)).error_code, "sync.mass_deletion");
  EXPECT_EQ(Poll(Feed(2)).error_code, "sync.mass_deletion");  // a different partial export
  EXPECT_EQ(state_.pending_count, 1);
  EXPECT_TRUE(Poll(Feed(10)).success);  // back to normal
  EXPECT_EQ(state_.pending_count, 0);
}

TEST_F(IcsPollTest, ConditionalGetProblemsAreNoted) {
  EXPECT_EQ(Poll(Feed(3)).finding_counts.count("http.no_conditional_get"), 1u);  // no validators
  Poll(Feed(3, "1", "\"a\""));
  PollVerdict ignored = Poll(Feed(3, "1", "\"a\""));  // 200 to If-None-Match, same content
  EXPECT_TRUE(ignored.success);
  EXPECT_EQ(ignored.finding_counts.count("http.no_conditional_get"), 1u);
  PollVerdict changed = Poll(Feed(3, "2", "\"b\""));
  EXPECT_EQ(changed.finding_counts.count("http.no_conditional_get"), 0u);
}

TEST_F(IcsPollTest, SmallCalendarsAreNotMassDeletions) {
  Poll(Feed(2));
  EXPECT_TRUE(Poll(Feed(0)).success);  // below mass_deletion_min_events
}

TEST(IcsSourceStateTest, EncodeDecodeRoundTrip) {
  SourceState s;
  s.etag = "\"x\"";
  s.last_modified = "Wed, 21 Oct 2026 07:28:00 GMT";
  s.tier = 3;
  s.backoff_until_ms = 123456789;
  s.last_error = "http.gone";
  s.event_count = 42;
  s.pending_hash = 0xfedcba9876543210ull;
  s.pending_count = 2;
  s.last_success_ms = 99;
  auto back = DecodeState(EncodeState(s));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(DecodeState("not json"));
  EXPECT_FALSE(DecodeState("{\"v\":2}"));
}

TEST(IcsSourceStateTest, StorePersistsStateAndSnapshot) {
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.error();
  SourceStore a(store->get());
  SourceState s;
  s.tier = 2;
  ASSERT_TRUE(a.SaveState("src", s).ok());
  calendar::Snapshot snap;
  snap.events[{"u1", ""}] = 7;
  ASSERT_TRUE(a.SaveSnapshot("src", snap).ok());
  SourceStore b(store->get());  // a restarted probe
  EXPECT_EQ(b.LoadState("src").tier, 2);
  auto loaded = b.LoadSnapshot("src");
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->events.size(), 1u);
  EXPECT_EQ(b.LoadState("other").tier, 0);
  EXPECT_FALSE(b.LoadSnapshot("other"));
}

}  // namespace
}  // namespace calprobe::probes::ics
