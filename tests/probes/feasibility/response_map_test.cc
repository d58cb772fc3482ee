#include "probes/feasibility/response_map.h"

#include <gtest/gtest.h>

#include "core/event.h"

namespace calprobe::probes::feasibility {
namespace {

using std::chrono::minutes;

core::TimePoint T(const char* s) { return *core::ParseRfc3339(s); }

TEST(FeasibilityMapResponseTest, SandboxShapeWithOffsets) {
  auto r = MapResponse(R"({"provider_id":"p1","slots":[
      {"start":"2027-03-15T09:00:00-04:00","end":"2027-03-15T09:30:00-04:00"},
      {"start":"2027-03-15T13:30:00Z","end":"2027-03-15T14:00:00Z"}],
      "truncated":false,"candidate_windows":12})",
                       ResponseMapping{}, minutes(30));
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->slots.size(), 2u);
  EXPECT_EQ(r->slots[0].start, T("2027-03-15T13:00:00Z"));
  EXPECT_EQ(r->slots[0].end, T("2027-03-15T13:30:00Z"));
  EXPECT_EQ(r->truncated, false);
  EXPECT_EQ(r->candidate_windows, 12);
}

TEST(FeasibilityMapResponseTest, GraphQlShapeWithoutEnd) {
  ResponseMapping m;
  m.slots = "/data/provider/availability/items";
  m.start = "/begins";
  m.has_end = false;
  m.truncated = "/data/provider/availability/isTruncated";
  m.truncated_required = true;
  m.candidate_windows = "/data/provider/availability/windowsConsidered";
  m.errors = "/errors";
  auto r = MapResponse(R"({"data":{"provider":{"availability":{
      "items":[{"begins":"2027-03-15T09:00:00+01:00"}],
      "isTruncated":true,"windowsConsidered":3}}}})",
                       m, minutes(45));
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->slots.size(), 1u);
  EXPECT_EQ(r->slots[0].end - r->slots[0].start, minutes(45));
  EXPECT_EQ(r->truncated, true);
  EXPECT_EQ(r->candidate_windows, 3);

  auto err =
      MapResponse(R"({"errors":[{"message":"provider not found"}],"data":null})", m, minutes(45));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error(), "/errors: provider not found");
}

TEST(FeasibilityMapResponseTest, ElementsThatAreTimestamps) {
  ResponseMapping m;
  m.start = "";
  m.has_end = false;
  auto r =
      MapResponse(R"({"slots":["2027-03-15T09:00:00Z","2027-03-15T09:30:00Z"]})", m, minutes(30));
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->slots.size(), 2u);
  EXPECT_FALSE(r->truncated.has_value());
}

TEST(FeasibilityMapResponseTest, ErrorsSayWhere) {
  const ResponseMapping m;
  EXPECT_EQ(MapResponse("<html>", m, minutes(30)).error(), "body is not valid JSON");
  EXPECT_EQ(MapResponse(R"({"items":[]})", m, minutes(30)).error(), "/slots is missing");
  EXPECT_EQ(MapResponse(R"({"slots":{}})", m, minutes(30)).error(), "/slots is not an array");
  EXPECT_EQ(MapResponse(R"({"slots":[{"start":"9am","end":"x"}]})", m, minutes(30)).error(),
            "/slots/0/start: \"9am\" is not an RFC 3339 time (e.g. 2027-03-15T09:00:00-04:00)");
  EXPECT_EQ(MapResponse(R"({"slots":[{"start":"2027-03-15T09:00:00Z"}]})", m, minutes(30)).error(),
            "/slots/0/end is missing");
  EXPECT_EQ(MapResponse(R"({"slots":[],"truncated":"no"})", m, minutes(30)).error(),
            "/truncated: no is not true/false");
  ResponseMapping strict = m;
  strict.truncated_required = true;
  EXPECT_EQ(MapResponse(R"({"slots":[]})", strict, minutes(30)).error(), "/truncated is missing");
}

TEST(ValidPointerTest, Rfc6901) {
  EXPECT_TRUE(ValidPointer(""));
  EXPECT_TRUE(ValidPointer("/a/0/b~1c"));
  EXPECT_FALSE(ValidPointer("slots"));
  EXPECT_FALSE(ValidPointer("/a~2"));
}

TEST(ParseHttpDateTest, ImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), T("1994-11-06T08:49:37Z"));
  EXPECT_EQ(ParseHttpDate("Sun, 08 Mar 2026 06:59:59 GMT"), T("2026-03-08T06:59:59Z"));
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 31 Feb 2026 08:49:37 GMT"));
  EXPECT_FALSE(ParseHttpDate(""));
}

}  // namespace
}  // namespace calprobe::probes::feasibility
