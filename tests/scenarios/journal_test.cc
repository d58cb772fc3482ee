// The cleanup journal: entries survive in the store, replay sends each
// request once and forgets entries that are done (2xx/404/410), keeps failed
// ones for the next start and gives up after five attempts.

#include "probes/scenario/journal.h"

#include <gtest/gtest.h>

#include "core/secrets.h"
#include "core/store.h"
#include "tests/fakes/fake_http_client.h"

namespace calprobe::probes::scenario {
namespace {

using testing::FakeHttpClient;

PendingRequest Delete(const std::string& url) {
  PendingRequest p;
  p.step = "release";
  p.request.method = "DELETE";
  p.request.url = url;
  p.request.headers = {{"Authorization", "Bearer api-token-1"}};
  return p;
}

TEST(CleanupJournal, RecordReplaceRemove) {
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  CleanupJournal j(store->get());
  ASSERT_TRUE(j.Record("a", "hold-to-confirm", {Delete("http://x/holds/h1")}).ok());
  ASSERT_TRUE(j.Record("b", "hold-expiry", {Delete("http://x/holds/h2")}).ok());
  ASSERT_TRUE(j.Record("a", "hold-to-confirm",
                       {Delete("http://x/holds/h1"), Delete("http://x/bookings/b1")})
                  .ok());
  auto p = j.Pending();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)["a"]["requests"].size(), 2u);
  EXPECT_EQ((*p)["a"]["requests"][1]["url"], "http://x/bookings/b1");
  ASSERT_TRUE(j.Remove("a").ok());
  ASSERT_TRUE(j.Record("b", "hold-expiry", {}).ok());  // nothing left to clean: removed
  EXPECT_TRUE(j.Pending()->empty());
  EXPECT_TRUE(store->get()->Get(kJournalNamespace, "pending")->has_value() == false);
}

TEST(CleanupJournal, ReplaySendsEachRequestAndForgetsDoneEntries) {
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  CleanupJournal j(store->get());
  ASSERT_TRUE(j.Record("gone", "s", {Delete("http://x/holds/h1")}).ok());
  ASSERT_TRUE(j.Record("failing", "s", {Delete("http://x/holds/h2")}).ok());
  FakeHttpClient http;
  http.SetHandler([](const core::HttpRequest& r) {
    core::HttpResponse resp;
    resp.status = r.url.ends_with("h1") ? 404 : 503;  // 404: already gone, counts as done
    return resp;
  });
  int sent = -1;
  ReplayJournal(store->get(), http, [&](int n) { sent = n; });
  EXPECT_EQ(sent, 2);
  ASSERT_EQ(http.requests().size(), 2u);
  EXPECT_EQ(http.requests()[0].method, "DELETE");
  EXPECT_EQ(http.requests()[0].headers[0].second, "Bearer api-token-1");
  auto p = j.Pending();
  EXPECT_FALSE(p->contains("gone"));
  ASSERT_TRUE(p->contains("failing"));
  EXPECT_EQ((*p)["failing"]["attempts"], 1);
  for (int i = 0; i < 4; ++i) ReplayJournal(store->get(), http, [](int) {});
  EXPECT_TRUE(j.Pending()->empty());  // gave up after 5 attempts
  EXPECT_EQ(http.requests().size(), 6u);
}

TEST(CleanupJournal, SecretsAreSealedAtRestAndRestoredOnReplay) {
  core::Secrets::ClearForTest();
  core::Secrets::Register("api-token-1");        // from the config: known again after a restart
  core::Secrets::Register("captured-session-9");  // captured by the journey: gone after one
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  CleanupJournal j(store->get());
  ASSERT_TRUE(j.Record("cfg", "s", {Delete("http://x/holds/h1?key=api-token-1")}).ok());
  PendingRequest captured = Delete("http://x/holds/h2");
  captured.request.headers = {{"X-Session", "captured-session-9"}};
  captured.request.body = "{\"session\":\"captured-session-9\"}";
  ASSERT_TRUE(j.Record("cap", "s", {captured}).ok());
  const std::string at_rest = **store->get()->Get(kJournalNamespace, "pending");
  EXPECT_EQ(at_rest.find("api-token-1"), std::string::npos) << at_rest;
  EXPECT_EQ(at_rest.find("captured-session-9"), std::string::npos) << at_rest;

  // "Restart": only the config's secret is registered again.
  core::Secrets::ClearForTest();
  core::Secrets::Register("api-token-1");
  FakeHttpClient http;
  http.SetHandler([](const core::HttpRequest&) {
    core::HttpResponse resp;
    resp.status = 204;
    return resp;
  });
  int sent = -1;
  ReplayJournal(store->get(), http, [&](int n) { sent = n; });
  EXPECT_EQ(sent, 1);  // the captured-secret request cannot be rebuilt: not sent
  ASSERT_EQ(http.requests().size(), 1u);
  EXPECT_EQ(http.requests()[0].url, "http://x/holds/h1?key=api-token-1");
  EXPECT_EQ(http.requests()[0].headers[0].second, "Bearer api-token-1");
  EXPECT_TRUE(j.Pending()->empty());  // both entries settled (one by hand: logged)
  core::Secrets::ClearForTest();
}

TEST(CleanupJournal, JourneysWaitForTheReplayWhichRunsOncePerStore) {
  auto store = core::Store::Open(":memory:");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(CleanupJournal(store->get()).Record("t", "s", {Delete("http://x/holds/h1")}).ok());
  FakeHttpClient http;
  http.SetDeferred(true);
  http.SetHandler([](const core::HttpRequest&) { return FakeHttpClient::Ok("{}"); });
  std::vector<std::string> order;
  AfterJournalReplay(store->get(), http, [&] { order.push_back("first"); });
  AfterJournalReplay(store->get(), http, [&] { order.push_back("second"); });
  EXPECT_TRUE(order.empty());  // the replay's DELETE is still in flight
  EXPECT_EQ(http.requests().size(), 1u);
  http.DeliverAll();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second"}));
  AfterJournalReplay(store->get(), http, [&] { order.push_back("third"); });
  EXPECT_EQ(order.size(), 3u);
  EXPECT_EQ(http.requests().size(), 1u);  // replayed once
  EXPECT_TRUE(CleanupJournal(store->get()).Pending()->empty());
}

}  // namespace
}  // namespace calprobe::probes::scenario
