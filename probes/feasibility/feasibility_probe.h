#pragma once
// The `feasibility` probe: asks a feasibility endpoint (REST or GraphQL,
// shaped by config) for a synthetic test provider's slots and judges the
// answer against the availability oracle (calendar/oracle) computed from the
// provider's declared truth. Options live under the target's `feasibility:`
// key; see docs/probes/feasibility.md.
//
// Each run emits cal.feasible.generated{source="synthetic"} and, when the
// answer is wrong, calprobe.feasibility.mismatch with counts per class; it
// fails with reason "mismatch" (wrong slots listed in the outcome details),
// "latency" (slower than latency_budget), "response" (unreadable answer),
// "assertion" (unexpected status), "truth_source" (busy ICS unavailable) or
// a transport code.

#include <memory>

#include "core/probe.h"

namespace calprobe::probes::feasibility {

std::unique_ptr<core::ProbeFactory> NewFactory();

}  // namespace calprobe::probes::feasibility
