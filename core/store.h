#pragma once
// Durable state in SQLite (WAL mode): last result per target, per-source
// state for probes (ETag/Last-Modified, feed snapshots), and — for later
// modules — alert states and the notification outbox. The schema is
// versioned (PRAGMA user_version) and migrated forward at Open().
// Not thread-safe: one Store per thread (the agent uses it from its
// io_context thread only).

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace calprobe::core {

class Store {
 public:
  // Opens (creating if needed) and migrates the database at `path`.
  // ":memory:" gives a private in-memory store.
  static Result<std::unique_ptr<Store>> Open(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version() const;
  static int LatestSchemaVersion();

  // Last result per target (JSON text), written in one transaction.
  Status PutTargetResults(const std::vector<std::pair<std::string, std::string>>& results);
  Result<std::map<std::string, std::string>> LoadTargetResults();

  // Generic per-namespace key/value state for probes (e.g. namespace
  // "ics.validators", key = source id). Values are opaque bytes.
  Status Put(std::string_view ns, std::string_view key, std::string_view value);
  Result<std::optional<std::string>> Get(std::string_view ns, std::string_view key);
  Status Delete(std::string_view ns, std::string_view key);
  // Every key of namespace `ns`, sorted.
  Result<std::vector<std::string>> Keys(std::string_view ns);

  // Runs `sql` (for modules that own their own tables via migrations).
  Status Exec(const std::string& sql);
  sqlite3* handle() { return db_; }

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  Status Migrate();
  sqlite3* db_;
};

}  // namespace calprobe::core
