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
  Severity severity = Severity::kInfo;
  int line = 0;          // 1-based physical line where the problem starts (for a folded
                         // property: its first physical line); 0 = whole feed
  std::string message;   // what is wrong (may quote the offending value, shortened)
  std::string fix;       // how the provider fixes it
};

struct AnalyzeOptions {
  // content.too_many_components beyond this many calendar objects (VEVENT,
  // VTODO, ...: direct children of VCALENDAR other than VTIMEZONE), or
  // beyond 4 * max_components + 1000 components of any kind.
  size_t max_components = 50000;
  int max_nesting = 8;                   // content.excessive_nesting beyond this
  size_t max_property_bytes = 256 * 1024;  // property.oversized beyond this (unfolded)
  size_t max_findings_per_code = 20;     // keep reports readable; counts still exact
  int64_t now_unix = 0;                  // for sync.stale_content; 0 = skip time-based checks
  // sync.stale_content when no event changed (LAST-MODIFIED / CREATED, else
  // DTSTAMP) for this long and no event or series occurs after now - 1 day.
  int64_t stale_after_seconds = 180 * 86400;
};

// Identity of one VEVENT instance in a feed: UID plus RECURRENCE-ID (empty
// for masters and single events). recurrence_id is the value as written
// (e.g. "20250108T090000"; its TZID is not part of the key). A VEVENT
// without UID is keyed by uid "" and recurrence_id "no-uid:<content hash>".
struct EventKey {
  std::string uid;
  std::string recurrence_id;
  bool operator==(const EventKey&) const = default;
};
struct EventKeyHash {
  size_t operator()(const EventKey& k) const;
};
// EventKeyHash of the key (uid, recurrence_id), without building it.
size_t EventKeyHashOf(std::string_view uid, std::string_view recurrence_id);

// Content hashes of the feed's events. The hash covers every unfolded
// content line of the VEVENT (its VALARMs included) except DTSTAMP (which
// many servers bump on every request); it is insensitive to line folding,
// line endings (CRLF / LF) and property order. Duplicate keys (see
// event.duplicate_uid) share one entry whose hash combines all copies.
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
  // Sorted by line, then code; at most max_findings_per_code per code.
  std::vector<Finding> findings;
  std::unordered_map<std::string, int> finding_counts;  // code -> exact count
  Snapshot snapshot;
  size_t event_count = 0;                 // VEVENTs seen (BEGIN:VEVENT lines)
  size_t component_count = 0;             // components of every kind (BEGIN lines)
  // False when the body is not a usable calendar (not ICS, empty,
  // truncated, BEGIN/END structure broken, a hard limit hit): callers must
  // keep their previous snapshot. `snapshot` then holds whatever was read
  // and must not be used for deltas.
  bool usable = false;
  std::optional<int64_t> refresh_interval_seconds;  // REFRESH-INTERVAL / X-PUBLISHED-TTL
  bool has_error() const;                 // any finding with Severity::kError
};

// Scans, lints and hashes one ICS body in a single pass (plus libical's
// re-entrant RRULE parser; IANA and Windows zone names are embedded, no I/O).
// Work and memory are linear in body.size(); temporary memory beyond the
// returned Analysis is one event, the longest folded line, a few bytes of
// bookkeeping per floating-time event and per override, and the events'
// keys plus ~50 bytes each until the snapshot map is built at the end.
Analysis AnalyzeIcs(std::string_view body, const AnalyzeOptions& options = {});

Delta ComputeDelta(const Snapshot& before, const Snapshot& after);

// Compact binary (de)serialisation of a Snapshot for the store: "CPS1",
// varint count, then per entry (sorted by key, so equal snapshots give equal
// bytes) varint-length UID, varint-length RECURRENCE-ID, 8-byte LE hash.
// Deserialize returns nullopt on any malformed, truncated or trailing input.
std::string SerializeSnapshot(const Snapshot& s);
std::optional<Snapshot> DeserializeSnapshot(std::string_view bytes);

}  // namespace calprobe::calendar
