#include "core/rules/engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/rules/alert_store.h"
#include "core/rules/business_hours.h"

namespace calprobe::core::rules {
namespace {

using signals::SeriesId;
using signals::SeriesSpec;
using signals::SignalStore;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// In-memory group key: the group label values joined (cheap; per rule).
std::string KeyOf(const Labels& l, const std::vector<Label>& group_by) {
  std::string k;
  for (Label g : group_by) {
    k += l.Get(g);
    k += '\x1f';
  }
  return k;
}

LabelMap ToMap(const Labels& l, const std::vector<Label>& group_by) {
  LabelMap m;
  for (Label g : group_by) m[std::string(kLabelNames[static_cast<size_t>(g)])] = l.Get(g);
  return m;
}

Labels ToLabels(const LabelMap& m, const std::vector<Label>& group_by) {
  Labels l;
  for (Label g : group_by) {
    auto it = m.find(std::string(kLabelNames[static_cast<size_t>(g)]));
    if (it != m.end()) l.Set(g, it->second);
  }
  return l;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct Reading {
  bool holds = false;
  double value = kNaN;
  bool data = false;  // enough fresh samples for a verdict either way
};

}  // namespace

const char* StateName(AlertState s) {
  switch (s) {
    case AlertState::kInactive:
      return "inactive";
    case AlertState::kPending:
      return "pending";
    case AlertState::kFiring:
      return "firing";
    case AlertState::kResolved:
      return "resolved";
  }
  return "?";
}

const char* ComparisonName(Comparison c) {
  switch (c) {
    case Comparison::kGt:
      return ">";
    case Comparison::kGe:
      return ">=";
    case Comparison::kLt:
      return "<";
    case Comparison::kLe:
      return "<=";
  }
  return "?";
}

bool Compare(double v, Comparison op, double t) {
  switch (op) {
    case Comparison::kGt:
      return v > t;
    case Comparison::kGe:
      return v >= t;
    case Comparison::kLt:
      return v < t;
    case Comparison::kLe:
      return v <= t;
  }
  return false;
}

void ForEachTemplatePart(std::string_view tmpl,
                         const std::function<void(std::string_view text)>& on_text,
                         const std::function<void(std::string_view expr, std::string_view raw)>&
                             on_action) {
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find("{{", i);
    if (open == std::string_view::npos) break;
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    if (open > i) on_text(tmpl.substr(i, open - i));
    std::string_view expr = tmpl.substr(open + 2, close - open - 2);
    const size_t first = expr.find_first_not_of(' ');
    expr = first == std::string_view::npos ? std::string_view()
                                           : expr.substr(first, expr.find_last_not_of(' ') + 1 - first);
    on_action(expr, tmpl.substr(open, close + 2 - open));
    i = close + 2;
  }
  if (i < tmpl.size()) on_text(tmpl.substr(i));
}

std::string RenderTemplate(const std::string& tmpl, const LabelMap& labels, double value) {
  std::string out;
  ForEachTemplatePart(
      tmpl, [&](std::string_view text) { out += text; },
      [&](std::string_view expr, std::string_view raw) {
        if (expr == "$value") {
          out += FormatValue(value);
        } else if (expr.starts_with("$labels.")) {
          auto it = labels.find(std::string(expr.substr(8)));
          if (it != labels.end()) out += it->second;
        } else {
          out += raw;  // unknown: kept verbatim
        }
      });
  return out;
}

struct RuleEngine::Compiled {
  struct Cond {
    std::vector<SeriesId> events;  // signal.events (or numerator)
    std::vector<SeriesId> denominators;
    std::optional<SeriesId> threshold_series;
  };
  std::vector<Cond> conds;
};

RuleEngine::RuleEngine(std::vector<Rule> rules, SignalStore* signals, Store* store)
    : rules_(std::move(rules)),
      signals_(signals),
      store_(store),
      started_(signals->clock().Now()),
      states_(rules_.size()) {}

RuleEngine::~RuleEngine() = default;

Result<std::unique_ptr<RuleEngine>> RuleEngine::Create(std::vector<Rule> rules,
                                                       SignalStore* signals, Store* store) {
  std::unique_ptr<RuleEngine> e(new RuleEngine(std::move(rules), signals, store));
  for (const Rule& r : e->rules_) {
    auto c = std::make_unique<Compiled>();
    for (const Condition& cond : r.any_of) {
      const Signal& sig = cond.signal;
      auto add = [&](const std::string& event, const std::string& field,
                     bool sketches) -> Result<SeriesId> {
        SeriesSpec spec;
        spec.event = event;
        spec.key_by = r.group_by;
        if (r.origins.size() == 1) spec.match.push_back({Label::kOrigin, r.origins[0]});
        spec.value_field = field;
        spec.window.span = std::max<Duration>(cond.window, std::chrono::minutes(1));
        if (sig.kind == SignalKind::kAnomaly) {
          // The baseline reads the same window `seasons` seasons back.
          spec.window.span = sig.season * sig.seasons + cond.window + std::chrono::minutes(10);
          // One resolution for the current window and the baselines, so
          // both count events at window edges the same way.
          spec.window.coarse_resolution = spec.window.span > std::chrono::hours(24 * 8)
                                              ? std::chrono::minutes(5)
                                              : std::chrono::minutes(1);
          spec.window.fine_resolution = spec.window.coarse_resolution;
          spec.window.fine_span = spec.window.coarse_resolution;
        }
        spec.window.keep_sketches = sketches;
        // `last` and `absence` read only the latest value and last-seen
        // time: no buckets, so a per-target rule costs O(1) per target.
        spec.window.keep_buckets =
            sig.kind != SignalKind::kLast && sig.kind != SignalKind::kAbsence;
        auto id = signals->AddSeries(spec);
        if (!id.ok()) return Status::Error("rule " + r.name + ": " + id.error());
        return id;
      };
      Compiled::Cond cc;
      const bool sketches = sig.kind == SignalKind::kQuantile;
      const bool valued = sig.kind == SignalKind::kQuantile || sig.kind == SignalKind::kLast ||
                          (sig.kind == SignalKind::kAnomaly && !sig.field.empty());
      if (sig.kind == SignalKind::kRatio) {
        auto n = add(sig.numerator, "", false);
        if (!n.ok()) return n.status();
        cc.events.push_back(*n);
        for (const auto& d : sig.denominator) {
          auto id = add(d, "", false);
          if (!id.ok()) return id.status();
          cc.denominators.push_back(*id);
        }
      } else {
        for (const auto& ev : sig.events) {
          auto id = add(ev, valued ? sig.field : "", sketches);
          if (!id.ok()) return id.status();
          cc.events.push_back(*id);
        }
        if (!cond.threshold_field.empty()) {
          auto id = add(sig.events[0], cond.threshold_field, false);
          if (!id.ok()) return id.status();
          cc.threshold_series = *id;
        }
      }
      c->conds.push_back(std::move(cc));
    }
    e->compiled_.push_back(std::move(c));
  }
  if (store != nullptr) {
    auto loaded = LoadAlertStates(*store);
    if (!loaded.ok()) return loaded.status();
    for (auto& a : *loaded) {
      for (size_t i = 0; i < e->rules_.size(); ++i) {
        if (e->rules_[i].name == a.rule) {
          // Keep only the rule's current group labels.
          const auto& gb = e->rules_[i].group_by;
          const Labels l = ToLabels(a.labels, gb);
          a.labels = ToMap(l, gb);
          e->states_[i][KeyOf(l, gb)] = std::move(a);
          break;
        }
      }
    }
  }
  return e;
}

namespace {

// Evaluates one condition at `key` (rule's group key) at `now`.
Reading EvalCondition(const SignalStore& s, const Condition& c, const std::vector<SeriesId>& events,
                      const std::vector<SeriesId>& dens, std::optional<SeriesId> threshold_series,
                      const Labels& key, TimePoint now, TimePoint started,
                      std::optional<TimePoint> open_since) {
  Reading r;
  const Signal& sig = c.signal;
  uint64_t samples = 0;
  auto latest = [&]() -> std::optional<TimePoint> {
    std::optional<TimePoint> last;
    for (SeriesId id : events) {
      auto t = s.LastSeen(id, key);
      if (t && (!last || *t > *last)) last = t;
    }
    return last;
  };
  switch (sig.kind) {
    case SignalKind::kCount:
    case SignalKind::kCountPerKey:
      for (SeriesId id : events) samples += s.Count(id, key, c.window);
      r.value = static_cast<double>(samples);
      break;
    case SignalKind::kRate: {
      double sum = 0;
      for (SeriesId id : events) {
        samples += s.Count(id, key, c.window);
        sum += s.Rate(id, key, c.window);
      }
      r.value = sum;
      break;
    }
    case SignalKind::kRatio: {
      for (SeriesId id : dens) samples += s.Count(id, key, c.window);
      auto v = s.Ratio(events[0], dens, key, c.window);
      if (v) r.value = *v;
      break;
    }
    case SignalKind::kQuantile: {
      samples = s.Count(events[0], key, c.window);
      auto v = s.Quantile(events[0], key, c.window, sig.q);
      if (v) r.value = *v;
      break;
    }
    case SignalKind::kMaxAge: {
      auto last = latest();
      if (!last || now - *last > sig.active_within) return r;  // not an active key
      samples = 1;
      r.value = ToSeconds(now - *last);
      break;
    }
    case SignalKind::kAbsence: {
      TimePoint base = std::max(latest().value_or(started), started);
      if (open_since) base = std::max(base, *open_since);
      samples = 1;
      r.value = ToSeconds(now - base);
      break;
    }
    case SignalKind::kAlways:
      r.value = 1;
      r.holds = true;
      r.data = true;
      return r;
    case SignalKind::kAnomaly: {
      // Trailing-window volume vs the same window in each past season; the
      // score is robust (median / MAD) and floored at Poisson noise so a
      // quiet key going from 2 to 5 is not an anomaly.
      // Whole buckets only: the newest one is still filling, and the
      // baselines must see the same phase of their buckets as the current
      // window. Resolution as set in Create (1 min, 5 min past 8 days).
      const Duration res = s.Spec(events[0]).window.coarse_resolution;
      auto volume = [&](Duration w) {
        return sig.field.empty() ? static_cast<double>(s.Count(events[0], key, w))
                                 : s.Sum(events[0], key, w);
      };
      auto between = [&](Duration back) { return volume(back + c.window + res) - volume(back + res); };
      const double current = between(Duration::zero());
      std::vector<double> base;
      for (int i = 1; i <= sig.seasons; ++i) {
        const Duration back = sig.season * i;
        if (now - back - c.window - res < started) break;  // not observed: no baseline
        base.push_back(between(back));
      }
      samples = base.size();
      if (base.empty()) return r;
      auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
      };
      const double med = median(base);
      std::vector<double> dev;
      for (double b : base) dev.push_back(std::fabs(b - med));
      const double spread = std::max({1.4826 * median(dev), std::sqrt(std::max(med, 0.0)), 1.0});
      r.value = (current - med) / spread;
      break;
    }
    case SignalKind::kLast: {
      // The latest of the events (e.g. expiring / recovered of one state).
      SeriesId latest_id = events[0];
      std::optional<TimePoint> t;
      for (SeriesId id : events) {
        auto seen = s.LastSeen(id, key);
        if (seen && (!t || *seen > *t)) {
          t = seen;
          latest_id = id;
        }
      }
      if (!t || now - *t > c.window) return r;  // no fresh reading
      auto v = s.LastValue(latest_id, key);
      if (!v) return r;
      samples = 1;
      r.value = *v;
      if (threshold_series) {
        auto th = s.LastValue(*threshold_series, key);
        if (!th) return r;
        r.holds = samples >= c.min_samples && Compare(*v, c.op, *th);
        r.data = true;
        return r;
      }
      break;
    }
  }
  r.data = !std::isnan(r.value) && samples >= c.min_samples;
  r.holds = r.data && Compare(r.value, c.op, c.threshold);
  return r;
}

}  // namespace

std::vector<AlertTransition> RuleEngine::Evaluate(Status* store_error) {
  const TimePoint now = signals_->clock().Now();
  std::vector<AlertTransition> out;
  std::vector<AlertInstance> changed;
  std::vector<std::string> changed_keys;
  for (size_t ri = 0; ri < rules_.size(); ++ri) {
    const Rule& rule = rules_[ri];
    const Compiled& comp = *compiled_[ri];
    auto& states = states_[ri];
    std::optional<TimePoint> open_since;
    if (rule.business_hours) open_since = OpenSince(*rule.business_hours, now);
    // Group keys: every key a series of the rule holds, plus live states.
    std::map<std::string, Labels> groups;
    if (rule.group_by.empty()) groups.try_emplace(std::string(), Labels{});
    for (const auto& cc : comp.conds) {
      for (const auto* ids : {&cc.events, &cc.denominators}) {
        for (SeriesId id : *ids) {
          signals_->ForEachKey(
              id, [&](const Labels& k) { groups.try_emplace(KeyOf(k, rule.group_by), k); });
        }
      }
    }
    for (const auto& [k, a] : states) groups.try_emplace(k, ToLabels(a.labels, rule.group_by));

    for (const auto& [gkey, key] : groups) {
      Reading decided;
      bool first = true;
      bool any_data = rule.business_hours && !open_since;  // closed hours: a verdict
      Duration longest{};
      if (!rule.business_hours || open_since) {
        for (size_t ci = 0; ci < rule.any_of.size(); ++ci) {
          const auto& cc = comp.conds[ci];
          Reading rd = EvalCondition(*signals_, rule.any_of[ci], cc.events, cc.denominators,
                                     cc.threshold_series, key, now, started_, open_since);
          any_data = any_data || rd.data;
          longest = std::max(longest, rule.any_of[ci].window);
          if (first || (rd.holds && !decided.holds)) decided = rd;
          first = false;
          if (decided.holds) break;
        }
      }
      auto it = states.find(gkey);
      AlertInstance cur;
      if (it != states.end()) cur = it->second;
      const AlertState from = cur.state;
      AlertState to = from;
      if (decided.holds) {
        cur.last_true = now;
        cur.value = decided.value;
        if (from == AlertState::kInactive || from == AlertState::kResolved) {
          cur.active_since = now;
          to = AlertState::kPending;
        }
        if (to == AlertState::kPending && now - cur.active_since >= rule.for_duration) {
          to = AlertState::kFiring;
          cur.fired_at = now;
        }
      } else if (from == AlertState::kPending) {
        to = AlertState::kInactive;
      } else if (from == AlertState::kFiring && !any_data && cur.fired_at < started_ &&
                 now - started_ < longest) {
        // Restored after a restart and the in-memory windows have not refilled
        // yet: no verdict, so it stays firing (for at most one window) rather
        // than resolving for lack of data.
      } else if (from == AlertState::kFiring && now - cur.last_true >= rule.keep_firing_for) {
        to = AlertState::kResolved;
      }
      if (!std::isnan(decided.value)) cur.value = decided.value;
      if (to == from && it == states.end()) continue;  // inactive, untracked
      const LabelMap gmap = ToMap(key, rule.group_by);
      cur.rule = rule.name;
      cur.labels = gmap;
      cur.state = to;
      if (to != from) {
        AlertTransition t;
        t.rule = rule.name;
        t.labels = gmap;
        t.from = from;
        t.to = to;
        t.value = std::isnan(decided.value) ? cur.value : decided.value;
        t.at = now;
        t.severity = rule.severity;
        for (const auto& [k, v] : rule.annotations) {
          t.annotations[k] = RenderTemplate(v, gmap, t.value);
        }
        out.push_back(std::move(t));
        changed.push_back(cur);
        changed_keys.push_back(nlohmann::json(gmap).dump());
      } else if (to == AlertState::kFiring && decided.holds) {
        changed.push_back(cur);  // keeps last_true current for keep_firing_for
        changed_keys.push_back(nlohmann::json(gmap).dump());
      }
      if (to == AlertState::kInactive || to == AlertState::kResolved) {
        states.erase(gkey);
      } else {
        states[gkey] = cur;
      }
    }
  }
  if (store_ != nullptr) {
    Status s = SaveAlertStates(*store_, changed, changed_keys);
    if (store_error) *store_error = s;
  }
  return out;
}

std::vector<AlertInstance> RuleEngine::Active() const {
  std::vector<AlertInstance> out;
  for (const auto& states : states_) {
    for (const auto& [k, a] : states) out.push_back(a);
  }
  return out;
}

}  // namespace calprobe::core::rules
