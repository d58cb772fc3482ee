#pragma once
// Time for everything in core: windows, schedules, staleness. Production uses
// SystemClock; tests and `calprobe replay` use a manual clock
// (tests/fakes/fake_clock.h, core/manual_clock.h) so hours of events run in
// milliseconds. Instants are UTC; there is no local time in core.

#include <chrono>

namespace calprobe::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;
using std::chrono::milliseconds;
using std::chrono::seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Returns the current wall-clock instant (UTC). Thread-safe.
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& Instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Used by replay and tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start = TimePoint{}) : now_(start) {}
  TimePoint Now() const override { return now_; }
  void Set(TimePoint t) { now_ = t; }
  void Advance(Duration d) { now_ += d; }

 private:
  TimePoint now_;
};

// Seconds since the Unix epoch as a double (Prometheus timestamps, JSON).
inline double ToUnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
inline double ToSeconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace calprobe::core
