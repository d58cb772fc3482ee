#pragma once
// `agent.event_log: FILE`: every accepted event appended as one NDJSON line
// (the wire format of docs/events.md), for audits and for `calprobe replay`.
// Events are written as emitted: whoever emits an event keeps secrets out
// of it (the credential and TLS events carry names, never values).
// Not thread-safe: a pipeline subscriber on the agent's thread.

#include <string>

#include "core/pipeline.h"
#include "core/status.h"

namespace calprobe::core {

// Opens `path` for appending and subscribes to `pipeline`. The file stays
// open for the pipeline's lifetime; write errors are logged once.
Status InstallEventLog(EventPipeline& pipeline, const std::string& path);

}  // namespace calprobe::core
