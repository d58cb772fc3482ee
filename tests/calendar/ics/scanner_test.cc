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

// Reference for CleanPrefix: every line passes CheckText once its line
// end (LF, CR LF or CR...CR LF, as the scanner strips them) is cut off.
bool CleanByLines(std::string_view body) {
  while (!body.empty()) {
    size_t lf = body.find('\n');
    std::string_view line = body.substr(0, lf);
    while (lf != std::string_view::npos && !line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (CheckText(line).any()) return false;
    if (lf == std::string_view::npos) break;
    body.remove_prefix(lf + 1);
  }
  return true;
}

TEST(IcsText, CleanPrefixExamples) {
  EXPECT_EQ(CleanPrefix(""), 0u);
  std::string clean =
      "BEGIN:VCALENDAR\r\nSUMMARY:Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x9A\x80\r\n"
      " folded\ttext\r\nEND:VCALENDAR\r\n";
  for (int copies = 0; copies < 5; ++copies) clean += clean;  // several 64-byte blocks
  EXPECT_EQ(CleanPrefix(clean), clean.size());
  EXPECT_EQ(CleanPrefix(clean + "no line end"), clean.size() + 11);
  // Each defect ends the prefix at or before itself.
  for (std::string_view defect : std::vector<std::string_view>{
           "\x01", std::string_view("\0", 1), "\x7F", "\r", "\r\r\n", "\xC3", "\xC3(", "\xC0\xAF",
           "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80", "\xF4\x90\x80\x80",
           "\xF5\x80\x80\x80", "\x80", "\xE2\x82"}) {
    for (size_t at :
         {size_t{0}, size_t{62}, size_t{63}, size_t{64}, clean.size() - 1, clean.size()}) {
      std::string body = clean;
      body.insert(at, defect);
      EXPECT_LE(CleanPrefix(body), at) << "defect at " << at;
    }
  }
}

TEST(IcsText, CleanPrefixMatchesLineByLineCheck) {
  // Random bodies from an alphabet of line ends, controls, valid and invalid
  // UTF-8 pieces: every line that ends inside the prefix must pass
  // CheckText, and the prefix covers the body iff every line passes (CR CR
  // LF line ends, which CleanPrefix leaves to the per-line check, aside).
  // clang-format off
  const std::vector<std::string> pieces = {
      "a", "BEGIN:", " ", "\t", "\r\n", "\n", "\r", "\r\r\n", std::string("\0", 1), "\x1F",
      "\x7F", "\xC3\xA9", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF",
      "\xEF\xBF\xBD", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xC3", "\xE2\x82", "\x80",
      "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xF8", "\xFF", "0123456789abcdef"};
  // clang-format on
  uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<size_t>(state >> 33);
  };
  for (int round = 0; round < 20000; ++round) {
    std::string body;
    const size_t n = next() % 60;
    // Mostly clean pieces, so that long clean prefixes occur.
    const bool mostly_clean = round % 2 == 0;
    for (size_t i = 0; i < n; ++i) {
      size_t k = next() % pieces.size();
      static constexpr size_t kClean[] = {0, 1, 2, 3, 4, 11, 12, 16, 17, 27};
      if (mostly_clean && next() % 16 != 0) k = kClean[next() % std::size(kClean)];
      body += pieces[k];
    }
    const size_t prefix = CleanPrefix(body);
    ASSERT_LE(prefix, body.size());
    const bool crcr = body.find("\r\r") != std::string::npos;
    if (prefix == body.size() || !crcr) {
      ASSERT_EQ(prefix == body.size(), CleanByLines(body)) << testing::PrintToString(body);
    }
    const size_t last_lf = std::string_view(body).substr(0, prefix).rfind('\n');
    if (last_lf != std::string_view::npos) {
      ASSERT_TRUE(CleanByLines(std::string_view(body).substr(0, last_lf + 1)))
          << testing::PrintToString(body);
    }
  }
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
