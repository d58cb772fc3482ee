#include "core/store.h"

#include <sqlite3.h>

namespace calprobe::core {
namespace {

// Append-only: never edit a shipped migration, add a new one.
const char* const kMigrations[] = {
    // 1: last result per target; generic probe state.
    "CREATE TABLE target_results (target TEXT PRIMARY KEY, result TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "CREATE TABLE kv (ns TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
    " updated_at INTEGER NOT NULL, PRIMARY KEY (ns, key));",
    // 2: pending/firing alerts per rule and group labels (core/rules/alert_store.h).
    "CREATE TABLE alert_states (rule TEXT NOT NULL, labels TEXT NOT NULL, state TEXT NOT NULL,"
    " active_since_ms INTEGER NOT NULL, fired_at_ms INTEGER NOT NULL,"
    " last_true_ms INTEGER NOT NULL, value REAL, PRIMARY KEY (rule, labels));",
    // 3: notification outbox (core/notify/outbox.h): pending deliveries
    // (dead_at_ms NULL) and dead letters; notified firing alerts per dedup key
    // (core/notify/dispatcher.h).
    "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, receiver TEXT NOT NULL,"
    " dest INTEGER NOT NULL, key TEXT NOT NULL, state TEXT NOT NULL, notification TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, attempts INTEGER NOT NULL, next_attempt_ms INTEGER NOT NULL,"
    " last_error TEXT NOT NULL, dead_at_ms INTEGER);"
    "CREATE INDEX outbox_dead ON outbox(dead_at_ms);"
    "CREATE TABLE notified_alerts (key TEXT PRIMARY KEY, notification TEXT NOT NULL,"
    " receivers TEXT NOT NULL, updated_ms INTEGER NOT NULL);",
};

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return s_; }
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

Status Err(sqlite3* db, const std::string& what) {
  return Status::Error(what + ": " + sqlite3_errmsg(db));
}

}  // namespace

int Store::LatestSchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<Store>> Store::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::Error("cannot open store " + path + ": " + msg +
                         " (check agent.store and that its folder exists and is writable)");
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  if (Status s = store->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s.ok()) {
    return Status::Error("store " + path + ": " + s.message());
  }
  if (Status s = store->Migrate(); !s.ok()) return Status::Error("store " + path + ": " + s.message());
  return store;
}

Store::~Store() { sqlite3_close(db_); }

Status Store::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Error(msg);
  }
  return Status::Ok();
}

int Store::schema_version() const {
  Stmt s(db_, "PRAGMA user_version");
  if (!s.ok() || sqlite3_step(s.get()) != SQLITE_ROW) return -1;
  return sqlite3_column_int(s.get(), 0);
}

Status Store::Migrate() {
  int v = schema_version();
  if (v > LatestSchemaVersion()) {
    return Status::Error("database schema version " + std::to_string(v) +
                         " is newer than this calprobe (" + std::to_string(LatestSchemaVersion()) +
                         "); upgrade calprobe or point agent.store elsewhere");
  }
  for (int i = v; i < LatestSchemaVersion(); ++i) {
    std::string sql = std::string("BEGIN;") + kMigrations[i] +
                      "PRAGMA user_version=" + std::to_string(i + 1) + ";COMMIT;";
    if (Status s = Exec(sql); !s.ok()) {
      (void)Exec("ROLLBACK;");
      return Status::Error("migration " + std::to_string(i + 1) + " failed: " + s.message());
    }
  }
  return Status::Ok();
}

Status Store::PutTargetResults(const std::vector<std::pair<std::string, std::string>>& results) {
  if (results.empty()) return Status::Ok();
  if (Status s = Exec("BEGIN"); !s.ok()) return s;
  Stmt st(db_,
          "INSERT INTO target_results(target, result, updated_at) VALUES(?1, ?2, "
          "strftime('%s','now')) ON CONFLICT(target) DO UPDATE SET result=excluded.result, "
          "updated_at=excluded.updated_at");
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return Err(db_, "prepare");
  }
  for (const auto& [k, v] : results) {
    st.Bind(1, k);
    st.Bind(2, v);
    if (sqlite3_step(st.get()) != SQLITE_DONE) {
      Status e = Err(db_, "write target result");
      (void)Exec("ROLLBACK");
      return e;
    }
    sqlite3_reset(st.get());
  }
  return Exec("COMMIT");
}

Result<std::map<std::string, std::string>> Store::LoadTargetResults() {
  Stmt st(db_, "SELECT target, result FROM target_results");
  if (!st.ok()) return Err(db_, "prepare");
  std::map<std::string, std::string> out;
  while (sqlite3_step(st.get()) == SQLITE_ROW) {
    out.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)),
                reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 1)));
  }
  return out;
}

Status Store::Put(std::string_view ns, std::string_view key, std::string_view value) {
  Stmt st(db_,
          "INSERT INTO kv(ns, key, value, updated_at) VALUES(?1, ?2, ?3, strftime('%s','now')) "
          "ON CONFLICT(ns, key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at");
  if (!st.ok()) return Err(db_, "prepare");
  st.Bind(1, ns);
  st.Bind(2, key);
  st.BindBlob(3, value);
  if (sqlite3_step(st.get()) != SQLITE_DONE) return Err(db_, "write state");
  return Status::Ok();
}

Result<std::optional<std::string>> Store::Get(std::string_view ns, std::string_view key) {
  Stmt st(db_, "SELECT value FROM kv WHERE ns=?1 AND key=?2");
  if (!st.ok()) return Err(db_, "prepare");
  st.Bind(1, ns);
  st.Bind(2, key);
  int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Err(db_, "read state");
  const void* p = sqlite3_column_blob(st.get(), 0);
  int n = sqlite3_column_bytes(st.get(), 0);
  return std::optional<std::string>(std::string(static_cast<const char*>(p), n));
}

Result<std::vector<std::string>> Store::Keys(std::string_view ns) {
  Stmt st(db_, "SELECT key FROM kv WHERE ns=?1 ORDER BY key");
  if (!st.ok()) return Err(db_, "prepare");
  st.Bind(1, ns);
  std::vector<std::string> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    const unsigned char* p = sqlite3_column_text(st.get(), 0);
    out.emplace_back(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st.get(), 0));
  }
  if (rc != SQLITE_DONE) return Err(db_, "list keys");
  return out;
}

Status Store::Delete(std::string_view ns, std::string_view key) {
  Stmt st(db_, "DELETE FROM kv WHERE ns=?1 AND key=?2");
  if (!st.ok()) return Err(db_, "prepare");
  st.Bind(1, ns);
  st.Bind(2, key);
  if (sqlite3_step(st.get()) != SQLITE_DONE) return Err(db_, "delete state");
  return Status::Ok();
}

}  // namespace calprobe::core
