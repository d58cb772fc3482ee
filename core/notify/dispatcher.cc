#include "core/notify/dispatcher.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>

#include "core/event.h"
#include "core/log.h"
#include "core/notify/notifier.h"

namespace calprobe::core::notify {
namespace {

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t c = s.find(',', pos);
    if (c == std::string::npos) c = s.size();
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

OutboxOptions ToOutboxOptions(const NotifySettings& s, uint64_t seed) {
  OutboxOptions o;
  o.initial_backoff = s.initial_backoff;
  o.max_backoff = s.max_backoff;
  o.give_up_after = s.give_up_after;
  o.max_pending = s.max_pending;
  o.seed = seed;
  return o;
}

void FillDefaults(NotifySettings* s) {
  if (s->dashboard_url.empty()) s->dashboard_url = s->external_url;
}

}  // namespace

Dispatcher::Dispatcher(DispatcherDeps deps, std::vector<ReceiverConfig> receivers,
                       NotifySettings settings)
    : deps_(std::move(deps)), receivers_(std::move(receivers)), settings_(std::move(settings)) {
  FillDefaults(&settings_);
}

Dispatcher::~Dispatcher() { *alive_ = false; }

Result<std::unique_ptr<Dispatcher>> Dispatcher::Create(DispatcherDeps deps,
                                                       std::vector<ReceiverConfig> receivers,
                                                       NotifySettings settings) {
  if (!deps.store || !deps.http || !deps.clock)
    return Status::Error("notify: store, http and clock are required");
  std::unique_ptr<Dispatcher> d(
      new Dispatcher(std::move(deps), std::move(receivers), std::move(settings)));
  Dispatcher* self = d.get();
  auto outbox =
      Outbox::Open(*self->deps_.store, *self->deps_.http, *self->deps_.clock,
                   ToOutboxOptions(self->settings_, self->deps_.jitter_seed),
                   [self](const Delivery& dl, TimePoint now) { return self->Build(dl, now); });
  if (!outbox.ok()) return outbox.status();
  d->outbox_ = std::move(outbox.value());
  d->outbox_->SetObserver([self](const Delivery& dl, Outcome o, const std::string& reason) {
    self->OnOutcome(dl, o, reason);
  });
  // A transition never races an Alertmanager refresh to the same destination.
  d->outbox_->SetGate([self](const std::string& receiver, int dest) {
    return !self->resend_in_flight_.count(receiver + '\x1f' + std::to_string(dest));
  });
  if (Status s = d->Load(); !s.ok()) return s;
  if (MetricsRegistry* m = d->deps_.metrics) {
    d->total_ =
        &m->Counter("calprobe_notifications_total",
                    "Notification delivery attempts by receiver and result (delivered, retry, "
                    "dead_letter, resent, resend_failed).",
                    {"receiver", "result"});
    std::weak_ptr<bool> alive = d->alive_;
    m->AddCollector([self, alive](MetricsWriter* w) {
      if (auto a = alive.lock(); !a || !*a) return;
      auto pending = self->outbox_->PendingByReceiver();
      auto dead = self->outbox_->DeadLetterCounts();
      std::set<std::string> names;
      for (const auto& r : self->receivers_) names.insert(r.name);
      for (const auto& [k, v] : pending) names.insert(k);
      for (const auto& [k, v] : dead) names.insert(k);
      w->Family(
          "calprobe_notifications_outbox_pending", "gauge",
          "Notifications waiting in the outbox (persisted, not yet accepted by the receiver).");
      for (const auto& n : names) {
        w->Sample("calprobe_notifications_outbox_pending", {"receiver"}, {n},
                  static_cast<double>(pending.count(n) ? pending[n] : 0));
      }
      w->Family("calprobe_notifications_dead_letter", "gauge",
                "Notifications in the dead-letter list (permanent failure or given up).");
      for (const auto& n : names) {
        w->Sample("calprobe_notifications_dead_letter", {"receiver"}, {n},
                  static_cast<double>(dead.count(n) ? dead[n] : 0));
      }
      w->Family("calprobe_notifications_outbox_oldest_seconds", "gauge",
                "Age of the oldest notification waiting in the outbox (0 when empty).");
      w->Sample("calprobe_notifications_outbox_oldest_seconds", {}, {},
                ToSeconds(self->outbox_->OldestPendingAge()));
      w->Family("calprobe_notifications_alerts_notified", "gauge",
                "Alerts currently notified as firing.");
      w->Sample("calprobe_notifications_alerts_notified", {}, {},
                static_cast<double>(self->notified_.size()));
    });
  }
  return d;
}

Status Dispatcher::Load() {
  sqlite3* db = deps_.store->handle();
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT key, notification, receivers FROM notified_alerts", -1, &st,
                         nullptr) != SQLITE_OK) {
    return Status::Error(std::string("notify: load notified alerts: ") + sqlite3_errmsg(db));
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    std::string key = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    auto n = NotificationFromJson(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
    if (!n.ok()) continue;
    notified_[key] = {std::move(n.value()),
                      Split(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)))};
  }
  sqlite3_finalize(st);
  return Status::Ok();
}

void Dispatcher::Configure(std::vector<ReceiverConfig> receivers, NotifySettings settings) {
  receivers_ = std::move(receivers);
  settings_ = std::move(settings);
  FillDefaults(&settings_);
  outbox_->SetOptions(ToOutboxOptions(settings_, deps_.jitter_seed));
  warned_unknown_.clear();
}

void Dispatcher::Start() {
  if (running_ || !deps_.after) return;
  running_ = true;
  Loop();
}

void Dispatcher::Stop() { running_ = false; }

void Dispatcher::Drain(Duration max_wait, std::function<void()> done) {
  Stop();
  outbox_->Pause();
  drain_deadline_ = deps_.clock->Now() + max_wait;
  drain_done_ = std::move(done);
  DrainCheck();
}

void Dispatcher::DrainCheck() {
  const bool idle = outbox_->InFlight() == 0 && resend_in_flight_.empty();
  if (idle || !deps_.after || deps_.clock->Now() >= drain_deadline_) {
    if (!idle) {
      Log(LogLevel::kWarn,
          "stopping with notifications in flight; they are sent again at the next start")
          .Kv("in_flight", outbox_->InFlight());
    }
    auto fn = std::move(drain_done_);
    drain_done_ = nullptr;
    if (fn) fn();
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  deps_.after(std::chrono::milliseconds(50), [this, alive] {
    if (auto a = alive.lock(); a && *a) DrainCheck();
  });
}

void Dispatcher::Loop() {
  std::weak_ptr<bool> alive = alive_;
  deps_.after(std::chrono::seconds(1), [this, alive] {
    if (auto a = alive.lock(); !a || !*a || !running_) return;
    Tick();
    Loop();
  });
}

void Dispatcher::Tick() {
  outbox_->Pump();
  Resend(deps_.clock->Now());
}

const ReceiverConfig* Dispatcher::Find(const std::string& name) const {
  for (const auto& r : receivers_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::vector<std::string> Dispatcher::Route(const rules::Rule* rule) const {
  std::vector<std::string> out;
  if (rule) out = rule->receivers;
  for (const auto& r : receivers_) {
    if (r.all_alerts && std::find(out.begin(), out.end(), r.name) == out.end())
      out.push_back(r.name);
  }
  return out;
}

Result<HttpRequest> Dispatcher::Build(const Delivery& d, TimePoint now) const {
  const ReceiverConfig* r = Find(d.receiver);
  if (!r) return Status::Error("receiver \"" + d.receiver + "\" is no longer configured");
  if (d.dest < 0 || static_cast<size_t>(d.dest) >= r->urls.size()) {
    return Status::Error("receiver \"" + d.receiver + "\" no longer has URL #" +
                         std::to_string(d.dest + 1));
  }
  auto n = NotificationFromJson(d.notification);
  if (!n.ok()) return n.status();
  return BuildRequest(*r, static_cast<size_t>(d.dest), {n.value()}, settings_, now);
}

void Dispatcher::Notify(Notification n, std::vector<std::string> receivers) {
  n.dedup_key = DedupKey(n.rule, n.labels);
  if (n.agent_region.empty()) n.agent_region = deps_.region;
  auto it = notified_.find(n.dedup_key);
  if (n.firing) {
    if (it != notified_.end()) return;      // this episode was notified already
    if (silenced_ && silenced_(n)) return;  // Reconcile notifies it when the silence ends
  } else {
    if (it == notified_.end()) return;  // never notified as firing: nothing to resolve
    receivers = it->second.receivers;   // a resolve goes where its firing went
    n.starts_at = it->second.n.starts_at;
    if (n.annotations.empty()) n.annotations = it->second.n.annotations;
    if (n.runbook.empty()) n.runbook = it->second.n.runbook;
    if (n.severity.empty()) n.severity = it->second.n.severity;
  }
  const std::string json = ToJson(n);
  std::vector<Delivery> deliveries;
  for (const auto& name : receivers) {
    const ReceiverConfig* r = Find(name);
    if (!r) {
      if (warned_unknown_.insert(name).second) {
        Log(LogLevel::kWarn, "alert names a receiver that is not configured; not delivered there")
            .Kv("rule", n.rule)
            .Kv("receiver", name);
      }
      continue;
    }
    if (!n.firing && !r->send_resolved) continue;
    for (size_t dest = 0; dest < r->urls.size(); ++dest) {
      Delivery d;
      d.receiver = name;
      d.dest = static_cast<int>(dest);
      d.key = n.dedup_key;
      d.firing = n.firing;
      d.notification = json;
      deliveries.push_back(std::move(d));
    }
  }
  sqlite3* db = deps_.store->handle();
  const TimePoint now = deps_.clock->Now();
  auto write_state = [&]() -> Status {
    sqlite3_stmt* st = nullptr;
    const char* sql = n.firing
                          ? "INSERT INTO notified_alerts(key, notification, receivers, updated_ms) "
                            "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(key) DO UPDATE SET "
                            "notification=excluded.notification, receivers=excluded.receivers, "
                            "updated_ms=excluded.updated_ms"
                          : "DELETE FROM notified_alerts WHERE key = ?1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
      return Status::Error(std::string("notified_alerts: ") + sqlite3_errmsg(db));
    }
    std::string recv = Join(receivers);
    sqlite3_bind_text(st, 1, n.dedup_key.c_str(), -1, SQLITE_TRANSIENT);
    if (n.firing) {
      sqlite3_bind_text(st, 2, json.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(st, 3, recv.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(st, 4, Ms(now));
    }
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
      return Status::Error(std::string("notified_alerts: ") + sqlite3_errmsg(db));
    return Status::Ok();
  };
  if (Status s = outbox_->Enqueue(std::move(deliveries), write_state); !s.ok()) {
    // Not recorded as notified: the next Reconcile tries again.
    Log(LogLevel::kError, "cannot enqueue notification; will retry at the next evaluation")
        .Kv("rule", n.rule)
        .Kv("key", n.dedup_key)
        .Kv("error", s.message());
    return;
  }
  if (n.firing) {
    notified_[n.dedup_key] = {n, receivers};
  } else {
    notified_.erase(n.dedup_key);
  }
}

void Dispatcher::OnTransitions(const std::vector<rules::AlertTransition>& transitions,
                               const std::vector<rules::Rule>& rules) {
  for (const auto& t : transitions) {
    const rules::Rule* rule = nullptr;
    for (const auto& r : rules) {
      if (r.name == t.rule) rule = &r;
    }
    Notification n;
    n.rule = t.rule;
    n.labels = t.labels;
    n.value = t.value;
    n.severity = t.severity;
    n.annotations = t.annotations;
    if (rule) n.runbook = rule->runbook;
    if (t.to == rules::AlertState::kFiring) {
      n.firing = true;
      n.starts_at = t.at;
      Notify(std::move(n), Route(rule));
    } else if (t.from == rules::AlertState::kFiring) {
      n.firing = false;
      n.ends_at = t.at;
      Notify(std::move(n), {});
    }
  }
}

void Dispatcher::Reconcile(const std::vector<rules::AlertInstance>& active,
                           const std::vector<rules::Rule>& rules) {
  std::set<std::string> firing;
  for (const auto& a : active) {
    if (a.state != rules::AlertState::kFiring) continue;
    std::string key = DedupKey(a.rule, a.labels);
    firing.insert(key);
    if (notified_.count(key)) continue;
    const rules::Rule* rule = nullptr;
    for (const auto& r : rules) {
      if (r.name == a.rule) rule = &r;
    }
    if (!rule) continue;
    Notification n;
    n.rule = a.rule;
    n.labels = a.labels;
    n.value = a.value;
    n.severity = rule->severity;
    for (const auto& [k, tmpl] : rule->annotations)
      n.annotations[k] = rules::RenderTemplate(tmpl, a.labels, a.value);
    n.runbook = rule->runbook;
    n.firing = true;
    n.starts_at = a.fired_at;
    Notify(std::move(n), Route(rule));
  }
  std::vector<Notification> gone;
  for (const auto& [key, entry] : notified_) {
    if (!firing.count(key)) gone.push_back(entry.n);
  }
  const TimePoint now = deps_.clock->Now();
  for (auto& n : gone) {
    n.firing = false;
    n.ends_at = now;
    Notify(std::move(n), {});
  }
}

void Dispatcher::Resend(TimePoint now) {
  for (const auto& r : receivers_) {
    if (r.type != ReceiverType::kAlertmanager) continue;
    auto last = last_resend_.find(r.name);
    if (last != last_resend_.end() && now - last->second < r.resend_interval) continue;
    last_resend_[r.name] = now;
    std::vector<Notification> batch;
    for (const auto& [key, entry] : notified_) {
      if (std::find(entry.receivers.begin(), entry.receivers.end(), r.name) !=
          entry.receivers.end()) {
        batch.push_back(entry.n);
      }
    }
    if (batch.empty()) continue;
    for (size_t dest = 0; dest < r.urls.size(); ++dest) {
      std::string flight = r.name + '\x1f' + std::to_string(dest);
      // Never ahead of a queued transition (a resolve must not be overtaken by a refresh).
      if (resend_in_flight_.count(flight) || outbox_->HasPending(r.name, static_cast<int>(dest)))
        continue;
      resend_in_flight_.insert(flight);
      std::weak_ptr<bool> alive = alive_;
      std::string name = r.name;
      deps_.http->Fetch(BuildRequest(r, dest, batch, settings_, now),
                        [this, alive, flight, name](HttpResponse resp) {
                          if (auto a = alive.lock(); !a || !*a) return;
                          resend_in_flight_.erase(flight);
                          Verdict v = Classify(resp, deps_.clock->Now());
                          bool ok = v.kind == Verdict::kDelivered;
                          if (total_) total_->Inc({name, ok ? "resent" : "resend_failed"});
                          if (!ok) {
                            Log(LogLevel::kWarn, "alertmanager re-send failed")
                                .Kv("receiver", name)
                                .Kv("reason", v.reason);
                          }
                          outbox_->Pump();  // transitions held back by the gate
                        });
    }
  }
}

void Dispatcher::OnOutcome(const Delivery& d, Outcome o, const std::string& reason) {
  if (total_) total_->Inc({d.receiver, OutcomeName(o)});
  switch (o) {
    case Outcome::kDelivered:
      Log(LogLevel::kInfo, "notification delivered")
          .Kv("receiver", d.receiver)
          .Kv("key", d.key)
          .Kv("state", d.firing ? "firing" : "resolved");
      break;
    case Outcome::kRetry:
      Log(LogLevel::kWarn, "notification delivery failed; will retry")
          .Kv("receiver", d.receiver)
          .Kv("key", d.key)
          .Kv("attempts", d.attempts)
          .Kv("next_attempt", FormatRfc3339(d.next_attempt))
          .Kv("reason", reason);
      break;
    case Outcome::kDeadLetter:
      Log(LogLevel::kError, "notification dead-lettered")
          .Kv("receiver", d.receiver)
          .Kv("key", d.key)
          .Kv("state", d.firing ? "firing" : "resolved")
          .Kv("reason", reason);
      break;
  }
}

nlohmann::json Dispatcher::StatusJson() const {
  nlohmann::json by = nlohmann::json::object();
  for (const auto& [k, v] : outbox_->PendingByReceiver()) by[k] = v;
  int64_t dead = 0;
  for (const auto& [k, v] : outbox_->DeadLetterCounts()) dead += v;
  return {{"outbox_pending", outbox_->Pending()},
          {"pending_by_receiver", by},
          {"dead_letter_total", dead},
          {"notified_firing", notified_.size()}};
}

Result<nlohmann::json> Dispatcher::RetryDeadLetters(const std::string& receiver) {
  auto counts = outbox_->RetryDeadLetters(
      receiver, [this](const Delivery& d) { return !d.firing || notified_.count(d.key) > 0; });
  if (!counts.ok()) return counts.status();
  Log(LogLevel::kInfo, "dead letters sent again")
      .Kv("receiver", receiver.empty() ? "(all)" : receiver)
      .Kv("requeued", counts->requeued)
      .Kv("dropped_resolved_since", counts->dropped);
  return nlohmann::json{{"requeued", counts->requeued}, {"dropped", counts->dropped}};
}

nlohmann::json Dispatcher::DeadLettersJson(size_t limit) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& dl : outbox_->DeadLetters(limit)) {
    nlohmann::json j = {{"receiver", dl.delivery.receiver},
                        {"dedup_key", dl.delivery.key},
                        {"state", dl.delivery.firing ? "firing" : "resolved"},
                        {"attempts", dl.delivery.attempts},
                        {"created", FormatRfc3339(dl.delivery.created)},
                        {"dead_at", FormatRfc3339(dl.dead_at)},
                        {"reason", dl.reason}};
    if (auto n = NotificationFromJson(dl.delivery.notification); n.ok()) {
      j["rule"] = n->rule;
      j["labels"] = n->labels;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace calprobe::core::notify
