#pragma once
// ICS (RFC 5545) reading for calprobe: a single-pass content-line scanner,
// a linter that reports findings with line numbers, and snapshots keyed by
// (UID, RECURRENCE-ID) for computing deltas between polls.
//
// Contract for consumers (probes/ics, `calprobe diagnose`, the sandbox):
// every feed is hostile. Analyze never throws, never reads past `body`,
// bounds its own work by the limits in AnalyzeOptions, and is thread-safe
// (no shared mutable state; libical is used only through re-entrant calls).
// This header is owned by the calendar/ics module; extend, don't break.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace calprobe::calendar {

enum class Severity { kError, kWarning, kInfo };
std::string_view SeverityName(Severity s);  // "error", "warning", "info"

struct Finding {
  std::string code;      // stable code from docs/diagnosis-codes.md, e.g. "tz.windows_tzid"
  Severity severity;
  int line = 0;          // 1-based physical line where the problem starts; 0 = whole feed
  std::string message;   // what is wrong (may quote the offending value, shortened)
  std::string fix;       // how the provider fixes it
};

struct AnalyzeOptions {
  size_t max_components = 50000;        // content.too_many_components beyond this
  int max_nesting = 8;                   // content.excessive_nesting beyond this
  size_t max_property_bytes = 256 * 1024;  // property.oversized beyond this (unfolded)
  size_t max_findings_per_code = 20;     // keep reports readable; counts still exact
  int64_t now_unix = 0;                  // for sync.stale_content; 0 = skip time-based checks
  // sync.stale_content when no event changed (LAST-MODIFIED / CREATED, else
  // DTSTAMP) for this long and no event or series occurs after now - 1 day.
  int64_t stale_after_seconds = 180 * 86400;
};

// Identity of one VEVENT instance in a feed: UID plus RECURRENCE-ID (empty
// for masters and single events).
struct EventKey {
  std::string uid;
  std::string recurrence_id;
  bool operator==(const EventKey&) const = default;
};
struct EventKeyHash {
  size_t operator()(const EventKey& k) const;
};

// Content hashes of the feed's events. The hash ignores DTSTAMP (which many
// servers bump on every request) and is insensitive to line folding.
struct Snapshot {
  std::unordered_map<EventKey, uint64_t, EventKeyHash> events;
};

struct Delta {
  int added = 0;
  int removed = 0;
  int changed = 0;
  int total() const { return added + removed + changed; }
};

struct Analysis {
  std::vector<Finding> findings;          // sorted by line, then code
  std::unordered_map<std::string, int> finding_counts;  // code -> exact count
  Snapshot snapshot;
  size_t event_count = 0;                 // VEVENTs seen
  size_t component_count = 0;
  // False when the body is not a usable calendar (not ICS, truncated,
  // structure broken): callers must keep their previous snapshot.
  bool usable = false;
  std::optional<int64_t> refresh_interval_seconds;  // REFRESH-INTERVAL / X-PUBLISHED-TTL
  bool has_error() const;                 // any finding with Severity::kError
};

// Scans, lints and hashes one ICS body in a single pass (plus libical for
// RRULE and time-zone semantics where needed).
Analysis AnalyzeIcs(std::string_view body, const AnalyzeOptions& options = {});

Delta ComputeDelta(const Snapshot& before, const Snapshot& after);

// Compact binary (de)serialisation of a Snapshot for the store.
std::string SerializeSnapshot(const Snapshot& s);
std::optional<Snapshot> DeserializeSnapshot(std::string_view bytes);

}  // namespace calprobe::calendar
