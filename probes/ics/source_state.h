#pragma once
// Per-source state of the ICS probe, kept in the agent's Store so a restart
// neither forgets validators and snapshots nor resets the backoff ladder:
//   ns "ics.source"   key src_id -> JSON SourceState
//   ns "ics.snapshot" key src_id -> calendar::SerializeSnapshot bytes
// Without a Store (tests, validate-config) the state lives in memory.
// Not thread-safe: used from the agent's thread only.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/ics/ics.h"
#include "core/store.h"

namespace calprobe::probes::ics {

inline constexpr std::string_view kStateNamespace = "ics.source";
inline constexpr std::string_view kSnapshotNamespace = "ics.snapshot";

struct SourceState {
  std::string etag;  // validators of the stored snapshot's response
  std::string last_modified;
  int tier = 0;                  // 0 healthy; k >= 1 after k consecutive errors (capped)
  int64_t backoff_until_ms = 0;  // unix ms; no network before this
  std::string last_error;        // code of the last failed poll
  int64_t event_count = -1;      // events in the stored snapshot; -1 = none stored
  uint64_t pending_hash = 0;     // mass-deletion candidate awaiting confirmation
  int pending_count = 0;
  int64_t last_success_ms = 0;
  int credential_failures = 0;  // consecutive credential statuses (transient errors don't reset)

  bool operator==(const SourceState&) const = default;
};

std::string EncodeState(const SourceState& s);
// nullopt when `text` is not a state written by EncodeState.
std::optional<SourceState> DecodeState(std::string_view text);

class SourceStore {
 public:
  explicit SourceStore(core::Store* store) : store_(store) {}
  // A missing or unreadable entry gives the default state.
  SourceState LoadState(const std::string& src_id);
  core::Status SaveState(const std::string& src_id, const SourceState& s);
  std::optional<calendar::Snapshot> LoadSnapshot(const std::string& src_id);
  core::Status SaveSnapshot(const std::string& src_id, const calendar::Snapshot& s);

 private:
  core::Store* store_;
  std::map<std::string, std::string> memory_states_, memory_snapshots_;
};

// The wait after an error that put the source on `tier` (>= 1): the tier's
// rung, or Retry-After when longer, capped at the top rung so honouring a
// server's Retry-After can never make the source stale.
std::chrono::milliseconds BackoffFor(int tier, const std::vector<std::chrono::milliseconds>& ladder,
                                     std::optional<std::chrono::seconds> retry_after);

}  // namespace calprobe::probes::ics
