// SandboxService: feasibility, cache, holds, overlap, expiry, bookings,
// rules/exceptions/busy sources, on a ManualClock (no sockets, no sleeps).

#include "calendar/oracle/compare.h"
#include "sandbox_test_util.h"

namespace calprobe::sandbox::testing {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST_F(SandboxFixture, FeasibilityReturnsRuleSlotsAndEmitsEvents) {
  FeasibilityAnswer a = Monday();
  ASSERT_EQ(a.slots.size(), 16u);  // 09:00 .. 16:30 local
  EXPECT_EQ(a.slots.front().start, T("2027-03-15T09:00:00-04:00"));
  EXPECT_EQ(a.slots.back().end, T("2027-03-15T17:00:00-04:00"));
  EXPECT_FALSE(a.cache_hit);
  EXPECT_FALSE(a.truncated);
  EXPECT_EQ(a.candidate_windows, 16);
  EXPECT_EQ(sink.Count("cal.feasible.cache.miss"), 1);
  const core::Event* g = sink.Last("cal.feasible.generated");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->Number("slot_count"), 16);
  EXPECT_EQ(g->Number("candidate_windows"), 16);
  EXPECT_EQ(g->Bool("truncated"), false);
  EXPECT_EQ(g->labels.Get(core::Label::kProvider), "p");
  EXPECT_EQ(g->labels.Get(core::Label::kRole), "therapist");
  EXPECT_EQ(g->labels.Get(core::Label::kRegion), "test-region");
  EXPECT_EQ(g->labels.Get(core::Label::kOrigin), "platform");
}

TEST_F(SandboxFixture, CacheHitsWithinTtlAndMissesAfter) {
  Monday();
  FeasibilityAnswer a = Monday();
  EXPECT_TRUE(a.cache_hit);
  EXPECT_EQ(sink.Count("cal.feasible.cache.hit"), 1);
  EXPECT_EQ(sink.Count("cal.feasible.generated"), 1);  // generated only when computed
  base.Advance(minutes(4) + seconds(59));
  EXPECT_TRUE(Monday().cache_hit);
  base.Advance(seconds(1));
  EXPECT_FALSE(Monday().cache_hit);
  EXPECT_EQ(sink.Count("cal.feasible.cache.miss"), 2);
}

TEST_F(SandboxFixture, CacheHitStillHonoursLeadTime) {
  base.Set(T("2027-03-15T07:57:00-04:00"));  // cutoff 08:57
  EXPECT_TRUE(HasSlotAt(Monday(), "2027-03-15T09:00:00-04:00"));
  base.Set(T("2027-03-15T08:01:00-04:00"));  // cutoff 09:01, within the TTL of that answer
  FeasibilityAnswer a = Monday();
  EXPECT_TRUE(a.cache_hit);
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T09:00:00-04:00"));
}

TEST_F(SandboxFixture, HoldHidesSlotAndInvalidatesCache) {
  Monday();
  auto h = HoldAt("2027-03-15T10:00:00-04:00");
  ASSERT_TRUE(h.ok()) << h.error.message;
  EXPECT_EQ(h.value->expires_at, clock.Now() + seconds(60));
  FeasibilityAnswer a = Monday();
  EXPECT_FALSE(a.cache_hit);
  EXPECT_EQ(a.slots.size(), 15u);
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T10:00:00-04:00"));
  const core::Event* e = sink.Last("cal.hold.created");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->String("source"), "test");
  EXPECT_EQ(e->Number("ttl_minutes"), 1.0);
  EXPECT_EQ(e->Bool("overlap_detected"), false);
  EXPECT_EQ(e->String("hold_id"), h.value->id);
}

TEST_F(SandboxFixture, OverlappingHoldIsRejectedTouchingIsNot) {
  ASSERT_TRUE(HoldAt("2027-03-15T10:00:00-04:00").ok());
  auto dup = HoldAt("2027-03-15T10:15:00-04:00");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error.status, 409);
  EXPECT_EQ(dup.error.extra["overlap_detected"], true);
  EXPECT_EQ(sink.Last("cal.hold.created")->Bool("overlap_detected"), true);
  EXPECT_TRUE(HoldAt("2027-03-15T10:30:00-04:00").ok());  // touches the first
}

TEST_F(SandboxFixture, HoldExpiresOnTimeAndSlotReturns) {
  auto h = HoldAt("2027-03-15T10:00:00-04:00", 30, 2);
  ASSERT_TRUE(h.ok());
  base.Advance(seconds(1));
  EXPECT_EQ(service->Sweep(), 0);
  EXPECT_EQ(service->GetHold(h.value->id).value->state, HoldState::kActive);
  base.Advance(seconds(1));
  EXPECT_EQ(service->Sweep(), 1);
  EXPECT_EQ(service->GetHold(h.value->id).value->state, HoldState::kExpired);
  const core::Event* e = sink.Last("cal.hold.expired");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->String("hold_id"), h.value->id);
  EXPECT_TRUE(HasSlotAt(Monday(), "2027-03-15T10:00:00-04:00"));
  auto c = service->ConfirmHold(h.value->id);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error.status, 410);
}

TEST_F(SandboxFixture, ExpiryIsLazyWithoutSweep) {
  auto h = HoldAt("2027-03-15T10:00:00-04:00", 30, 1);
  base.Advance(seconds(5));
  EXPECT_TRUE(HasSlotAt(Monday(), "2027-03-15T10:00:00-04:00"));
  EXPECT_EQ(sink.Count("cal.hold.expired"), 1);
}

TEST_F(SandboxFixture, ConfirmConvertsToBookingIdempotently) {
  auto h = HoldAt("2027-03-15T11:00:00-04:00", 60, 30);
  ASSERT_TRUE(h.ok());
  auto b = service->ConfirmHold(h.value->id);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.value->hold_id, h.value->id);
  EXPECT_EQ(sink.Count("cal.hold.converted"), 1);
  auto again = service->ConfirmHold(h.value->id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value->id, b.value->id);
  EXPECT_EQ(sink.Count("cal.hold.converted"), 1);
  base.Advance(minutes(10));  // the TTL no longer matters
  FeasibilityAnswer a = Monday();
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T11:00:00-04:00"));
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T11:30:00-04:00"));
  EXPECT_EQ(service->Bookings("p").size(), 1u);
  EXPECT_EQ(HoldAt("2027-03-15T11:30:00-04:00").error.status, 409);  // bookings block holds
  ASSERT_TRUE(service->DeleteBooking(b.value->id).ok());
  EXPECT_TRUE(HasSlotAt(Monday(), "2027-03-15T11:00:00-04:00"));
}

TEST_F(SandboxFixture, ReleaseFreesTheSlot) {
  auto h = HoldAt("2027-03-15T10:00:00-04:00");
  ASSERT_TRUE(service->ReleaseHold(h.value->id).ok());
  EXPECT_EQ(service->GetHold(h.value->id).value->state, HoldState::kReleased);
  EXPECT_TRUE(HasSlotAt(Monday(), "2027-03-15T10:00:00-04:00"));
  EXPECT_EQ(service->ConfirmHold(h.value->id).error.status, 410);
  EXPECT_TRUE(service->Holds("p", true).empty());
}

TEST_F(SandboxFixture, HoldValidation) {
  HoldRequest r;
  r.provider_id = "nope";
  EXPECT_EQ(service->CreateHold(r).error.status, 404);
  r.provider_id = "p";
  r.start = r.end = T("2027-03-15T10:00:00Z");
  auto e = service->CreateHold(r);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_EQ(e.error.param, "end");
  r.end = r.start + minutes(30);
  r.ttl_seconds = 0;
  EXPECT_EQ(service->CreateHold(r).error.param, "ttl_seconds");
}

TEST_F(SandboxFixture, FeasibilityValidationNamesTheParameter) {
  auto r = service->Feasibility({"p", T("2027-03-16T00:00:00Z"), T("2027-03-15T00:00:00Z"), 0});
  EXPECT_EQ(r.error.status, 400);
  EXPECT_EQ(r.error.param, "to");
  r = service->Feasibility({"p", T("2027-01-01T00:00:00Z"), T("2027-06-01T00:00:00Z"), 0});
  EXPECT_EQ(r.error.param, "to");
  EXPECT_NE(r.error.message.find("62 days"), std::string::npos);
  EXPECT_EQ(service->Feasibility({"zz", T("2027-03-15T00:00:00Z"), T("2027-03-16T00:00:00Z"), 0})
                .error.status,
            404);
}

TEST_F(SandboxFixture, DurationAndTruncation) {
  auto r = service->Feasibility(
      {"p", T("2027-03-15T00:00:00-04:00"), T("2027-03-16T00:00:00-04:00"), 60});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value->slots.size(), 15u);  // 60-minute slots every 30 minutes
  EXPECT_EQ(r.value->slots.front().end - r.value->slots.front().start, minutes(60));
  auto week = service->Feasibility(
      {"p", T("2027-03-15T00:00:00-04:00"), T("2027-03-29T00:00:00-04:00"), 0});
  ASSERT_TRUE(week.ok());
  EXPECT_TRUE(week.value->truncated);
  EXPECT_EQ(week.value->slots.size(), 100u);
  EXPECT_EQ(week.value->candidate_windows, 160);
}

TEST_F(SandboxFixture, RulesUpdateValidatesWithPathsAndEmits) {
  auto bad = service->UpdateRules(
      "p", R"({"rules":[{"weekdays":["mon"],"start":"17:00","end":"09:00"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error.status, 400);
  EXPECT_EQ(bad.error.param, "rules[0].end");
  auto overlap = service->UpdateRules(
      "p",
      R"({"rules":[{"weekdays":["mon"],"start":"09:00","end":"12:00"},{"weekdays":["mon","tue"],"start":"11:00","end":"13:00"}]})");
  ASSERT_FALSE(overlap.ok());
  EXPECT_EQ(overlap.error.param, "rules[1]");
  auto tz = service->UpdateRules("p", R"({"timezone":"Mars/Olympus"})");
  EXPECT_EQ(tz.error.param, "timezone");
  auto unknown = service->UpdateRules("p", R"({"rulez":[]})");
  EXPECT_EQ(unknown.error.param, "rulez");
  EXPECT_EQ(sink.Count("cal.rule.updated"), 0);
  EXPECT_EQ(Monday().slots.size(), 16u);  // unchanged

  auto ok = service->UpdateRules(
      "p",
      R"({"rules":[{"weekdays":["mon","wed"],"start":"10:00","end":"12:00"}],"lead_time_hours":2})");
  ASSERT_TRUE(ok.ok()) << ok.error.message;
  const core::Event* e = sink.Last("cal.rule.updated");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->Number("weekday_mask"), 5);
  EXPECT_EQ(e->String("timezone"), "America/New_York");
  EXPECT_EQ(e->Number("lead_time_hours"), 2);
  EXPECT_EQ(Monday().slots.size(), 4u);
}

TEST_F(SandboxFixture, ExceptionsBlockAndAdd) {
  Monday();
  auto blocked = service->AddException(
      "p",
      R"({"kind":"blocked","start":"2027-03-15T12:00:00-04:00","end":"2027-03-15T13:00:00-04:00"})");
  ASSERT_TRUE(blocked.ok()) << blocked.error.message;
  const core::Event* e = sink.Last("cal.exception.upserted");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->String("kind"), "blocked");
  EXPECT_EQ(e->Number("span_minutes"), 60);
  EXPECT_EQ(Monday().slots.size(), 14u);
  ASSERT_TRUE(
      service
          ->AddException(
              "p",
              R"({"kind":"extra","start":"2027-03-15T18:00:00-04:00","end":"2027-03-15T19:00:00-04:00"})")
          .ok());
  EXPECT_EQ(Monday().slots.size(), 16u);
  auto bad = service->AddException(
      "p", R"({"kind":"later","start":"x","end":"2027-03-15T19:00:00-04:00"})");
  EXPECT_EQ(bad.error.param, "kind");
  EXPECT_EQ(bad.error.details.size(), 2u);
  ASSERT_TRUE(service->DeleteException("p", (*blocked.value)["exception_id"]).ok());
  EXPECT_EQ(Monday().slots.size(), 18u);
}

constexpr const char* kBusyIcs =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
    "BEGIN:VEVENT\r\nUID:busy-1\r\nDTSTAMP:20270301T000000Z\r\n"
    "DTSTART;TZID=America/New_York:20270308T140000\r\nDTEND;TZID=America/"
    "New_York:20270308T150000\r\n"
    "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nSUMMARY:Standup\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

TEST_F(SandboxFixture, InlineBusySourceBlocksRecurringTime) {
  nlohmann::json body = {{"id", "gcal"}, {"ics", kBusyIcs}};
  auto r = service->AddBusySource("p", body.dump());
  ASSERT_TRUE(r.ok()) << r.error.message;
  FeasibilityAnswer a = Monday();
  EXPECT_EQ(a.slots.size(), 14u);
  EXPECT_FALSE(HasSlotAt(a, "2027-03-15T14:00:00-04:00"));
  EXPECT_EQ(service->AddBusySource("p", body.dump()).error.status, 409);
  ASSERT_TRUE(service->DeleteBusySource("p", "gcal").ok());
  EXPECT_EQ(Monday().slots.size(), 16u);
}

TEST_F(SandboxFixture, PolledBusySourceEmitsPollEvents) {
  auto r = service->AddBusySource(
      "p", R"({"id":"ext","url":"http://127.0.0.1:1/cal.ics","poll_interval":"1m"})");
  ASSERT_TRUE(r.ok()) << r.error.message;
  core::TimePoint real = T("2027-01-01T00:00:00Z");
  EXPECT_EQ(service->PollBacklog(real), 1u);
  auto jobs = service->DuePolls(real, 10);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(service->DuePolls(real, 10).empty());  // in flight
  PollOutcome ok{200, "", kBusyIcs, "\"v1\"", "", 12.5};
  service->OnPollResult(jobs[0], ok, real);
  const core::Event* e = sink.Last("cal.ics.poll.ok");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->labels.Get(core::Label::kSrcId), "ext");
  EXPECT_EQ(e->Number("http_status"), 200);
  EXPECT_EQ(e->Bool("etag_matched"), false);
  EXPECT_EQ(e->Number("delta_event_count"), 1);
  EXPECT_FALSE(HasSlotAt(Monday(), "2027-03-15T14:00:00-04:00"));

  EXPECT_TRUE(service->DuePolls(real + std::chrono::seconds(59), 10).empty());
  jobs = service->DuePolls(real + minutes(1), 10);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].etag, "\"v1\"");
  service->OnPollResult(jobs[0], {304, "", "", "", "", 1}, real + minutes(1));
  EXPECT_EQ(sink.Last("cal.ics.poll.ok")->Bool("etag_matched"), true);
  jobs = service->DuePolls(real + minutes(2), 10);
  service->OnPollResult(jobs[0], {500, "", "oops", "", "", 1}, real + minutes(2));
  e = sink.Last("cal.ics.poll.error");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->String("error_code"), "http.status_500");
  EXPECT_FALSE(HasSlotAt(Monday(), "2027-03-15T14:00:00-04:00"));  // keeps the last good data
  jobs = service->DuePolls(real + minutes(3), 10);
  service->OnPollResult(jobs[0], {0, "http.timeout", "", "", "", 10000}, real + minutes(3));
  EXPECT_EQ(sink.Last("cal.ics.poll.error")->String("error_code"), "http.timeout");
  EXPECT_EQ(sink.Last("cal.ics.poll.error")->Number("retry_tier"), 2);
}

}  // namespace
}  // namespace calprobe::sandbox::testing
