#pragma once
// The sandbox's injectable "now" (POST /admin/clock). Reads a base clock
// (the system clock in production, a core::ManualClock in tests) and either
// follows it with an offset (time keeps running, so second-level hold TTLs
// still expire) or stays frozen at one instant.
// Thread-safe.

#include <mutex>

#include "core/clock.h"

namespace calprobe::sandbox {

class SandboxClock final : public core::Clock {
 public:
  explicit SandboxClock(const core::Clock& base) : base_(base) {}

  core::TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return frozen_ ? frozen_at_ : base_.Now() + offset_;
  }
  // From now on Now() returns `t` and then advances with the base clock
  // (or stays at `t` when `freeze`).
  void SetNow(core::TimePoint t, bool freeze) {
    std::lock_guard lock(mu_);
    frozen_ = freeze;
    frozen_at_ = t;
    offset_ = t - base_.Now();
  }
  // Now() = base + offset, running.
  void SetOffset(core::Duration offset) {
    std::lock_guard lock(mu_);
    frozen_ = false;
    offset_ = offset;
  }
  // Back to the base clock.
  void Reset() { SetOffset(core::Duration::zero()); }
  // Offset from the base clock (what Now() - base.Now() is right now).
  core::Duration Offset() const {
    std::lock_guard lock(mu_);
    return frozen_ ? frozen_at_ - base_.Now() : offset_;
  }
  bool frozen() const {
    std::lock_guard lock(mu_);
    return frozen_;
  }

 private:
  const core::Clock& base_;
  mutable std::mutex mu_;
  bool frozen_ = false;
  core::TimePoint frozen_at_{};
  core::Duration offset_{};
};

}  // namespace calprobe::sandbox
