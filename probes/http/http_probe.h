#pragma once
// The `http` probe: one request per run, judged by status, body, JSON and
// header assertions. Options live under the target's `http:` key; see
// docs/configuration.md.

#include <memory>

#include "core/probe.h"

namespace calprobe::probes::http {

std::unique_ptr<core::ProbeFactory> NewFactory();

}  // namespace calprobe::probes::http
