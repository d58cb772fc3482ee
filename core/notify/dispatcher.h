#pragma once
// Dispatcher: from alert transitions to receivers (DESIGN.md "Notifiers").
//
//   rules::AlertTransition --Notify--> notified_alerts + outbox rows (one
//   SQLite transaction) --Outbox--> HTTP to PagerDuty / Slack / Alertmanager
//   / webhook
//
// * A firing alert is notified once per episode, a resolve only after its
//   firing was notified: the table `notified_alerts` (one row per alert
//   notified as firing, by dedup key) makes duplicate transitions, replays
//   and restarts harmless.
// * Reconcile() compares the engine's firing alerts with that table and
//   notifies what is missing either way (a crash between the engine saving a
//   state and the outbox write, a rule deleted on reload, a silence ending).
// * Routing: the rule's `receivers` plus every receiver with all_alerts
//   (Alertmanager by default); a resolve goes where its firing went.
// * Alertmanager receivers get every firing alert again every
//   resend_interval (not persisted: a refresh), only while nothing is
//   pending for that Alertmanager (never ahead of a queued resolve).
// * Metrics: calprobe_notifications_total{receiver,result},
//   calprobe_notifications_dead_letter{receiver},
//   calprobe_notifications_outbox_pending{receiver},
//   calprobe_notifications_outbox_oldest_seconds.
// Runs on the agent's io_context thread.

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/notify/notification.h"
#include "core/notify/outbox.h"
#include "core/notify/receiver_config.h"
#include "core/rules/engine.h"

namespace calprobe::core::notify {

struct DispatcherDeps {
  Store* store = nullptr;
  HttpClient* http = nullptr;
  const Clock* clock = nullptr;
  MetricsRegistry* metrics = nullptr;  // optional
  // Runs fn after delay on the owner's thread (AgentState::After); optional:
  // without it the owner calls Tick() itself.
  std::function<void(Duration, std::function<void()>)> after;
  std::string region;  // the agent's region (annotation / PagerDuty source, never a label)
  uint64_t jitter_seed = 0;
};

class Dispatcher {
 public:
  static Result<std::unique_ptr<Dispatcher>> Create(DispatcherDeps deps,
                                                    std::vector<ReceiverConfig> receivers,
                                                    NotifySettings settings);
  ~Dispatcher();

  // Replaces receivers and settings (config reload). Pending deliveries to
  // a receiver that no longer exists are dead-lettered when their turn comes.
  void Configure(std::vector<ReceiverConfig> receivers, NotifySettings settings);
  // Starts the 1 s loop (deps.after): pumps the outbox, re-sends to Alertmanager.
  void Start();
  void Stop();
  void Tick();
  // For shutdown: starts nothing more and calls `done` once no request is in
  // flight, or after `max_wait` (needs deps.after; without it, at once).
  // Deliveries not answered stay in the outbox for the next start.
  void Drain(Duration max_wait, std::function<void()> done);

  // Silenced alerts are not notified as firing (checked again at every
  // Reconcile, so a silence that ends notifies a still-firing alert).
  void SetSilenced(std::function<bool(const Notification&)> silenced) {
    silenced_ = std::move(silenced);
  }

  // Enqueues the firing and resolved transitions (others are ignored).
  void OnTransitions(const std::vector<rules::AlertTransition>& transitions,
                     const std::vector<rules::Rule>& rules);
  // Notifies firing alerts of `active` not yet notified, and resolves
  // notified alerts no longer firing.
  void Reconcile(const std::vector<rules::AlertInstance>& active,
                 const std::vector<rules::Rule>& rules);

  // Enqueues one notification (firing or resolved) to `receivers`
  // (names); the lower-level entry used by the two above and by tests.
  void Notify(Notification n, std::vector<std::string> receivers);

  // {"outbox_pending": n, "pending_by_receiver": {...}, "dead_letter_total": n}
  nlohmann::json StatusJson() const;
  // Newest first: [{receiver, rule, labels, state, dedup_key, attempts, created, dead_at, reason}].
  nlohmann::json DeadLettersJson(size_t limit = 100) const;
  // Sends the dead letters of `receiver` (all when empty) again, in their
  // original order (Outbox::RetryDeadLetters). A firing notification whose
  // alert is no longer notified as firing (it resolved meanwhile) is dropped
  // rather than re-opening an incident; resolves are always re-sent (a
  // resolve of an unknown incident is a no-op at every receiver).
  // Returns {"requeued": n, "dropped": m} or an error.
  Result<nlohmann::json> RetryDeadLetters(const std::string& receiver);
  // Alerts currently notified as firing, by dedup key.
  size_t NotifiedFiring() const { return notified_.size(); }
  Outbox& outbox() { return *outbox_; }
  const std::vector<ReceiverConfig>& receivers() const { return receivers_; }

 private:
  struct Notified {
    Notification n;
    std::vector<std::string> receivers;
  };
  Dispatcher(DispatcherDeps deps, std::vector<ReceiverConfig> receivers, NotifySettings settings);
  Status Load();
  const ReceiverConfig* Find(const std::string& name) const;
  std::vector<std::string> Route(const rules::Rule* rule) const;
  Result<HttpRequest> Build(const Delivery& d, TimePoint now) const;
  void Resend(TimePoint now);
  void OnOutcome(const Delivery& d, Outcome o, const std::string& reason);
  void Loop();
  void DrainCheck();

  DispatcherDeps deps_;
  std::vector<ReceiverConfig> receivers_;
  NotifySettings settings_;
  std::unique_ptr<Outbox> outbox_;
  std::map<std::string, Notified> notified_;      // dedup key -> firing alert as notified
  std::map<std::string, TimePoint> last_resend_;  // receiver -> last re-send round
  std::set<std::string> resend_in_flight_;        // receiver \x1f dest
  std::set<std::string> warned_unknown_;          // receiver names logged once
  std::function<bool(const Notification&)> silenced_;
  MetricFamily* total_ = nullptr;
  bool running_ = false;
  TimePoint drain_deadline_;
  std::function<void()> drain_done_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace calprobe::core::notify
