#pragma once
// RuleEngine: evaluates alert rules (rule.h) over a SignalStore per group
// key and keeps each alert's state (DESIGN.md "Rules"):
//
//   inactive --true--> pending --true for `for:`--> firing
//   pending --false--> inactive
//   firing --false (and keep_firing_for elapsed)--> resolved
//   resolved --true--> pending (a new episode)
//
// With `for: 0` an alert goes inactive -> firing in one step. Every state
// change is returned as an AlertTransition; an alert that resolved is then
// forgotten (it reads as inactive). Group keys are the keys the rule's series
// hold (plus keys with a live state, so an alert whose events stopped
// resolves); a rule without group_by has one key.
//
// Persistence: with a Store, pending and firing alerts are written after each
// Evaluate that changed them and loaded by Create, so a restarted engine
// neither loses a firing alert nor emits its firing transition again.
// States of rules no longer configured are dropped at load.
//
// Time is the SignalStore's clock. Not thread-safe (like SignalStore).

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/rules/rule.h"
#include "core/signals/signal_store.h"
#include "core/status.h"
#include "core/store.h"

namespace calprobe::core::rules {

enum class AlertState { kInactive, kPending, kFiring, kResolved };
const char* StateName(AlertState s);

using LabelMap = std::map<std::string, std::string>;

struct AlertTransition {
  std::string rule;
  LabelMap labels;  // the group key, by label name
  AlertState from = AlertState::kInactive;
  AlertState to = AlertState::kInactive;
  double value = 0;  // the value that decided (NaN when none)
  TimePoint at;
  std::string severity;
  LabelMap annotations;  // rendered templates
};

// A pending or firing alert.
struct AlertInstance {
  std::string rule;
  LabelMap labels;
  AlertState state = AlertState::kInactive;
  TimePoint active_since;  // first true of this episode
  TimePoint fired_at;      // when it started firing (firing only)
  TimePoint last_true;     // last evaluation the condition was true
  double value = 0;
};

class RuleEngine {
 public:
  // Registers the rules' series in `signals` (which must outlive the engine)
  // and, when `store` is not null (it must outlive the engine too), loads the
  // persisted states. Returns an error naming the rule whose series the
  // store rejected, or a store error.
  static Result<std::unique_ptr<RuleEngine>> Create(std::vector<Rule> rules,
                                                    signals::SignalStore* signals,
                                                    Store* store = nullptr);
  ~RuleEngine();

  // Evaluates every rule at the clock's now. Returns the state changes, in
  // rule order then group key order. Persistence errors are returned in
  // *store_error when given (evaluation itself never fails).
  std::vector<AlertTransition> Evaluate(Status* store_error = nullptr);

  // Pending and firing alerts, in rule order then group key order.
  std::vector<AlertInstance> Active() const;
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  struct Compiled;
  RuleEngine(std::vector<Rule> rules, signals::SignalStore* signals, Store* store);

  std::vector<Rule> rules_;
  std::vector<std::unique_ptr<Compiled>> compiled_;
  signals::SignalStore* signals_;
  Store* store_;
  TimePoint started_;
  // Per rule: group key (label values joined) -> instance.
  std::vector<std::map<std::string, AlertInstance>> states_;
};

// Renders "{{ $labels.region }}" and "{{ $value }}" in `tmpl`.
std::string RenderTemplate(const std::string& tmpl, const LabelMap& labels, double value);

// Splits an annotation template into literal text and "{{ expr }}" actions
// (expr without surrounding spaces; raw = the whole "{{ … }}"), in order. An
// unterminated "{{" is text. The engine's RenderTemplate and the Prometheus
// export's ConvertTemplate both build their output from these parts.
void ForEachTemplatePart(std::string_view tmpl,
                         const std::function<void(std::string_view text)>& on_text,
                         const std::function<void(std::string_view expr, std::string_view raw)>&
                             on_action);

}  // namespace calprobe::core::rules
