#include "core/rules/rule_config.h"

#include <algorithm>
#include <map>

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "core/config/config_node.h"
#include "core/rules/business_hours.h"
#include "core/rules/embedded_alerts.h"

namespace calprobe::core::rules {
namespace {

using std::chrono::duration_cast;

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') {
      return false;
    }
  }
  return true;
}

bool IsAgeKind(SignalKind k) { return k == SignalKind::kMaxAge || k == SignalKind::kAbsence; }

// "event: x" or "events: [x, y]" into out; records an error when neither.
void ReadEvents(const ConfigNode& s, std::vector<std::string>* out) {
  if (s.Has("event")) out->push_back(s.RequiredString("event"));
  for (auto& e : s.StringList("events")) out->push_back(e);
  if (out->empty()) s.Error("missing required key \"event\" (or \"events\")");
  for (const auto& e : *out) {
    if (e.empty()) s.Error("empty event name");
  }
}

void ReadSignal(const ConfigNode& s, Condition* c) {
  if (!s.ExpectMap()) return;
  if (!s.defined()) {
    s.Error("missing required key \"signal\"");
    return;
  }
  Signal& sig = c->signal;
  const std::string kind = s.RequiredString("kind");
  static const std::pair<const char*, SignalKind> kKinds[] = {
      {"count", SignalKind::kCount},       {"count_per_key", SignalKind::kCountPerKey},
      {"rate", SignalKind::kRate},         {"ratio", SignalKind::kRatio},
      {"quantile", SignalKind::kQuantile}, {"max_age", SignalKind::kMaxAge},
      {"absence", SignalKind::kAbsence},   {"last", SignalKind::kLast},
      {"always", SignalKind::kAlways},     {"anomaly", SignalKind::kAnomaly}};
  bool found = false;
  for (const auto& [n, k] : kKinds) {
    if (kind == n) {
      sig.kind = k;
      found = true;
    }
  }
  if (!found) {
    if (!kind.empty()) {
      s["kind"].Error("unknown signal kind \"" + kind +
                      "\" (one of count, count_per_key, rate, ratio, quantile, max_age, absence, "
                      "last, always, anomaly)");
    }
    return;
  }
  switch (sig.kind) {
    case SignalKind::kRatio:
      sig.numerator = s.RequiredString("numerator");
      sig.denominator = s.StringList("denominator");
      if (sig.denominator.empty()) s.Error("missing required key \"denominator\"");
      break;
    case SignalKind::kQuantile:
      ReadEvents(s, &sig.events);
      sig.field = s.RequiredString("field");
      sig.q = s.Double("q", 0.95);
      if (sig.q < 0 || sig.q > 1) s["q"].Error("q must be between 0 and 1");
      break;
    case SignalKind::kLast:
      ReadEvents(s, &sig.events);
      sig.field = s.RequiredString("field");
      break;
    case SignalKind::kMaxAge:
      ReadEvents(s, &sig.events);
      sig.active_within = s.Duration("active_within", std::chrono::hours(24));
      if (sig.active_within <= Duration::zero()) {
        s["active_within"].Error("active_within must be positive");
      }
      break;
    case SignalKind::kAlways:
      break;  // reads no events
    case SignalKind::kAnomaly:
      ReadEvents(s, &sig.events);
      sig.field = s.String("field", "");  // empty: count events
      sig.season = s.Duration("season", std::chrono::duration_cast<std::chrono::milliseconds>(sig.season));
      if (sig.season < std::chrono::hours(1)) s["season"].Error("season must be at least 1h");
      sig.seasons = static_cast<int>(s.Int("seasons", sig.seasons, 2, 28));
      break;
    default:
      ReadEvents(s, &sig.events);
  }
  if ((sig.kind == SignalKind::kQuantile || sig.kind == SignalKind::kAnomaly) &&
      sig.events.size() > 1) {
    s.Error("a " + kind + " signal reads exactly one event");
  }
  s.RejectUnknownKeys();
}

// Reads the condition keys of `n` (a rule or an any_of element).
void ReadCondition(const ConfigNode& n, Condition* c) {
  ReadSignal(n["signal"], c);
  c->window = n.Duration("window", std::chrono::minutes(5));
  if (c->window <= Duration::zero()) n["window"].Error("window must be positive");
  const std::string op = n.String("op", ">");
  if (op == ">")
    c->op = Comparison::kGt;
  else if (op == ">=")
    c->op = Comparison::kGe;
  else if (op == "<")
    c->op = Comparison::kLt;
  else if (op == "<=")
    c->op = Comparison::kLe;
  else
    n["op"].Error("unknown comparison \"" + op + "\" (one of >, >=, <, <=)");
  c->threshold_field = n.String("threshold_field");
  ConfigNode t = n["threshold"];
  if (t.defined()) {
    if (!c->threshold_field.empty()) {
      t.Error("give either threshold or threshold_field, not both");
    } else if (IsAgeKind(c->signal.kind) && t.IsScalar() && ParseDuration(t.raw().Scalar())) {
      c->threshold = ToSeconds(*ParseDuration(t.raw().Scalar()));
    } else if (auto v = t.AsDouble()) {
      c->threshold = *v;
    }
  } else if (c->threshold_field.empty() && c->signal.kind != SignalKind::kAlways) {
    n.Error("missing required key \"threshold\"");
  }
  if (!c->threshold_field.empty() && c->signal.kind != SignalKind::kLast) {
    n["threshold_field"].Error("threshold_field needs a signal of kind last");
  } else if (!c->threshold_field.empty() && c->signal.events.size() > 1) {
    n["threshold_field"].Error("threshold_field needs a last signal over exactly one event");
  }
  c->min_samples = static_cast<uint64_t>(n.Int("min_samples", 0, 0, 1'000'000'000));
}

std::optional<BusinessHours> ReadBusinessHours(const ConfigNode& n) {
  if (!n.ExpectMap() || !n.defined()) return std::nullopt;
  BusinessHours bh;
  bh.timezone = n.String("timezone", "UTC");
  if (!KnownTimezone(bh.timezone)) {
    n["timezone"].Error("unknown time zone \"" + bh.timezone +
                        "\" (use an IANA name such as Europe/Berlin)");
  }
  static const char* const kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  std::vector<std::string> days = n.StringList("weekdays");
  if (!n.Has("weekdays")) days = {"mon", "tue", "wed", "thu", "fri"};
  for (size_t i = 0; i < days.size(); ++i) {
    std::string d = days[i].substr(0, 3);
    for (auto& ch : d) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    int found = -1;
    for (int k = 0; k < 7; ++k) {
      if (d == kDays[k]) found = k;
    }
    if (found < 0) {
      n["weekdays"].Error("unknown weekday \"" + days[i] +
                          "\" (mon, tue, wed, thu, fri, sat, sun)");
    } else {
      bh.weekdays.insert(found);
    }
  }
  for (const char* key : {"start", "end"}) {
    const std::string v = n.String(key, std::strcmp(key, "start") == 0 ? "09:00" : "17:00");
    auto m = ParseClockTime(v);
    if (!m) {
      n[key].Error("expected a local time HH:MM, got \"" + v + "\"");
      continue;
    }
    (std::strcmp(key, "start") == 0 ? bh.start_minute : bh.end_minute) = *m;
  }
  if (bh.end_minute <= bh.start_minute) n["end"].Error("end must be after start");
  for (const auto& h : n.StringList("holidays")) {
    if (!ParseLocalDate(h)) {
      n["holidays"].Error("expected dates like 2027-12-25, got \"" + h + "\"");
    } else {
      bh.holidays.insert(h);
    }
  }
  n.RejectUnknownKeys();
  return bh;
}

void ReadRule(const ConfigNode& r, std::set<std::string>* names, std::vector<Rule>* out) {
  if (!r.ExpectMap() || !r.defined()) {
    if (!r.defined()) r.Error("empty rule");
    return;
  }
  Rule rule;
  rule.name = r.RequiredString("name");
  if (!rule.name.empty() && !ValidName(rule.name)) {
    r["name"].Error("rule names use letters, digits and _-. (max 128), got \"" + rule.name + "\"");
  } else if (!rule.name.empty() && !names->insert(rule.name).second) {
    r["name"].Error("duplicate rule name \"" + rule.name + "\"");
  }
  ConfigNode any = r["any_of"];
  if (any.defined()) {
    if (r.Has("signal")) r.Error("give either signal or any_of, not both");
    if (!any.IsSequence() || any.size() == 0) {
      any.Error("any_of must be a non-empty list of conditions");
    } else {
      for (size_t i = 0; i < any.size(); ++i) {
        ConfigNode c = any.At(i);
        if (!c.ExpectMap() || !c.defined()) continue;
        rule.any_of.emplace_back();
        ReadCondition(c, &rule.any_of.back());
        c.RejectUnknownKeys();
      }
    }
  } else {
    rule.any_of.emplace_back();
    ReadCondition(r, &rule.any_of.back());
  }
  rule.for_duration = r.Duration("for", std::chrono::milliseconds(0));
  rule.keep_firing_for = r.Duration("keep_firing_for", std::chrono::milliseconds(0));
  if (r.Has("business_hours")) rule.business_hours = ReadBusinessHours(r["business_hours"]);
  rule.severity = r.String("severity", "warning");
  if (r.Has("origins")) rule.origins = r.StringList("origins");
  if (rule.origins.empty()) r["origins"].Error("origins must name at least one origin");
  for (const auto& o : rule.origins) {
    if (o != kOriginPlatform && o != kOriginSynthetic) {
      r["origins"].Error("unknown origin \"" + o + "\" (platform or synthetic)");
    }
  }
  for (const auto& g : r.StringList("group_by")) {
    auto l = LabelFromName(g);
    if (!l) {
      r["group_by"].Error("unknown label \"" + g +
                          "\" (provider, role, region, src_id, target, probe, origin)");
    } else {
      rule.group_by.push_back(*l);
    }
  }
  rule.receivers = r.StringList("receivers");
  rule.runbook = r.String("runbook");
  ConfigNode ann = r["annotations"];
  if (ann.defined() && ann.ExpectMap()) {
    for (const auto& k : ann.Keys()) rule.annotations[k] = ann.String(k);
  }
  r.RejectUnknownKeys();
  out->push_back(std::move(rule));
}

}  // namespace

Result<std::vector<Rule>> ParseRules(std::string_view text, const std::string& file) {
  ConfigErrors errors;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors.Add({file, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg});
    return Status::Error(errors.ToString());
  }
  auto fname = std::make_shared<const std::string>(file);
  ConfigNode top(root, fname, "", &errors);
  std::vector<Rule> rules;
  if (!top.IsMap()) {
    top.Error("expected a map with a \"rules\" list");
  } else {
    ConfigNode list = top["rules"];
    if (!list.IsSequence()) {
      list.Error("expected a list of rules");
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < list.size(); ++i) ReadRule(list.At(i), &names, &rules);
    }
    top.RejectUnknownKeys();
  }
  if (!errors.empty()) return Status::Error(errors.ToString());
  return rules;
}

Result<std::vector<Rule>> LoadRulesFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::Error(path + ": cannot open file (" + std::strerror(errno) + ")\n");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseRules(ss.str(), path);
}

Result<std::vector<Rule>> DefaultRules() {
  return ParseRules(kEmbeddedAlertRules, "config/alerts.yaml");
}

Result<std::vector<Rule>> BuiltinProbeRules() {
  return ParseRules(kEmbeddedProbeAlertRules, "config/probe-alerts.yaml");
}

Result<std::vector<Rule>> LoadRuleSet(bool builtin, const std::vector<std::string>& files,
                                      std::vector<std::string>* replaced) {
  std::vector<Rule> out;
  if (builtin) {
    for (auto* load : {&DefaultRules, &BuiltinProbeRules}) {
      auto r = (*load)();
      if (!r.ok()) return r.status();
      for (auto& rule : *r) out.push_back(std::move(rule));
    }
  }
  const size_t builtin_count = out.size();
  std::map<std::string, std::string> defined_in;  // user rule name -> file
  std::string errors;
  for (const auto& f : files) {
    auto r = LoadRulesFile(f);
    if (!r.ok()) {
      errors += r.error();
      if (!errors.empty() && errors.back() != '\n') errors += '\n';
      continue;
    }
    for (auto& rule : *r) {
      auto [it, fresh] = defined_in.emplace(rule.name, f);
      if (!fresh) {
        errors += f + ": rule " + rule.name + " is already defined in " + it->second + "\n";
        continue;
      }
      auto same = std::find_if(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(builtin_count),
                               [&](const Rule& b) { return b.name == rule.name; });
      if (same != out.begin() + static_cast<std::ptrdiff_t>(builtin_count)) {
        if (replaced) replaced->push_back(rule.name);
        *same = std::move(rule);
      } else {
        out.push_back(std::move(rule));
      }
    }
  }
  if (!errors.empty()) return Status::Error(errors);
  return out;
}

}  // namespace calprobe::core::rules
