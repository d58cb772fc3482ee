#pragma once
// Fault injection for the sandbox (POST /admin/faults). Each fault is a name
// from kFaultNames, optionally limited to one provider, with numeric params:
//   latency                  params.ms: delay every API response (default 1000)
//   errors                   params.rate (0..1, default 1) of API responses
//                            become params.status (default 503)
//   slots_missing            feasibility drops every params.every-th slot
//                            (default 4, starting with the first)
//   slots_extra_in_exception feasibility also returns slots inside blocked
//                            exceptions
//   dst_shift                slots computed with the wrong UTC offset (the
//                            window start's when the window crosses a change,
//                            else the other season's)
//   lead_time_ignored        slots before now + lead time are returned
//   hold_not_hidden          holds neither hide slots nor invalidate the
//                            feasibility cache
//   overlap_not_rejected     overlapping holds are accepted
//   hold_never_expires       holds outlive their TTL
//   feed_missing_holds       the feed omits holds even with include_holds
//   feed_token_not_checked   any token (or none) opens the feed
//   token_expired            the right feed token gets 401 "token expired"
//   busy_source_ignored      busy time of connected ICS calendars does not
//                            hide slots (calendar-connect scenario)
//   ok                       clears every fault
// Thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace calprobe::sandbox {

inline constexpr std::string_view kFaultNames[] = {"latency",
                                                   "errors",
                                                   "slots_missing",
                                                   "slots_extra_in_exception",
                                                   "dst_shift",
                                                   "lead_time_ignored",
                                                   "hold_not_hidden",
                                                   "overlap_not_rejected",
                                                   "hold_never_expires",
                                                   "feed_missing_holds",
                                                   "feed_token_not_checked",
                                                   "token_expired",
                                                   "busy_source_ignored",
                                                   "ok"};

// Returns true iff `name` is one of kFaultNames.
bool IsFaultName(std::string_view name);

struct Fault {
  std::string name;
  std::string provider_id;  // empty: every provider
  std::map<std::string, double> params;
  double Param(const std::string& key, double fallback) const {
    auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  }
};

class FaultSet {
 public:
  // Adds (or replaces the same name + provider) a fault; "ok" clears all.
  // Returns an error naming the problem for unknown names or bad params.
  core::Status Set(Fault fault);
  void Clear();
  std::vector<Fault> List() const;
  // The fault `name` that applies to `provider_id` (a provider-specific one
  // wins over a global one), or nullopt.
  std::optional<Fault> Find(std::string_view name, std::string_view provider_id) const;
  bool Active(std::string_view name, std::string_view provider_id) const {
    return Find(name, provider_id).has_value();
  }
  // Deterministic share for the `errors` fault: returns true for about
  // `rate` of the calls (exactly floor(n * rate) of the first n).
  bool NextErrorDraw(double rate);
  // Bumped on every change (the feasibility cache keys on it).
  uint64_t generation() const;

 private:
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
  uint64_t generation_ = 0;
  uint64_t error_draws_ = 0;
};

}  // namespace calprobe::sandbox
