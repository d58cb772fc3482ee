#include "core/rule_exports.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>

#include "core/pipeline.h"
#include "core/rules/business_hours.h"
#include "core/rules/promql.h"

namespace calprobe::core {

using rules::ExportFamily;

namespace {

constexpr size_t kFamilies = 5;
constexpr std::array<const char*, kFamilies> kFamilyNames = {
    "events_total", "last_seen", "field_last", "field_histogram", "field_total"};

// Generic histogram bounds (1-2.5-5 per decade, 0.001 .. 1e6) so any field
// gets a usable quantile; every quantile rule's threshold is added as a
// bound, which makes `histogram_quantile(...) > threshold` exact: it holds
// iff more than (1-q) of the window's values exceed the threshold.
std::vector<double> GenericBounds() {
  std::vector<double> b;
  for (double decade = 0.001; decade < 1e6; decade *= 10) {
    for (double m : {1.0, 2.5, 5.0}) b.push_back(decade * m);
  }
  b.push_back(1e6);
  return b;
}

struct PlanKey {
  ExportFamily family;
  std::string event;
  std::string field;
  auto operator<=>(const PlanKey&) const = default;
};

struct Plan {
  std::array<bool, kLabelCount> keep{};
  bool platform = false, synthetic = false;
  std::vector<double> bounds;  // histograms
  bool operator==(const Plan&) const = default;
};

struct Series {
  std::array<std::string, kLabelCount> labels;
  double value = 0;
  double at = -std::numeric_limits<double>::infinity();  // field_last: event time of value
  std::vector<uint64_t> buckets;                         // histograms, not cumulative
  double sum = 0;
  uint64_t count = 0;
};

struct Export {
  Plan plan;
  std::map<std::string, Series> series;  // key: label values joined by '\x1f'
};

}  // namespace

struct RuleExports::Impl {
  RuleExportOptions o;
  std::map<PlanKey, Export> exports;
  std::map<std::string, std::vector<std::pair<const PlanKey*, Export*>>> by_event;
  std::vector<std::pair<std::string, rules::BusinessHours>> hours;  // alertname -> hours
  double start = 0;
  std::array<double, kFamilies> dropped{};
};

RuleExports::RuleExports(RuleExportOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->o = std::move(options);
}
RuleExports::~RuleExports() = default;

void RuleExports::SetRules(const std::vector<rules::Rule>& rules, TimePoint now) {
  Impl& m = *impl_;
  std::map<PlanKey, Plan> plans;
  m.hours.clear();
  for (const auto& r : rules) {
    if (r.business_hours) m.hours.emplace_back(r.name, *r.business_hours);
    for (const auto& need : rules::ExportNeeds(r)) {
      Plan& p = plans[{need.family, need.event, need.field}];
      p.keep[static_cast<size_t>(Label::kRegion)] = true;
      p.keep[static_cast<size_t>(Label::kOrigin)] = true;
      for (Label l : need.group_by) p.keep[static_cast<size_t>(l)] = true;
      for (const auto& o : need.origins) {
        (o == kOriginPlatform ? p.platform : p.synthetic) = true;
      }
      if (need.family == ExportFamily::kFieldHistogram) {
        if (p.bounds.empty()) p.bounds = GenericBounds();
        if (need.boundary &&
            std::find(p.bounds.begin(), p.bounds.end(), *need.boundary) == p.bounds.end()) {
          p.bounds.insert(std::upper_bound(p.bounds.begin(), p.bounds.end(), *need.boundary),
                          *need.boundary);
        }
      }
    }
  }
  for (auto it = m.exports.begin(); it != m.exports.end();) {
    auto p = plans.find(it->first);
    if (p == plans.end()) {
      it = m.exports.erase(it);
      continue;
    }
    if (!(p->second == it->second.plan)) {
      it->second.series.clear();  // other labels or buckets: old series would mislead
      it->second.plan = p->second;
    }
    ++it;
  }
  for (auto& [k, p] : plans) m.exports.try_emplace(k, Export{p, {}});
  m.by_event.clear();
  for (auto& [k, x] : m.exports) m.by_event[k.event].emplace_back(&k, &x);
  m.start = ToUnixSeconds(now);
}

void RuleExports::SetRegion(std::string region) { impl_->o.region = std::move(region); }

void RuleExports::OnEvent(const Event& e) {
  Impl& m = *impl_;
  auto it = m.by_event.find(e.name);
  if (it == m.by_event.end()) return;
  const std::string& origin = e.labels.Get(Label::kOrigin);
  const double t = ToUnixSeconds(e.time);
  for (auto [key, x] : it->second) {
    if (!(origin == kOriginPlatform ? x->plan.platform
                                    : origin == kOriginSynthetic && x->plan.synthetic)) {
      continue;
    }
    std::optional<double> value;
    if (key->family == ExportFamily::kFieldLast || key->family == ExportFamily::kFieldHistogram ||
        key->family == ExportFamily::kFieldTotal) {
      value = e.Number(key->field);
      // Booleans read as 1/0, as in signals ("last success < 1").
      if (!value) {
        if (auto b = e.Bool(key->field)) value = *b ? 1.0 : 0.0;
      }
      if (!value) continue;  // the event did not carry the field
    }
    std::array<std::string, kLabelCount> labels;
    std::string k;
    for (size_t i = 0; i < kLabelCount; ++i) {
      if (x->plan.keep[i]) labels[i] = e.labels.Get(static_cast<Label>(i));
      if (i == static_cast<size_t>(Label::kRegion) && labels[i].empty()) labels[i] = m.o.region;
      k += labels[i];
      k += '\x1f';
    }
    auto s = x->series.find(k);
    if (s == x->series.end()) {
      if (x->series.size() >= m.o.series_limit) {
        m.dropped[static_cast<size_t>(key->family)] += 1;
        continue;
      }
      s = x->series.emplace(std::move(k), Series{}).first;
      s->second.labels = std::move(labels);
      s->second.buckets.assign(x->plan.bounds.size(), 0);
      if (key->family == ExportFamily::kLastSeen) s->second.value = t;
    }
    Series& ser = s->second;
    switch (key->family) {
      case ExportFamily::kEventsTotal:
        ser.value += 1;
        break;
      case ExportFamily::kLastSeen:
        ser.value = std::max(ser.value, t);
        break;
      case ExportFamily::kFieldLast:
        if (t >= ser.at) {  // the latest event by event time wins, as in signals
          ser.at = t;
          ser.value = *value;
        }
        break;
      case ExportFamily::kFieldTotal:
        ser.value += *value;
        break;
      case ExportFamily::kFieldHistogram: {
        auto b = std::lower_bound(x->plan.bounds.begin(), x->plan.bounds.end(), *value);
        if (b != x->plan.bounds.end())
          ++ser.buckets[static_cast<size_t>(b - x->plan.bounds.begin())];
        ser.sum += *value;
        ++ser.count;
        break;
      }
    }
  }
}

void RuleExports::Render(MetricsWriter* w, TimePoint now) const {
  const Impl& m = *impl_;
  struct FamilyText {
    ExportFamily family;
    const char* name;
    const char* type;
    const char* help;
  };
  static const std::string kHistogram = rules::kPromFieldHistogram;
  const FamilyText families[] = {
      {ExportFamily::kEventsTotal, rules::kPromEventsTotal, "counter",
       "Events read by alert rules, by event and the labels the rules group by."},
      {ExportFamily::kLastSeen, rules::kPromLastSeen, "gauge",
       "Event time of the latest event read by alert rules, per label set."},
      {ExportFamily::kFieldLast, rules::kPromFieldLast, "gauge",
       "The field of the latest event (by event time) read by a `last` alert rule."},
      {ExportFamily::kFieldHistogram, rules::kPromFieldHistogram, "histogram",
       "Values of a field read by a `quantile` alert rule (bounds include each threshold)."},
      {ExportFamily::kFieldTotal, rules::kPromFieldTotal, "counter",
       "Running sum of a field read by an `anomaly` alert rule (volume = increase())."},
  };
  std::vector<std::string_view> names, values;
  for (const auto& f : families) {
    w->Family(f.name, f.type, f.help);
    for (const auto& [key, x] : m.exports) {
      if (key.family != f.family) continue;
      for (const auto& [k, s] : x.series) {
        names.assign({"event"});
        values.assign({key.event});
        if (!key.field.empty()) {
          names.push_back("field");
          values.push_back(key.field);
        }
        for (size_t i = 0; i < kLabelCount; ++i) {
          if (s.labels[i].empty()) continue;  // not kept: absent, as Prometheus reads ""
          names.push_back(kLabelNames[i]);
          values.push_back(s.labels[i]);
        }
        if (f.family != ExportFamily::kFieldHistogram) {
          w->Sample(f.name, names, values, s.value);
          continue;
        }
        const std::string bucket = kHistogram + "_bucket";
        names.push_back("le");
        values.push_back("");
        uint64_t cumulative = 0;
        for (size_t i = 0; i < x.plan.bounds.size(); ++i) {
          cumulative += s.buckets[i];
          const std::string le = FormatMetricValue(x.plan.bounds[i]);
          values.back() = le;
          w->Sample(bucket, names, values, static_cast<double>(cumulative));
        }
        values.back() = "+Inf";
        w->Sample(bucket, names, values, static_cast<double>(s.count));
        names.pop_back();
        values.pop_back();
        w->Sample(kHistogram + "_sum", names, values, s.sum);
        w->Sample(kHistogram + "_count", names, values, static_cast<double>(s.count));
      }
    }
  }
  w->Family(rules::kPromOpenSince, "gauge",
            "Start of the current business-hours interval of a rule with business_hours; 0 when "
            "closed.");
  for (const auto& [name, bh] : m.hours) {
    auto open = rules::OpenSince(bh, now);
    w->Sample(rules::kPromOpenSince, {"alertname", "region"}, {name, m.o.region},
              open ? ToUnixSeconds(*open) : 0.0);
  }
  w->Family(rules::kPromEngineStart, "gauge",
            "When the rule engine (re)started: absence rules count silence from here at the "
            "earliest.");
  w->Sample(rules::kPromEngineStart, {"region"}, {m.o.region}, m.start);

  w->Family("calprobe_rule_export_series", "gauge",
            "Label sets exported for alert rules, per family (at most agent.export_top_k per "
            "event and field).");
  std::array<double, kFamilies> counts{};
  for (const auto& [key, x] : m.exports) {
    counts[static_cast<size_t>(key.family)] += static_cast<double>(x.series.size());
  }
  for (size_t i = 0; i < kFamilies; ++i) {
    w->Sample("calprobe_rule_export_series", {"family"}, {kFamilyNames[i]}, counts[i]);
  }
  w->Family("calprobe_rule_export_dropped_total", "counter",
            "Event updates not exported for alert rules because the event's label sets reached "
            "agent.export_top_k.");
  for (size_t i = 0; i < kFamilies; ++i) {
    w->Sample("calprobe_rule_export_dropped_total", {"family"}, {kFamilyNames[i]}, m.dropped[i]);
  }
}

std::shared_ptr<RuleExports> InstallRuleExports(MetricsRegistry& metrics, EventPipeline& pipeline,
                                                RuleExportOptions options) {
  auto x = std::make_shared<RuleExports>(std::move(options));
  pipeline.Subscribe([x](const Event& e) { x->OnEvent(e); });
  metrics.AddCollector([x](MetricsWriter* w) { x->Render(w, std::chrono::system_clock::now()); });
  return x;
}

}  // namespace calprobe::core
