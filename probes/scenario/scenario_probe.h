#pragma once
// The `scenario` probe type: runs one journey (runner.h) per scheduled run.
// Options under a target's `scenario:` key (docs/scenarios.md):
//   name: hold-to-confirm        a scenario shipped in scenarios/ (built in), or
//   file: journeys/my.yaml       a scenario file (relative to the config file)
//   vars: {base_url: …}          overrides of the scenario's declared vars
// The outcome fails with the first failed step's reason ("assertion",
// "scenario.timeout", a transport code, "cleanup") and names the step;
// details hold every step's report. Before the first journey of a process,
// cleanups journaled by a killed predecessor are replayed (the agent starts
// that replay at start-up with ReplayCleanupJournal).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/probe.h"
#include "probes/scenario/template.h"

namespace calprobe::probes::scenario {

std::unique_ptr<core::ProbeFactory> NewFactory();

// Variable overrides applied to every scenario loaded afterwards, where the
// scenario declares the variable (`calprobe check --set k=v`). Call before
// loading the config.
void SetGlobalVarOverrides(Vars vars);

// Starts replaying the cleanup journal of a killed predecessor (journal.h);
// journeys wait for it. Call once the store and HTTP client exist.
void ReplayCleanupJournal(core::Store* store, core::HttpClient& http);

// Names of the scenarios shipped in the binary (scenarios/*.yaml).
std::vector<std::string> ShippedScenarioNames();

// The rendered `lock:` of a scenario probe ("" for other probes or none):
// `calprobe check` never runs two journeys with the same lock at once.
std::string ScenarioLock(const core::Probe& probe);

}  // namespace calprobe::probes::scenario
