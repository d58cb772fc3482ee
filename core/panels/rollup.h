#pragma once
// Per-minute rollups of the events the six dashboard panels read (seed §2),
// kept for `retention` (26 h by default) and persisted in the Store's kv
// table so charts keep their history across restarts.
//
// Every accepted event of a panel-relevant name updates the minute of its
// event time at the key (provider, role, region, origin). provider, role and
// region are bounded (top-K + "other", see LabelLimiter) so the rollup stays
// small however many providers send events; an event without a region is
// counted under the receiving agent's region (each region's platform sends to
// its regional agent).
//
// Beside the minutes, exact per-entity state the panels need is kept (bounded):
// the last rule update per provider (configured / stale providers), the last
// poll per ICS source (stalest sources, interval between polls) and live holds
// (TTL consumption = time from created to converted / TTL; an expired hold
// consumed all of it).
//
// Not thread-safe: the agent's io_context thread only.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/status.h"

namespace calprobe::core {

class Store;
class LabelLimiter;

namespace panels {

// Counters summed per minute and key.
enum Counter : uint8_t {
  kRuleUpdates,
  kExceptions,
  kExceptionMinutes,
  kFeasible,
  kFeasibleTruncated,
  kCacheHit,
  kCacheMiss,
  kMismatch,
  kHoldCreated,
  kHoldOverlap,
  kHoldConverted,
  kHoldExpired,
  kTtlUsedSum,  // sum of consumed TTL fractions (converted + expired holds)
  kTtlUsedN,
  kPollOk,
  kPollError,
  kPayloadBytes,
  kFeedRequested,
  kFeedOk,
  kTokenRegen,
  kSearches,
  kSlotsSurfaced,
  kInstant,
  kInstantAccepted,
  kRebooked,
  kTickets,
  kTicketsCalendar,
  kRetryTier0,  // polls by retry tier 0..4, 5+ (five more slots)
  kCounterCount = kRetryTier0 + 6,
};

// Value distributions per minute and key.
// Append only: the index is persisted.
enum Hist : uint8_t {
  kFeasibleMs,
  kRebookMs,
  kDeltaEvents,
  kPollIntervalS,
  kFeedIntervalS,  // between downloads of one provider's outbound feed (refresh cadence)
  kHistCount
};

// A mergeable log-bucket histogram (about 4% relative error), sparse.
class LogHist {
 public:
  void Add(double v, uint32_t n = 1);
  void Merge(const LogHist& o);
  // Value at quantile q in [0,1]; nullopt when empty.
  std::optional<double> Quantile(double q) const;
  uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  const std::map<int32_t, uint32_t>& buckets() const { return buckets_; }

 private:
  std::map<int32_t, uint32_t> buckets_;  // bucket index -> count
  uint64_t count_ = 0;
};

// One minute at one key (or a merge of several).
struct MinuteAgg {
  std::array<double, kCounterCount> c{};
  std::array<LogHist, kHistCount> h;
  // Platform poller queue (cal.ics.backlog): the latest report.
  int64_t backlog_ms = -1;  // event time of the latest report; -1 none
  double backlog_size = 0, backlog_queue = 0;

  void Merge(const MinuteAgg& o);  // counters add, histograms merge, latest backlog wins
};

struct RollupKey {
  std::string provider, role, region, origin;
  auto operator<=>(const RollupKey&) const = default;
};

struct Filter {
  std::string provider, role, region;  // empty: any
  std::string origin = "platform";     // "platform", "synthetic" or "" (both)
  bool Matches(const RollupKey& k) const;
  bool Matches(const std::string& provider, const std::string& role, const std::string& region,
               const std::string& origin) const;
};

struct SourceState {
  int64_t last_poll_ms = 0;
  bool last_ok = true;
  std::string error_code;
};

struct RollupOptions {
  Duration retention = std::chrono::hours(26);
  size_t label_limit = 50;        // distinct provider/role/region values in the rollup keys
  size_t max_entities = 100'000;  // providers, sources and live holds each
  std::string agent_region;       // for events without a region label
};

class Rollups {
 public:
  Rollups(const Clock& clock, RollupOptions options);
  ~Rollups();

  // Consumes one accepted event (ignores names no panel reads).
  void Record(const Event& e);

  // Loads the persisted minutes and entities (call once, before Record).
  Status Load(Store& store);
  // Writes changed minutes and entities and deletes minutes past the
  // retention, in one transaction.
  Status Flush(Store& store);

  // The merge over `filter` of every minute in [from, to), in buckets of
  // `step` minutes starting at `from` (rounded down to a minute).
  struct Range {
    int64_t first_minute = 0;
    int step_minutes = 1;
    std::vector<MinuteAgg> buckets;
    MinuteAgg total;
  };
  Range Query(const Filter& filter, TimePoint from, TimePoint to, int step_minutes) const;

  // Key label values seen in the kept minutes (for filter choices).
  std::set<std::string> Values(int which) const;  // 0 provider, 1 role, 2 region

  // Providers (provider, role, region) -> last cal.rule.updated (ms).
  const std::map<std::tuple<std::string, std::string, std::string>, int64_t>& providers() const {
    return providers_;
  }
  // (src_id, provider, role, region, origin) -> last poll.
  using SourceKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  const std::map<SourceKey, SourceState>& sources() const { return sources_; }

  const RollupOptions& options() const { return options_; }
  size_t minute_count() const { return minutes_.size(); }

 private:
  struct LiveHold {
    int64_t created_ms;
    double ttl_minutes;
  };
  RollupKey KeyOf(const Event& e);
  void Prune(int64_t now_minute);

  const Clock& clock_;
  RollupOptions options_;
  std::unique_ptr<LabelLimiter> providers_limit_, roles_limit_, regions_limit_;
  std::map<int64_t, std::map<RollupKey, MinuteAgg>> minutes_;  // unix minute -> key -> agg
  std::set<int64_t> dirty_minutes_;
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> providers_;
  std::set<std::tuple<std::string, std::string, std::string>> dirty_providers_;
  std::map<SourceKey, SourceState> sources_;
  std::set<SourceKey> dirty_sources_;
  std::unordered_map<std::string, LiveHold> holds_;
  std::map<RollupKey, int64_t> feed_last_ms_;  // last outbound feed download per key
};

}  // namespace panels
}  // namespace calprobe::core
