#pragma once
// The series Prometheus needs to evaluate the agent's alert rules itself
// (`calprobe export-rules --format prometheus`, docs/prometheus.md). For the
// rule set the agent runs, every accepted event a rule reads (its name and
// one of the rule's origins) updates, per label set:
//
//   calprobe_rule_events_total{event,…}                     count/rate/ratio
//   calprobe_rule_event_last_seen_timestamp_seconds{event,…} max_age/absence/last
//   calprobe_rule_event_field_last{event,field,…}            last (and threshold_field)
//   calprobe_rule_event_field_bucket/_sum/_count{event,field,…,le}   quantile
//   calprobe_rule_event_field_total{event,field,…}          anomaly over a field's sum
//   calprobe_rule_business_open_since_timestamp_seconds{alertname,region}
//   calprobe_rule_engine_start_timestamp_seconds{region}
//
// "…" is the seven event labels; per (family, event[, field]) only region,
// origin and the group_by labels of the rules reading it keep their value,
// so each event is counted in exactly one series and `sum by` / `max by`
// over a rule's labels is exact. region defaults to the agent's region.
// Which family a rule needs is rules::ExportNeeds (core/rules/promql.h).
//
// Cardinality: at most `series_limit` (agent.export_top_k) label sets per
// (family, event, field), first come; updates of further label sets are
// dropped and counted in calprobe_rule_export_dropped_total{family}.
// Not thread-safe: the agent's io_context thread only.

#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/metrics.h"
#include "core/rules/rule.h"

namespace calprobe::core {

class EventPipeline;

struct RuleExportOptions {
  size_t series_limit = 500;  // agent.export_top_k
  std::string region;         // the agent's region: label of events without one
};

class RuleExports {
 public:
  explicit RuleExports(RuleExportOptions options);
  ~RuleExports();

  // (Re)plans the exports for `rules` at `now` (the rule engine's start).
  // Series whose label plan, origins or buckets are unchanged keep their
  // values (counters stay monotonic across a reload); the others are dropped.
  void SetRules(const std::vector<rules::Rule>& rules, TimePoint now);
  // The label of events without a region (the agent's region, after a reload).
  void SetRegion(std::string region);
  // Consumes one accepted event.
  void OnEvent(const Event& e);
  // Writes the families above; open_since is computed at `now`.
  void Render(MetricsWriter* w, TimePoint now) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Creates a RuleExports fed by `pipeline` and rendered by `metrics` (which
// share its ownership, so it lives as long as they do). Call SetRules on it
// after every rule (re)load.
std::shared_ptr<RuleExports> InstallRuleExports(MetricsRegistry& metrics, EventPipeline& pipeline,
                                                RuleExportOptions options);

}  // namespace calprobe::core
