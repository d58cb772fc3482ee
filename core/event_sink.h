#pragma once
// Where events go. Probes and the ingest endpoint write to an EventSink; the
// core's pipeline (core/pipeline.h) validates and fans them out.

#include "core/event.h"

namespace calprobe::core {

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Accepts one event. Returns an error (and drops the event) when it fails
  // catalog validation or falls outside the lateness/skew bounds.
  virtual Status Emit(Event event) = 0;
};

}  // namespace calprobe::core
