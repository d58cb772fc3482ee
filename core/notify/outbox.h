#pragma once
// The durable notification outbox (SQLite table `outbox`, core/store.cc).
// Every delivery is written before it is sent and deleted only after the
// receiver accepted it, so deliveries survive restarts and kill -9 (pending
// rows are loaded by Open and sent again): at-least-once.
//
// Deliveries are queued per (receiver, destination, dedup key) and sent one
// at a time per queue, oldest first, so a resolve never overtakes its
// trigger. A failed attempt is retried with exponential backoff and jitter
// (initial_backoff × 2^(attempts-1), capped at max_backoff, then a random
// 50–100 % of it), or after Retry-After on 429/503. A permanent failure
// (other 4xx, a request that cannot be built) or a delivery older than
// give_up_after moves to the dead-letter list (kept, newest first).
//
// The outbox does not own a timer: the owner calls Pump() periodically
// (and it pumps itself after Enqueue and after each answer). Runs on one
// thread (the agent's io_context); the HttpClient's callbacks too.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http/http_client.h"
#include "core/status.h"
#include "core/store.h"

namespace calprobe::core::notify {

struct Delivery {
  int64_t id = 0;  // assigned by Enqueue
  std::string receiver;
  int dest = 0;     // index into the receiver's URLs
  std::string key;  // dedup key: order is kept per (receiver, dest, key)
  bool firing = true;
  std::string notification;  // Notification as JSON (notification.h)
  TimePoint created;
  int attempts = 0;
  TimePoint next_attempt;
  std::string last_error;
};

struct DeadLetter {
  Delivery delivery;
  TimePoint dead_at;
  std::string reason;  // last_error
};

struct OutboxOptions {
  Duration initial_backoff = std::chrono::seconds(1);
  Duration max_backoff = std::chrono::minutes(5);
  Duration give_up_after = std::chrono::hours(24);
  Duration max_retry_after = std::chrono::hours(1);  // cap on a receiver's Retry-After
  int64_t max_pending = 10000;
  size_t max_in_flight = 32;
  int64_t keep_dead = 1000;  // dead letters kept (oldest deleted)
  uint64_t seed = 0;         // jitter seed; 0: random
};

enum class Outcome { kDelivered, kRetry, kDeadLetter };
const char* OutcomeName(Outcome o);  // "delivered", "retry", "dead_letter"

class Outbox {
 public:
  // Builds the request for a delivery at `now`, or an error that
  // dead-letters it (e.g. its receiver is no longer configured).
  using Builder = std::function<Result<HttpRequest>(const Delivery&, TimePoint now)>;
  // Told about every attempt's outcome (metrics, logs).
  using Observer = std::function<void(const Delivery&, Outcome, const std::string& reason)>;

  // Loads pending deliveries from `store`. store, http and clock must outlive
  // the outbox.
  static Result<std::unique_ptr<Outbox>> Open(Store& store, HttpClient& http, const Clock& clock,
                                              OutboxOptions options, Builder build);
  ~Outbox();

  // Persists `deliveries` (ids assigned) in one transaction, together with
  // whatever `also` writes (it runs inside the transaction; its error rolls
  // everything back), then sends what is due. Beyond max_pending, new
  // deliveries go straight to the dead-letter list ("outbox full").
  Status Enqueue(std::vector<Delivery> deliveries, const std::function<Status()>& also = {});
  // Starts every due delivery (queue heads not in flight, next_attempt <= now).
  void Pump();

  void SetObserver(Observer o) { observer_ = std::move(o); }
  // A delivery starts only while gate(receiver, dest) is true (e.g. not while
  // an Alertmanager refresh to that destination is in flight, so the two
  // cannot arrive out of order). Call Pump() when the gate opens.
  void SetGate(std::function<bool(const std::string& receiver, int dest)> gate) {
    gate_ = std::move(gate);
  }
  void SetOptions(const OutboxOptions& o);

  // Starts nothing more (shutdown); answers to requests in flight are still
  // recorded.
  void Pause() { paused_ = true; }
  size_t InFlight() const { return in_flight_.size(); }
  size_t Pending() const;
  std::map<std::string, size_t> PendingByReceiver() const;
  // Returns true iff (receiver, dest) has a delivery waiting or in flight.
  bool HasPending(const std::string& receiver, int dest) const;
  // Age of the oldest pending delivery (zero when none).
  Duration OldestPendingAge() const;
  // Newest first, at most `limit`.
  std::vector<DeadLetter> DeadLetters(size_t limit) const;
  std::map<std::string, int64_t> DeadLetterCounts() const { return dead_counts_; }
  // Sends dead letters again (e.g. after fixing a receiver's key or URL):
  // those of `receiver` (every receiver when empty), oldest first, each
  // behind whatever is pending for its queue. They are written as new rows
  // in one transaction with the removal of the dead ones, so the order also
  // holds after a restart; attempts and the give_up_after clock start over.
  // Letters for which `worth_sending` returns false are deleted instead
  // (e.g. a firing notification of an alert that has resolved since).
  struct RetryCounts {
    size_t requeued = 0;
    size_t dropped = 0;
  };
  Result<RetryCounts> RetryDeadLetters(
      const std::string& receiver,
      const std::function<bool(const Delivery&)>& worth_sending = {});
  // Delay before retry number `attempts` (>= 1), with jitter.
  Duration Backoff(int attempts);

 private:
  Outbox(Store& store, HttpClient& http, const Clock& clock, OutboxOptions options, Builder build);
  Status Load();
  void Start(const std::string& queue);
  void Finished(const std::string& queue, int64_t id, const HttpResponse& response);
  void Kill(const std::string& queue, const std::string& reason);
  void Persist(const char* what, Status s);
  void RecountDead();

  Store& store_;
  HttpClient& http_;
  const Clock& clock_;
  OutboxOptions options_;
  Builder build_;
  Observer observer_;
  std::function<bool(const std::string&, int)> gate_;
  bool paused_ = false;
  std::mt19937_64 rng_;
  std::map<std::string, std::deque<Delivery>> queues_;  // queue key -> pending, oldest first
  std::set<std::string> in_flight_;                     // queue keys
  std::map<std::string, int64_t> dead_counts_;          // receiver -> dead letters kept
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace calprobe::core::notify
