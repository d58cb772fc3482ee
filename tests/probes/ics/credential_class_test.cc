#include "probes/ics/credential_class.h"

#include <gtest/gtest.h>

#include "probes/ics/fake_context.h"
#include "probes/ics/poll.h"

namespace calprobe::probes::ics {
namespace {

using testing::Feed;
using testing::Status;

TEST(IcsCredentialClassTest, SecretUrls) {
  EXPECT_TRUE(LooksLikeSecretUrl("https://cal.example/feed.ics?token=abc"));
  EXPECT_TRUE(
      LooksLikeSecretUrl("https://calendar.google.com/calendar/ical/x%40gmail.com/"
                         "private-0f3a9c2e51d84b6f0a1b/basic.ics"));
  EXPECT_TRUE(
      LooksLikeSecretUrl("https://outlook.example/owa/calendar/9f8e7d6c5b4a39281706abcd/cal.ics"));
  EXPECT_FALSE(LooksLikeSecretUrl("https://cal.example/holidays/2027/calendar.ics"));
  EXPECT_FALSE(LooksLikeSecretUrl("https://cal.example/feed.ics?lang=en"));
  EXPECT_FALSE(LooksLikeSecretUrl("https://cal.example/public-holidays-of-the-republic.ics"));
}

TEST(IcsCredentialClassTest, CodesPerStatus) {
  EXPECT_EQ(CredentialCode(401, false), "credential.expired");
  EXPECT_EQ(CredentialCode(403, false), "credential.revoked");
  EXPECT_EQ(CredentialCode(410, true), "credential.secret_url_revoked");
  EXPECT_EQ(CredentialCode(404, true), "credential.secret_url_revoked");
  EXPECT_EQ(CredentialCode(404, false), "");
  EXPECT_EQ(CredentialCode(503, true), "");
  EXPECT_FALSE(IsCredentialStatus(503, true));
  EXPECT_FALSE(IsCredentialStatus(429, true));
  EXPECT_FALSE(IsCredentialStatus(410, false));
}

class IcsCredentialStreakTest : public ::testing::Test {
 protected:
  PollVerdict Poll(const core::HttpResponse& r) {
    now_ += std::chrono::minutes(1);
    PollVerdict v = JudgePoll(
        o_, r, [this] { return stored_; }, now_, &state_);
    if (v.new_snapshot) stored_ = *v.new_snapshot;
    return v;
  }
  Options o_;
  SourceState state_;
  std::optional<calendar::Snapshot> stored_;
  core::TimePoint now_ = std::chrono::system_clock::from_time_t(1'800'000'000);
};

TEST_F(IcsCredentialStreakTest, UnauthorizedAfterSuccessBecomesExpiredAtTheStreak) {
  o_.credential_failure_streak = 3;
  ASSERT_TRUE(Poll(Feed(3, "1", "\"a\"")).success);
  EXPECT_EQ(Poll(Status(401)).error_code, "http.auth_required");
  EXPECT_EQ(Poll(Status(401)).error_code, "http.auth_required");
  PollVerdict v = Poll(Status(401));
  EXPECT_EQ(v.error_code, "credential.expired");
  EXPECT_NE(v.message.find("has expired"), std::string::npos);
  EXPECT_EQ(Poll(Status(401)).error_code, "credential.expired");
}

TEST_F(IcsCredentialStreakTest, TransientErrorsNeitherCountNorReset) {
  o_.credential_failure_streak = 2;
  ASSERT_TRUE(Poll(Feed(3, "1", "\"a\"")).success);
  EXPECT_EQ(Poll(Status(403)).error_code, "http.forbidden");
  EXPECT_EQ(Poll(Status(503)).error_code, "http.server_error");
  EXPECT_EQ(Poll(Status(403)).error_code, "credential.revoked");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Poll(Status(503)).error_code, "http.server_error");
}

TEST_F(IcsCredentialStreakTest, NeverWorkedStaysATransportCode) {
  o_.credential_failure_streak = 1;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Poll(Status(401)).error_code, "http.auth_required");
}

TEST_F(IcsCredentialStreakTest, GoneSecretUrlIsRevokedOnlyForSecretUrls) {
  o_.credential_failure_streak = 1;
  ASSERT_TRUE(Poll(Feed(3, "1", "\"a\"")).success);
  EXPECT_EQ(Poll(Status(410)).error_code, "http.gone");
  o_.secret_url = true;
  EXPECT_EQ(Poll(Status(410)).error_code, "credential.secret_url_revoked");
  ASSERT_TRUE(Poll(Feed(3, "1", "\"b\"")).success);
  EXPECT_EQ(state_.credential_failures, 0);
}

}  // namespace
}  // namespace calprobe::probes::ics
