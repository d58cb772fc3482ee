#include "core/notify/outbox.h"

#include <sqlite3.h>

#include <algorithm>

#include "core/log.h"
#include "core/notify/notifier.h"
#include "core/secrets.h"

namespace calprobe::core::notify {
namespace {

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint FromMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

struct Stmt {
  Stmt(sqlite3* db, const char* sql) { rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Stmt() { sqlite3_finalize(s); }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
  std::string Col(int i) {
    const unsigned char* p = sqlite3_column_text(s, i);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  sqlite3_stmt* s = nullptr;
  int rc;
};

Status Err(Store& store, const std::string& what) {
  return Status::Error("outbox: " + what + ": " + sqlite3_errmsg(store.handle()));
}

std::string QueueKey(const Delivery& d) {
  return d.receiver + '\x1f' + std::to_string(d.dest) + '\x1f' + d.key;
}

Delivery RowToDelivery(Stmt& st) {
  Delivery d;
  d.id = sqlite3_column_int64(st.s, 0);
  d.receiver = st.Col(1);
  d.dest = sqlite3_column_int(st.s, 2);
  d.key = st.Col(3);
  d.firing = st.Col(4) == "firing";
  d.notification = st.Col(5);
  d.created = FromMs(sqlite3_column_int64(st.s, 6));
  d.attempts = sqlite3_column_int(st.s, 7);
  d.next_attempt = FromMs(sqlite3_column_int64(st.s, 8));
  d.last_error = st.Col(9);
  return d;
}

constexpr const char* kColumns =
    "id, receiver, dest, key, state, notification, created_ms, attempts, next_attempt_ms, "
    "last_error";

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kDelivered:
      return "delivered";
    case Outcome::kRetry:
      return "retry";
    case Outcome::kDeadLetter:
      return "dead_letter";
  }
  return "?";
}

Outbox::Outbox(Store& store, HttpClient& http, const Clock& clock, OutboxOptions options,
               Builder build)
    : store_(store),
      http_(http),
      clock_(clock),
      options_(options),
      build_(std::move(build)),
      rng_(options.seed ? options.seed : std::random_device{}()) {}

Outbox::~Outbox() { *alive_ = false; }

Result<std::unique_ptr<Outbox>> Outbox::Open(Store& store, HttpClient& http, const Clock& clock,
                                             OutboxOptions options, Builder build) {
  std::unique_ptr<Outbox> o(new Outbox(store, http, clock, options, std::move(build)));
  if (Status s = o->Load(); !s.ok()) return s;
  return o;
}

void Outbox::SetOptions(const OutboxOptions& o) {
  uint64_t keep_seed = options_.seed;
  options_ = o;
  options_.seed = keep_seed;
}

Status Outbox::Load() {
  std::string sql =
      std::string("SELECT ") + kColumns + " FROM outbox WHERE dead_at_ms IS NULL ORDER BY id";
  Stmt st(store_.handle(), sql.c_str());
  if (st.rc != SQLITE_OK) return Err(store_, "prepare load");
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    Delivery d = RowToDelivery(st);
    queues_[QueueKey(d)].push_back(std::move(d));
  }
  Stmt dead(store_.handle(),
            "SELECT receiver, COUNT(*) FROM outbox WHERE dead_at_ms IS NOT NULL GROUP BY receiver");
  if (dead.rc != SQLITE_OK) return Err(store_, "prepare load");
  while (sqlite3_step(dead.s) == SQLITE_ROW)
    dead_counts_[dead.Col(0)] = sqlite3_column_int64(dead.s, 1);
  return Status::Ok();
}

void Outbox::Persist(const char* what, Status s) {
  if (!s.ok())
    Log(LogLevel::kError, "notification outbox write failed")
        .Kv("op", what)
        .Kv("error", s.message());
}

Status Outbox::Enqueue(std::vector<Delivery> deliveries, const std::function<Status()>& also) {
  if (deliveries.empty() && !also) return Status::Ok();
  const TimePoint now = clock_.Now();
  int64_t room = options_.max_pending - static_cast<int64_t>(Pending());
  if (Status s = store_.Exec("BEGIN"); !s.ok()) return s;
  auto fail = [&](Status e) {
    (void)store_.Exec("ROLLBACK");
    return e;
  };
  Stmt ins(
      store_.handle(),
      "INSERT INTO outbox(receiver, dest, key, state, notification, created_ms, attempts, "
      "next_attempt_ms, last_error, dead_at_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, ?6, ?7, ?8)");
  if (ins.rc != SQLITE_OK) return fail(Err(store_, "prepare insert"));
  std::vector<bool> dead(deliveries.size(), false);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    Delivery& d = deliveries[i];
    d.created = now;
    d.next_attempt = now;
    d.attempts = 0;
    dead[i] = room-- <= 0;
    d.last_error = dead[i] ? "outbox full (notifications.max_pending reached)" : "";
    ins.Text(1, d.receiver);
    ins.Int(2, d.dest);
    ins.Text(3, d.key);
    ins.Text(4, d.firing ? "firing" : "resolved");
    ins.Text(5, d.notification);
    ins.Int(6, Ms(now));
    ins.Text(7, d.last_error);
    if (dead[i]) {
      ins.Int(8, Ms(now));
    } else {
      sqlite3_bind_null(ins.s, 8);
    }
    if (sqlite3_step(ins.s) != SQLITE_DONE) return fail(Err(store_, "insert"));
    d.id = sqlite3_last_insert_rowid(store_.handle());
    sqlite3_reset(ins.s);
    sqlite3_clear_bindings(ins.s);
  }
  if (also) {
    if (Status s = also(); !s.ok()) return fail(s);
  }
  if (Status s = store_.Exec("COMMIT"); !s.ok()) return fail(s);
  for (size_t i = 0; i < deliveries.size(); ++i) {
    if (dead[i]) {
      ++dead_counts_[deliveries[i].receiver];
      if (observer_) observer_(deliveries[i], Outcome::kDeadLetter, deliveries[i].last_error);
      continue;
    }
    std::string q = QueueKey(deliveries[i]);
    queues_[q].push_back(std::move(deliveries[i]));
  }
  Pump();
  return Status::Ok();
}

void Outbox::Pump() {
  if (paused_) return;
  const TimePoint now = clock_.Now();
  std::vector<std::string> due;
  for (const auto& [q, list] : queues_) {
    if (list.empty() || in_flight_.count(q)) continue;
    if (list.front().next_attempt <= now) due.push_back(q);
  }
  // Oldest first when more are due than may be in flight.
  std::sort(due.begin(), due.end(), [&](const std::string& a, const std::string& b) {
    return queues_[a].front().id < queues_[b].front().id;
  });
  for (const auto& q : due) {
    if (in_flight_.size() >= options_.max_in_flight) break;
    // Answers may come synchronously and pump recursively: check again.
    auto it = queues_.find(q);
    if (it == queues_.end() || it->second.empty() || in_flight_.count(q)) continue;
    if (it->second.front().next_attempt > clock_.Now()) continue;
    if (gate_ && !gate_(it->second.front().receiver, it->second.front().dest)) continue;
    Start(q);
  }
}

void Outbox::Start(const std::string& q) {
  Delivery& d = queues_[q].front();
  const TimePoint now = clock_.Now();
  if (d.attempts > 0 && now - d.created >= options_.give_up_after) {
    Kill(q,
         "gave up after " + std::to_string(d.attempts) + " attempts (last: " + d.last_error + ")");
    return;
  }
  auto req = build_(d, now);
  if (!req.ok()) {
    Kill(q, req.error());
    return;
  }
  in_flight_.insert(q);
  int64_t id = d.id;
  std::weak_ptr<bool> alive = alive_;
  http_.Fetch(std::move(req.value()), [this, alive, q, id](HttpResponse r) {
    if (auto a = alive.lock(); !a || !*a) return;  // the outbox is gone (shutdown)
    Finished(q, id, r);
  });
}

Duration Outbox::Backoff(int attempts) {
  Duration d = options_.initial_backoff;
  for (int i = 1; i < attempts && d < options_.max_backoff; ++i) d *= 2;
  d = std::min(d, options_.max_backoff);
  std::uniform_real_distribution<double> jitter(0.5, 1.0);
  return std::chrono::duration_cast<Duration>(d * jitter(rng_));
}

void Outbox::Finished(const std::string& q, int64_t id, const HttpResponse& response) {
  in_flight_.erase(q);
  auto it = queues_.find(q);
  if (it == queues_.end() || it->second.empty() || it->second.front().id != id) return;
  Delivery& d = it->second.front();
  const TimePoint now = clock_.Now();
  Verdict v = Classify(response, now);
  v.reason = Secrets::Redact(v.reason);
  if (v.kind == Verdict::kDelivered) {
    Stmt del(store_.handle(), "DELETE FROM outbox WHERE id = ?1");
    del.Int(1, id);
    Persist("delete", del.rc == SQLITE_OK && sqlite3_step(del.s) == SQLITE_DONE
                          ? Status::Ok()
                          : Err(store_, "delete"));
    Delivery done = std::move(d);
    it->second.pop_front();
    if (it->second.empty()) queues_.erase(it);
    if (observer_) observer_(done, Outcome::kDelivered, v.reason);
  } else if (v.kind == Verdict::kPermanent) {
    Kill(q, v.reason);
  } else {
    d.attempts += 1;
    d.last_error = v.reason;
    if (now - d.created >= options_.give_up_after) {
      Kill(q, "gave up after " + std::to_string(d.attempts) + " attempts (last: " + v.reason + ")");
      Pump();
      return;
    }
    Duration wait = v.retry_after ? std::min<Duration>(*v.retry_after, options_.max_retry_after)
                                  : Backoff(d.attempts);
    d.next_attempt = now + wait;
    Stmt up(store_.handle(),
            "UPDATE outbox SET attempts = ?2, next_attempt_ms = ?3, last_error = ?4 WHERE id = ?1");
    up.Int(1, id);
    up.Int(2, d.attempts);
    up.Int(3, Ms(d.next_attempt));
    up.Text(4, d.last_error);
    Persist("update", up.rc == SQLITE_OK && sqlite3_step(up.s) == SQLITE_DONE
                          ? Status::Ok()
                          : Err(store_, "update"));
    if (observer_) observer_(d, Outcome::kRetry, v.reason);
  }
  Pump();
}

void Outbox::Kill(const std::string& q, const std::string& reason) {
  auto it = queues_.find(q);
  if (it == queues_.end() || it->second.empty()) return;
  Delivery d = std::move(it->second.front());
  it->second.pop_front();
  if (it->second.empty()) queues_.erase(it);
  d.last_error = Secrets::Redact(reason);
  const TimePoint now = clock_.Now();
  Stmt up(store_.handle(),
          "UPDATE outbox SET dead_at_ms = ?2, last_error = ?3, attempts = ?4 WHERE id = ?1");
  up.Int(1, d.id);
  up.Int(2, Ms(now));
  up.Text(3, d.last_error);
  up.Int(4, d.attempts);
  Persist("dead-letter", up.rc == SQLITE_OK && sqlite3_step(up.s) == SQLITE_DONE
                             ? Status::Ok()
                             : Err(store_, "dead-letter"));
  ++dead_counts_[d.receiver];
  // Keep the newest keep_dead dead letters.
  Stmt prune(store_.handle(),
             "DELETE FROM outbox WHERE dead_at_ms IS NOT NULL AND id NOT IN (SELECT id FROM outbox "
             "WHERE dead_at_ms IS NOT NULL ORDER BY id DESC LIMIT ?1)");
  prune.Int(1, options_.keep_dead);
  if (prune.rc == SQLITE_OK && sqlite3_step(prune.s) == SQLITE_DONE &&
      sqlite3_changes(store_.handle()) > 0) {
    RecountDead();
  }
  if (observer_) observer_(d, Outcome::kDeadLetter, d.last_error);
}

void Outbox::RecountDead() {
  dead_counts_.clear();
  Stmt c(store_.handle(),
         "SELECT receiver, COUNT(*) FROM outbox WHERE dead_at_ms IS NOT NULL GROUP BY receiver");
  while (c.rc == SQLITE_OK && sqlite3_step(c.s) == SQLITE_ROW)
    dead_counts_[c.Col(0)] = sqlite3_column_int64(c.s, 1);
}

Result<Outbox::RetryCounts> Outbox::RetryDeadLetters(
    const std::string& receiver, const std::function<bool(const Delivery&)>& worth_sending) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM outbox WHERE dead_at_ms IS NOT NULL AND (?1 = '' OR receiver = ?1) "
                    "ORDER BY id";
  Stmt st(store_.handle(), sql.c_str());
  if (st.rc != SQLITE_OK) return Err(store_, "prepare dead-letter read");
  st.Text(1, receiver);
  std::vector<int64_t> dead_ids;
  std::vector<Delivery> again;
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    Delivery d = RowToDelivery(st);
    dead_ids.push_back(d.id);
    if (!worth_sending || worth_sending(d)) again.push_back(std::move(d));
  }
  RetryCounts counts{again.size(), dead_ids.size() - again.size()};
  if (dead_ids.empty()) return counts;
  Status s = Enqueue(std::move(again), [&]() -> Status {
    Stmt del(store_.handle(), "DELETE FROM outbox WHERE id = ?1");
    if (del.rc != SQLITE_OK) return Err(store_, "prepare dead-letter delete");
    for (int64_t id : dead_ids) {
      del.Int(1, id);
      if (sqlite3_step(del.s) != SQLITE_DONE) return Err(store_, "dead-letter delete");
      sqlite3_reset(del.s);
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  RecountDead();
  return counts;
}

size_t Outbox::Pending() const {
  size_t n = 0;
  for (const auto& [q, list] : queues_) n += list.size();
  return n;
}

std::map<std::string, size_t> Outbox::PendingByReceiver() const {
  std::map<std::string, size_t> out;
  for (const auto& [q, list] : queues_) {
    if (!list.empty()) out[list.front().receiver] += list.size();
  }
  return out;
}

bool Outbox::HasPending(const std::string& receiver, int dest) const {
  std::string prefix = receiver + '\x1f' + std::to_string(dest) + '\x1f';
  for (auto it = queues_.lower_bound(prefix);
       it != queues_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    if (!it->second.empty()) return true;
  }
  return false;
}

Duration Outbox::OldestPendingAge() const {
  TimePoint oldest = TimePoint::max();
  for (const auto& [q, list] : queues_) {
    if (!list.empty()) oldest = std::min(oldest, list.front().created);
  }
  if (oldest == TimePoint::max()) return Duration::zero();
  return std::max(Duration::zero(), clock_.Now() - oldest);
}

std::vector<DeadLetter> Outbox::DeadLetters(size_t limit) const {
  std::string sql =
      std::string("SELECT ") + kColumns +
      ", dead_at_ms FROM outbox WHERE dead_at_ms IS NOT NULL ORDER BY id DESC LIMIT ?1";
  Stmt st(store_.handle(), sql.c_str());
  std::vector<DeadLetter> out;
  if (st.rc != SQLITE_OK) return out;
  st.Int(1, static_cast<int64_t>(limit));
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    DeadLetter dl;
    dl.delivery = RowToDelivery(st);
    dl.dead_at = FromMs(sqlite3_column_int64(st.s, 10));
    dl.reason = dl.delivery.last_error;
    out.push_back(std::move(dl));
  }
  return out;
}

}  // namespace calprobe::core::notify
