#pragma once
// The ICS probe's judgement of one poll, kept apart from I/O so it can be
// tested without a network or a store: given the response, the previous
// snapshot and the source's state, decide success or the failure code,
// compute the delta, and advance the state (validators, retry tier, backoff,
// mass-deletion confirmation). Pure apart from `state`; thread-compatible.
//
// Rules (docs: ops/runbooks/calendar-ics-errors.md):
//  * 304 -> success, etag_matched, delta 0.
//  * 2xx -> AnalyzeIcs; unusable body -> failure with the body's code, the
//    previous snapshot and validators stay.
//  * removal share > threshold (previous >= min events) -> failure
//    `sync.mass_deletion`; the previous snapshot stays the baseline until
//    the same content has been seen `mass_deletion_confirmations` polls in a
//    row, then it is accepted. Mass deletion does not climb the ladder.
//  * any other failure climbs one tier (capped at the top) and waits
//    BackoffFor(tier, …); success returns to tier 0.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "calendar/ics/ics.h"
#include "core/clock.h"
#include "core/http/http_client.h"
#include "probes/ics/options.h"
#include "probes/ics/source_state.h"

namespace calprobe::probes::ics {

struct PollVerdict {
  bool success = false;
  std::string error_code;  // empty on success
  std::string message;     // one line for people
  bool etag_matched = false;
  calendar::Delta delta;
  bool first_poll = false;              // there was no previous snapshot
  bool mass_deletion_accepted = false;  // a confirmed mass deletion became the baseline
  int64_t previous_event_count = -1;    // -1: unknown / none
  int64_t event_count = -1;             // events in this body; -1: no body read
  // Set when the stored snapshot must be replaced by this one.
  std::optional<calendar::Snapshot> new_snapshot;
  std::vector<calendar::Finding> findings;  // content findings plus http.content_type
  std::unordered_map<std::string, int> finding_counts;
  std::optional<int64_t> refresh_interval_seconds;
  std::chrono::milliseconds backoff{0};  // wait before the next network attempt
};

// Judges `r` and updates `*state`. `load_previous` is called at most once,
// only for a 2xx response, and returns the stored snapshot (if any).
PollVerdict JudgePoll(const Options& o, const core::HttpResponse& r,
                      const std::function<std::optional<calendar::Snapshot>()>& load_previous,
                      core::TimePoint now, SourceState* state);

// An order-independent fingerprint of a snapshot's content.
uint64_t SnapshotFingerprint(const calendar::Snapshot& s);

}  // namespace calprobe::probes::ics
