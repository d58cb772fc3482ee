// Unit tests of the scanner and the value validators (internal API).

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "calendar/ics/scanner.h"
#include "calendar/ics/text.h"
#include "calendar/ics/tz_names.h"
#include "calendar/ics/values.h"

namespace calprobe::calendar::internal {
namespace {

struct Line {
  std::string raw, name, params, value;
  int line;
  bool has_colon;
};

std::vector<Line> ScanAll(std::string_view body) {
  Scanner s(body);
  ContentLine cl;
  std::vector<Line> out;
  while (s.Next(&cl)) {
    out.push_back({std::string(cl.raw), std::string(cl.name), std::string(cl.params),
                   std::string(cl.value), cl.line, cl.has_colon});
  }
  return out;
}

TEST(IcsScanner, UnfoldsAndKeepsFirstPhysicalLine) {
  auto lines = ScanAll("A:1\r\nDESCRIPTION:ab\r\n c\r\n\td\r\nB;X=1:2\r\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].raw, "DESCRIPTION:abcd");
  EXPECT_EQ(lines[1].line, 2);
  EXPECT_EQ(lines[2].line, 5);
  EXPECT_EQ(lines[2].params, "X=1");
  EXPECT_EQ(lines[2].value, "2");
}

TEST(IcsScanner, SplitsQuotedParams) {
  auto lines = ScanAll("ATTENDEE;CN=\"A: B; C\";ROLE=CHAIR:mailto:a@b\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].name, "ATTENDEE");
  EXPECT_EQ(lines[0].params, "CN=\"A: B; C\";ROLE=CHAIR");
  EXPECT_EQ(lines[0].value, "mailto:a@b");
  EXPECT_EQ(FindParam(lines[0].params, "cn"), "A: B; C");
  EXPECT_EQ(FindParam(lines[0].params, "ROLE"), "CHAIR");
  bool found = true;
  EXPECT_EQ(FindParam(lines[0].params, "TZID", &found), "");
  EXPECT_FALSE(found);
}

TEST(IcsScanner, BlankLinesCountButAreSkipped) {
  auto lines = ScanAll("\r\nA:1\r\n\r\nB:2");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, 2);
  EXPECT_EQ(lines[1].line, 4);
  EXPECT_EQ(lines[1].value, "2");
}

TEST(IcsScanner, BomCrOnlyAndEmpty) {
  Scanner bom("\xEF\xBB\xBF" "A:1\r\n");
  EXPECT_TRUE(bom.has_bom());
  Scanner cr("A:1\rB:2\r");
  EXPECT_TRUE(cr.cr_only());
  EXPECT_EQ(ScanAll("A:1\rB:2\r").size(), 2u);
  EXPECT_TRUE(ScanAll("").empty());
}

TEST(IcsScanner, LongAndBareLfFlags) {
  const std::string body = std::string(80, 'X') + ":v\nB:1\r\n";
  Scanner s(body);
  ContentLine cl;
  ASSERT_TRUE(s.Next(&cl));
  EXPECT_EQ(cl.long_line, 1);
  EXPECT_EQ(cl.bare_lf_line, 1);
  ASSERT_TRUE(s.Next(&cl));
  EXPECT_EQ(cl.long_line, 0);
  EXPECT_EQ(cl.bare_lf_line, 0);
}

TEST(IcsText, Utf8AndControls) {
  EXPECT_FALSE(CheckText("plain ascii text that is longer than sixteen bytes").any());
  EXPECT_FALSE(CheckText("Zoë Müller — café 日本 🎉, tab\there").any());
  EXPECT_TRUE(CheckText("caf\xE9 au lait with a long tail of ascii").invalid_utf8);
  EXPECT_TRUE(CheckText("\xC0\xAF").invalid_utf8);          // overlong
  EXPECT_TRUE(CheckText("\xED\xA0\x80").invalid_utf8);      // surrogate
  EXPECT_TRUE(CheckText("\xF4\x90\x80\x80").invalid_utf8);  // > U+10FFFF
  EXPECT_TRUE(CheckText("ends in a cut sequence \xE2\x82").invalid_utf8);
  TextIssues nul = CheckText(std::string_view("a\0b", 3));
  EXPECT_TRUE(nul.control && nul.nul);
  EXPECT_TRUE(CheckText("del\x7F").control);
  EXPECT_FALSE(CheckText("del\x7F").nul);
  EXPECT_EQ(QuoteForMessage("a\x01" "b"), "a?b");
  EXPECT_EQ(QuoteForMessage(std::string(100, 'x'), 10), std::string(10, 'x') + "...");
}

TEST(IcsValues, DateTimes) {
  DateTime d;
  EXPECT_TRUE(ParseDateOrDateTime("20250106T090000Z", &d));
  EXPECT_TRUE(d.utc);
  EXPECT_FALSE(d.is_date);
  EXPECT_EQ(d.ToUnixApprox(), 1736154000);
  EXPECT_TRUE(ParseDateOrDateTime("20240229", &d));
  EXPECT_TRUE(d.is_date);
  EXPECT_FALSE(ParseDateOrDateTime("20250229", &d));
  EXPECT_FALSE(ParseDateOrDateTime("20251301T000000", &d));
  EXPECT_FALSE(ParseDateOrDateTime("20250101T240000", &d));
  EXPECT_FALSE(ParseDateOrDateTime("2025-01-01", &d));
  EXPECT_FALSE(ParseDateOrDateTime("20250101T000000X", &d));
  EXPECT_FALSE(ParseDateOrDateTime("", &d));
}

TEST(IcsValues, Durations) {
  int64_t s = 0;
  EXPECT_TRUE(ParseDuration("PT1H30M", &s));
  EXPECT_EQ(s, 5400);
  EXPECT_TRUE(ParseDuration("-P1DT2H", &s));
  EXPECT_EQ(s, -(86400 + 7200));
  EXPECT_TRUE(ParseDuration("P2W", &s));
  EXPECT_EQ(s, 14 * 86400);
  EXPECT_TRUE(ParseDuration("-P0DT0H10M0S", &s));
  EXPECT_EQ(s, -600);
  for (const char* bad : {"", "P", "PT", "P1H", "PT1D", "P1W2D", "1H", "PT1H2H", "P1DT1D"}) {
    EXPECT_FALSE(ParseDuration(bad, &s)) << bad;
  }
  EXPECT_TRUE(IsValidInteger("-12"));
  EXPECT_FALSE(IsValidInteger("1.5"));
  EXPECT_FALSE(IsValidInteger(""));
}

TEST(IcsTzNames, IanaWindowsAndCase) {
  EXPECT_TRUE(IsIanaZoneName("Europe/Berlin"));
  EXPECT_TRUE(IsIanaZoneName("UTC"));
  EXPECT_TRUE(IsIanaZoneName("Asia/Kolkata"));
  EXPECT_FALSE(IsIanaZoneName("europe/berlin"));
  EXPECT_EQ(IanaNameIgnoringCase("europe/berlin"), "Europe/Berlin");
  EXPECT_EQ(IanaNameIgnoringCase("Mars/Olympus"), "");
  EXPECT_EQ(WindowsToIana("Pacific Standard Time"), "America/Los_Angeles");
  EXPECT_EQ(WindowsToIana("W. Europe Standard Time"), "Europe/Berlin");
  EXPECT_EQ(WindowsToIana("Europe/Berlin"), "");
  EXPECT_EQ(WindowsToIana("tzone://Microsoft/Utc"), "Etc/UTC");
  EXPECT_EQ(WindowsToIana("india standard time"), "Asia/Calcutta");
  for (const char* w : {"Dateline Standard Time", "Newfoundland Standard Time",
                        "Mountain Standard Time (Mexico)", "Line Islands Standard Time",
                        "Russia Time Zone 11", "UTC+13"}) {
    EXPECT_TRUE(IsIanaZoneName(WindowsToIana(w))) << w;
  }
}

}  // namespace
}  // namespace calprobe::calendar::internal
