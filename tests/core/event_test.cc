#include "core/event.h"

#include <gtest/gtest.h>

namespace calprobe::core {
namespace {

TEST(Rfc3339Test, ParsesUtcOffsetsAndFractions) {
  auto a = ParseRfc3339("2027-03-15T09:00:00Z");
  auto b = ParseRfc3339("2027-03-15T10:00:00+01:00");
  auto c = ParseRfc3339("2027-03-15T04:00:00.000-05:00");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  auto d = ParseRfc3339("2027-03-15T09:00:00.250Z");
  ASSERT_TRUE(d);
  EXPECT_EQ(*d - *a, std::chrono::milliseconds(250));
  EXPECT_EQ(FormatRfc3339(*d), "2027-03-15T09:00:00.250Z");
}

TEST(Rfc3339Test, RejectsMalformed) {
  for (const char* s : {"", "2027-03-15", "2027-03-15T09:00:00", "2027-02-30T09:00:00Z",
                        "2027-03-15T25:00:00Z", "2027-03-15T09:00:00+0100", "2027-03-15T09:00:00Zx",
                        "2027-03-15T09:00:00.Z"}) {
    EXPECT_FALSE(ParseRfc3339(s)) << s;
  }
}

TEST(EventJsonTest, RoundTripsTheWireFormat) {
  const char* line =
      R"({"name":"cal.hold.created","time":"2027-03-15T09:00:00Z","labels":{"provider":"p1","region":"us-east"},"fields":{"source":"search","ttl_minutes":15,"overlap_detected":false,"hold_id":"h1","ratio":0.5}})";
  auto e = ParseEventJson(line);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->name, "cal.hold.created");
  EXPECT_EQ(e->labels.Get(Label::kProvider), "p1");
  EXPECT_EQ(e->labels.Get(Label::kRegion), "us-east");
  EXPECT_EQ(e->Number("ttl_minutes"), 15);
  EXPECT_EQ(e->Number("ratio"), 0.5);
  EXPECT_EQ(e->Bool("overlap_detected"), false);
  EXPECT_EQ(e->String("hold_id"), "h1");
  EXPECT_FALSE(e->Number("source"));
  auto again = ParseEventJson(EventToJson(*e));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(EventToJson(*again), EventToJson(*e));
  EXPECT_TRUE(std::holds_alternative<int64_t>(*again->Find("ttl_minutes")));
}

TEST(EventJsonTest, ErrorsNameTheProblem) {
  struct Case {
    const char* line;
    const char* error;
  } cases[] = {
      {"nope", "not valid JSON"},
      {"[]", "expected a JSON object"},
      {R"({"time":"2027-03-15T09:00:00Z"})", "missing \"name\""},
      {R"({"name":"x"})", "missing \"time\""},
      {R"({"name":"x","time":"yesterday"})", "'yesterday' is not RFC 3339"},
      {R"({"name":"x","time":"2027-03-15T09:00:00Z","labels":{"tenant":"a"}})", "unknown label \"tenant\""},
      {R"({"name":"x","time":"2027-03-15T09:00:00Z","labels":{"provider":1}})", "label \"provider\" must be a string"},
      {R"({"name":"x","time":"2027-03-15T09:00:00Z","fields":{"a":[1]}})", "field \"a\" must be a string, number or boolean"},
      {R"({"name":"x","time":"2027-03-15T09:00:00Z","extra":1})", "unknown key \"extra\""},
  };
  for (const auto& c : cases) {
    auto e = ParseEventJson(c.line);
    ASSERT_FALSE(e.ok()) << c.line;
    EXPECT_NE(e.error().find(c.error), std::string::npos) << c.line << " -> " << e.error();
  }
}

TEST(LabelsTest, NamesAndHash) {
  EXPECT_EQ(LabelFromName("src_id"), Label::kSrcId);
  EXPECT_FALSE(LabelFromName("tenant"));
  Labels a, b;
  a.Set(Label::kProvider, "p1");
  b.Set(Label::kProvider, "p1");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Hash(), b.Hash());
  b.Set(Label::kRegion, "eu");
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace calprobe::core
