// Table-driven tests over tests/data/ics: every feed's exact findings
// (code and line), usability and event count.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "calendar/ics/ics.h"
#include "test_util.h"

namespace calprobe::calendar {
namespace {

using testing::CodesAndLines;
using testing::ReadCorpus;
using Expected = std::vector<std::pair<std::string, int>>;

struct CorpusCase {
  const char* file;
  bool usable;
  size_t events;
  Expected findings;  // sorted by line, then code
};

void PrintTo(const CorpusCase& c, std::ostream* os) { *os << c.file; }

class IcsCorpus : public ::testing::TestWithParam<CorpusCase> {};

TEST_P(IcsCorpus, ExactFindings) {
  const CorpusCase& c = GetParam();
  Analysis a = AnalyzeIcs(ReadCorpus(c.file));
  EXPECT_EQ(CodesAndLines(a), c.findings);
  EXPECT_EQ(a.usable, c.usable);
  EXPECT_EQ(a.event_count, c.events);
  for (const Finding& f : a.findings) {
    EXPECT_FALSE(f.message.empty()) << f.code;
    EXPECT_FALSE(f.fix.empty()) << f.code;
    EXPECT_EQ(a.finding_counts.at(f.code) >= 1, true);
  }
}

const CorpusCase kCases[] = {
    // Clean feeds: nothing above info.
    {"clean_google.ics", true, 4, {}},
    {"clean_outlook.ics", true, 2, {{"tz.windows_tzid", 25}}},
    {"clean_apple.ics", true, 2, {}},
    {"empty_calendar.ics", true, 0, {{"sync.empty_calendar", 0}}},
    // Content.
    {"not_ics_html.ics", false, 0, {{"content.not_ics", 1}}},
    {"not_ics_json.ics", false, 0, {{"content.not_ics", 1}}},
    {"empty_body.ics", false, 0, {{"content.empty_body", 0}}},
    {"bom.ics", true, 1, {{"content.bom", 1}}},
    {"invalid_utf8.ics", true, 1, {{"content.invalid_utf8", 9}}},
    {"control_chars.ics", true, 1, {{"content.control_chars", 9}, {"content.control_chars", 10}}},
    {"line_endings_lf.ics", true, 1, {{"content.line_endings", 1}}},
    {"bad_folding.ics", true, 1, {{"content.bad_folding", 10}}},
    {"long_line.ics", true, 1, {{"content.long_line", 9}}},
    {"truncated.ics", false, 2, {{"content.truncated", 13}, {"property.invalid", 13}}},
    {"structure.ics", false, 1, {{"content.structure", 8}}},
    {"multiple_calendars.ics", true, 2, {{"content.multiple_calendars", 11}}},
    {"excessive_nesting.ics", false, 0, {{"content.excessive_nesting", 11}}},
    // Structure.
    {"missing_version_prodid.ics", true, 1,
     {{"calendar.missing_prodid", 1}, {"calendar.missing_version", 1}}},
    {"event_missing_props.ics", true, 3,
     {{"event.missing_uid", 4}, {"event.missing_dtstamp", 8}, {"event.missing_dtstart", 12}}},
    {"dtend_and_duration.ics", true, 1, {{"event.dtend_and_duration", 9}}},
    {"end_before_start.ics", true, 3,
     {{"event.end_before_start", 8}, {"event.end_before_start", 14}}},
    {"duplicate_uid.ics", true, 4, {{"event.duplicate_uid", 11}, {"event.duplicate_uid", 25}}},
    {"orphan_override.ics", true, 1, {{"event.orphan_override", 4}}},
    {"invalid_values.ics", true, 1,
     {{"event.invalid_value", 9},
      {"event.invalid_value", 10},
      {"event.invalid_value", 11},
      {"event.invalid_value", 12}}},
    {"property_invalid.ics", true, 2,
     {{"property.invalid", 7},
      {"property.invalid", 8},
      {"property.invalid", 14},
      {"property.invalid", 15},
      {"property.invalid", 16},
      {"property.invalid", 17}}},
    // Time zones.
    {"tz_unknown_tzid.ics", true, 1, {{"tz.unknown_tzid", 7}}},
    {"tz_windows_tzid.ics", true, 1, {{"tz.windows_tzid", 7}}},
    {"tz_case_mismatch.ics", true, 2, {{"tz.case_mismatch", 7}, {"tz.case_mismatch", 30}}},
    {"tz_floating_time.ics", true, 2, {{"tz.floating_time", 7}}},
    {"tz_x_wr_timezone_only.ics", true, 2, {{"tz.x_wr_timezone_only", 4}}},
    // Recurrence.
    {"rrule_invalid.ics", true, 2, {{"rrule.invalid", 9}, {"rrule.invalid", 16}}},
    {"rrule_until_type_mismatch.ics", true, 2,
     {{"rrule.until_type_mismatch", 26}, {"rrule.until_type_mismatch", 32}}},
    {"rrule_unbounded_high_frequency.ics", true, 2, {{"rrule.unbounded_high_frequency", 9}}},
    {"rrule_no_instances.ics", true, 3,
     {{"rrule.no_instances", 9}, {"rrule.no_instances", 16}, {"rrule.no_instances", 23}}},
    {"exdate_type_mismatch.ics", true, 2,
     {{"exdate.type_mismatch", 10}, {"exdate.type_mismatch", 18}}},
    // Sync (time-based checks are off without options.now_unix).
    {"stale_content.ics", true, 1, {}},
    // Several defects at once, as a real broken export has them.
    {"broken_provider.ics", true, 3,
     {{"content.line_endings", 1},
      {"tz.x_wr_timezone_only", 4},
      {"event.missing_dtstamp", 5},
      {"rrule.until_type_mismatch", 10},
      {"tz.windows_tzid", 15},
      {"rrule.invalid", 18},
      {"event.invalid_value", 19},
      {"event.duplicate_uid", 21},
      {"event.end_before_start", 25}}},
};

INSTANTIATE_TEST_SUITE_P(Files, IcsCorpus, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<CorpusCase>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           return name;
                         });

TEST(IcsCorpusClean, NoErrorOrWarningAndSeverities) {
  for (const char* file : {"clean_google.ics", "clean_outlook.ics", "clean_apple.ics"}) {
    Analysis a = AnalyzeIcs(ReadCorpus(file));
    EXPECT_TRUE(a.usable) << file;
    EXPECT_FALSE(a.has_error()) << file;
    for (const Finding& f : a.findings) {
      EXPECT_EQ(f.severity, Severity::kInfo) << file << " " << f.code << ": " << f.message;
    }
  }
}

TEST(IcsCorpusClean, RefreshInterval) {
  EXPECT_FALSE(AnalyzeIcs(ReadCorpus("clean_google.ics")).refresh_interval_seconds);
  EXPECT_EQ(AnalyzeIcs(ReadCorpus("clean_outlook.ics")).refresh_interval_seconds, 3600);
  EXPECT_EQ(AnalyzeIcs(ReadCorpus("clean_apple.ics")).refresh_interval_seconds, 4 * 3600);
}

TEST(IcsCorpusClean, GoogleSnapshotKeysOverrides) {
  Analysis a = AnalyzeIcs(ReadCorpus("clean_google.ics"));
  ASSERT_EQ(a.snapshot.events.size(), 4u);
  EXPECT_EQ(a.snapshot.events.count({"5k2v8d0qk1m3n4p5r6s7t8u9v0@google.com", ""}), 1u);
  EXPECT_EQ(a.snapshot.events.count(
                {"5k2v8d0qk1m3n4p5r6s7t8u9v0@google.com", "20250108T090000"}),
            1u);
}

TEST(IcsCorpusSeverity, ErrorsAndWarnings) {
  Analysis nul = AnalyzeIcs(ReadCorpus("control_chars.ics"));
  ASSERT_EQ(nul.findings.size(), 2u);
  EXPECT_EQ(nul.findings[0].severity, Severity::kWarning);  // BEL
  EXPECT_EQ(nul.findings[1].severity, Severity::kError);    // NUL
  EXPECT_EQ(nul.finding_counts.at("content.control_chars"), 2);

  Analysis win = AnalyzeIcs(ReadCorpus("tz_windows_tzid.ics"));
  ASSERT_EQ(win.findings.size(), 1u);
  EXPECT_EQ(win.findings[0].severity, Severity::kError);
  EXPECT_NE(win.findings[0].fix.find("America/Los_Angeles"), std::string::npos);

  Analysis outlook = AnalyzeIcs(ReadCorpus("clean_outlook.ics"));
  ASSERT_EQ(outlook.findings.size(), 1u);
  EXPECT_EQ(outlook.findings[0].severity, Severity::kInfo);
}

TEST(IcsCorpusSync, StaleContentWithNow) {
  AnalyzeOptions options;
  options.now_unix = 1767225600;  // 2026-01-01T00:00:00Z
  Analysis a = AnalyzeIcs(ReadCorpus("stale_content.ics"), options);
  EXPECT_EQ(CodesAndLines(a), (Expected{{"sync.stale_content", 0}}));
  // Same feed judged in early 2020: the event is upcoming.
  options.now_unix = 1577836800;  // 2020-01-01
  EXPECT_TRUE(AnalyzeIcs(ReadCorpus("stale_content.ics"), options).findings.empty());
  // A live recurring series is never stale.
  options.now_unix = 1767225600;
  Analysis apple = AnalyzeIcs(ReadCorpus("clean_apple.ics"), options);
  EXPECT_EQ(apple.finding_counts.count("sync.stale_content"), 0u);
}

}  // namespace
}  // namespace calprobe::calendar
