#pragma once
// Simulated buyers and providers for the demo (sandbox.traffic_interval > 0):
// each tick one search on a random non-synthetic provider, sometimes a hold
// that is confirmed (Instant Book accepted) or left to expire, a rejected
// Instant Book when the slot overlaps, reschedules (a booking cancelled and
// rebooked), support tickets, rule and exception edits, and a platform busy
// source polled from the sandbox's own feed. Everything goes through
// SandboxService, so the platform's cal.* events (including the User Impact
// ones: cal.search.slots_surfaced, cal.booking.instant, cal.booking.rebooked,
// cal.support.ticket) are the same ones a real client would cause. The
// synthetic-test provider is left alone: the probes' truth stays valid.
// Called from one thread (the sandbox's background io_context).

#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "calendar/oracle/types.h"

namespace calprobe::sandbox {

class SandboxService;

class BuyerTraffic {
 public:
  // `self_url`: the sandbox's own base URL (for the busy source it adds).
  BuyerTraffic(SandboxService& service, std::string self_url, uint32_t seed);
  void Tick();

 private:
  bool Chance(double p) { return std::uniform_real_distribution<>(0, 1)(rng_) < p; }
  void Setup();
  void RemoveSources();

  SandboxService& service_;
  std::string self_url_;
  std::mt19937 rng_;
  std::deque<std::string> bookings_;
  // Each provider's previous search result: a buyer acting on a stale page
  // sometimes picks a slot that is gone (overlap, Instant Book rejected).
  std::map<std::string, std::vector<calendar::oracle::Slot>> last_slots_;
  bool setup_done_ = false;
  uint64_t ticks_ = 0;
  int resetup_in_ = -1;  // ticks until busy sources follow a regenerated token
};

}  // namespace calprobe::sandbox
