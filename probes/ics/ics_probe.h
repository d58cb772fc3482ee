#pragma once
// The `ics` probe: polls a provider's external ICS feed the way a good
// calendar client should (conditional GET with stored validators, delta
// against the stored snapshot, mass-deletion guard, retry ladder honouring
// Retry-After) and emits `cal.ics.poll.ok` / `cal.ics.poll.error` events.
// Options live under the target's `ics:` key (probes/ics/options.h); the
// runbook is ops/runbooks/calendar-ics-errors.md.

#include <memory>

#include "core/probe.h"

namespace calprobe::probes::ics {

std::unique_ptr<core::ProbeFactory> NewFactory();

}  // namespace calprobe::probes::ics
