// Edge cases built in code: hostile bodies, limits, capping, options,
// thread safety.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "calendar/ics/ics.h"
#include "test_util.h"

namespace calprobe::calendar {
namespace {

using testing::Calendar;
using testing::CodesAndLines;
using testing::Crlf;
using Expected = std::vector<std::pair<std::string, int>>;

std::vector<std::string> Event(const std::string& uid, std::vector<std::string> extra = {}) {
  std::vector<std::string> lines = {"BEGIN:VEVENT", "UID:" + uid, "DTSTAMP:20250101T000000Z",
                                    "DTSTART:20250106T090000Z", "DTEND:20250106T100000Z"};
  lines.insert(lines.end(), extra.begin(), extra.end());
  lines.push_back("END:VEVENT");
  return lines;
}

struct EdgeCase {
  const char* name;
  std::string body;
  bool usable;
  Expected findings;
};

std::vector<EdgeCase> EdgeCases() {
  std::string nul_body = Calendar(Event("n@x", {"SUMMARY:a"}));
  nul_body.insert(nul_body.find("SUMMARY:a") + 9, std::string("\0\0tail", 6));
  std::string cr_only = Calendar(Event("cr@x"));
  for (char& c : cr_only) {
    if (c == '\n') c = '\r';
  }
  cr_only.erase(std::unique(cr_only.begin(), cr_only.end(),
                            [](char a, char b) { return a == '\r' && b == '\r'; }),
                cr_only.end());
  std::string huge = Calendar(Event("h@x", {"DESCRIPTION:" + std::string(300000, 'a')}));
  std::vector<std::string> deep = {"BEGIN:VCALENDAR"};
  for (int i = 0; i < 10000; ++i) deep.push_back("BEGIN:X-DEEP");
  return {
      {"zero_bytes", "", false, {{"content.empty_body", 0}}},
      {"whitespace", " \r\n\r\n\t", false, {{"content.empty_body", 0}}},
      {"json", R"({"error":"unauthorized"})", false, {{"content.not_ics", 1}}},
      {"html", "\r\n<html><body>Login</body></html>", false, {{"content.not_ics", 2}}},
      {"utf16", std::string("\xFF\xFE" "B\0E\0", 6), false, {{"content.not_ics", 1}}},
      {"leading_continuation", " BEGIN:VCALENDAR\r\n", false, {{"content.not_ics", 1}}},
      {"nul_bytes", nul_body, true, {{"content.control_chars", 9}}},
      {"cr_only", cr_only, true, {{"content.line_endings", 0}}},
      {"huge_line", huge, true, {{"content.long_line", 9}, {"property.oversized", 9}}},
      {"deep_nesting", Crlf(deep), false, {{"content.excessive_nesting", 9}}},
      {"end_without_begin", Calendar({"END:VEVENT"}), false, {{"content.structure", 4}}},
      {"event_outside_calendar",
       Crlf({"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", "END:VCALENDAR", "BEGIN:VEVENT",
             "UID:o@x", "DTSTAMP:20250101T000000Z", "DTSTART:20250106T090000Z", "END:VEVENT"}),
       false,
       {{"content.structure", 5}}},
      {"junk_after_end", Calendar(Event("j@x")) + "<!-- generated in 3ms -->\r\n", true,
       {{"content.structure", 11}}},
      {"property_after_end", Calendar(Event("p@x")) + "X-DEBUG:1\r\n", true,
       {{"content.structure", 11}}},
      {"only_begin", "BEGIN:VCALENDAR", false, {{"content.truncated", 1}}},
      {"lowercase_names",
       Crlf({"begin:vcalendar", "version:2.0", "prodid:x", "begin:vevent", "uid:l@x",
             "dtstamp:20250101T000000Z", "dtstart:20250106T090000Z", "end:vevent",
             "end:vcalendar"}),
       true,
       {}},
      {"quoted_param_with_colon",
       Calendar(Event("q@x", {"ATTENDEE;CN=\"Doe: John; Jr\";ROLE=CHAIR:mailto:j@example.com"})),
       true,
       {}},
      {"windows_tz_in_x_wr", Calendar({"X-WR-TIMEZONE:Eastern Standard Time"}), true,
       {{"sync.empty_calendar", 0}, {"tz.windows_tzid", 4}}},
      {"dtend_date_vs_datetime_not_compared",
       Calendar(Event("d@x", {"DTEND;VALUE=DATE:20250101"})), true, {}},
      {"iana_link_name_ok",
       Calendar({"BEGIN:VEVENT", "UID:k@x", "DTSTAMP:20250101T000000Z",
                 "DTSTART;TZID=Asia/Calcutta:20250106T090000", "END:VEVENT"}),
       true,
       {}},
      {"quoted_tzid_ok",
       Calendar({"BEGIN:VEVENT", "UID:k@x", "DTSTAMP:20250101T000000Z",
                 "DTSTART;TZID=\"Europe/Paris\":20250106T090000", "END:VEVENT"}),
       true,
       {}},
      {"value_type_mismatch_and_tzid_with_utc",
       Calendar({"BEGIN:VEVENT", "UID:v@x", "DTSTAMP:20250101T000000Z",
                 "DTSTART;VALUE=DATE:20250106T090000", "DTEND;TZID=Europe/Paris:20250106T100000Z",
                 "PRIORITY:05", "END:VEVENT"}),
       true,
       {{"property.invalid", 7}, {"tz.floating_time", 7}, {"property.invalid", 8}}},
      {"double_cr_line_ends",
       [] {
         std::string b = Calendar({"X-MS_OLK-NAME:ok"});
         for (size_t i = 0; (i = b.find("\r\n", i)) != std::string::npos; i += 3) b.insert(i, "\r");
         return b;
       }(),
       true,
       {{"sync.empty_calendar", 0}, {"content.line_endings", 1}}},
      {"php_warning_before_calendar",
       "Warning: Undefined variable $tz in /var/www/cal.php on line 3\r\n" +
           Calendar(Event("w@x")),
       false,
       {{"content.not_ics", 1}}},
      {"gzip_without_content_encoding", std::string("\x1f\x8b\x08\x00\x00\x00", 6), false,
       {{"content.not_ics", 1}}},
      {"vcard", Crlf({"BEGIN:VCARD", "VERSION:3.0", "END:VCARD"}), false,
       {{"content.not_ics", 1}}},
      {"empty_uid", Calendar(Event("")), true, {{"event.missing_uid", 4}}},
      {"fold_inside_utf8_sequence",
       Crlf({"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", "BEGIN:VEVENT", "UID:u@x",
             "DTSTAMP:20250101T000000Z", "DTSTART:20250106T090000Z", "SUMMARY:caf\xC3",
             " \xA9 cr\xC3\xA8me", "END:VEVENT", "END:VCALENDAR"}),
       true,
       {}},
      {"bad_refresh_interval", Calendar({"REFRESH-INTERVAL;VALUE=DURATION:soon"}), true,
       {{"sync.empty_calendar", 0}, {"property.invalid", 4}}},
  };
}

TEST(IcsEdge, TableOfHostileBodies) {
  for (const EdgeCase& c : EdgeCases()) {
    SCOPED_TRACE(c.name);
    Analysis a = AnalyzeIcs(c.body);
    EXPECT_EQ(CodesAndLines(a), c.findings);
    EXPECT_EQ(a.usable, c.usable);
  }
}

TEST(IcsEdge, NotIcsMessagesSayWhatTheBodyIs) {
  auto message = [](const std::string& body) {
    Analysis a = AnalyzeIcs(body);
    return a.findings.empty() ? std::string() : a.findings[0].message;
  };
  EXPECT_NE(message("<html>").find("HTML"), std::string::npos);
  EXPECT_NE(message("{\"a\":1}").find("JSON"), std::string::npos);
  EXPECT_NE(message(std::string("\x1f\x8b\x08", 3)).find("gzip"), std::string::npos);
  EXPECT_NE(message("%PDF-1.4").find("PDF"), std::string::npos);
  EXPECT_NE(message("BEGIN:VCARD\r\n").find("vCard"), std::string::npos);
  EXPECT_NE(message(std::string("\xFF\xFE" "B\0", 4)).find("UTF-16"), std::string::npos);
  EXPECT_NE(message("Notice: x\nmore\nBEGIN:VCALENDAR\r\n").find("line 3"), std::string::npos);
}

TEST(IcsEdge, NulDoesNotStopTheScan) {
  std::string body = Calendar(Event("a@x", {"SUMMARY:x"}));
  body.insert(body.find("SUMMARY:x") + 9, std::string(1, '\0'));
  body.insert(body.find("END:VCALENDAR"), Crlf(Event("b@x")));
  Analysis a = AnalyzeIcs(body);
  EXPECT_EQ(a.event_count, 2u);
  EXPECT_TRUE(a.has_error());
}

TEST(IcsEdge, TooManyComponentsStopsReading) {
  std::vector<std::string> body;
  for (int i = 0; i < 10; ++i) {
    auto e = Event("e" + std::to_string(i) + "@x");
    body.insert(body.end(), e.begin(), e.end());
  }
  AnalyzeOptions options;
  options.max_components = 4;  // calendar objects: the 5th event is one too many
  Analysis a = AnalyzeIcs(Calendar(body), options);
  EXPECT_EQ(CodesAndLines(a), (Expected{{"content.too_many_components", 28}}));
  EXPECT_FALSE(a.usable);
  EXPECT_EQ(a.event_count, 4u);
  // Exactly at the limit is fine; VALARMs and VTIMEZONEs are not objects.
  options.max_components = 10;
  EXPECT_TRUE(AnalyzeIcs(Calendar(body), options).usable);
}

TEST(IcsEdge, SubComponentsHaveTheirOwnBound) {
  std::vector<std::string> event = {"BEGIN:VEVENT", "UID:a@x", "DTSTAMP:20250101T000000Z",
                                    "DTSTART:20250106T090000Z"};
  for (int i = 0; i < 1100; ++i) {
    event.insert(event.end(), {"BEGIN:VALARM", "TRIGGER:-PT5M", "ACTION:DISPLAY", "END:VALARM"});
  }
  event.push_back("END:VEVENT");
  AnalyzeOptions options;
  options.max_components = 1;  // all components: 4 * 1 + 1000
  Analysis a = AnalyzeIcs(Calendar(event), options);
  EXPECT_EQ(a.finding_counts.count("content.too_many_components"), 1u);
  EXPECT_FALSE(a.usable);
  EXPECT_EQ(a.component_count, 1005u);
}

TEST(IcsEdge, OversizedPropertyLimitIsAnOption) {
  AnalyzeOptions options;
  options.max_property_bytes = 40;
  Analysis a = AnalyzeIcs(Calendar(Event("o@x", {"SUMMARY:" + std::string(33, 's')})), options);
  EXPECT_EQ(a.finding_counts.at("property.oversized"), 1);
  EXPECT_EQ(a.findings.at(0).line, 9);
}

TEST(IcsEdge, FindingsAreCappedButCountsExact) {
  std::vector<std::string> body;
  for (int i = 0; i < 100; ++i) {
    body.insert(body.end(), {"BEGIN:VEVENT", "DTSTAMP:20250101T000000Z",
                             "DTSTART:20250106T090000Z", "END:VEVENT"});
  }
  AnalyzeOptions options;
  options.max_findings_per_code = 3;
  Analysis a = AnalyzeIcs(Calendar(body), options);
  EXPECT_EQ(a.finding_counts.at("event.missing_uid"), 100);
  EXPECT_EQ(a.findings.size(), 3u);
  EXPECT_EQ(a.findings[0].line, 4);
  EXPECT_EQ(a.findings[2].line, 12);
}

TEST(IcsEdge, FoldedLineReportsItsFirstPhysicalLine) {
  std::string body = Crlf({"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:x", "BEGIN:VEVENT",
                           "UID:f@x", "DTSTAMP:20250101T000000Z", "DTSTART:2025010",
                           " 6T09000", "\t0Z", "RRULE:FREQ=WEEKLY;BY", " DAY=XX", "END:VEVENT",
                           "END:VCALENDAR"});
  Analysis a = AnalyzeIcs(body);
  // DTSTART unfolds to a valid value; the bad RRULE starts on line 10.
  EXPECT_EQ(CodesAndLines(a), (Expected{{"rrule.invalid", 10}}));
}

TEST(IcsEdge, FloatingTimeIsPerEventAndDateIsNotFloating) {
  Analysis a = AnalyzeIcs(Calendar(
      {"BEGIN:VEVENT", "UID:1@x", "DTSTAMP:20250101T000000Z", "DTSTART:20250106T090000",
       "END:VEVENT", "BEGIN:VEVENT", "UID:2@x", "DTSTAMP:20250101T000000Z",
       "DTSTART;VALUE=DATE:20250106", "END:VEVENT", "BEGIN:VEVENT", "UID:3@x",
       "DTSTAMP:20250101T000000Z", "DTSTART:20250107T090000", "END:VEVENT"}));
  EXPECT_EQ(CodesAndLines(a), (Expected{{"tz.floating_time", 7}, {"tz.floating_time", 17}}));
}

TEST(IcsEdge, AlarmPropertiesAreNotEventProperties) {
  // DURATION and DESCRIPTION inside VALARM must not count for the VEVENT.
  Analysis a = AnalyzeIcs(Calendar(Event(
      "al@x", {"BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT5M", "DURATION:PT5M",
               "REPEAT:2", "DESCRIPTION:x", "END:VALARM"})));
  EXPECT_TRUE(a.findings.empty()) << a.findings.at(0).code;
}

TEST(IcsEdge, ConcurrentAnalysesAgree) {
  std::string body = testing::ReadCorpus("clean_google.ics");
  std::string rrule_body = testing::ReadCorpus("rrule_invalid.ics");
  Analysis reference = AnalyzeIcs(rrule_body);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      int good = 0;
      for (int i = 0; i < 50; ++i) {
        Analysis a = AnalyzeIcs(i % 2 == 0 ? body : rrule_body);
        if (i % 2 == 0 ? !a.has_error() : CodesAndLines(a) == CodesAndLines(reference)) ++good;
      }
      ok[t] = good;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 50);
}

}  // namespace
}  // namespace calprobe::calendar
