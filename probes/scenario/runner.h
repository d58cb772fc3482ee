#pragma once
// Running one journey of a scenario through a core::ProbeContext (the
// agent's, or `calprobe check`'s): main steps in order until one fails or
// the context's deadline passes, then every cleanup step whose variables
// are known, whatever happened. Every step is timed and reported; each one
// emits calprobe.scenario.step, the journey calprobe.scenario.run, and steps
// may emit their own events (cal.hold.created, …) with the target's labels
// (origin=synthetic). Pending cleanups are journaled (journal.h).
// Everything runs on the context's thread; no blocking.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/probe.h"
#include "probes/scenario/scenario.h"

namespace calprobe::probes::scenario {

enum class StepStatus { kPassed, kFailed, kError, kSkipped };
std::string_view StepStatusName(StepStatus s);

struct StepReport {
  std::string name;
  std::string phase;  // "main" or "cleanup"
  std::string kind;
  StepStatus status = StepStatus::kSkipped;
  std::string reason;   // failure class: assertion, scenario.timeout, http.*, scenario.error
  std::string message;  // what was expected and what was seen (redacted)
  std::string excerpt;  // the last request and answer (redacted)
  std::string measure;
  double seconds = 0;
  int attempts = 0;
};

struct JourneyReport {
  std::string scenario;
  bool success = false;
  bool timed_out = false;
  bool cleanup_ok = true;
  std::string reason;   // of the first failure
  std::string message;  // "step 3 second-hold-rejected: status 201, expected 409"
  std::string failed_step;
  double seconds = 0;
  std::vector<StepReport> steps;
  nlohmann::json ToJson() const;
};

struct JourneyOptions {
  // Reserved at the end of the context's deadline for cleanup: main steps
  // stop this long before it.
  std::chrono::milliseconds cleanup_reserve{1000};
  bool journal = true;  // record pending cleanups in ctx.store() (when there is one)
};

// Runs `scenario` once. `done` is called exactly once, on the context's
// thread, after the cleanup steps have finished. The scenario must stay
// alive until then (shared ownership is taken).
void RunJourney(std::shared_ptr<const Scenario> scenario, core::ProbeContext& ctx,
                JourneyOptions options, std::function<void(JourneyReport)> done);

}  // namespace calprobe::probes::scenario
