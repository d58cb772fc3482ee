#include "probes/feasibility/truth_config.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/event.h"
#include "probes/feasibility/options.h"

namespace calprobe::probes::feasibility {
namespace {

namespace oracle = calendar::oracle;

// Parses `yaml` as the options of targets[2] in agent.yaml; returns the
// errors, one per line.
std::string OptionErrors(const std::string& yaml, std::optional<Options>* out = nullptr,
                         const std::string& file = "agent.yaml") {
  core::ConfigErrors errors;
  core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>(file),
                     "targets[2].feasibility", &errors);
  auto o = ParseOptions(n);
  EXPECT_EQ(o.has_value(), errors.empty());
  if (out) *out = std::move(o);
  return errors.ToString();
}

const char kHead[] = R"(provider_id: p1
request: {url: "http://127.0.0.1:1/api/providers/{{provider_id}}/feasibility"}
)";

TEST(FeasibilityTruthConfigTest, ValidTruthIsRead) {
  std::optional<Options> o;
  EXPECT_EQ(OptionErrors(std::string(kHead) + R"(truth:
  timezone: America/New_York
  slot_minutes: 45
  granularity_minutes: 15
  lead_time_hours: 24
  rules:
    - {weekdays: mon-fri, start: "09:00", end: "17:00"}
    - {weekdays: [sat], start: "10:00", end: "24:00"}
  blocked: [{start: "2027-03-16T12:00:00-04:00", end: "2027-03-16T14:00:00-04:00"}]
  extra: [{start: "2027-03-21T10:00:00-04:00", end: "2027-03-21T12:00:00-04:00"}]
  holds: [{start: "2027-03-17T13:00:00Z", end: "2027-03-17T13:45:00Z"}]
)",
                         &o),
            "");
  ASSERT_TRUE(o);
  const auto& t = o->truth.truth;
  EXPECT_EQ(t.timezone, "America/New_York");
  EXPECT_EQ(t.slot_minutes, 45);
  EXPECT_EQ(t.granularity_minutes, 15);
  EXPECT_EQ(t.lead_time_hours, 24);
  ASSERT_EQ(t.rules.size(), 2u);
  EXPECT_EQ(t.rules[0].weekday_mask, oracle::kWeekdays);
  EXPECT_EQ(t.rules[0].start_minute, 9 * 60);
  EXPECT_EQ(t.rules[1].weekday_mask, oracle::kSaturday);
  EXPECT_EQ(t.rules[1].end_minute, 1440);
  ASSERT_EQ(t.blocked.size(), 1u);
  EXPECT_EQ(t.blocked[0].start, *core::ParseRfc3339("2027-03-16T16:00:00Z"));
  EXPECT_EQ(t.extra.size(), 1u);
  EXPECT_EQ(t.holds.size(), 1u);
  // Defaults of the rest of the options.
  EXPECT_EQ(o->window.length, std::chrono::hours(24 * 7));
  EXPECT_EQ(o->now_from, NowSource::kAgent);
  EXPECT_EQ(o->response.slots, "/slots");
}

TEST(FeasibilityTruthConfigTest, BadTruthErrorsCarryTheirPath) {
  const std::string errors = OptionErrors(std::string(kHead) + R"(truth:
  timezone: Mars/Olympus
  rules:
    - {weekdays: mon-fri, start: "09:00", end: "17:00"}
    - {weekdays: mon, start: "18:00", end: "08:00"}
    - {weekdays: fri, start: "16:00", end: "18:00"}
)");
  EXPECT_EQ(errors,
            "agent.yaml:4:13: targets[2].feasibility.truth.timezone: unknown time zone "
            "\"Mars/Olympus\"; give an IANA name such as \"America/New_York\" (see "
            "/usr/share/zoneinfo)\n"
            "agent.yaml:7:44: targets[2].feasibility.truth.rules[1].end: end 08:00 is not after "
            "start 18:00; split rules that cross midnight into two\n"
            "agent.yaml:8:7: targets[2].feasibility.truth.rules[2]: overlaps "
            "targets[2].feasibility.truth.rules[0] on Friday (16:00-18:00 vs 09:00-17:00); merge "
            "them or make them disjoint\n");
}

TEST(FeasibilityTruthConfigTest, ReadingErrorsAreNotRepeatedByTheOracle) {
  const std::string errors = OptionErrors(std::string(kHead) + R"(truth:
  timezone: Europe/Berlin
  slot_minutes: 0
  rules:
    - {weekdays: funday, start: "9am", end: "17:00"}
  blocked: [{start: "2027-03-16 12:00", end: "2027-03-16T14:00:00+01:00"}]
  holidays: []
)");
  EXPECT_EQ(errors,
            "agent.yaml:7:18: targets[2].feasibility.truth.rules[0].weekdays: unknown weekday "
            "\"funday\" (use mon..sun, ranges like mon-fri, weekdays, weekends or every day)\n"
            "agent.yaml:7:33: targets[2].feasibility.truth.rules[0].start: expected a local time "
            "like 09:00 (24:00 for the end of the day)\n"
            "agent.yaml:8:21: targets[2].feasibility.truth.blocked[0].start: expected an RFC 3339 "
            "time with an offset, e.g. 2027-03-15T12:00:00-04:00\n"
            "agent.yaml:9:3: targets[2].feasibility.truth.holidays: unknown key \"holidays\" "
            "(allowed here: blocked, bookings, busy_ics, extra, granularity_minutes, holds, "
            "lead_time_hours, live_spans, rules, slot_minutes, timezone)\n"
            "agent.yaml:5:17: targets[2].feasibility.truth.slot_minutes: must be between 1 and "
            "1440, got 0\n");
}

TEST(FeasibilityTruthConfigTest, MissingTruthAndBothForms) {
  EXPECT_EQ(OptionErrors(kHead),
            "agent.yaml:1:1: targets[2].feasibility: missing the provider's truth: declare it "
            "inline (truth:) or in a YAML file (truth_file:)\n");
  EXPECT_NE(OptionErrors(std::string(kHead) + "truth: {}\ntruth_file: x.yaml\n")
                .find("truth_file: give either truth: or truth_file:, not both"),
            std::string::npos);
}

TEST(FeasibilityTruthConfigTest, TruthFileErrorsNameTheFileAndTheTarget) {
  std::string dir = ::testing::TempDir();
  if (dir.back() == '/') dir.pop_back();
  {
    std::ofstream f(dir + "/truth.yaml");
    f << "timezone: America/New_York\nrules:\n  - weekdays: weekdays\n    start: \"17:00\"\n"
         "    end: \"09:00\"\n";
  }
  const std::string errors =
      OptionErrors(std::string(kHead) + "truth_file: truth.yaml\n", nullptr, dir + "/agent.yaml");
  EXPECT_EQ(errors, dir +
                        "/truth.yaml:5:10: targets[2].feasibility.truth_file.rules[0].end: end "
                        "09:00 is not after start 17:00; split rules that cross midnight into "
                        "two\n");
  EXPECT_NE(
      OptionErrors(std::string(kHead) + "truth_file: nope.yaml\n", nullptr, dir + "/agent.yaml")
          .find("truth_file: cannot read truth file " + dir + "/nope.yaml"),
      std::string::npos);
}

TEST(FeasibilityTruthConfigTest, BusyIcsFileIsReadAtLoad) {
  std::string dir = ::testing::TempDir();
  if (dir.back() == '/') dir.pop_back();
  {
    std::ofstream f(dir + "/busy.ics");
    f << "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:b1\r\n"
         "DTSTAMP:20270101T000000Z\r\nDTSTART:20270315T140000Z\r\nDTEND:20270315T150000Z\r\n"
         "END:VEVENT\r\nEND:VCALENDAR\r\n";
  }
  std::optional<Options> o;
  EXPECT_EQ(OptionErrors(std::string(kHead) + R"(truth:
  timezone: UTC
  rules: [{weekdays: every day, start: "09:00", end: "17:00"}]
  busy_ics: {file: busy.ics}
)",
                         &o, dir + "/agent.yaml"),
            "");
  ASSERT_TRUE(o);
  auto busy = o->truth.truth.busy.Expand(*core::ParseRfc3339("2027-03-15T00:00:00Z"),
                                         *core::ParseRfc3339("2027-03-16T00:00:00Z"), nullptr);
  ASSERT_EQ(busy.size(), 1u);
  EXPECT_EQ(OptionErrors(std::string(kHead) + R"(truth:
  timezone: UTC
  rules: []
  busy_ics: {file: busy.ics, url: "http://127.0.0.1:1/b.ics"}
)",
                         nullptr, dir + "/agent.yaml"),
            dir +
                "/agent.yaml:6:13: targets[2].feasibility.truth.busy_ics: give exactly one of "
                "file: (read at load) or url: (fetched before each run)\n");
}

TEST(FeasibilityOptionsTest, RequestAndResponseErrors) {
  const std::string errors = OptionErrors(R"(provider_id: p1
request:
  method: DELETE
  url: "http://127.0.0.1:1/f?from={{start}}"
response: {slots: items, colour: red}
window: 200d
window_start: tomorrow
now_from: ntp
truth: {timezone: UTC, rules: []}
)");
  EXPECT_EQ(errors,
            "agent.yaml:4:8: targets[2].feasibility.request.url: unknown template variable "
            "\"{{start}}\" (known: provider_id, from, to, duration_minutes, now)\n"
            "agent.yaml:3:11: targets[2].feasibility.request.method: unsupported method \"DELETE\" "
            "(GET, POST, PUT, PATCH, QUERY)\n"
            "agent.yaml:5:19: targets[2].feasibility.response.slots: \"items\" is not a JSON "
            "pointer (RFC 6901): use \"\" or /a/b/0\n"
            "agent.yaml:5:26: targets[2].feasibility.response.colour: unknown key \"colour\" "
            "(allowed here: candidate_windows, end, errors, slots, start, truncated)\n"
            "agent.yaml:6:9: targets[2].feasibility.window: must be between 1m and 92d\n"
            "agent.yaml:7:15: targets[2].feasibility.window_start: unknown value \"tomorrow\" "
            "(one of: now, today, next_day)\n"
            "agent.yaml:8:11: targets[2].feasibility.now_from: unknown value \"ntp\" (one of: "
            "agent, date_header)\n");
}

TEST(FeasibilityWeekdaysTest, Forms) {
  core::ConfigErrors errors;
  auto parse = [&](const char* yaml) {
    core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>("t"), "w", &errors);
    return ParseWeekdays(n);
  };
  EXPECT_EQ(parse("mon-fri"), oracle::kWeekdays);
  EXPECT_EQ(parse("Fri-Mon"),
            oracle::kFriday | oracle::kSaturday | oracle::kSunday | oracle::kMonday);
  EXPECT_EQ(parse("sat, sunday"), oracle::kSaturday | oracle::kSunday);
  EXPECT_EQ(parse("[tue, thu]"), oracle::kTuesday | oracle::kThursday);
  EXPECT_EQ(parse("every day"), oracle::kEveryDay);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(parse("mo"), std::nullopt);
  EXPECT_EQ(errors.size(), 1u);
}

}  // namespace
}  // namespace calprobe::probes::feasibility
