#pragma once
// Alert rules (rule.h) as Prometheus alerting rules (`calprobe export-rules
// --format prometheus`, docs/prometheus.md).
//
// One mechanism for every rule: the agent exports, for the rule set it
// runs, a few generic series per event the rules read (core/rule_exports.h),
// and each condition becomes PromQL over them. Which series a rule needs is
// ExportNeeds(); the translation of a condition is ConditionExpr(). Both
// live here so the exporter and the translator cannot disagree.
//
// Every translated alert is evaluated per `region` (like each regional
// agent evaluates its own events) plus the rule's group_by labels; the
// multi-region variant drops `region` so Alertmanager sees one alert.
// Pure functions; thread-safe.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/rules/rule.h"
#include "core/status.h"

namespace calprobe::core::rules {

// The exported families (core/rule_exports.cc renders them). Every family
// has the labels event, [field,] and the seven event labels; labels a rule
// set does not group by are left empty (absent in Prometheus).
inline constexpr char kPromEventsTotal[] = "calprobe_rule_events_total";
inline constexpr char kPromLastSeen[] = "calprobe_rule_event_last_seen_timestamp_seconds";
inline constexpr char kPromFieldLast[] = "calprobe_rule_event_field_last";
inline constexpr char kPromFieldHistogram[] = "calprobe_rule_event_field";  // _bucket/_sum/_count
inline constexpr char kPromFieldTotal[] = "calprobe_rule_event_field_total";
inline constexpr char kPromOpenSince[] = "calprobe_rule_business_open_since_timestamp_seconds";
inline constexpr char kPromEngineStart[] = "calprobe_rule_engine_start_timestamp_seconds";

enum class ExportFamily { kEventsTotal, kLastSeen, kFieldLast, kFieldHistogram, kFieldTotal };

// One series set a rule needs the agent to export.
struct ExportNeed {
  ExportFamily family = ExportFamily::kEventsTotal;
  std::string event;
  std::string field;                 // kFieldLast, kFieldHistogram, kFieldTotal
  std::vector<Label> group_by;       // the rule's group_by (region and origin are always kept)
  std::vector<std::string> origins;  // the rule's origins
  std::optional<double> boundary;    // kFieldHistogram: a quantile threshold to make a bucket bound
};

// The series `rule` reads in Prometheus (empty for kAlways).
std::vector<ExportNeed> ExportNeeds(const Rule& rule);

// The labels a translated alert of `rule` carries: region, then group_by.
std::vector<std::string> AlertLabels(const Rule& rule);

// A Prometheus recording rule a translation needs (anomaly baselines).
struct PromRecord {
  std::string record;
  std::string expr;
};

// Returns the PromQL of one condition of `rule` (true where it holds, the
// value being the condition's value), or an error saying why it has none.
// Business hours are applied by TranslateRule, except that an absence's
// silence counts from today's opening (as in the engine). An anomaly reads
// recording rules named calprobe:<rule>_<condition index>:<what>, appended
// to `records` (required for anomaly conditions).
Result<std::string> ConditionExpr(const Rule& rule, const Condition& c,
                                  std::vector<PromRecord>* records = nullptr);

// A Prometheus alerting rule.
struct PromAlert {
  std::string name;
  std::string expr;
  Duration for_duration{};
  Duration keep_firing_for{};
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::string, std::string>> annotations;
  std::vector<std::string> notes;   // written as comments above the rule
  std::vector<PromRecord> records;  // written before the alert, in the same group
};

struct PromExportOptions {
  std::string runbook_base_url;  // prefixed to `runbook` in the runbook_url annotation
  int multi_region = 0;          // > 0: add the multi-region group (min regions)
  bool keep_firing_for = true;   // Prometheus >= 2.42 understands keep_firing_for
  std::string source;            // what the rules came from, for the header comment
};

// The whole rule: its conditions joined with `or`, business hours applied,
// severity label, annotations (templates converted) and runbook_url.
// Conditions without a translation are left out and named in `notes`; when
// none is left the result is an error listing every reason.
Result<PromAlert> TranslateRule(const Rule& rule, const PromExportOptions& options);

// The multi-region confirmation of a rule that groups by `target`: true when
// the rule holds for the same group in at least `min_regions` regions; the
// result has no `region` label. nullopt for rules without `target`.
std::optional<PromAlert> MultiRegionVariant(const Rule& rule, int min_regions,
                                            const PromExportOptions& options);

// Converts an annotation template of the engine ({{ $labels.x }},
// {{ $value }}) to Prometheus' Go template: $value is printed like the
// engine does (%.6g); anything else in braces is kept as literal text.
std::string ConvertTemplate(const std::string& tmpl);

// Formats a duration the way Prometheus reads it ("1h30m", "45m", "500ms").
std::string PromDuration(Duration d);

// The Prometheus rules file (YAML): group "calprobe" with every rule, and
// with options.multi_region > 0 a group "calprobe-multi-region". Rules or
// conditions without a translation appear as comments with the reason.
std::string RenderPrometheusRules(const std::vector<Rule>& rules, const PromExportOptions& options);

}  // namespace calprobe::core::rules
