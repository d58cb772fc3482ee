// The durable outbox: delivery, retries with backoff and jitter, Retry-After,
// dead letters, order per key and replay after a restart (a reopened store).

#include "core/notify/outbox.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "fakes/fake_http_client.h"

namespace calprobe::core::notify {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeHttpClient;

HttpResponse Answer(int code, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = code;
  r.headers = std::move(headers);
  return r;
}

Delivery D(const std::string& key, bool firing, const std::string& receiver = "pd") {
  Delivery d;
  d.receiver = receiver;
  d.key = key;
  d.firing = firing;
  d.notification = "{\"key\":\"" + key + "\",\"firing\":" + (firing ? "true" : "false") + "}";
  return d;
}

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("calprobe-outbox-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenStore();
    options_.initial_backoff = seconds(1);
    options_.max_backoff = seconds(60);
    options_.give_up_after = std::chrono::hours(1);
    options_.seed = 42;
  }
  void TearDown() override {
    outbox_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenStore() {
    auto s = Store::Open((dir_ / "state.db").string());
    ASSERT_TRUE(s.ok()) << s.error();
    store_ = std::move(s.value());
  }
  void OpenOutbox() {
    auto o = Outbox::Open(
        *store_, http_, clock_, options_, [](const Delivery& d, TimePoint) -> Result<HttpRequest> {
          if (d.receiver == "gone")
            return core::Status::Error("receiver \"gone\" is no longer configured");
          HttpRequest r;
          r.method = "POST";
          r.url = "http://127.0.0.1:1/" + d.receiver;
          r.body = d.notification;
          return r;
        });
    ASSERT_TRUE(o.ok()) << o.error();
    outbox_ = std::move(o.value());
    outbox_->SetObserver([this](const Delivery& d, Outcome o, const std::string& reason) {
      outcomes_.push_back(d.key + ":" + OutcomeName(o) + (reason.empty() ? "" : " " + reason));
    });
  }
  int64_t Rows(const std::string& where) {
    int64_t n = -1;
    std::string sql = "SELECT COUNT(*) FROM outbox WHERE " + where;
    sqlite3_stmt* st;
    sqlite3_prepare_v2(store_->handle(), sql.c_str(), -1, &st, nullptr);
    if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
  FakeHttpClient http_;
  ManualClock clock_{TimePoint(seconds(1'800'000'000))};
  OutboxOptions options_;
  std::unique_ptr<Outbox> outbox_;
  std::vector<std::string> outcomes_;
};

TEST_F(OutboxTest, PersistsBeforeSendingAndDeletesWhenAccepted) {
  OpenOutbox();
  http_.SetDeferred(true);
  http_.SetHandler([](const HttpRequest&) { return Answer(202); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true)}).ok());
  ASSERT_EQ(http_.requests().size(), 1u);
  EXPECT_EQ(Rows("dead_at_ms IS NULL"), 1);  // written before the answer came
  EXPECT_EQ(outbox_->Pending(), 1u);
  http_.DeliverAll();
  EXPECT_EQ(Rows("1"), 0);
  EXPECT_EQ(outbox_->Pending(), 0u);
  EXPECT_EQ(outcomes_, std::vector<std::string>{"k1:delivered http 202"});
}

TEST_F(OutboxTest, RetriesWithExponentialBackoffAndJitter) {
  OpenOutbox();
  http_.SetHandler([](const HttpRequest&) { return Answer(503); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true)}).ok());
  // Attempt n waits in [50 %, 100 %] of min(1s * 2^(n-1), 60s).
  for (int attempt = 1; attempt <= 9; ++attempt) {
    ASSERT_EQ(http_.requests().size(), static_cast<size_t>(attempt));
    int64_t full_ms = std::min<int64_t>(1000LL << (attempt - 1), 60000);
    clock_.Advance(milliseconds(full_ms / 2 - 1));
    outbox_->Pump();
    EXPECT_EQ(http_.requests().size(), static_cast<size_t>(attempt))
        << "too early, attempt " << attempt;
    clock_.Advance(milliseconds(full_ms / 2 + 1));
    outbox_->Pump();
  }
  EXPECT_EQ(http_.requests().size(), 10u);
  // Persisted progress.
  EXPECT_EQ(Rows("attempts = 10 AND last_error = 'http 503'"), 1);
  // Jitter: the same attempt does not always wait the same.
  std::set<int64_t> waits;
  for (int i = 0; i < 20; ++i) waits.insert(outbox_->Backoff(3).count());
  EXPECT_GT(waits.size(), 10u);
  for (int64_t w : waits) {
    EXPECT_GE(w, std::chrono::duration_cast<Duration>(seconds(2)).count());
    EXPECT_LE(w, std::chrono::duration_cast<Duration>(seconds(4)).count());
  }
}

TEST_F(OutboxTest, HonoursRetryAfterOn429) {
  OpenOutbox();
  int calls = 0;
  http_.SetHandler([&](const HttpRequest&) {
    return ++calls == 1 ? Answer(429, {{"retry-after", "30"}}) : Answer(200);
  });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true)}).ok());
  clock_.Advance(seconds(29));
  outbox_->Pump();
  EXPECT_EQ(calls, 1);  // the backoff alone (<= 1s) would have retried by now
  clock_.Advance(seconds(1));
  outbox_->Pump();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(outbox_->Pending(), 0u);
}

TEST_F(OutboxTest, PermanentFailureGoesToDeadLetterList) {
  OpenOutbox();
  http_.SetHandler([](const HttpRequest& r) {
    HttpResponse resp = Answer(r.body.find("k1") != std::string::npos ? 400 : 202);
    resp.body = "invalid_payload";
    return resp;
  });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k2", true), D("k3", true, "gone")}).ok());
  EXPECT_EQ(http_.requests().size(), 2u);  // "gone" is never sent
  EXPECT_EQ(outbox_->Pending(), 0u);
  auto dead = outbox_->DeadLetters(10);
  ASSERT_EQ(dead.size(), 2u);
  EXPECT_EQ(dead[0].delivery.key, "k3");  // newest first
  EXPECT_EQ(dead[0].reason, "receiver \"gone\" is no longer configured");
  EXPECT_EQ(dead[1].delivery.key, "k1");
  EXPECT_EQ(dead[1].reason, "http 400: invalid_payload");
  EXPECT_EQ(outbox_->DeadLetterCounts().at("pd"), 1);
  EXPECT_EQ(outbox_->DeadLetterCounts().at("gone"), 1);
  EXPECT_EQ(Rows("dead_at_ms IS NOT NULL"), 2);
}

TEST_F(OutboxTest, DeadLettersCanBeSentAgainInOrderBehindPendingOnes) {
  OpenOutbox();
  bool receiver_fixed = false;
  http_.SetHandler([&](const HttpRequest&) { return Answer(receiver_fixed ? 202 : 400); });
  // k1 fires and resolves while the receiver rejects everything: both dead.
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k1", false), D("k2", true, "slack")}).ok());
  ASSERT_EQ(outbox_->DeadLetters(10).size(), 3u);
  const size_t base = http_.requests().size();

  // The key is fixed; only pd's letters are retried, a stale one dropped.
  receiver_fixed = true;
  auto counts = outbox_->RetryDeadLetters(
      "pd", [](const Delivery& d) { return d.notification.find("nope") == std::string::npos; });
  ASSERT_TRUE(counts.ok()) << counts.error();
  EXPECT_EQ(counts->requeued, 2u);
  EXPECT_EQ(counts->dropped, 0u);
  ASSERT_EQ(http_.requests().size(), base + 2);  // trigger, then its resolve
  EXPECT_NE(http_.requests()[base].body.find("\"firing\":true"), std::string::npos);
  EXPECT_NE(http_.requests()[base + 1].body.find("\"firing\":false"), std::string::npos);
  EXPECT_EQ(outbox_->DeadLetterCounts().count("pd"), 0u);
  EXPECT_EQ(outbox_->DeadLetterCounts().at("slack"), 1);
  EXPECT_EQ(Rows("dead_at_ms IS NOT NULL"), 1);
  EXPECT_EQ(Rows("1"), 1);  // delivered rows are gone

  // A letter judged not worth sending is deleted, not sent.
  auto none = outbox_->RetryDeadLetters("", [](const Delivery&) { return false; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->requeued, 0u);
  EXPECT_EQ(none->dropped, 1u);
  EXPECT_EQ(http_.requests().size(), base + 2);
  EXPECT_EQ(Rows("1"), 0);
  EXPECT_TRUE(outbox_->DeadLetterCounts().empty());
}

TEST_F(OutboxTest, RetriedDeadLettersKeepTheirOrderAcrossARestart) {
  OpenOutbox();
  http_.SetHandler([](const HttpRequest&) { return Answer(400); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true)}).ok());  // dead
  http_.SetHandler([](const HttpRequest&) { return Answer(503); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", false)}).ok());  // pending (retrying)
  ASSERT_EQ(outbox_->Pending(), 1u);
  ASSERT_TRUE(outbox_->RetryDeadLetters("").ok());  // the old firing goes behind the resolve
  EXPECT_EQ(outbox_->Pending(), 2u);
  // Restart: the same order comes back from the table.
  outbox_.reset();
  const size_t base = http_.requests().size();
  http_.SetHandler([](const HttpRequest&) { return Answer(202); });
  OpenOutbox();
  clock_.Advance(std::chrono::minutes(2));
  outbox_->Pump();
  for (int i = 0; i < 3 && outbox_->Pending() > 0; ++i) {
    clock_.Advance(std::chrono::minutes(2));
    outbox_->Pump();
  }
  ASSERT_EQ(http_.requests().size(), base + 2);
  EXPECT_NE(http_.requests()[base].body.find("\"firing\":false"), std::string::npos);
  EXPECT_NE(http_.requests()[base + 1].body.find("\"firing\":true"), std::string::npos);
}

TEST_F(OutboxTest, KeepsOrderPerKeyWhileOtherKeysProceed) {
  OpenOutbox();
  bool k1_down = true;
  http_.SetHandler([&](const HttpRequest& r) {
    bool k1 = r.body.find("\"k1\"") != std::string::npos;
    return Answer(k1 && k1_down ? 503 : 202);
  });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k2", true)}).ok());
  ASSERT_TRUE(outbox_->Enqueue({D("k1", false), D("k2", false)}).ok());
  // k2: firing and resolved delivered; k1: only its firing tried (twice), resolve waits.
  clock_.Advance(seconds(1));
  outbox_->Pump();
  std::vector<std::string> bodies;
  for (const auto& r : http_.requests()) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{
                        "{\"key\":\"k1\",\"firing\":true}", "{\"key\":\"k2\",\"firing\":true}",
                        "{\"key\":\"k2\",\"firing\":false}", "{\"key\":\"k1\",\"firing\":true}"}));
  http_.ClearRequests();
  k1_down = false;
  clock_.Advance(seconds(2));
  outbox_->Pump();
  bodies.clear();
  for (const auto& r : http_.requests()) bodies.push_back(r.body);
  EXPECT_EQ(bodies, (std::vector<std::string>{"{\"key\":\"k1\",\"firing\":true}",
                                              "{\"key\":\"k1\",\"firing\":false}"}));
  EXPECT_EQ(outbox_->Pending(), 0u);
}

TEST_F(OutboxTest, OneInFlightPerKey) {
  OpenOutbox();
  http_.SetDeferred(true);
  http_.SetHandler([](const HttpRequest&) { return Answer(202); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k1", false)}).ok());
  outbox_->Pump();
  EXPECT_EQ(http_.requests().size(), 1u);
  http_.Deliver();
  EXPECT_EQ(http_.requests().size(), 2u);
  http_.Deliver();
  EXPECT_EQ(outbox_->Pending(), 0u);
}

TEST_F(OutboxTest, PendingDeliveriesSurviveARestart) {
  OpenOutbox();
  http_.SetDeferred(true);  // answers never come: the process "dies" mid-flight
  http_.SetHandler([](const HttpRequest&) { return Answer(202); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k2", true)}).ok());
  ASSERT_TRUE(outbox_->Enqueue({D("k1", false)}).ok());
  EXPECT_EQ(http_.requests().size(), 2u);
  outbox_.reset();
  store_.reset();
  http_.DeliverAll();  // late callbacks of the dead outbox are ignored
  FakeHttpClient fresh;
  OpenStore();
  auto o = Outbox::Open(*store_, fresh, clock_, options_,
                        [](const Delivery& d, TimePoint) -> Result<HttpRequest> {
                          HttpRequest r;
                          r.url = "http://127.0.0.1:1/";
                          r.body = d.notification;
                          return r;
                        });
  ASSERT_TRUE(o.ok());
  EXPECT_EQ((*o)->Pending(), 3u);
  fresh.SetHandler([](const HttpRequest&) { return Answer(202); });
  (*o)->Pump();
  std::vector<std::string> bodies;
  for (const auto& r : fresh.requests()) bodies.push_back(r.body);
  // Oldest head first; k1's resolve after its firing.
  EXPECT_EQ(bodies, (std::vector<std::string>{"{\"key\":\"k1\",\"firing\":true}",
                                              "{\"key\":\"k2\",\"firing\":true}",
                                              "{\"key\":\"k1\",\"firing\":false}"}));
  EXPECT_EQ((*o)->Pending(), 0u);
}

TEST_F(OutboxTest, GivesUpAfterTheConfiguredAge) {
  options_.give_up_after = std::chrono::minutes(10);
  OpenOutbox();
  http_.SetHandler([](const HttpRequest&) { return Answer(502); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true)}).ok());
  for (int i = 0; i < 30 && outbox_->Pending() > 0; ++i) {
    clock_.Advance(seconds(61));
    outbox_->Pump();
  }
  EXPECT_EQ(outbox_->Pending(), 0u);
  auto dead = outbox_->DeadLetters(1);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].reason.rfind("gave up after ", 0), 0u) << dead[0].reason;
  EXPECT_NE(dead[0].reason.find("(last: http 502)"), std::string::npos);
}

TEST_F(OutboxTest, FullOutboxDeadLettersNewDeliveries) {
  options_.max_pending = 2;
  OpenOutbox();
  http_.SetHandler([](const HttpRequest&) { return Answer(503); });
  ASSERT_TRUE(outbox_->Enqueue({D("k1", true), D("k2", true), D("k3", true)}).ok());
  EXPECT_EQ(outbox_->Pending(), 2u);
  auto dead = outbox_->DeadLetters(10);
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].delivery.key, "k3");
  EXPECT_EQ(dead[0].reason, "outbox full (notifications.max_pending reached)");
}

TEST_F(OutboxTest, FailedExtraWriteRollsBackTheDeliveries) {
  OpenOutbox();
  core::Status s =
      outbox_->Enqueue({D("k1", true)}, [] { return core::Status::Error("disk full"); });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Rows("1"), 0);
  EXPECT_EQ(outbox_->Pending(), 0u);
  EXPECT_TRUE(http_.requests().empty());
}

}  // namespace
}  // namespace calprobe::core::notify
