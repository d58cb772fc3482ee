// The series exported for alert rules (core/rule_exports.h): label plans
// per event, origin filters, region default, histogram bounds, the cap, and
// what a reload keeps.

#include "core/rule_exports.h"

#include <gtest/gtest.h>

#include "core/rules/rule_config.h"

namespace calprobe::core {
namespace {

std::vector<rules::Rule> Seed() {
  auto r = rules::LoadRuleSet(true, {});
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::vector<rules::Rule>{};
}

Event Ev(const std::string& name, const std::string& t,
         std::vector<std::pair<Label, std::string>> labels, std::string origin = "platform") {
  Event e;
  e.name = name;
  e.time = *ParseRfc3339(t);
  for (auto& [l, v] : labels) e.labels.Set(l, v);
  e.labels.Set(Label::kOrigin, std::move(origin));
  return e;
}

std::string Render(const RuleExports& x, const std::string& now = "2027-03-17T15:00:00Z") {
  std::string out;
  MetricsWriter w(&out);
  x.Render(&w, *ParseRfc3339(now));
  return out;
}

bool Has(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(RuleExports, SeriesPerRulePlan) {
  RuleExports x({500, "us-east"});
  x.SetRules(Seed(), *ParseRfc3339("2027-03-17T14:00:00Z"));
  // Counted for IcsPollErrors (per region); last seen for SyncStaleness (per src_id).
  x.OnEvent(Ev("cal.ics.poll.ok", "2027-03-17T14:59:00Z",
               {{Label::kRegion, "eu-west"}, {Label::kSrcId, "s1"}, {Label::kProvider, "p1"}})
                .With("http_status", int64_t{200}));
  x.OnEvent(Ev("cal.ics.poll.ok", "2027-03-17T14:58:00Z", {{Label::kSrcId, "s1"}}));  // no region
  // Synthetic polls feed no built-in rule.
  x.OnEvent(Ev("cal.ics.poll.ok", "2027-03-17T14:59:00Z", {{Label::kSrcId, "s2"}}, "synthetic"));
  const std::string m = Render(x);
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_events_total{event="cal.ics.poll.ok",region="eu-west",origin="platform"} 1)"))
      << m;
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_events_total{event="cal.ics.poll.ok",region="us-east",origin="platform"} 1)"))
      << m;
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_event_last_seen_timestamp_seconds{event="cal.ics.poll.ok",region="eu-west",src_id="s1",origin="platform"} 1805295540)"))
      << m;
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_event_last_seen_timestamp_seconds{event="cal.ics.poll.ok",region="us-east",src_id="s1",origin="platform"} 1805295480)"))
      << m;
  EXPECT_EQ(m.find("s2"), std::string::npos) << m;
  EXPECT_EQ(m.find("p1"), std::string::npos) << "provider is no group_by label of these rules\n"
                                             << m;
  EXPECT_TRUE(
      Has(m, R"(calprobe_rule_engine_start_timestamp_seconds{region="us-east"} 1805292000)"))
      << m;
  // 11:00 in New York on a Wednesday: DashboardSilence's hours opened at 09:00 EDT.
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_business_open_since_timestamp_seconds{alertname="DashboardSilence",region="us-east"} 1805288400)"))
      << m;
  const std::string saturday = Render(x, "2027-03-20T15:00:00Z");
  EXPECT_TRUE(Has(
      saturday,
      R"(calprobe_rule_business_open_since_timestamp_seconds{alertname="DashboardSilence",region="us-east"} 0)"))
      << saturday;
}

TEST(RuleExports, HistogramHasTheThresholdAsABound) {
  RuleExports x({500, "us-east"});
  x.SetRules(Seed(), *ParseRfc3339("2027-03-17T14:00:00Z"));
  for (double ms : {1999.0, 2000.0, 2001.0}) {
    x.OnEvent(Ev("cal.feasible.generated", "2027-03-17T14:59:00Z", {{Label::kRegion, "us-east"}})
                  .With("duration_ms", ms));
  }
  const std::string m = Render(x);
  const std::string l =
      R"({event="cal.feasible.generated",field="duration_ms",region="us-east",origin="platform")";
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_bucket" + l + R"(,le="1000"} 0)")) << m;
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_bucket" + l + R"(,le="2000"} 2)")) << m;
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_bucket" + l + R"(,le="2500"} 3)")) << m;
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_bucket" + l + R"(,le="+Inf"} 3)")) << m;
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_sum" + l + "} 6000")) << m;
  EXPECT_TRUE(Has(m, "calprobe_rule_event_field_count" + l + "} 3")) << m;
  // SlotVolumeAnomaly sums slot_count per role and region.
  x.OnEvent(Ev("cal.feasible.generated", "2027-03-17T14:59:30Z",
               {{Label::kRegion, "us-east"}, {Label::kRole, "tutor"}})
                .With("duration_ms", 10.0)
                .With("slot_count", int64_t{7}));
  x.OnEvent(Ev("cal.feasible.generated", "2027-03-17T14:59:40Z",
               {{Label::kRegion, "us-east"}, {Label::kRole, "tutor"}})
                .With("duration_ms", 10.0)
                .With("slot_count", int64_t{5}));
  const std::string m2 = Render(x);
  EXPECT_TRUE(Has(
      m2,
      R"(calprobe_rule_event_field_total{event="cal.feasible.generated",field="slot_count",role="tutor",region="us-east",origin="platform"} 12)"))
      << m2;
  // The same event also feeds DashboardSilence's last-seen gauge.
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_event_last_seen_timestamp_seconds{event="cal.feasible.generated",region="us-east",origin="platform"} 1805295540)"))
      << m;
}

TEST(RuleExports, LastFieldIsTheLatestByEventTime) {
  RuleExports x({500, "us-east"});
  x.SetRules(Seed(), *ParseRfc3339("2027-03-17T14:00:00Z"));
  x.OnEvent(Ev("cal.ics.backlog", "2027-03-17T14:59:00Z", {{Label::kRegion, "us-east"}})
                .With("size", int64_t{120})
                .With("queue_size", int64_t{100}));
  x.OnEvent(Ev("cal.ics.backlog", "2027-03-17T14:58:00Z", {{Label::kRegion, "us-east"}})  // late
                .With("size", int64_t{5})
                .With("queue_size", int64_t{100}));
  const std::string m = Render(x);
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_event_field_last{event="cal.ics.backlog",field="size",region="us-east",origin="platform"} 120)"))
      << m;
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_event_field_last{event="cal.ics.backlog",field="queue_size",region="us-east",origin="platform"} 100)"))
      << m;
}

TEST(RuleExports, CapDropsNewLabelSetsAndCountsThem) {
  RuleExports x({2, "us-east"});
  x.SetRules(Seed(), *ParseRfc3339("2027-03-17T14:00:00Z"));
  for (const char* p : {"p1", "p2", "p3", "p3", "p1"}) {
    x.OnEvent(Ev("cal.ics.feed.token.regenerated", "2027-03-17T14:59:00Z",
                 {{Label::kRegion, "us-east"}, {Label::kProvider, p}}));
  }
  const std::string m = Render(x);
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_events_total{event="cal.ics.feed.token.regenerated",provider="p1",region="us-east",origin="platform"} 2)"))
      << m;
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_events_total{event="cal.ics.feed.token.regenerated",provider="p2",region="us-east",origin="platform"} 1)"))
      << m;
  EXPECT_EQ(m.find("p3"), std::string::npos) << m;
  EXPECT_TRUE(Has(m, R"(calprobe_rule_export_dropped_total{family="events_total"} 2)")) << m;
  EXPECT_TRUE(Has(m, R"(calprobe_rule_export_series{family="events_total"} 2)")) << m;
}

TEST(RuleExports, ReloadKeepsUnchangedSeriesAndDropsReplannedOnes) {
  RuleExports x({500, "us-east"});
  auto rules = Seed();
  x.SetRules(rules, *ParseRfc3339("2027-03-17T14:00:00Z"));
  x.OnEvent(Ev("cal.hold.created", "2027-03-17T14:59:00Z", {{Label::kRegion, "us-east"}}));
  x.OnEvent(Ev("cal.ics.feed.token.regenerated", "2027-03-17T14:59:00Z",
               {{Label::kRegion, "us-east"}, {Label::kProvider, "p1"}}));
  for (auto& r : rules) {
    if (r.name == "FeedTokenLeakage") r.group_by = {Label::kRole};  // a new label plan
  }
  x.SetRules(rules, *ParseRfc3339("2027-03-17T14:30:00Z"));
  const std::string m = Render(x);
  EXPECT_TRUE(Has(
      m,
      R"(calprobe_rule_events_total{event="cal.hold.created",region="us-east",origin="platform"} 1)"))
      << m;
  EXPECT_EQ(m.find("p1"), std::string::npos) << m;
  EXPECT_TRUE(
      Has(m, R"(calprobe_rule_engine_start_timestamp_seconds{region="us-east"} 1805293800)"))
      << m;

  x.SetRules({}, *ParseRfc3339("2027-03-17T14:31:00Z"));  // no rules: nothing exported
  x.OnEvent(Ev("cal.hold.created", "2027-03-17T14:59:00Z", {{Label::kRegion, "us-east"}}));
  EXPECT_EQ(Render(x).find("cal.hold.created"), std::string::npos);
}

}  // namespace
}  // namespace calprobe::core
