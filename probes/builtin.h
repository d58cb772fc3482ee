#pragma once
#include "core/probe.h"

namespace calprobe::probes {

// Registers every built-in probe type, one explicit line each (static-init
// registration gets dropped from static libraries).
void RegisterBuiltinProbes(core::ProbeRegistry& registry);

}  // namespace calprobe::probes
