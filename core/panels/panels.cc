#include "core/panels/panels.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "core/config/config_node.h"
#include "core/event.h"

namespace calprobe::core::panels {
namespace {

using nlohmann::json;
using AggFn = std::function<std::optional<double>(const MinuteAgg&)>;

constexpr int kMaxPoints = 120;
constexpr int64_t kStaleMs = 7LL * 86'400'000;  // seed: stale configuration > 7 days

std::optional<double> Div(double a, double b) {
  if (b == 0) return std::nullopt;
  return a / b;
}
json Num(std::optional<double> v) { return v ? json(*v) : json(nullptr); }
int64_t UnixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
std::string IsoMs(int64_t ms) { return FormatRfc3339(TimePoint(std::chrono::milliseconds(ms))); }

class Builder {
 public:
  Builder(const Rollups::Range& r) : r_(r) {}

  // One line of a chart: fn per bucket; `per_minute` divides by the step.
  json Series(const std::string& name, const AggFn& fn, bool per_minute = false) const {
    json pts = json::array();
    for (size_t i = 0; i < r_.buckets.size(); ++i) {
      double t =
          static_cast<double>((r_.first_minute + static_cast<int64_t>(i) * r_.step_minutes) * 60);
      auto v = fn(r_.buckets[i]);
      if (v && per_minute) *v /= r_.step_minutes;
      pts.push_back({t, Num(v)});
    }
    return {{"name", name}, {"points", pts}};
  }
  static AggFn Count(Counter c) {
    return [c](const MinuteAgg& a) { return std::optional<double>(a.c[c]); };
  }
  static AggFn Ratio(Counter n, Counter d) {
    return [n, d](const MinuteAgg& a) { return Div(a.c[n], a.c[d]); };
  }
  static AggFn Quant(Hist h, double q) {
    return [h, q](const MinuteAgg& a) { return a.h[h].Quantile(q); };
  }

 private:
  const Rollups::Range& r_;
};

json Chart(const std::string& title, const std::string& unit, json series) {
  return {{"title", title}, {"unit", unit}, {"series", std::move(series)}};
}

json Panel(const std::string& id, const std::string& title, bool has_data, json values,
           json charts) {
  return {{"id", id},
          {"title", title},
          {"has_data", has_data},
          {"values", std::move(values)},
          {"charts", std::move(charts)}};
}

}  // namespace

Result<PanelQuery> ParsePanelQueryMap(const std::map<std::string, std::string>& p, TimePoint now,
                                      Duration retention) {
  auto get = [&](const char* k) {
    auto it = p.find(k);
    return it == p.end() ? std::string() : it->second;
  };
  PanelQuery q;
  q.filter.provider = get("provider");
  q.filter.role = get("role");
  q.filter.region = get("region");
  std::string origin = get("origin");
  if (origin.empty() || origin == "platform") {
    q.filter.origin = "platform";
  } else if (origin == "synthetic") {
    q.filter.origin = "synthetic";
  } else if (origin == "all") {
    q.filter.origin = "";
  } else {
    return Status::Error("origin: must be platform, synthetic or all, got \"" + origin + "\"");
  }
  std::string from = get("from"), to = get("to"), range = get("range");
  q.to = now;
  if (!to.empty()) {
    auto t = ParseRfc3339(to);
    if (!t) return Status::Error("to: must be an RFC 3339 time such as 2027-03-15T09:00:00Z");
    q.to = *t;
  }
  Duration span = std::chrono::hours(1);
  if (!from.empty()) {
    auto f = ParseRfc3339(from);
    if (!f) return Status::Error("from: must be an RFC 3339 time such as 2027-03-15T08:00:00Z");
    if (*f >= q.to) return Status::Error("from: must be before to");
    span = q.to - *f;
    if (!range.empty()) return Status::Error("range: give either range or from, not both");
  } else if (!range.empty()) {
    auto d = ParseDuration(range);
    if (!d || d->count() < 60'000) {
      return Status::Error("range: must be a duration of at least 1m such as 15m, 6h or 24h");
    }
    span = *d;
  }
  if (span > retention) {
    return Status::Error("range: at most " +
                         FormatDuration(std::chrono::duration_cast<milliseconds>(retention)) +
                         " of per-minute history is kept");
  }
  q.from = q.to - span;
  int64_t minutes =
      std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::minutes>(span).count());
  q.step_minutes = static_cast<int>((minutes + kMaxPoints - 1) / kMaxPoints);
  if (std::string step = get("step"); !step.empty()) {
    auto d = ParseDuration(step);
    if (!d || d->count() < 60'000 || d->count() % 60'000 != 0) {
      return Status::Error("step: must be a whole number of minutes such as 1m or 5m");
    }
    q.step_minutes = static_cast<int>(d->count() / 60'000);
    if (minutes / q.step_minutes > 2000) {
      return Status::Error("step: too small for the range (at most 2000 points)");
    }
  }
  return q;
}

json BuildPanels(const Rollups& rollups, const PanelQuery& q, TimePoint now) {
  Rollups::Range r = rollups.Query(q.filter, q.from, q.to, q.step_minutes);
  const MinuteAgg& t = r.total;
  Builder b(r);
  int64_t now_ms = UnixMs(now);
  json panels = json::array();

  // --- Availability Intake ---
  {
    size_t configured = 0, stale = 0;
    std::vector<std::pair<int64_t, const std::tuple<std::string, std::string, std::string>*>> old;
    for (const auto& [k, last] : rollups.providers()) {
      const auto& [p, role, region] = k;
      if (!q.filter.Matches(p, role, region, q.filter.origin)) continue;
      ++configured;
      if (now_ms - last > kStaleMs) {
        ++stale;
        old.emplace_back(last, &k);
      }
    }
    std::sort(old.begin(), old.end());
    json stale_list = json::array();
    for (size_t i = 0; i < old.size() && i < 10; ++i) {
      const auto& [p, role, region] = *old[i].second;
      stale_list.push_back({{"provider", p},
                            {"role", role},
                            {"region", region},
                            {"last_rule_update", IsoMs(old[i].first)},
                            {"age_seconds", (now_ms - old[i].first) / 1000}});
    }
    json values = {{"rule_updates", t.c[kRuleUpdates]},
                   {"providers_configured", configured},
                   {"exceptions", t.c[kExceptions]},
                   {"exception_minutes", t.c[kExceptionMinutes]},
                   {"stale_providers", stale}};
    json charts = json::array({Chart("Rule updates and exceptions / min", "per_minute",
                                     {b.Series("rule updates", b.Count(kRuleUpdates), true),
                                      b.Series("exceptions", b.Count(kExceptions), true)})});
    json p = Panel("availability_intake", "Availability Intake",
                   t.c[kRuleUpdates] + t.c[kExceptions] > 0 || configured > 0, values, charts);
    p["stale_providers"] = stale_list;
    panels.push_back(p);
  }

  // --- Feasibility Engine --- (oracle mismatches are synthetic by nature)
  {
    Filter synth = q.filter;
    synth.origin = "synthetic";
    Rollups::Range sr = rollups.Query(synth, q.from, q.to, q.step_minutes);
    Builder sb(sr);
    const LogHist& d = t.h[kFeasibleMs];
    json values = {{"invocations", t.c[kFeasible]},
                   {"cache_hits", t.c[kCacheHit]},
                   {"cache_misses", t.c[kCacheMiss]},
                   {"cache_hit_ratio", Num(Div(t.c[kCacheHit], t.c[kCacheHit] + t.c[kCacheMiss]))},
                   {"duration_p50_ms", Num(d.Quantile(0.50))},
                   {"duration_p95_ms", Num(d.Quantile(0.95))},
                   {"duration_p99_ms", Num(d.Quantile(0.99))},
                   {"truncated_share", Num(Div(t.c[kFeasibleTruncated], t.c[kFeasible]))},
                   {"oracle_mismatches", sr.total.c[kMismatch]}};
    json charts = json::array({Chart("Invocations and cache / min", "per_minute",
                                     {b.Series("invocations", b.Count(kFeasible), true),
                                      b.Series("cache hits", b.Count(kCacheHit), true),
                                      b.Series("cache misses", b.Count(kCacheMiss), true)}),
                               Chart("Compute duration", "ms",
                                     {b.Series("p50", b.Quant(kFeasibleMs, 0.5)),
                                      b.Series("p95", b.Quant(kFeasibleMs, 0.95)),
                                      b.Series("p99", b.Quant(kFeasibleMs, 0.99))}),
                               Chart("Oracle mismatches (synthetic) / min", "per_minute",
                                     {sb.Series("mismatches", sb.Count(kMismatch), true)})});
    panels.push_back(
        Panel("feasibility_engine", "Feasibility Engine",
              t.c[kFeasible] + t.c[kCacheHit] + t.c[kCacheMiss] + sr.total.c[kMismatch] > 0, values,
              charts));
  }

  // --- Hold to Confirm ---
  {
    json values = {{"created", t.c[kHoldCreated]},
                   {"converted", t.c[kHoldConverted]},
                   {"expired", t.c[kHoldExpired]},
                   {"conversion_rate", Num(Div(t.c[kHoldConverted], t.c[kHoldCreated]))},
                   {"expiry_ratio", Num(Div(t.c[kHoldExpired], t.c[kHoldCreated]))},
                   {"overlap_rejection_rate", Num(Div(t.c[kHoldOverlap], t.c[kHoldCreated]))},
                   {"avg_ttl_consumption", Num(Div(t.c[kTtlUsedSum], t.c[kTtlUsedN]))}};
    json funnel = json::array({{{"stage", "created"}, {"count", t.c[kHoldCreated]}},
                               {{"stage", "converted"}, {"count", t.c[kHoldConverted]}},
                               {{"stage", "expired"}, {"count", t.c[kHoldExpired]}}});
    json charts =
        json::array({Chart("Holds / min", "per_minute",
                           {b.Series("created", b.Count(kHoldCreated), true),
                            b.Series("converted", b.Count(kHoldConverted), true),
                            b.Series("expired", b.Count(kHoldExpired), true)}),
                     Chart("Overlap rejections and TTL consumed", "ratio",
                           {b.Series("overlap rejection rate", b.Ratio(kHoldOverlap, kHoldCreated)),
                            b.Series("avg TTL consumed", b.Ratio(kTtlUsedSum, kTtlUsedN))})});
    json p = Panel("hold_to_confirm", "Hold to Confirm",
                   t.c[kHoldCreated] + t.c[kHoldConverted] + t.c[kHoldExpired] > 0, values, charts);
    p["funnel"] = funnel;
    panels.push_back(p);
  }

  // --- External Calendar Sync ---
  {
    json tiers = json::object();
    for (int i = 0; i < 6; ++i) tiers[i == 5 ? "5+" : std::to_string(i)] = t.c[kRetryTier0 + i];
    std::vector<std::pair<int64_t, const Rollups::SourceKey*>> srcs;
    for (const auto& [k, s] : rollups.sources()) {
      const auto& [src, p, role, region, origin] = k;
      if (q.filter.Matches(p, role, region, origin)) srcs.emplace_back(s.last_poll_ms, &k);
    }
    std::sort(srcs.begin(), srcs.end());
    json stalest = json::array();
    for (size_t i = 0; i < srcs.size() && i < 10; ++i) {
      const auto& k = *srcs[i].second;
      const SourceState& s = rollups.sources().at(k);
      stalest.push_back({{"src_id", std::get<0>(k)},
                         {"provider", std::get<1>(k)},
                         {"region", std::get<3>(k)},
                         {"origin", std::get<4>(k)},
                         {"last_poll", IsoMs(s.last_poll_ms)},
                         {"age_seconds", (now_ms - s.last_poll_ms) / 1000},
                         {"last_ok", s.last_ok},
                         {"error_code", s.error_code}});
    }
    double polls = t.c[kPollOk] + t.c[kPollError];
    json values = {{"polls_ok", t.c[kPollOk]},
                   {"polls_error", t.c[kPollError]},
                   {"error_rate", Num(Div(t.c[kPollError], polls))},
                   {"backlog", t.backlog_ms >= 0 ? json(t.backlog_size) : json(nullptr)},
                   {"queue_size", t.backlog_ms >= 0 ? json(t.backlog_queue) : json(nullptr)},
                   {"payload_bytes", t.c[kPayloadBytes]},
                   {"median_delta_events", Num(t.h[kDeltaEvents].Quantile(0.5))},
                   {"median_poll_interval_seconds", Num(t.h[kPollIntervalS].Quantile(0.5))},
                   {"sources", srcs.size()}};
    AggFn backlog = [](const MinuteAgg& a) {
      return a.backlog_ms >= 0 ? std::optional<double>(a.backlog_size) : std::nullopt;
    };
    AggFn queue = [](const MinuteAgg& a) {
      return a.backlog_ms >= 0 ? std::optional<double>(a.backlog_queue) : std::nullopt;
    };
    json charts =
        json::array({Chart("Polls / min", "per_minute",
                           {b.Series("ok", b.Count(kPollOk), true),
                            b.Series("error", b.Count(kPollError), true)}),
                     Chart("Backlog vs queue size", "count",
                           {b.Series("backlog", backlog), b.Series("queue size", queue)})});
    json p = Panel("external_calendar_sync", "External Calendar Sync",
                   polls > 0 || t.backlog_ms >= 0, values, charts);
    p["retry_tiers"] = tiers;
    p["stalest_sources"] = stalest;
    panels.push_back(p);
  }

  // --- ICS Feed Outbound ---
  {
    json values = {{"feed_generations", t.c[kFeedRequested]},
                   {"success_share", Num(Div(t.c[kFeedOk], t.c[kFeedRequested]))},
                   {"token_regenerations", t.c[kTokenRegen]},
                   {"median_refresh_interval_seconds", Num(t.h[kFeedIntervalS].Quantile(0.5))}};
    AggFn failures = [](const MinuteAgg& a) {
      return std::optional<double>(a.c[kFeedRequested] - a.c[kFeedOk]);
    };
    json charts = json::array(
        {Chart("Feed generations / min", "per_minute",
               {b.Series("generated", b.Count(kFeedRequested), true),
                b.Series("failed", failures, true)}),
         Chart("Token regenerations", "count", {b.Series("regenerations", b.Count(kTokenRegen))})});
    panels.push_back(Panel("ics_feed_outbound", "ICS Feed Outbound",
                           t.c[kFeedRequested] + t.c[kTokenRegen] > 0, values, charts));
  }

  // --- User Impact ---
  {
    const LogHist& rl = t.h[kRebookMs];
    json values = {{"slots_surfaced", t.c[kSlotsSurfaced]},
                   {"searches", t.c[kSearches]},
                   {"instant_book_attempts", t.c[kInstant]},
                   {"instant_book_acceptance_rate", Num(Div(t.c[kInstantAccepted], t.c[kInstant]))},
                   {"rebookings", t.c[kRebooked]},
                   {"rebook_latency_p50_ms", Num(rl.Quantile(0.5))},
                   {"rebook_latency_p95_ms", Num(rl.Quantile(0.95))},
                   {"support_tickets_calendar", t.c[kTicketsCalendar]},
                   {"support_tickets", t.c[kTickets]}};
    json charts =
        json::array({Chart("Slots surfaced to search / min", "per_minute",
                           {b.Series("slots surfaced", b.Count(kSlotsSurfaced), true)}),
                     Chart("Instant Book acceptance", "ratio",
                           {b.Series("acceptance rate", b.Ratio(kInstantAccepted, kInstant))}),
                     Chart("Rebooking latency", "ms",
                           {b.Series("p50", b.Quant(kRebookMs, 0.5)),
                            b.Series("p95", b.Quant(kRebookMs, 0.95))}),
                     Chart("Support tickets tagged calendar", "count",
                           {b.Series("calendar tickets", b.Count(kTicketsCalendar))})});
    panels.push_back(Panel("user_impact", "User Impact",
                           t.c[kSearches] + t.c[kInstant] + t.c[kRebooked] + t.c[kTickets] > 0,
                           values, charts));
  }

  json options = json::object();
  options["providers"] = rollups.Values(0);
  options["roles"] = rollups.Values(1);
  options["regions"] = rollups.Values(2);
  return {{"generated_at", FormatRfc3339(now)},
          {"from", FormatRfc3339(q.from)},
          {"to", FormatRfc3339(q.to)},
          {"step_seconds", q.step_minutes * 60},
          {"filters",
           {{"provider", q.filter.provider},
            {"role", q.filter.role},
            {"region", q.filter.region},
            {"origin", q.filter.origin.empty() ? "all" : q.filter.origin}}},
          {"options", options},
          {"panels", panels}};
}

}  // namespace calprobe::core::panels
