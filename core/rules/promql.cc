#include "core/rules/promql.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/rules/engine.h"

namespace calprobe::core::rules {
namespace {

std::string LabelName(Label l) { return std::string(kLabelNames[static_cast<size_t>(l)]); }

// Shortest round-trip text of a number ("2000", "0.05").
std::string Num(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

// A PromQL double-quoted string literal.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".+*?()[]{}|^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

// metric{event="e"|event=~"a|b",field="f",origin="o"}; no origin matcher
// when the rule reads both origins.
std::string Selector(const std::string& metric, const std::vector<std::string>& events,
                     const std::string& field, const std::vector<std::string>& origins) {
  std::string s = metric + "{";
  if (events.size() == 1) {
    s += "event=" + Quote(events[0]);
  } else {
    std::string alt;
    for (const auto& e : events) alt += (alt.empty() ? "" : "|") + RegexEscape(e);
    s += "event=~" + Quote(alt);
  }
  if (!field.empty()) s += ",field=" + Quote(field);
  if (origins.size() == 1) s += ",origin=" + Quote(origins[0]);
  return s + "}";
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Everything a condition's translation needs about its rule.
struct Ctx {
  const Rule& rule;
  const Condition& c;
  std::string by;      // "region, src_id"
  std::string window;  // "15m"
  std::string op;      // ">"
};

std::string SumIncrease(const Ctx& x, const std::string& sel) {
  return "sum by (" + x.by + ") (increase(" + sel + "[" + x.window + "]))";
}

std::string OnBy(const Ctx& x) { return " and on(" + x.by + ") "; }

// The silence baseline of an absence: the later of the group's last event
// and, for the whole region, the engine start and today's opening.
std::string AbsenceBase(const Ctx& x) {
  const Rule& r = x.rule;
  const std::string last = Selector(kPromLastSeen, x.c.signal.events, "", r.origins);
  const std::string open = std::string(kPromOpenSince) + "{alertname=" + Quote(r.name) + "}";
  const bool per_region = std::all_of(r.group_by.begin(), r.group_by.end(),
                                      [](Label l) { return l == Label::kRegion; });
  if (per_region) {
    std::string s = "max by (" + x.by + ") (" + last + " or " + kPromEngineStart;
    if (r.business_hours) s += " or " + open;
    return s + ")";
  }
  // Finer groups exist only once they had an event; business hours still
  // move their baseline to today's opening (per region).
  const std::string lastmax = "max by (" + x.by + ") (" + last + ")";
  if (!r.business_hours) return lastmax;
  const std::string opened = "max by (region) (" + open + ")";
  return "(" + lastmax + " >= on(region) group_left() " + opened + " or on(" + x.by + ") (0 * " +
         lastmax + " + on(region) group_left() " + opened + "))";
}

// The engine's robust z-score: (current - median) / max(1.4826 MAD, sqrt(median), 1)
// of the window's volume against the same window 1..seasons seasons back
// (`offset`); samples = past seasons with data. The pieces are recording
// rules (calprobe:<rule>_<i>:volume|past|median|spread|seasons), evaluated
// in order just before the alert in the same group.
Result<std::string> AnomalyExpr(const Ctx& x, std::vector<PromRecord>* records) {
  const Signal& s = x.c.signal;
  if (s.events.size() != 1) return Status::Error("anomaly over several events");
  if (records == nullptr) return Status::Error("anomaly needs recording rules");
  const std::string sel = s.field.empty()
                              ? Selector(kPromEventsTotal, s.events, "", x.rule.origins)
                              : Selector(kPromFieldTotal, s.events, s.field, x.rule.origins);
  auto volume = [&](const std::string& offset) {
    return "sum by (" + x.by + ") (increase(" + sel + "[" + x.window + "]" + offset + "))";
  };
  std::string name;
  for (char ch : x.rule.name) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  const size_t index = static_cast<size_t>(&x.c - x.rule.any_of.data());
  const std::string base = "calprobe:" + name + "_" + std::to_string(index) + ":";
  std::string past;  // one series per (group, season), told apart by calprobe_season
  for (int i = 1; i <= s.seasons; ++i) {
    past += std::string(i > 1 ? "\nor " : "") + "label_replace(" +
            volume(" offset " + PromDuration(s.season * i)) + ", \"calprobe_season\", \"" +
            std::to_string(i) + "\", \"\", \"\")";
  }
  const std::string noise = "sqrt(clamp_min(" + base + "median, 0))";
  records->push_back({base + "volume", volume("")});
  records->push_back({base + "past", past});
  records->push_back({base + "median", "quantile by (" + x.by + ") (0.5, " + base + "past)"});
  records->push_back({base + "spread", "clamp_min((1.4826 * quantile by (" + x.by + ") (0.5, abs(" +
                                           base + "past - on(" + x.by + ") group_left() " + base +
                                           "median)) > " + noise + ") or " + noise + ", 1)"});
  records->push_back({base + "seasons", "count by (" + x.by + ") (" + base + "past)"});
  std::string e = "(" + base + "volume - " + base + "median) / " + base + "spread " + x.op + " " +
                  Num(x.c.threshold);
  if (x.c.min_samples > 0) {
    e = "(" + e + ")" + OnBy(x) + "(" + base +
        "seasons >= " + Num(static_cast<double>(x.c.min_samples)) + ")";
  }
  return e;
}

Status OneSample(const Condition& c, const char* kind) {
  if (c.min_samples <= 1) return Status::Ok();
  return Status::Error(std::string("min_samples ") + std::to_string(c.min_samples) + " on a " +
                       kind + " signal (one sample per group) never holds");
}

}  // namespace

std::vector<std::string> AlertLabels(const Rule& rule) {
  std::vector<std::string> out = {"region"};
  for (Label l : rule.group_by) {
    if (l != Label::kRegion) out.push_back(LabelName(l));
  }
  return out;
}

std::vector<ExportNeed> ExportNeeds(const Rule& rule) {
  std::vector<ExportNeed> out;
  auto need = [&](ExportFamily f, const std::string& event, const std::string& field) {
    ExportNeed n;
    n.family = f;
    n.event = event;
    n.field = field;
    n.group_by = rule.group_by;
    n.origins = rule.origins;
    out.push_back(std::move(n));
    return &out.back();
  };
  for (const Condition& c : rule.any_of) {
    const Signal& s = c.signal;
    switch (s.kind) {
      case SignalKind::kCount:
      case SignalKind::kCountPerKey:
      case SignalKind::kRate:
        for (const auto& e : s.events) need(ExportFamily::kEventsTotal, e, "");
        break;
      case SignalKind::kRatio:
        need(ExportFamily::kEventsTotal, s.numerator, "");
        for (const auto& e : s.denominator) need(ExportFamily::kEventsTotal, e, "");
        break;
      case SignalKind::kQuantile:
        for (const auto& e : s.events)
          need(ExportFamily::kFieldHistogram, e, s.field)->boundary = c.threshold;
        break;
      case SignalKind::kMaxAge:
      case SignalKind::kAbsence:
        for (const auto& e : s.events) need(ExportFamily::kLastSeen, e, "");
        break;
      case SignalKind::kLast:
        if (s.events.empty()) break;
        for (const auto& e : s.events) {
          need(ExportFamily::kLastSeen, e, "");
          need(ExportFamily::kFieldLast, e, s.field);
        }
        // The engine compares with the first event's threshold field.
        if (!c.threshold_field.empty())
          need(ExportFamily::kFieldLast, s.events[0], c.threshold_field);
        break;
      case SignalKind::kAnomaly:
        for (const auto& e : s.events) {
          need(s.field.empty() ? ExportFamily::kEventsTotal : ExportFamily::kFieldTotal, e,
               s.field);
        }
        break;
      case SignalKind::kAlways:
        break;
    }
  }
  return out;
}

Result<std::string> ConditionExpr(const Rule& rule, const Condition& c,
                                  std::vector<PromRecord>* records) {
  const Signal& s = c.signal;
  Ctx x{rule, c, Join(AlertLabels(rule), ", "), PromDuration(c.window), ComparisonName(c.op)};
  const std::string th = Num(c.threshold);
  const std::string min = Num(static_cast<double>(c.min_samples));
  switch (s.kind) {
    case SignalKind::kCount:
    case SignalKind::kCountPerKey: {
      const std::string v = SumIncrease(x, Selector(kPromEventsTotal, s.events, "", rule.origins));
      std::string e = v + " " + x.op + " " + th;
      if (c.min_samples > 0) e = "(" + e + ")" + OnBy(x) + "(" + v + " >= " + min + ")";
      return e;
    }
    case SignalKind::kRate: {
      const std::string sel = Selector(kPromEventsTotal, s.events, "", rule.origins);
      std::string e =
          "sum by (" + x.by + ") (rate(" + sel + "[" + x.window + "])) " + x.op + " " + th;
      if (c.min_samples > 0)
        e = "(" + e + ")" + OnBy(x) + "(" + SumIncrease(x, sel) + " >= " + min + ")";
      return e;
    }
    case SignalKind::kRatio: {
      const std::string den =
          SumIncrease(x, Selector(kPromEventsTotal, s.denominator, "", rule.origins));
      std::string num = SumIncrease(x, Selector(kPromEventsTotal, {s.numerator}, "", rule.origins));
      // A group without numerator events has ratio 0: needed only when a
      // small ratio is what fires.
      if (c.op == Comparison::kLt || c.op == Comparison::kLe) {
        num = "(" + num + " or on(" + x.by + ") 0 * " + den + ")";
      }
      const std::string guard = c.min_samples > 0 ? den + " >= " + min : den + " > 0";
      return "(" + num + " / " + den + " " + x.op + " " + th + ")" + OnBy(x) + "(" + guard + ")";
    }
    case SignalKind::kQuantile: {
      if (s.events.size() != 1) return Status::Error("quantile over several events");
      const std::string bucket =
          Selector(std::string(kPromFieldHistogram) + "_bucket", s.events, s.field, rule.origins);
      std::string e = "histogram_quantile(" + Num(s.q) + ", sum by (le, " + x.by + ") (rate(" +
                      bucket + "[" + x.window + "]))) " + x.op + " " + th;
      if (c.min_samples > 0) {
        const std::string count =
            Selector(std::string(kPromFieldHistogram) + "_count", s.events, s.field, rule.origins);
        e = "(" + e + ")" + OnBy(x) + "(" + SumIncrease(x, count) + " >= " + min + ")";
      }
      return e;
    }
    case SignalKind::kMaxAge: {
      if (Status st = OneSample(c, "max_age"); !st.ok()) return st;
      const std::string age = "time() - max by (" + x.by + ") (" +
                              Selector(kPromLastSeen, s.events, "", rule.origins) + ")";
      return "(" + age + " " + x.op + " " + th + ") <= " + Num(ToSeconds(s.active_within));
    }
    case SignalKind::kAbsence: {
      if (Status st = OneSample(c, "absence"); !st.ok()) return st;
      return "time() - " + AbsenceBase(x) + " " + x.op + " " + th;
    }
    case SignalKind::kLast: {
      if (Status st = OneSample(c, "last"); !st.ok()) return st;
      const std::string seen = Selector(kPromLastSeen, s.events, "", rule.origins);
      // Several events (e.g. expiring / recovered of one state): the field
      // of the event whose latest occurrence is the group's latest.
      const std::string value =
          s.events.size() == 1 ? "max by (" + x.by + ") (" +
                                     Selector(kPromFieldLast, s.events, s.field, rule.origins) + ")"
                               : "max by (" + x.by + ") (" +
                                     Selector(kPromFieldLast, s.events, s.field, rule.origins) +
                                     " and on(" + x.by + ", event) (" + seen + " == on(" + x.by +
                                     ") group_left() max by (" + x.by + ") (" + seen + ")))";
      const std::string cmp =
          c.threshold_field.empty()
              ? value + " " + x.op + " " + th
              : value + " " + x.op + " on(" + x.by + ") max by (" + x.by + ") (" +
                    Selector(kPromFieldLast, {s.events[0]}, c.threshold_field, rule.origins) + ")";
      const std::string fresh =
          "time() - max by (" + x.by + ") (" + seen + ") <= " + Num(ToSeconds(c.window));
      return "(" + cmp + ")" + OnBy(x) + "(" + fresh + ")";
    }
    case SignalKind::kAlways:
      return std::string("vector(1)");
    case SignalKind::kAnomaly:
      return AnomalyExpr(x, records);
  }
  return Status::Error("signal kind " + std::to_string(static_cast<int>(s.kind)) +
                       " has no PromQL translation");
}

std::string PromDuration(Duration d) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms <= 0) return "0s";
  std::string out;
  const std::pair<int64_t, const char*> units[] = {
      {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}};
  for (auto [mult, name] : units) {
    if (ms >= mult) {
      out += std::to_string(ms / mult) + name;
      ms %= mult;
    }
  }
  return out;
}

std::string ConvertTemplate(const std::string& tmpl) {
  // Literal text: a "{{" the engine would print must not open an action.
  auto literal = [](std::string_view text) {
    std::string out;
    size_t i = 0;
    for (size_t p; (p = text.find("{{", i)) != std::string_view::npos; i = p + 2) {
      out.append(text.substr(i, p - i));
      out += "{{\"{{\"}}";
    }
    out.append(text.substr(i));
    return out;
  };
  std::string out;
  ForEachTemplatePart(
      tmpl, [&](std::string_view text) { out += literal(text); },
      [&](std::string_view expr, std::string_view raw) {
        const bool label = expr.starts_with("$labels.") && expr.size() > 8 &&
                           std::all_of(expr.begin() + 8, expr.end(), [](char ch) {
                             return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_';
                           });
        if (expr == "$value") {
          out += "{{ printf \"%.6g\" $value }}";
        } else if (label) {
          out += "{{ " + std::string(expr) + " }}";
        } else {  // the engine prints it verbatim; so does this
          out += literal(raw);
        }
      });
  return out;
}

Result<PromAlert> TranslateRule(const Rule& rule, const PromExportOptions& options) {
  PromAlert a;
  a.name = rule.name;
  std::vector<std::string> exprs;
  std::vector<std::string> reasons;
  bool only_always = true;
  for (size_t i = 0; i < rule.any_of.size(); ++i) {
    auto e = ConditionExpr(rule, rule.any_of[i], &a.records);
    const std::string where =
        rule.any_of.size() == 1 ? "condition" : "any_of[" + std::to_string(i) + "]";
    if (!e.ok()) {
      reasons.push_back(where + ": " + e.error());
      continue;
    }
    only_always = only_always && rule.any_of[i].signal.kind == SignalKind::kAlways;
    exprs.push_back(std::move(*e));
  }
  if (exprs.empty()) return Status::Error(Join(reasons, "; "));
  for (const auto& r : reasons) {
    a.notes.push_back("left out (fires on the other conditions only): " + r);
  }
  if (exprs.size() == 1) {
    a.expr = exprs[0];
  } else {
    for (auto& e : exprs) e = "(" + e + ")";
    a.expr = Join(exprs, "\nor\n");
  }
  if (rule.business_hours) {
    a.expr = "(" + a.expr + ")\nand on(" + (only_always ? "" : "region") + ") (" + kPromOpenSince +
             "{alertname=" + Quote(rule.name) + "} > 0)";
  }
  a.for_duration = rule.for_duration;
  if (options.keep_firing_for) a.keep_firing_for = rule.keep_firing_for;
  a.labels.emplace_back("severity", rule.severity);
  for (const auto& [k, v] : rule.annotations) a.annotations.emplace_back(k, ConvertTemplate(v));
  if (!rule.runbook.empty()) {
    a.annotations.emplace_back("runbook_url", options.runbook_base_url + rule.runbook);
  }
  return a;
}

std::optional<PromAlert> MultiRegionVariant(const Rule& rule, int min_regions,
                                            const PromExportOptions& options) {
  if (std::find(rule.group_by.begin(), rule.group_by.end(), Label::kTarget) ==
          rule.group_by.end() ||
      std::find(rule.group_by.begin(), rule.group_by.end(), Label::kRegion) !=
          rule.group_by.end()) {
    return std::nullopt;
  }
  auto base = TranslateRule(rule, options);
  if (!base.ok()) return std::nullopt;
  std::vector<std::string> g;
  for (Label l : rule.group_by) g.push_back(LabelName(l));
  PromAlert a = std::move(*base);
  a.name = rule.name + "MultiRegion";
  if (!a.records.empty()) return std::nullopt;  // its recording rules live in the main group
  a.expr =
      "count by (" + Join(g, ", ") + ") (\n" + a.expr + "\n) >= " + std::to_string(min_regions);
  a.labels.emplace_back("scope", "multi-region");
  a.annotations.clear();
  a.annotations.emplace_back(
      "summary", rule.name +
                     " holds for target {{ $labels.target }} in {{ $value }} regions (at least " +
                     std::to_string(min_regions) + ")");
  if (!rule.runbook.empty()) {
    a.annotations.emplace_back("runbook_url", options.runbook_base_url + rule.runbook);
  }
  return a;
}

namespace {

std::string YamlString(const std::string& s) { return nlohmann::json(s).dump(); }

// A YAML block scalar (|-) of `text` at `indent` spaces.
void Block(const std::string& text, const std::string& indent, std::string* out) {
  size_t i = 0;
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    *out += indent + text.substr(i, nl - i) + "\n";
    i = nl + 1;
  }
}

void RenderAlert(const PromAlert& a, std::string* out) {
  for (const auto& r : a.records) {
    *out += "      - record: " + r.record + "\n        expr: |-\n";
    Block(r.expr, "          ", out);
  }
  for (const auto& n : a.notes) *out += "      # " + a.name + ": " + n + "\n";
  *out += "      - alert: " + a.name + "\n        expr: |-\n";
  Block(a.expr, "          ", out);
  if (a.for_duration.count() > 0) *out += "        for: " + PromDuration(a.for_duration) + "\n";
  if (a.keep_firing_for.count() > 0) {
    *out += "        keep_firing_for: " + PromDuration(a.keep_firing_for) + "\n";
  }
  if (!a.labels.empty()) {
    *out += "        labels:\n";
    for (const auto& [k, v] : a.labels) *out += "          " + k + ": " + YamlString(v) + "\n";
  }
  if (!a.annotations.empty()) {
    *out += "        annotations:\n";
    for (const auto& [k, v] : a.annotations) *out += "          " + k + ": " + YamlString(v) + "\n";
  }
}

}  // namespace

std::string RenderPrometheusRules(const std::vector<Rule>& rules,
                                  const PromExportOptions& options) {
  std::string out =
      "# Prometheus alerting rules generated by `calprobe export-rules --format prometheus`\n";
  if (!options.source.empty()) out += "# from " + options.source + ".\n";
  out +=
      "# They read the series calprobe's agent exports for the same rules\n"
      "# (calprobe_rule_*; docs/prometheus.md): export again after changing the rules.\n"
      "# Alerts are per region (and the rule's group_by), like each regional agent's own.\n"
      "groups:\n  - name: calprobe\n    rules:\n";
  size_t emitted = 0;
  for (const Rule& r : rules) {
    auto a = TranslateRule(r, options);
    if (!a.ok()) {
      out += "      # " + r.name + ": not exported: " + a.error() + "\n";
      continue;
    }
    RenderAlert(*a, &out);
    ++emitted;
  }
  if (emitted == 0) out += "      []\n";
  if (options.multi_region > 0) {
    out += "  - name: calprobe-multi-region\n    rules:\n";
    size_t n = 0;
    for (const Rule& r : rules) {
      if (auto a = MultiRegionVariant(r, options.multi_region, options)) {
        RenderAlert(*a, &out);
        ++n;
      }
    }
    if (n == 0) out += "      # no rule groups by target without region\n      []\n";
  }
  return out;
}

}  // namespace calprobe::core::rules
