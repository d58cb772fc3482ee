// Faults (each observable through the service), the outbound feed, tokens,
// the event queue.

#include "calendar/ics/ics.h"
#include "calendar/oracle/compare.h"
#include "sandbox/feed.h"
#include "sandbox_test_util.h"

namespace calprobe::sandbox::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;
namespace oracle = calendar::oracle;

Fault F(const std::string& name, const std::string& provider = "",
        std::map<std::string, double> params = {}) {
  return Fault{name, provider, std::move(params)};
}

TEST(FaultSetTest, ValidatesNamesAndParams) {
  FaultSet f;
  EXPECT_FALSE(f.Set(F("nope")).ok());
  EXPECT_NE(f.Set(F("nope")).message().find("known faults: latency"), std::string::npos);
  EXPECT_FALSE(f.Set(F("errors", "", {{"rate", 2}})).ok());
  EXPECT_FALSE(f.Set(F("errors", "", {{"status", 404}})).ok());
  EXPECT_TRUE(f.Set(F("errors", "", {{"rate", 0.25}})).ok());
  EXPECT_TRUE(f.Set(F("latency", "p", {{"ms", 50}})).ok());
  EXPECT_TRUE(f.Active("latency", "p"));
  EXPECT_FALSE(f.Active("latency", "q"));
  EXPECT_TRUE(f.Active("errors", "q"));
  uint64_t g = f.generation();
  EXPECT_TRUE(f.Set(F("ok")).ok());
  EXPECT_TRUE(f.List().empty());
  EXPECT_GT(f.generation(), g);
}

TEST(FaultSetTest, ProviderSpecificWinsAndErrorShareIsExact) {
  FaultSet f;
  ASSERT_TRUE(f.Set(F("latency", "", {{"ms", 10}})).ok());
  ASSERT_TRUE(f.Set(F("latency", "p", {{"ms", 20}})).ok());
  EXPECT_EQ(f.Find("latency", "p")->Param("ms", 0), 20);
  EXPECT_EQ(f.Find("latency", "x")->Param("ms", 0), 10);
  int failed = 0;
  for (int i = 0; i < 100; ++i) failed += f.NextErrorDraw(0.3);
  EXPECT_EQ(failed, 30);
}

TEST_F(SandboxFixture, FaultSlotsMissingDropsEveryNth) {
  size_t berlin = Monday("b").slots.size();
  ASSERT_GT(berlin, 0u);
  ASSERT_TRUE(faults.Set(F("slots_missing")).ok());
  FeasibilityAnswer a = Monday();
  EXPECT_EQ(a.slots.size(), 12u);
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T09:00:00-04:00"));
  EXPECT_EQ(Monday("b").slots.size(), berlin - (berlin + 3) / 4);  // a global fault
  ASSERT_TRUE(faults.Set(F("ok")).ok());
  EXPECT_EQ(Monday().slots.size(), 16u);  // fault changes invalidate the cache
}

TEST_F(SandboxFixture, FaultSlotsExtraInException) {
  ASSERT_TRUE(
      service
          ->AddException(
              "p",
              R"({"kind":"blocked","start":"2027-03-15T12:00:00-04:00","end":"2027-03-15T13:00:00-04:00"})")
          .ok());
  EXPECT_EQ(Monday().slots.size(), 14u);
  ASSERT_TRUE(faults.Set(F("slots_extra_in_exception", "p")).ok());
  FeasibilityAnswer a = Monday();
  EXPECT_EQ(a.slots.size(), 16u);
  EXPECT_TRUE(HasSlotAt(a, "2027-03-15T12:00:00-04:00"));
}

TEST_F(SandboxFixture, FaultLeadTimeIgnored) {
  base.Set(T("2027-03-15T11:10:00-04:00"));  // cutoff 12:10 -> first slot 12:30
  EXPECT_EQ(Monday().slots.front().start, T("2027-03-15T12:30:00-04:00"));
  ASSERT_TRUE(faults.Set(F("lead_time_ignored")).ok());  // the past stays out
  EXPECT_EQ(Monday().slots.front().start, T("2027-03-15T11:30:00-04:00"));
}

TEST_F(SandboxFixture, FaultDstShiftAcrossTheChangeIsDetectedByTheOracle) {
  base.Set(T("2027-03-10T12:00:00Z"));
  FeasibilityQuery q{"p", T("2027-03-12T00:00:00-05:00"), T("2027-03-17T00:00:00-04:00"), 0};
  auto good = service->Feasibility(q);
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(faults.Set(F("dst_shift")).ok());
  auto bad = service->Feasibility(q);
  ASSERT_TRUE(bad.ok());
  ASSERT_EQ(bad.value->slots.size(), good.value->slots.size());
  // Friday (before the change) is right; Monday and Tuesday are an hour late.
  EXPECT_EQ(bad.value->slots.front(), good.value->slots.front());
  EXPECT_EQ(bad.value->slots.back().start, good.value->slots.back().start + hours(1));
  oracle::ProviderTruth truth = config->providers[0].truth;
  auto shift = oracle::DetectDstShift(truth, good.value->slots, bad.value->slots);
  ASSERT_TRUE(shift.has_value());
  EXPECT_EQ(shift->delta, hours(1));
  // Only the shifted slots that are not valid slots themselves are extra:
  // 17:00 and 17:30 on Monday and Tuesday.
  EXPECT_EQ(shift->slots.size(), 4u);
  auto cmp = oracle::CompareSlots(truth, {q.from, q.to}, clock.Now(), bad.value->slots);
  EXPECT_EQ(cmp.count(oracle::SlotClass::kDstShift), 4);
  EXPECT_EQ(cmp.missing.size(), 4u);
}

TEST_F(SandboxFixture, FaultDstShiftWithoutAChangeUsesTheOtherSeason) {
  ASSERT_TRUE(faults.Set(F("dst_shift")).ok());
  FeasibilityAnswer a = Monday();  // EDT week: computed with EST (-5) -> one hour late
  EXPECT_EQ(a.slots.front().start, T("2027-03-15T10:00:00-04:00"));
}

TEST_F(SandboxFixture, FaultHoldNotHiddenServesTheStaleSlot) {
  ASSERT_TRUE(faults.Set(F("hold_not_hidden", "p")).ok());
  Monday();
  ASSERT_TRUE(HoldAt("2027-03-15T10:00:00-04:00").ok());
  FeasibilityAnswer a = Monday();
  EXPECT_TRUE(a.cache_hit);
  EXPECT_TRUE(HasSlotAt(a, "2027-03-15T10:00:00-04:00"));
}

TEST_F(SandboxFixture, FaultOverlapNotRejected) {
  ASSERT_TRUE(HoldAt("2027-03-15T10:00:00-04:00").ok());
  ASSERT_TRUE(faults.Set(F("overlap_not_rejected")).ok());
  auto dup = HoldAt("2027-03-15T10:00:00-04:00");
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(sink.Last("cal.hold.created")->Bool("overlap_detected"), false);
}

TEST_F(SandboxFixture, FaultHoldNeverExpiresUntilCleared) {
  ASSERT_TRUE(faults.Set(F("hold_never_expires")).ok());
  auto h = HoldAt("2027-03-15T10:00:00-04:00", 30, 1);
  base.Advance(seconds(30));
  EXPECT_EQ(service->Sweep(), 0);
  EXPECT_FALSE(HasSlotAt(Monday(), "2027-03-15T10:00:00-04:00"));
  EXPECT_TRUE(service->ConfirmHold(h.value->id).ok());  // still confirmable: the bug
  ASSERT_TRUE(faults.Set(F("ok")).ok());
  auto h2 = HoldAt("2027-03-15T11:00:00-04:00", 30, 1);
  base.Advance(seconds(1));
  EXPECT_EQ(service->Sweep(), 1);
}

TEST(RenderFeedTest, ValidIcsWithCrlfAndFolding) {
  auto start = *core::ParseRfc3339("2027-03-15T14:00:00Z");
  std::vector<FeedEntry> entries = {
      {"b1@sandbox.calprobe.invalid", {start, start + minutes(30)}, false},
      {"h2@sandbox.calprobe.invalid", {start + hours(1), start + hours(2)}, true}};
  std::string name(120, 'n');
  std::string ics = RenderFeed(name, entries, start);
  EXPECT_EQ(ics.rfind("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 0), 0u);
  EXPECT_NE(ics.find("DTSTART:20270315T140000Z\r\nDTEND:20270315T143000Z\r\n"), std::string::npos);
  EXPECT_NE(ics.find("STATUS:TENTATIVE"), std::string::npos);
  for (size_t pos = 0, nl; (nl = ics.find("\r\n", pos)) != std::string::npos; pos = nl + 2) {
    EXPECT_LE(nl - pos, 75u);
    EXPECT_NE(ics[nl > 0 ? nl - 1 : 0], '\n');
  }
  for (size_t i = 0; i < ics.size(); ++i) {
    if (ics[i] == '\n') {
      EXPECT_EQ(ics[i - 1], '\r');
    }
  }
  calendar::Analysis a = calendar::AnalyzeIcs(ics);
  EXPECT_TRUE(a.usable);
  EXPECT_FALSE(a.has_error());
  for (const auto& f : a.findings) ADD_FAILURE() << f.code << ": " << f.message;
  EXPECT_EQ(a.event_count, 2u);
}

TEST_F(SandboxFixture, FeedTokensHoldsAndRegeneration) {
  const std::string token = "feedtoken-0123456789";
  auto h = HoldAt("2027-03-15T10:00:00-04:00");
  auto b = HoldAt("2027-03-15T11:00:00-04:00");
  ASSERT_TRUE(service->ConfirmHold(b.value->id).ok());

  EXPECT_EQ(service->Feed("p", std::nullopt, false).error.status, 401);
  EXPECT_EQ(service->Feed("p", "wrong-token-0000000", false).error.status, 401);
  auto plain = service->Feed("p", token, false);
  ASSERT_TRUE(plain.ok());
  EXPECT_NE(plain.value->find("UID:" + b.value->booking_id), std::string::npos);
  EXPECT_EQ(plain.value->find("UID:" + h.value->id + "@"), std::string::npos);
  auto with = service->Feed("p", token, true);
  EXPECT_NE(with.value->find("UID:" + h.value->id + "@"), std::string::npos);
  const core::Event* e = sink.Last("cal.ics.feed.requested");
  EXPECT_EQ(e->Bool("include_holds"), true);
  EXPECT_EQ(e->Number("status"), 200);
  EXPECT_EQ(sink.Count("cal.ics.feed.requested"), 4);

  ASSERT_TRUE(faults.Set(F("feed_missing_holds")).ok());
  EXPECT_EQ(service->Feed("p", token, true).value->find("UID:" + h.value->id + "@"),
            std::string::npos);
  ASSERT_TRUE(faults.Set(F("feed_token_not_checked")).ok());
  EXPECT_TRUE(service->Feed("p", std::nullopt, false).ok());
  ASSERT_TRUE(faults.Set(F("ok")).ok());
  ASSERT_TRUE(faults.Set(F("token_expired", "p")).ok());
  auto expired = service->Feed("p", token, false);
  EXPECT_EQ(expired.error.status, 401);
  EXPECT_NE(expired.error.message.find("expired"), std::string::npos);
  ASSERT_TRUE(faults.Set(F("ok")).ok());

  auto fresh = service->RegenerateFeedToken("p");
  ASSERT_TRUE(fresh.ok());
  EXPECT_NE(*fresh.value, token);
  EXPECT_EQ(service->Feed("p", token, false).error.status, 401);
  EXPECT_TRUE(service->Feed("p", *fresh.value, false).ok());
  EXPECT_EQ(sink.Count("cal.ics.feed.token.regenerated"), 1);
  EXPECT_EQ(sink.Last("cal.ics.feed.token.regenerated")->String("reason"), "api");
}

TEST(EventQueueTest, BoundedDropAndRequeue) {
  EventQueue q(3, true, 2);
  for (int i = 0; i < 5; ++i) {
    core::Event e;
    e.name = "cal.x" + std::to_string(i);
    (void)q.Emit(e);
  }
  EXPECT_EQ(q.stats().queued, 3u);
  EXPECT_EQ(q.stats().dropped, 2u);
  EXPECT_EQ(q.Recent("").size(), 2u);
  auto batch = q.Take(2);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].name, "cal.x0");
  (void)q.Emit(core::Event{"cal.y", {}, {}, {}});
  q.Requeue(batch);  // room for 1 of 2: the newest is kept
  auto all = q.Take(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "cal.x1");
  EXPECT_EQ(q.stats().dropped, 3u);
  std::string body = EventQueue::ToNdjson(all);
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 3);
}

TEST(EventQueueTest, WithoutUrlEventsAreKeptForInspectionOnly) {
  EventQueue q(10, false);
  (void)q.Emit(core::Event{"cal.hold.created", {}, {}, {}});
  EXPECT_EQ(q.stats().queued, 0u);
  EXPECT_EQ(q.Recent("cal.hold.created").size(), 1u);
}

}  // namespace
}  // namespace calprobe::sandbox::testing
