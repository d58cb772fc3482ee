// Rule config validation: each bad-config rule with its exact message.

#include "core/rules/rule_config.h"

#include <gtest/gtest.h>

namespace calprobe::core::rules {
namespace {

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseRules(yaml, "alerts.yaml");
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.error();
}

TEST(RuleConfig, BuiltinRulesLoad) {
  auto r = DefaultRules();
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 7u);  // the seed's six alerts + its §7 slot volume anomaly
  const char* names[] = {"FeasibilityLatency", "HoldExpirySpike",  "IcsPollErrors",
                         "SyncStaleness",      "FeedTokenLeakage", "DashboardSilence",
                         "SlotVolumeAnomaly"};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ((*r)[i].name, names[i]);
    EXPECT_EQ((*r)[i].origins, std::vector<std::string>{"platform"});
  }
  EXPECT_EQ((*r)[2].any_of.size(), 2u);
  EXPECT_EQ((*r)[4].any_of.size(), 2u);  // regenerations or request anomaly
  EXPECT_DOUBLE_EQ((*r)[3].any_of[0].threshold, 2700);  // 45m in seconds
  ASSERT_TRUE((*r)[5].business_hours.has_value());
  EXPECT_EQ((*r)[5].business_hours->timezone, "America/New_York");
  EXPECT_EQ((*r)[5].business_hours->weekdays, (std::set<int>{1, 2, 3, 4, 5}));
}

TEST(RuleConfig, UnknownSignalKind) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: median, event: x}
    threshold: 1
)"),
            "alerts.yaml:3:20: rules[0].signal.kind: unknown signal kind \"median\" (one of count, "
            "count_per_key, rate, ratio, quantile, max_age, absence, last, always, anomaly)\n");
}

TEST(RuleConfig, AnomalyOptionsAreChecked) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: anomaly, event: x, season: 10m, seasons: 40}
    threshold: 1
)"),
            "alerts.yaml:3:47: rules[0].signal.season: season must be at least 1h\n"
            "alerts.yaml:3:61: rules[0].signal.seasons: must be between 2 and 28, got 40\n");
  auto ok = ParseRules(R"(rules:
  - name: A
    signal: {kind: anomaly, event: x, field: slot_count, season: 7d, seasons: 4}
    threshold: 6
)", "alerts.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error();
  EXPECT_EQ((*ok)[0].any_of[0].signal.season, std::chrono::hours(24 * 7));
  EXPECT_EQ((*ok)[0].any_of[0].signal.seasons, 4);
  EXPECT_EQ((*ok)[0].any_of[0].signal.field, "slot_count");
}

TEST(RuleConfig, BadComparison) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: count, event: x}
    op: "=>"
    threshold: 1
)"),
            "alerts.yaml:4:9: rules[0].op: unknown comparison \"=>\" (one of >, >=, <, <=)\n");
}

TEST(RuleConfig, MissingThresholdAndDuplicateName) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: count, event: x}
  - name: A
    signal: {kind: count, event: x}
    threshold: 1
)"),
            "alerts.yaml:2:5: rules[0]: missing required key \"threshold\"\n"
            "alerts.yaml:4:11: rules[1].name: duplicate rule name \"A\"\n");
}

TEST(RuleConfig, UnknownLabelOriginAndKey) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: count, event: x}
    threshold: 1
    group_by: [city]
    origins: [partner]
    sevrity: page
)"),
            "alerts.yaml:6:14: rules[0].origins: unknown origin \"partner\" (platform or "
            "synthetic)\n"
            "alerts.yaml:5:15: rules[0].group_by: unknown label \"city\" (provider, role, region, "
            "src_id, target, probe, origin)\n"
            "alerts.yaml:7:5: rules[0].sevrity: unknown key \"sevrity\"; did you mean "
            "\"severity\"? (allowed here: annotations, any_of, for, group_by, keep_firing_for, "
            "min_samples, name, op, origins, receivers, runbook, severity, signal, threshold, "
            "threshold_field, window)\n");
}

TEST(RuleConfig, BadBusinessHours) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    signal: {kind: absence, events: [x]}
    threshold: 30m
    business_hours:
      timezone: Mars/Olympus
      weekdays: [mon, fun]
      start: "9am"
      end: "08:00"
      holidays: [2027-13-01]
)"),
            "alerts.yaml:6:17: rules[0].business_hours.timezone: unknown time zone "
            "\"Mars/Olympus\" (use an IANA name such as Europe/Berlin)\n"
            "alerts.yaml:7:17: rules[0].business_hours.weekdays: unknown weekday \"fun\" (mon, "
            "tue, wed, thu, fri, sat, sun)\n"
            "alerts.yaml:8:14: rules[0].business_hours.start: expected a local time HH:MM, got "
            "\"9am\"\n"
            "alerts.yaml:9:12: rules[0].business_hours.end: end must be after start\n"
            "alerts.yaml:10:17: rules[0].business_hours.holidays: expected dates like 2027-12-25, "
            "got \"2027-13-01\"\n");
}

TEST(RuleConfig, ThresholdFieldNeedsLast) {
  EXPECT_EQ(ErrorOf(R"(rules:
  - name: A
    any_of:
      - signal: {kind: count, event: x}
        threshold_field: queue_size
)"),
            "alerts.yaml:5:26: rules[0].any_of[0].threshold_field: threshold_field needs a signal "
            "of kind last\n");
}

TEST(RuleConfig, SyntaxError) {
  EXPECT_EQ(ErrorOf("rules: [\n"),
            "alerts.yaml:2:1: YAML syntax error: end of sequence flow not found\n");
}

}  // namespace
}  // namespace calprobe::core::rules
