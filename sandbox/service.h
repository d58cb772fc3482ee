#pragma once
// The sandbox's calendar service logic, free of sockets so unit tests drive
// it directly with a ManualClock: providers (rules, exceptions, external busy
// sources), feasibility with a TTL cache, holds with TTLs and overlap
// rejection, bookings, the outbound ICS feed with its secret token, fault
// injection, and the platform's cal.* events. The HTTP mapping is in
// routes.h; sockets, timers and polling I/O are in server.h.
//
// Times are UTC instants; "now" is deps.clock (the injectable SandboxClock).
// Holds expire lazily at every call and at each Sweep(). Thread-safe: one
// mutex guards all state; no call blocks on I/O.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "calendar/ics/ics.h"
#include "calendar/oracle/oracle.h"
#include "core/clock.h"
#include "core/event_sink.h"
#include "sandbox/config.h"
#include "sandbox/faults.h"

namespace calprobe::sandbox {

using calendar::oracle::Slot;
using calendar::oracle::Span;
using core::TimePoint;

// An API failure: HTTP status, message, the request parameter at fault (for
// 400s), per-path details (config-style errors) and extra JSON members.
struct ApiError {
  int status = 400;
  std::string message;
  std::string param;
  std::vector<std::string> details;
  nlohmann::json extra = nlohmann::json::object();
};

template <typename T>
struct ApiResult {
  ApiResult(T v) : value(std::move(v)) {}         // NOLINT: implicit by design
  ApiResult(ApiError e) : error(std::move(e)) {}  // NOLINT
  bool ok() const { return value.has_value(); }
  std::optional<T> value;
  ApiError error;
};

enum class HoldState { kActive, kConverted, kExpired, kReleased };
std::string_view HoldStateName(HoldState s);  // "active", "converted", ...

struct Hold {
  std::string id;
  std::string provider_id;
  std::string source;
  Span span;
  int ttl_seconds = 0;
  TimePoint created_at{};
  TimePoint expires_at{};
  HoldState state = HoldState::kActive;
  TimePoint ended_at{};    // when it expired / converted / was released
  std::string booking_id;  // when converted
};

struct Booking {
  std::string id;
  std::string provider_id;
  std::string hold_id;
  std::string source;
  Span span;
  TimePoint created_at{};
};

struct FeasibilityQuery {
  std::string provider_id;
  TimePoint from{};
  TimePoint to{};
  int duration_minutes = 0;  // 0: the provider's slot_minutes
};

struct FeasibilityAnswer {
  std::vector<Slot> slots;
  bool truncated = false;
  int candidate_windows = 0;  // grid positions inside open time, before removals
  bool cache_hit = false;
  double duration_ms = 0;  // compute time (+ injected latency), 0 on a hit
  std::string timezone;    // the provider's zone (responses use its offsets)
};

struct HoldRequest {
  std::string provider_id;
  TimePoint start{};
  TimePoint end{};
  int ttl_seconds = 900;
  std::string source = "api";
};

// One poll of an external busy source that is due (server.h does the I/O).
struct PollJob {
  std::string provider_id;
  std::string source_id;
  std::string url;
  std::string etag;
  std::string last_modified;
};

struct PollOutcome {
  int http_status = 0;     // 0: transport failure
  std::string error_code;  // e.g. http.timeout; empty when it worked
  std::string body;
  std::string etag;
  std::string last_modified;
  double duration_ms = 0;
};

struct ServiceDeps {
  const core::Clock& clock;        // the sandbox's "now"
  const core::Clock& event_clock;  // time stamped on events
  FaultSet& faults;
  core::EventSink& sink;
};

class SandboxService {
 public:
  // `config` must be valid (LoadSandboxConfig). Providers without a
  // feed_token get a random one.
  SandboxService(const SandboxConfig& config, ServiceDeps deps);
  ~SandboxService();

  // --- providers ---
  std::vector<std::string> ProviderIds() const;
  // Rules, exceptions, busy sources; the feed token only when `with_secrets`.
  ApiResult<nlohmann::json> DescribeProvider(const std::string& id, bool with_secrets) const;
  // PUT rules: the body (JSON) per ReadRulesUpdate; emits cal.rule.updated.
  ApiResult<nlohmann::json> UpdateRules(const std::string& id, const std::string& body);
  // POST exceptions: {kind, start, end}; emits cal.exception.upserted.
  ApiResult<nlohmann::json> AddException(const std::string& id, const std::string& body);
  ApiResult<bool> DeleteException(const std::string& id, const std::string& exception_id);
  // POST busy-sources: {id?, url, poll_interval?} (polled) or {id?, ics} (inline).
  ApiResult<nlohmann::json> AddBusySource(const std::string& id, const std::string& body);
  ApiResult<bool> DeleteBusySource(const std::string& id, const std::string& source_id);

  // --- feasibility ---
  // `injected_latency_ms` (the latency fault, slept by the caller) is added
  // to the reported duration. Emits cal.feasible.cache.hit|miss and, on a
  // miss, cal.feasible.generated.
  ApiResult<FeasibilityAnswer> Feasibility(const FeasibilityQuery& q,
                                           double injected_latency_ms = 0);

  // --- holds and bookings ---
  // 409 with extra.overlap_detected = true when the span overlaps a live hold
  // or a booking. Emits cal.hold.created (overlap_detected true on a 409).
  ApiResult<Hold> CreateHold(const HoldRequest& r);
  // Converts a live hold into a booking (idempotent for a converted hold);
  // 410 for an expired or released hold. Emits cal.hold.converted.
  ApiResult<Booking> ConfirmHold(const std::string& hold_id);
  ApiResult<Hold> ReleaseHold(const std::string& hold_id);
  ApiResult<Hold> GetHold(const std::string& hold_id);
  std::vector<Hold> Holds(const std::string& provider_id, bool active_only);
  std::vector<Booking> Bookings(const std::string& provider_id);
  ApiResult<Booking> DeleteBooking(const std::string& booking_id);
  // Expires due holds (emits cal.hold.expired). Returns how many expired.
  int Sweep();

  // --- outbound feed ---
  // The provider's ICS feed. `token` absent = no token given.
  ApiResult<std::string> Feed(const std::string& provider_id,
                              const std::optional<std::string>& token, bool include_holds);
  // New random token; the old one stops working. Emits the regenerated event.
  ApiResult<std::string> RegenerateFeedToken(const std::string& provider_id);

  // --- external busy sources (I/O in server.cc) ---
  // Sources due at `real_now`, marked in flight; at most `max`.
  std::vector<PollJob> DuePolls(TimePoint real_now, size_t max);
  // Sources due but not started (cal.ics.backlog size).
  size_t PollBacklog(TimePoint real_now) const;
  // Applies a finished poll; emits cal.ics.poll.ok|error.
  void OnPollResult(const PollJob& job, const PollOutcome& outcome, TimePoint real_now);

  // Emits a platform event `name` for provider `provider_id` (labels as for
  // every sandbox event), e.g. the User Impact events of simulated buyers.
  void EmitPlatformEvent(const std::string& name, const std::string& provider_id,
                         std::vector<core::Field> fields);

  // Emits cal.ics.backlog{size, queue_size} for the poller's queue.
  void EmitBacklog(size_t size, size_t queue_size);

  // Forgets every cached feasibility answer (clock or fault changes).
  void InvalidateCache();
  // Counters for GET /admin/stats.
  nlohmann::json Stats() const;

  struct ProviderState;

 private:
  core::Event NewEvent(const std::string& name, const ProviderState* p) const;
  void EmitLocked(core::Event e);
  // Emits a lifecycle event (cal.hold.created|expired|converted) for an
  // existing hold `h` (overlap_detected false; rejected holds have no Hold).
  void EmitHoldEventLocked(const std::string& name, const Hold& h, const ProviderState* p);
  ProviderState* FindLocked(const std::string& id) const;
  int ExpireLocked(TimePoint now);
  void TouchLocked(ProviderState* p);  // invalidates p's cached answers
  FeasibilityAnswer ComputeLocked(const ProviderState& p, const FeasibilityQuery& q, TimePoint now);
  std::optional<std::string> OverlapLocked(const std::string& provider_id, const Span& s) const;
  void PruneLocked();

  const SandboxConfig config_;
  ServiceDeps deps_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<ProviderState>> providers_;
  std::map<std::string, Hold> holds_;
  std::map<std::string, Booking> bookings_;
  struct CacheEntry;
  std::map<std::string, std::shared_ptr<CacheEntry>> cache_;
  uint64_t cache_generation_ = 0;
  uint64_t next_id_ = 1;
  uint64_t cache_hits_ = 0, cache_misses_ = 0, holds_created_ = 0, holds_rejected_ = 0,
           holds_expired_ = 0, holds_converted_ = 0, feed_requests_ = 0, feed_rejected_ = 0;
};

// A random URL-safe token (32 hex digits from std::random_device).
std::string NewToken();

}  // namespace calprobe::sandbox
