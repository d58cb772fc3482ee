// Rule -> PromQL translation (core/rules/promql.h): the expected expression
// of every signal kind, business hours, any_of, templates, conditions left
// out, and the multi-region variant. The exported file is checked by
// promtool in tests/integration/export_rules_test.py.

#include "core/rules/promql.h"

#include <gtest/gtest.h>

#include "core/rules/rule_config.h"

namespace calprobe::core::rules {
namespace {

Rule Builtin(const std::string& name) {
  std::vector<Rule> all;
  for (auto* load : {&DefaultRules, &BuiltinProbeRules}) {
    auto r = (*load)();
    EXPECT_TRUE(r.ok()) << r.error();
    if (r.ok()) all.insert(all.end(), r->begin(), r->end());
  }
  for (auto& r : all) {
    if (r.name == name) return r;
  }
  ADD_FAILURE() << "no built-in rule " << name;
  return {};
}

Rule Parse(const std::string& yaml) {
  auto r = ParseRules(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.ok() ? r->size() : 0u, 1u);
  return r.ok() && !r->empty() ? (*r)[0] : Rule{};
}

std::string Expr(const Rule& r) {
  auto a = TranslateRule(r, {});
  EXPECT_TRUE(a.ok()) << r.name << ": " << (a.ok() ? "" : a.error());
  return a.ok() ? a->expr : "";
}

TEST(PromQL, CountPerKey) {
  const Rule r = Builtin("FeedTokenLeakage");
  EXPECT_EQ(ConditionExpr(r, r.any_of[0]).value(),
            "sum by (region, provider) (increase(calprobe_rule_events_total{event=\"cal.ics.feed."
            "token.regenerated\",origin=\"platform\"}[24h])) > 3");
}

TEST(PromQL, CountWithMinSamples) {
  EXPECT_EQ(
      Expr(Parse(R"(rules:
  - name: A
    signal: {kind: count, event: cal.hold.created}
    window: 5m
    threshold: 1
    min_samples: 2
)")),
      R"((sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[5m])) > 1) and on(region) (sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[5m])) >= 2))");
}

TEST(PromQL, RateOverSeveralEventsAndBothOrigins) {
  EXPECT_EQ(
      Expr(Parse(R"(rules:
  - name: A
    signal: {kind: rate, events: [cal.ics.poll.ok, cal.ics.poll.error]}
    window: 10m
    op: "<"
    threshold: 0.5
    min_samples: 3
    origins: [platform, synthetic]
)")),
      R"((sum by (region) (rate(calprobe_rule_events_total{event=~"cal\\.ics\\.poll\\.ok|cal\\.ics\\.poll\\.error"}[10m])) < 0.5) and on(region) (sum by (region) (increase(calprobe_rule_events_total{event=~"cal\\.ics\\.poll\\.ok|cal\\.ics\\.poll\\.error"}[10m])) >= 3))");
}

TEST(PromQL, RatioWithMinSamples) {
  EXPECT_EQ(
      Expr(Builtin("HoldExpirySpike")),
      R"((sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.expired",origin="platform"}[15m])) / sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[15m])) > 0.2) and on(region) (sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[15m])) >= 10))");
}

TEST(PromQL, RatioBelowCountsMissingNumeratorAsZeroAndNeedsADenominator) {
  EXPECT_EQ(
      Expr(Parse(R"(rules:
  - name: A
    signal: {kind: ratio, numerator: cal.hold.converted, denominator: [cal.hold.created]}
    window: 1h
    op: "<="
    threshold: 0.1
    group_by: [provider]
)")),
      R"(((sum by (region, provider) (increase(calprobe_rule_events_total{event="cal.hold.converted",origin="platform"}[1h])) or on(region, provider) 0 * sum by (region, provider) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[1h]))) / sum by (region, provider) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[1h])) <= 0.1) and on(region, provider) (sum by (region, provider) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[1h])) > 0))");
}

TEST(PromQL, Quantile) {
  EXPECT_EQ(
      Expr(Builtin("FeasibilityLatency")),
      R"((histogram_quantile(0.95, sum by (le, region) (rate(calprobe_rule_event_field_bucket{event="cal.feasible.generated",field="duration_ms",origin="platform"}[1m]))) > 2000) and on(region) (sum by (region) (increase(calprobe_rule_event_field_count{event="cal.feasible.generated",field="duration_ms",origin="platform"}[1m])) >= 1))");
}

TEST(PromQL, MaxAgeWithActiveBound) {
  EXPECT_EQ(
      Expr(Builtin("SyncStaleness")),
      R"((time() - max by (region, src_id) (calprobe_rule_event_last_seen_timestamp_seconds{event=~"cal\\.ics\\.poll\\.ok|cal\\.ics\\.poll\\.error",origin="platform"}) > 2700) <= 86400)");
}

TEST(PromQL, AbsenceInBusinessHours) {
  EXPECT_EQ(
      Expr(Builtin("DashboardSilence")),
      R"((time() - max by (region) (calprobe_rule_event_last_seen_timestamp_seconds{event=~"cal\\.rule\\.updated|cal\\.feasible\\.generated",origin="platform"} or calprobe_rule_engine_start_timestamp_seconds or calprobe_rule_business_open_since_timestamp_seconds{alertname="DashboardSilence"}) > 1800)
and on(region) (calprobe_rule_business_open_since_timestamp_seconds{alertname="DashboardSilence"} > 0))");
}

TEST(PromQL, AbsencePerKeyCountsFromOpeningPerRegion) {
  EXPECT_EQ(
      Expr(Parse(R"(rules:
  - name: Quiet
    signal: {kind: absence, events: [cal.rule.updated]}
    window: 10m
    threshold: 10m
    group_by: [provider]
    business_hours: {timezone: UTC, weekdays: [mon], start: "09:00", end: "17:00"}
)")),
      R"((time() - (max by (region, provider) (calprobe_rule_event_last_seen_timestamp_seconds{event="cal.rule.updated",origin="platform"}) >= on(region) group_left() max by (region) (calprobe_rule_business_open_since_timestamp_seconds{alertname="Quiet"}) or on(region, provider) (0 * max by (region, provider) (calprobe_rule_event_last_seen_timestamp_seconds{event="cal.rule.updated",origin="platform"}) + on(region) group_left() max by (region) (calprobe_rule_business_open_since_timestamp_seconds{alertname="Quiet"}))) > 600)
and on(region) (calprobe_rule_business_open_since_timestamp_seconds{alertname="Quiet"} > 0))");
}

TEST(PromQL, AbsencePerKeyWithoutBusinessHours) {
  EXPECT_EQ(
      Expr(Parse(R"(rules:
  - name: Quiet
    signal: {kind: absence, events: [cal.rule.updated]}
    window: 10m
    threshold: 10m
    group_by: [provider]
)")),
      R"(time() - max by (region, provider) (calprobe_rule_event_last_seen_timestamp_seconds{event="cal.rule.updated",origin="platform"}) > 600)");
}

TEST(PromQL, AnyOfRatioOrLastAgainstAnotherField) {
  EXPECT_EQ(
      Expr(Builtin("IcsPollErrors")),
      R"(((sum by (region) (increase(calprobe_rule_events_total{event="cal.ics.poll.error",origin="platform"}[15m])) / sum by (region) (increase(calprobe_rule_events_total{event=~"cal\\.ics\\.poll\\.ok|cal\\.ics\\.poll\\.error",origin="platform"}[15m])) > 0.05) and on(region) (sum by (region) (increase(calprobe_rule_events_total{event=~"cal\\.ics\\.poll\\.ok|cal\\.ics\\.poll\\.error",origin="platform"}[15m])) >= 20))
or
((max by (region) (calprobe_rule_event_field_last{event="cal.ics.backlog",field="size",origin="platform"}) > on(region) max by (region) (calprobe_rule_event_field_last{event="cal.ics.backlog",field="queue_size",origin="platform"})) and on(region) (time() - max by (region) (calprobe_rule_event_last_seen_timestamp_seconds{event="cal.ics.backlog",origin="platform"}) <= 900)))");
}

TEST(PromQL, LastAgainstThresholdPerTarget) {
  EXPECT_EQ(
      Expr(Builtin("ProbeFailing")),
      R"((max by (region, target, probe, provider) (calprobe_rule_event_field_last{event="calprobe.probe.result",field="recent_failures",origin="synthetic"}) >= 3) and on(region, target, probe, provider) (time() - max by (region, target, probe, provider) (calprobe_rule_event_last_seen_timestamp_seconds{event="calprobe.probe.result",origin="synthetic"}) <= 900))");
}

TEST(PromQL, AnomalyAsRecordingRules) {
  Rule r = Parse(R"(rules:
  - name: Slot-Drop
    signal: {kind: anomaly, event: cal.feasible.generated, field: slot_count, season: 1d, seasons: 3}
    window: 1h
    op: "<"
    threshold: -4
    min_samples: 2
    group_by: [role]
)");
  std::vector<PromRecord> records;
  auto e = ConditionExpr(r, r.any_of[0], &records);
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(*e,
            "((calprobe:Slot_Drop_0:volume - calprobe:Slot_Drop_0:median) / "
            "calprobe:Slot_Drop_0:spread < -4) and on(region, role) "
            "(calprobe:Slot_Drop_0:seasons >= 2)");
  const std::string sel =
      R"(calprobe_rule_event_field_total{event="cal.feasible.generated",field="slot_count",origin="platform"})";
  auto past = [&](int i) {
    return "label_replace(sum by (region, role) (increase(" + sel + "[1h] offset " +
           std::to_string(24 * i) + "h)), \"calprobe_season\", \"" + std::to_string(i) +
           "\", \"\", \"\")";
  };
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].record, "calprobe:Slot_Drop_0:volume");
  EXPECT_EQ(records[0].expr, "sum by (region, role) (increase(" + sel + "[1h]))");
  EXPECT_EQ(records[1].record, "calprobe:Slot_Drop_0:past");
  EXPECT_EQ(records[1].expr, past(1) + "\nor " + past(2) + "\nor " + past(3));
  EXPECT_EQ(records[2].expr, "quantile by (region, role) (0.5, calprobe:Slot_Drop_0:past)");
  EXPECT_EQ(records[3].expr,
            "clamp_min((1.4826 * quantile by (region, role) (0.5, abs(calprobe:Slot_Drop_0:past - "
            "on(region, role) group_left() calprobe:Slot_Drop_0:median)) > "
            "sqrt(clamp_min(calprobe:Slot_Drop_0:median, 0))) or "
            "sqrt(clamp_min(calprobe:Slot_Drop_0:median, 0)), 1)");
  EXPECT_EQ(records[4].expr, "count by (region, role) (calprobe:Slot_Drop_0:past)");
  // Without a place for its recording rules the condition has no translation.
  EXPECT_FALSE(ConditionExpr(r, r.any_of[0]).ok());
  auto a = TranslateRule(r, {});
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->records.size(), 5u);
  const auto needs = ExportNeeds(r);
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].family, ExportFamily::kFieldTotal);
  EXPECT_EQ(needs[0].field, "slot_count");
}

TEST(PromQL, LastOfSeveralEventsReadsTheLatestOne) {
  const std::string seen =
      R"(calprobe_rule_event_last_seen_timestamp_seconds{event=~"calprobe\\.tls\\.cert\\.expiring|calprobe\\.tls\\.cert\\.invalid|calprobe\\.tls\\.cert\\.recovered",origin="synthetic"})";
  EXPECT_EQ(
      Expr(Builtin("TlsCertificateExpiring")),
      R"((max by (region, target) (calprobe_rule_event_field_last{event=~"calprobe\\.tls\\.cert\\.expiring|calprobe\\.tls\\.cert\\.invalid|calprobe\\.tls\\.cert\\.recovered",field="days_left",origin="synthetic"} and on(region, target, event) ()" +
          seen + " == on(region, target) group_left() max by (region, target) (" + seen +
          "))) < 21) and on(region, target) (time() - max by (region, target) (" + seen +
          ") <= 3024000)");
}

TEST(PromQL, Always) { EXPECT_EQ(Expr(Builtin("Watchdog")), "vector(1)"); }

TEST(PromQL, RuleFields) {
  Rule r = Builtin("FeasibilityLatency");
  r.keep_firing_for = std::chrono::minutes(10);
  PromExportOptions o;
  o.runbook_base_url = "https://example.test/calprobe/blob/main/";
  auto a = TranslateRule(r, o);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->name, "FeasibilityLatency");
  EXPECT_EQ(PromDuration(a->for_duration), "5m");
  EXPECT_EQ(PromDuration(a->keep_firing_for), "10m");
  EXPECT_EQ(a->labels, (std::vector<std::pair<std::string, std::string>>{{"severity", "page"}}));
  std::map<std::string, std::string> ann(a->annotations.begin(), a->annotations.end());
  EXPECT_EQ(
      ann["summary"],
      "Feasibility p95 {{ printf \"%.6g\" $value }} ms > 2000 ms for 5m in {{ $labels.region }}");
  EXPECT_EQ(ann["runbook_url"],
            "https://example.test/calprobe/blob/main/ops/runbooks/feasibility-latency.md");
  EXPECT_TRUE(a->notes.empty());

  o.keep_firing_for = false;  // Prometheus older than 2.42
  EXPECT_EQ(TranslateRule(r, o)->keep_firing_for.count(), 0);
}

TEST(PromQL, Templates) {
  EXPECT_EQ(ConvertTemplate("v={{$value}} r={{ $labels.region }}"),
            "v={{ printf \"%.6g\" $value }} r={{ $labels.region }}");
  // What the engine prints verbatim stays literal text in Go templates.
  EXPECT_EQ(ConvertTemplate("{{ .Foo }} and {{ $labels.a-b }} {{ open"),
            "{{\"{{\"}} .Foo }} and {{\"{{\"}} $labels.a-b }} {{\"{{\"}} open");
  EXPECT_EQ(ConvertTemplate("plain"), "plain");
}

TEST(PromQL, Durations) {
  EXPECT_EQ(PromDuration(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(PromDuration(std::chrono::hours(24)), "24h");
  EXPECT_EQ(PromDuration(std::chrono::milliseconds(1500)), "1s500ms");
  EXPECT_EQ(PromDuration(Duration{}), "0s");
}

TEST(PromQL, UntranslatableConditionIsNamedNotDropped) {
  Rule r = Parse(R"(rules:
  - name: A
    any_of:
      - signal: {kind: count, event: cal.hold.created}
        threshold: 5
      - signal: {kind: last, event: cal.ics.backlog, field: size}
        threshold: 10
        min_samples: 2
)");
  auto a = TranslateRule(r, {});
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(
      a->expr,
      R"(sum by (region) (increase(calprobe_rule_events_total{event="cal.hold.created",origin="platform"}[5m])) > 5)");
  ASSERT_EQ(a->notes.size(), 1u);
  EXPECT_EQ(a->notes[0],
            "left out (fires on the other conditions only): any_of[1]: min_samples 2 on a last "
            "signal (one sample per group) never holds");

  r.any_of.erase(r.any_of.begin());
  auto none = TranslateRule(r, {});  // nothing left
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(),
            "condition: min_samples 2 on a last signal (one sample per group) never holds");
  const std::string file = RenderPrometheusRules({r}, {});
  EXPECT_NE(file.find("      # A: not exported: condition: min_samples 2"), std::string::npos)
      << file;
}

TEST(PromQL, MultiRegionVariant) {
  auto a = MultiRegionVariant(Builtin("ProbeFailing"), 2, {});
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->name, "ProbeFailingMultiRegion");
  EXPECT_EQ(a->expr,
            "count by (target, probe, provider) (\n" + Expr(Builtin("ProbeFailing")) + "\n) >= 2");
  EXPECT_EQ(a->labels.back(), (std::pair<std::string, std::string>{"scope", "multi-region"}));
  // Rules without target (or already per region) have none.
  EXPECT_FALSE(MultiRegionVariant(Builtin("HoldExpirySpike"), 2, {}).has_value());
  EXPECT_FALSE(MultiRegionVariant(Builtin("Watchdog"), 2, {}).has_value());
}

TEST(PromQL, ExportNeeds) {
  auto needs = ExportNeeds(Builtin("IcsPollErrors"));
  ASSERT_EQ(needs.size(), 6u);
  EXPECT_EQ(needs[0].family, ExportFamily::kEventsTotal);
  EXPECT_EQ(needs[0].event, "cal.ics.poll.error");
  EXPECT_EQ(needs[3].family, ExportFamily::kLastSeen);
  EXPECT_EQ(needs[3].event, "cal.ics.backlog");
  EXPECT_EQ(needs[4].family, ExportFamily::kFieldLast);
  EXPECT_EQ(needs[4].field, "size");
  EXPECT_EQ(needs[5].field, "queue_size");
  auto q = ExportNeeds(Builtin("FeasibilityLatency"));
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].family, ExportFamily::kFieldHistogram);
  EXPECT_EQ(q[0].boundary, 2000);
  EXPECT_EQ(q[0].group_by, std::vector<Label>{Label::kRegion});
  EXPECT_TRUE(ExportNeeds(Builtin("Watchdog")).empty());
}

TEST(PromQL, RenderedFileHasEveryBuiltinRule) {
  std::vector<Rule> all;
  for (auto* load : {&DefaultRules, &BuiltinProbeRules}) {
    auto r = (*load)();
    ASSERT_TRUE(r.ok()) << r.error();
    all.insert(all.end(), r->begin(), r->end());
  }
  PromExportOptions o;
  o.multi_region = 2;
  const std::string file = RenderPrometheusRules(all, o);
  for (const auto& r : all) {
    EXPECT_NE(file.find("      - alert: " + r.name + "\n"), std::string::npos) << r.name;
  }
  EXPECT_EQ(file.find("not exported"), std::string::npos) << file;
  EXPECT_EQ(file.find("left out"), std::string::npos) << file;
  // Recording rules of the anomaly conditions come before their alert.
  EXPECT_LT(file.find("      - record: calprobe:SlotVolumeAnomaly_1:seasons\n"),
            file.find("      - alert: SlotVolumeAnomaly\n"));
  EXPECT_NE(file.find("  - name: calprobe-multi-region\n"), std::string::npos);
  EXPECT_NE(file.find("      - alert: ProbeFailingMultiRegion\n"), std::string::npos);
  EXPECT_NE(file.find("      - alert: FeasibilityOracleMismatchMultiRegion\n"), std::string::npos);
  EXPECT_NE(file.find("        for: 5m\n"), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core::rules
