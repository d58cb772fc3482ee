#pragma once
// The sandbox's outgoing events: a bounded queue the service emits into and
// the server flushes as NDJSON batches to the calprobe ingest URL (as the
// real platform's services do). When the queue is full (agent down for a
// long time) new events are dropped and counted; a failed batch is put
// back as far as room allows. The last events are kept for GET /admin/events.
// Thread-safe.

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_sink.h"

namespace calprobe::sandbox {

struct EventQueueStats {
  uint64_t emitted = 0;  // accepted into the queue
  uint64_t sent = 0;     // delivered (2xx from the agent)
  uint64_t dropped = 0;  // queue full, or no ingest URL configured
  uint64_t failed_flushes = 0;
  size_t queued = 0;
};

class EventQueue final : public core::EventSink {
 public:
  // `deliver`: false when no ingest URL is configured (events are only kept
  // in the recent list and counted as dropped).
  EventQueue(size_t max_queue, bool deliver, size_t keep_recent = 500);

  core::Status Emit(core::Event event) override;
  // Removes and returns up to `max` events, oldest first.
  std::vector<core::Event> Take(size_t max);
  // Puts an undelivered batch back at the front (oldest first), dropping
  // what does not fit.
  void Requeue(std::vector<core::Event> batch);
  void MarkSent(size_t n);
  EventQueueStats stats() const;
  // The last events (wire format lines), oldest first; `name` filters when non-empty.
  std::vector<std::string> Recent(const std::string& name) const;

  // One NDJSON body (a line per event, each ending in '\n').
  static std::string ToNdjson(const std::vector<core::Event>& events);

 private:
  mutable std::mutex mu_;
  size_t max_queue_;
  bool deliver_;
  size_t keep_recent_;
  std::deque<core::Event> queue_;
  std::deque<std::string> recent_;
  EventQueueStats stats_;
};

}  // namespace calprobe::sandbox
