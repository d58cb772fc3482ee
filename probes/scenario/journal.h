#pragma once
// The cleanup journal: while a journey runs, the cleanup requests it would
// need right now (rendered with the variables captured so far) are kept in
// the store (namespace "scenario.cleanups", one key holding every pending
// journey by target). A journey that finishes removes its entry; one whose
// process was killed leaves it, and the next process replays it before its
// first journey runs. So a synthetic hold never outlives a SIGKILL.
// Not thread-safe: the agent's (or `check`'s) io_context thread only.

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/http/http_client.h"
#include "core/status.h"

namespace calprobe::core {
class Store;
class HttpClient;
}  // namespace calprobe::core

namespace calprobe::probes::scenario {

inline constexpr std::string_view kJournalNamespace = "scenario.cleanups";

struct PendingRequest {
  std::string step;
  core::HttpRequest request;
};

class CleanupJournal {
 public:
  explicit CleanupJournal(core::Store* store) : store_(store) {}
  // Replaces `key`'s pending requests (an empty list removes the entry).
  core::Status Record(const std::string& key, const std::string& scenario,
                      const std::vector<PendingRequest>& requests);
  core::Status Remove(const std::string& key);
  // Every pending entry: {key: {"scenario", "recorded_at", "attempts", "requests": […]}}.
  core::Result<nlohmann::json> Pending();
  core::Status Save(const nlohmann::json& pending);

 private:
  core::Store* store_;
};

// Replays every pending entry (each request once; 2xx, 404 and 410 count as
// done) and removes entries that are done, or that failed 5 times. Calls
// `done(requests_sent)` on the client's thread.
void ReplayJournal(core::Store* store, core::HttpClient& http, std::function<void(int)> done);

// Runs `then` once the journal of `store` has been replayed in this
// process, starting the replay if nobody has yet. The agent calls it at
// start (so a killed predecessor's holds go at once); every journey waits
// for it, so a replay never races a journey's own journal entry. Calls for
// one store must come from one thread (the agent's or `check`'s).
void AfterJournalReplay(core::Store* store, core::HttpClient& http, std::function<void()> then);

}  // namespace calprobe::probes::scenario
