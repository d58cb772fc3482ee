#pragma once
// Owns time for probes: each entry runs every `interval` at a deterministic
// phase (hash of its id) so thousands of targets spread evenly instead of
// firing together, with a concurrency limit per probe type. One timer on
// the agent's io_context drives everything; no thread per target.
// All methods run on the io_context's thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"

namespace boost::asio {
class io_context;
}

namespace calprobe::core {

struct ScheduleEntry {
  std::string id;
  std::string type;  // concurrency group (probe type)
  std::chrono::milliseconds interval{30000};
};

class Scheduler {
 public:
  // Called when an entry is due and a slot of its type is free. `scheduled`
  // is when it should have started (lateness = now - scheduled). The callee
  // must call `finished` exactly once when the run ends.
  using StartFn =
      std::function<void(size_t index, TimePoint scheduled, std::function<void()> finished)>;

  Scheduler(boost::asio::io_context& io, StartFn start);
  ~Scheduler();

  // Replaces the schedule. Index i in StartFn refers to entries[i] of the
  // latest call. Runs in flight from an older schedule finish normally.
  void SetEntries(std::vector<ScheduleEntry> entries, std::map<std::string, int> limits,
                  int default_limit);
  void Stop();

  // The phase offset of `id` within `interval` (exposed for tests).
  static std::chrono::milliseconds Phase(const std::string& id, std::chrono::milliseconds interval);
  // The first due time strictly after `now` for this id and interval.
  static TimePoint NextDue(const std::string& id, std::chrono::milliseconds interval, TimePoint now);

  // Runs due but waiting for a free slot, per type.
  std::map<std::string, size_t> Backlog() const;
  std::map<std::string, int> Limits() const;
  std::map<std::string, int> Running() const;
  uint64_t skipped_runs() const;  // runs dropped because the previous one was still busy

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace calprobe::core
