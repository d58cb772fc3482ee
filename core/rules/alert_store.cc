#include "core/rules/alert_store.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

namespace calprobe::core::rules {
namespace {

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
TimePoint FromMs(int64_t ms) { return TimePoint(std::chrono::milliseconds(ms)); }

AlertState StateFromName(std::string_view s) {
  if (s == "pending") return AlertState::kPending;
  if (s == "firing") return AlertState::kFiring;
  if (s == "resolved") return AlertState::kResolved;
  return AlertState::kInactive;
}

struct Stmt {
  Stmt(sqlite3* db, const char* sql) { rc = sqlite3_prepare_v2(db, sql, -1, &s, nullptr); }
  ~Stmt() { sqlite3_finalize(s); }
  sqlite3_stmt* s = nullptr;
  int rc;
};

Status Err(Store& store, const std::string& what) {
  return Status::Error("alert states: " + what + ": " + sqlite3_errmsg(store.handle()));
}

}  // namespace

Result<std::vector<AlertInstance>> LoadAlertStates(Store& store) {
  Stmt st(store.handle(),
          "SELECT rule, labels, state, active_since_ms, fired_at_ms, last_true_ms, value "
          "FROM alert_states ORDER BY rule, labels");
  if (st.rc != SQLITE_OK) return Err(store, "prepare");
  std::vector<AlertInstance> out;
  while (sqlite3_step(st.s) == SQLITE_ROW) {
    AlertInstance a;
    a.rule = reinterpret_cast<const char*>(sqlite3_column_text(st.s, 0));
    auto j = nlohmann::json::parse(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 1)),
                                   nullptr, false);
    if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.value().is_string()) a.labels[it.key()] = it.value().get<std::string>();
      }
    }
    a.state = StateFromName(reinterpret_cast<const char*>(sqlite3_column_text(st.s, 2)));
    a.active_since = FromMs(sqlite3_column_int64(st.s, 3));
    a.fired_at = FromMs(sqlite3_column_int64(st.s, 4));
    a.last_true = FromMs(sqlite3_column_int64(st.s, 5));
    a.value = sqlite3_column_double(st.s, 6);
    out.push_back(std::move(a));
  }
  return out;
}

Status SaveAlertStates(Store& store, const std::vector<AlertInstance>& changed,
                       const std::vector<std::string>& keys) {
  if (changed.empty()) return Status::Ok();
  if (Status s = store.Exec("BEGIN"); !s.ok()) return s;
  Stmt up(store.handle(),
          "INSERT INTO alert_states(rule, labels, state, active_since_ms, fired_at_ms, "
          "last_true_ms, value) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(rule, labels) DO "
          "UPDATE SET state=excluded.state, active_since_ms=excluded.active_since_ms, "
          "fired_at_ms=excluded.fired_at_ms, last_true_ms=excluded.last_true_ms, "
          "value=excluded.value");
  Stmt del(store.handle(), "DELETE FROM alert_states WHERE rule = ?1 AND labels = ?2");
  if (up.rc != SQLITE_OK || del.rc != SQLITE_OK) {
    Status e = Err(store, "prepare");
    (void)store.Exec("ROLLBACK");
    return e;
  }
  for (size_t i = 0; i < changed.size(); ++i) {
    const AlertInstance& a = changed[i];
    const bool live = a.state == AlertState::kPending || a.state == AlertState::kFiring;
    sqlite3_stmt* s = live ? up.s : del.s;
    sqlite3_bind_text(s, 1, a.rule.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, keys[i].c_str(), -1, SQLITE_TRANSIENT);
    if (live) {
      sqlite3_bind_text(s, 3, StateName(a.state), -1, SQLITE_STATIC);
      sqlite3_bind_int64(s, 4, Ms(a.active_since));
      sqlite3_bind_int64(s, 5, Ms(a.fired_at));
      sqlite3_bind_int64(s, 6, Ms(a.last_true));
      sqlite3_bind_double(s, 7, a.value);
    }
    if (sqlite3_step(s) != SQLITE_DONE) {
      Status e = Err(store, "write");
      (void)store.Exec("ROLLBACK");
      return e;
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
  return store.Exec("COMMIT");
}

}  // namespace calprobe::core::rules
