#pragma once
// Helpers for rule tests: one seed rule (config/alerts.yaml) over a
// SignalStore on a ManualClock, evaluated on a 10 s grid like replay.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/rules/engine.h"
#include "core/rules/rule_config.h"
#include "core/signals/signal_store.h"

namespace calprobe::core::rules::testing {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Wednesday 2027-03-17 15:00Z = 11:00 America/New_York (EDT): business hours.
inline TimePoint T0() { return *ParseRfc3339("2027-03-17T15:00:00Z"); }

inline Event Ev(std::string name, TimePoint t, Label l = Label::kRegion, std::string v = "us-east",
                std::string origin = "platform") {
  Event e;
  e.name = std::move(name);
  e.time = t;
  e.labels.Set(l, std::move(v));
  e.labels.Set(Label::kOrigin, std::move(origin));
  return e;
}

class RuleHarness {
 public:
  // Loads the built-in rule `name` (or `rules` when given).
  explicit RuleHarness(const std::string& name, std::vector<Rule> rules = {},
                       Store* store = nullptr)
      : clock_(T0()), signals_(clock_) {
    if (rules.empty()) {
      auto all = DefaultRules();
      EXPECT_TRUE(all.ok()) << all.error();
      for (auto& r : *all) {
        if (r.name == name) rules.push_back(r);
      }
    }
    EXPECT_EQ(rules.size(), 1u) << name;
    auto e = RuleEngine::Create(std::move(rules), &signals_, store);
    EXPECT_TRUE(e.ok()) << e.error();
    engine_ = std::move(*e);
  }

  void Record(const Event& e) { EXPECT_TRUE(signals_.Record(e).ok()) << e.name; }
  // Evaluates every 10 s from now (exclusive) up to t (inclusive).
  void RunTo(TimePoint t) {
    while (clock_.Now() + seconds(10) <= t) {
      clock_.Advance(seconds(10));
      Eval();
    }
    if (clock_.Now() < t) {
      clock_.Set(t);
      Eval();
    }
  }
  // Moves the clock without evaluating (long baselines: days of events).
  void SkipTo(TimePoint t) { clock_.Set(t); }
  void Eval() {
    for (auto& t : engine_->Evaluate()) got_.push_back(std::move(t));
  }
  TimePoint Now() const { return clock_.Now(); }
  const std::vector<AlertTransition>& got() const { return got_; }
  // Transitions to `s`.
  std::vector<AlertTransition> To(AlertState s) const {
    std::vector<AlertTransition> out;
    for (const auto& t : got_) {
      if (t.to == s) out.push_back(t);
    }
    return out;
  }
  RuleEngine& engine() { return *engine_; }

 private:
  ManualClock clock_;
  signals::SignalStore signals_;
  std::unique_ptr<RuleEngine> engine_;
  std::vector<AlertTransition> got_;
};

}  // namespace calprobe::core::rules::testing
