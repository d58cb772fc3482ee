#pragma once
// Per-step scenario metrics, derived from calprobe.scenario.step and
// calprobe.scenario.run events (probes emit events; metrics are views):
//   calprobe_scenario_step_duration_seconds{target,scenario,step,phase}  last duration
//   calprobe_scenario_step_success{target,scenario,step,phase}           1/0, last run
//   calprobe_scenario_step_runs_total{target,scenario,step,phase,status}
//   calprobe_scenario_measure_seconds{target,scenario,measure}           e.g. hold_to_feed_latency
//   calprobe_scenario_runs_total{target,scenario,result}
// Step names come from scenario files (configuration), so the label values
// are bounded by the config. Agent thread only.

#include "core/metrics.h"
#include "core/pipeline.h"

namespace calprobe::probes::scenario {

// Subscribes to `pipeline` and records into `metrics`; both must outlive
// each other's use (they do in the agent).
void InstallScenarioMetrics(core::MetricsRegistry& metrics, core::EventPipeline& pipeline);

}  // namespace calprobe::probes::scenario
