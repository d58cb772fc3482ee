// RuleEngine: state machine details (for:, keep_firing_for, any_of,
// templates) and persistence across a restart.

#include "core/rules/engine.h"

#include <gtest/gtest.h>

#include "core/store.h"
#include "tests/rules/rules_test_util.h"

namespace calprobe::core::rules::testing {
namespace {

std::vector<Rule> Parse(const std::string& yaml) {
  auto r = ParseRules(yaml, "test.yaml");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::vector<Rule>{};
}

const char* kCountRule = R"yaml(
rules:
  - name: Regens
    signal: {kind: count, event: cal.ics.feed.token.regenerated}
    window: 10m
    op: ">="
    threshold: 2
    for: 1m
    keep_firing_for: 2m
    group_by: [provider]
    severity: page
    annotations: {summary: "{{ $labels.provider }} has {{ $value }} ({{ $other }})"}
)yaml";

void Regen(RuleHarness& h, const std::string& p = "p1") {
  h.Record(Ev("cal.ics.feed.token.regenerated", h.Now(), Label::kProvider, p));
}

// `last` over several events reads the latest of them; bool fields read 1/0.
TEST(RuleEngine, LastOverSeveralEventsFollowsTheLatestAndReadsBools) {
  RuleHarness h("Cert", Parse(R"yaml(
rules:
  - name: Cert
    signal: {kind: last, events: [calprobe.tls.cert.expiring, calprobe.tls.cert.recovered], field: chain_verified}
    window: 35d
    op: "<"
    threshold: 1
    group_by: [target]
    origins: [synthetic]
)yaml"));
  auto cert = [&](const char* name, bool verified) {
    Event e = Ev(name, h.Now(), Label::kTarget, "api", "synthetic");
    e.With("chain_verified", verified).With("days_left", 5.0);
    h.Record(e);
    h.Eval();
  };
  cert("calprobe.tls.cert.expiring", false);
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[0].value, 0);
  h.RunTo(h.Now() + hours(24 * 10));  // no news for 10 days: still firing
  ASSERT_EQ(h.got().size(), 1u);
  cert("calprobe.tls.cert.recovered", true);  // renewed: the latest event wins
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[1].to, AlertState::kResolved);
}

TEST(RuleEngine, ForAndKeepFiringFor) {
  RuleHarness h("Regens", Parse(kCountRule));
  Regen(h);
  Regen(h);
  h.Eval();
  h.RunTo(T0() + minutes(1));
  ASSERT_EQ(h.got().size(), 2u);
  EXPECT_EQ(h.got()[0].to, AlertState::kPending);
  EXPECT_EQ(h.got()[1].to, AlertState::kFiring);
  EXPECT_EQ(h.got()[1].at, T0() + minutes(1));
  EXPECT_EQ(h.got()[1].annotations.at("summary"), "p1 has 2 ({{ $other }})");
  // Last true at 9m50s (the events leave the window at 10m); keeps firing
  // for 2 more minutes.
  h.RunTo(T0() + minutes(11) + seconds(40));
  ASSERT_EQ(h.got().size(), 2u);
  h.RunTo(T0() + minutes(11) + seconds(50));
  ASSERT_EQ(h.got().size(), 3u);
  EXPECT_EQ(h.got()[2].at, T0() + minutes(11) + seconds(50));
  EXPECT_EQ(h.got()[2].from, AlertState::kFiring);
  EXPECT_EQ(h.got()[2].to, AlertState::kResolved);
  EXPECT_TRUE(h.engine().Active().empty());
}

TEST(RuleEngine, RestartNeitherLosesNorDuplicates) {
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.error();
  {
    RuleHarness h("Regens", Parse(kCountRule), store->get());
    Regen(h);
    Regen(h);
    h.Eval();
    h.RunTo(T0() + minutes(2));
    ASSERT_EQ(h.To(AlertState::kFiring).size(), 1u);
  }
  // A new engine (fresh signals, same store) sees the firing alert.
  RuleHarness h("Regens", Parse(kCountRule), store->get());
  auto active = h.engine().Active();
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].state, AlertState::kFiring);
  EXPECT_EQ(active[0].labels.at("provider"), "p1");
  EXPECT_EQ(active[0].active_since, T0());
  // The events are replayed into its signals: still firing, no new transition.
  Regen(h);
  Regen(h);
  h.RunTo(T0() + minutes(5));
  EXPECT_TRUE(h.got().empty());
  // Resolves exactly once, and the row is gone.
  h.RunTo(T0() + minutes(13));
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kResolved);
  RuleHarness again("Regens", Parse(kCountRule), store->get());
  EXPECT_TRUE(again.engine().Active().empty());
}

TEST(RuleEngine, AnyOfReportsTheConditionThatHolds) {
  RuleHarness h("Either", Parse(R"(
rules:
  - name: Either
    any_of:
      - signal: {kind: count, event: cal.hold.created}
        window: 5m
        threshold: 100
      - signal: {kind: rate, event: cal.hold.expired}
        window: 1m
        op: ">="
        threshold: 0.05
)"));
  for (int i = 0; i < 3; ++i) h.Record(Ev("cal.hold.expired", h.Now()));
  h.Eval();
  ASSERT_EQ(h.got().size(), 1u);
  EXPECT_EQ(h.got()[0].to, AlertState::kFiring);
  EXPECT_DOUBLE_EQ(h.got()[0].value, 0.05);
}

TEST(RuleEngine, RenderTemplate) {
  LabelMap l{{"region", "eu"}};
  EXPECT_EQ(RenderTemplate("{{ $labels.region }}:{{$value}}:{{ $labels.none }}", l, 0.5),
            "eu:0.5:");
  EXPECT_EQ(RenderTemplate("no {{ end", l, 1), "no {{ end");
}

}  // namespace
}  // namespace calprobe::core::rules::testing
