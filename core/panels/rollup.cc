#include "core/panels/rollup.h"

#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "core/pipeline.h"
#include "core/store.h"

namespace calprobe::core::panels {
namespace {

constexpr double kGamma = 1.08;  // bucket ratio: ~4% relative error
constexpr int32_t kZeroBucket = INT32_MIN;
constexpr std::string_view kMinutesNs = "panels.minutes";
constexpr std::string_view kProvidersNs = "panels.providers";
constexpr std::string_view kSourcesNs = "panels.sources";

int64_t UnixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
int64_t MinuteOf(int64_t ms) { return ms >= 0 ? ms / 60000 : (ms - 59999) / 60000; }

// Fixed-width minute so lexical order of kv keys is numeric order.
std::string MinuteKey(int64_t minute) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%012lld", static_cast<long long>(minute));
  return buf;
}

nlohmann::json AggToJson(const MinuteAgg& a) {
  nlohmann::json c = nlohmann::json::object();
  for (size_t i = 0; i < a.c.size(); ++i) {
    if (a.c[i] != 0) c[std::to_string(i)] = a.c[i];
  }
  nlohmann::json h = nlohmann::json::object();
  for (size_t i = 0; i < a.h.size(); ++i) {
    if (a.h[i].empty()) continue;
    nlohmann::json b = nlohmann::json::array();
    for (const auto& [idx, n] : a.h[i].buckets()) b.push_back({idx, n});
    h[std::to_string(i)] = b;
  }
  nlohmann::json out = {{"c", c}, {"h", h}};
  if (a.backlog_ms >= 0) out["b"] = {a.backlog_ms, a.backlog_size, a.backlog_queue};
  return out;
}

// Index-stable decoding: unknown indices (from a newer calprobe) are skipped.
MinuteAgg AggFromJson(const nlohmann::json& j) {
  MinuteAgg a;
  if (j.contains("c") && j["c"].is_object()) {
    for (const auto& [k, v] : j["c"].items()) {
      size_t i = std::stoul(k);
      if (i < a.c.size() && v.is_number()) a.c[i] = v.get<double>();
    }
  }
  if (j.contains("h") && j["h"].is_object()) {
    for (const auto& [k, v] : j["h"].items()) {
      size_t i = std::stoul(k);
      if (i >= a.h.size() || !v.is_array()) continue;
      LogHist tmp;
      for (const auto& b : v) {
        if (!b.is_array() || b.size() != 2) continue;
        int32_t idx = b[0].get<int32_t>();
        uint32_t n = b[1].get<uint32_t>();
        double rep = idx == kZeroBucket ? 0 : std::pow(kGamma, idx);
        tmp.Add(rep, n);
      }
      a.h[i] = std::move(tmp);
    }
  }
  if (j.contains("b") && j["b"].is_array() && j["b"].size() == 3) {
    a.backlog_ms = j["b"][0].get<int64_t>();
    a.backlog_size = j["b"][1].get<double>();
    a.backlog_queue = j["b"][2].get<double>();
  }
  return a;
}

// Rows of one kv namespace (the Store exposes only point reads).
std::vector<std::pair<std::string, std::string>> LoadNs(Store& store, std::string_view ns) {
  std::vector<std::pair<std::string, std::string>> rows;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(store.handle(), "SELECT key, value FROM kv WHERE ns = ?1", -1, &st,
                         nullptr) != SQLITE_OK) {
    return rows;
  }
  sqlite3_bind_text(st, 1, ns.data(), static_cast<int>(ns.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(st) == SQLITE_ROW) {
    auto text = [&](int i) {
      const void* p = sqlite3_column_blob(st, i);
      int n = sqlite3_column_bytes(st, i);
      return std::string(static_cast<const char*>(p ? p : ""), static_cast<size_t>(n));
    };
    rows.emplace_back(text(0), text(1));
  }
  sqlite3_finalize(st);
  return rows;
}

}  // namespace

void LogHist::Add(double v, uint32_t n) {
  if (!std::isfinite(v) || n == 0) return;  // NaN and inf have no bucket
  int32_t idx = v <= 1e-9 ? kZeroBucket
                          : static_cast<int32_t>(std::ceil(std::log(v) / std::log(kGamma) - 1e-9));
  buckets_[idx] += n;
  count_ += n;
}

void LogHist::Merge(const LogHist& o) {
  for (const auto& [i, n] : o.buckets_) buckets_[i] += n;
  count_ += o.count_;
}

std::optional<double> LogHist::Quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  uint64_t rank = static_cast<uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  uint64_t seen = 0;
  for (const auto& [i, n] : buckets_) {
    seen += n;
    if (seen > rank) {
      if (i == kZeroBucket) return 0.0;
      // Midpoint (in log space) of the bucket (gamma^(i-1), gamma^i].
      return std::pow(kGamma, i) * 2 / (1 + kGamma);
    }
  }
  return std::nullopt;
}

void MinuteAgg::Merge(const MinuteAgg& o) {
  for (size_t i = 0; i < c.size(); ++i) c[i] += o.c[i];
  for (size_t i = 0; i < h.size(); ++i) h[i].Merge(o.h[i]);
  if (o.backlog_ms > backlog_ms) {
    backlog_ms = o.backlog_ms;
    backlog_size = o.backlog_size;
    backlog_queue = o.backlog_queue;
  }
}

bool Filter::Matches(const std::string& p, const std::string& r, const std::string& g,
                     const std::string& o) const {
  return (provider.empty() || provider == p) && (role.empty() || role == r) &&
         (region.empty() || region == g) && (origin.empty() || origin == o);
}
bool Filter::Matches(const RollupKey& k) const {
  return Matches(k.provider, k.role, k.region, k.origin);
}

Rollups::Rollups(const Clock& clock, RollupOptions options)
    : clock_(clock),
      options_(std::move(options)),
      providers_limit_(std::make_unique<LabelLimiter>(options_.label_limit)),
      roles_limit_(std::make_unique<LabelLimiter>(options_.label_limit)),
      regions_limit_(std::make_unique<LabelLimiter>(options_.label_limit)) {}
Rollups::~Rollups() = default;

RollupKey Rollups::KeyOf(const Event& e) {
  const std::string& region = e.labels.Get(Label::kRegion);
  return {std::string(providers_limit_->Map(e.labels.Get(Label::kProvider))),
          std::string(roles_limit_->Map(e.labels.Get(Label::kRole))),
          std::string(regions_limit_->Map(region.empty() ? options_.agent_region : region)),
          e.labels.Get(Label::kOrigin)};
}

void Rollups::Record(const Event& e) {
  const std::string& n = e.name;
  // Cheap name check first: most events in a busy agent are probe results.
  if (n.rfind("cal.", 0) != 0 && n != "calprobe.feasibility.mismatch") return;
  int64_t ms = UnixMs(e.time);
  int64_t minute = MinuteOf(ms);
  int64_t now_minute = MinuteOf(UnixMs(clock_.Now()));
  if (minute <=
      now_minute - std::chrono::duration_cast<std::chrono::minutes>(options_.retention).count()) {
    return;
  }
  RollupKey key = KeyOf(e);
  auto agg_at = [&]() -> MinuteAgg& {
    dirty_minutes_.insert(minute);
    return minutes_[minute][key];
  };
  auto num = [&](std::string_view f) { return e.Number(f).value_or(0); };
  const std::string& provider = e.labels.Get(Label::kProvider);
  const std::string& role = e.labels.Get(Label::kRole);
  const std::string& region = key.region;

  if (n == "cal.rule.updated") {
    agg_at().c[kRuleUpdates] += 1;
    auto pk = std::make_tuple(provider, role, region);
    if (providers_.size() < options_.max_entities || providers_.count(pk)) {
      int64_t& last = providers_[pk];
      last = std::max(last, ms);
      dirty_providers_.insert(pk);
    }
  } else if (n == "cal.exception.upserted") {
    MinuteAgg& a = agg_at();
    a.c[kExceptions] += 1;
    a.c[kExceptionMinutes] += num("span_minutes");
  } else if (n == "cal.feasible.generated") {
    MinuteAgg& a = agg_at();
    a.c[kFeasible] += 1;
    if (e.Bool("truncated").value_or(false)) a.c[kFeasibleTruncated] += 1;
    if (auto d = e.Number("duration_ms")) a.h[kFeasibleMs].Add(*d);
  } else if (n == "cal.feasible.cache.hit") {
    agg_at().c[kCacheHit] += 1;
  } else if (n == "cal.feasible.cache.miss") {
    agg_at().c[kCacheMiss] += 1;
  } else if (n == "calprobe.feasibility.mismatch") {
    agg_at().c[kMismatch] += 1;
  } else if (n == "cal.hold.created") {
    MinuteAgg& a = agg_at();
    a.c[kHoldCreated] += 1;
    bool overlap = e.Bool("overlap_detected").value_or(false);
    if (overlap) a.c[kHoldOverlap] += 1;
    auto id = e.String("hold_id");
    if (!overlap && id && !id->empty() && holds_.size() < options_.max_entities) {
      holds_[std::string(*id)] = {ms, num("ttl_minutes")};
    }
  } else if (n == "cal.hold.converted" || n == "cal.hold.expired") {
    bool expired = n == "cal.hold.expired";
    MinuteAgg& a = agg_at();
    a.c[expired ? kHoldExpired : kHoldConverted] += 1;
    std::optional<double> used;
    if (expired) used = 1.0;
    if (auto id = e.String("hold_id")) {
      auto it = holds_.find(std::string(*id));
      if (it != holds_.end()) {
        double ttl_ms = it->second.ttl_minutes * 60000.0;
        if (!expired && ttl_ms > 0) {
          used = std::clamp(static_cast<double>(ms - it->second.created_ms) / ttl_ms, 0.0, 1.0);
        }
        holds_.erase(it);
      }
    }
    if (used) {
      a.c[kTtlUsedSum] += *used;
      a.c[kTtlUsedN] += 1;
    }
  } else if (n == "cal.ics.poll.ok" || n == "cal.ics.poll.error") {
    bool ok = n == "cal.ics.poll.ok";
    MinuteAgg& a = agg_at();
    a.c[ok ? kPollOk : kPollError] += 1;
    a.c[kPayloadBytes] += num("payload_bytes");
    int tier = static_cast<int>(std::clamp(num("retry_tier"), 0.0, 5.0));
    a.c[kRetryTier0 + tier] += 1;
    if (auto d = e.Number("delta_event_count")) a.h[kDeltaEvents].Add(*d);
    SourceKey sk{e.labels.Get(Label::kSrcId), provider, role, region, key.origin};
    auto it = sources_.find(sk);
    if (it == sources_.end() && sources_.size() < options_.max_entities) {
      it = sources_.emplace(sk, SourceState{}).first;
    }
    if (it != sources_.end()) {
      if (it->second.last_poll_ms > 0 && ms > it->second.last_poll_ms) {
        a.h[kPollIntervalS].Add(static_cast<double>(ms - it->second.last_poll_ms) / 1000.0);
      }
      if (ms >= it->second.last_poll_ms) {
        it->second.last_poll_ms = ms;
        it->second.last_ok = ok;
        it->second.error_code = std::string(e.String("error_code").value_or(""));
      }
      dirty_sources_.insert(sk);
    }
  } else if (n == "cal.ics.backlog") {
    MinuteAgg& a = agg_at();
    if (ms >= a.backlog_ms) {
      a.backlog_ms = ms;
      a.backlog_size = num("size");
      a.backlog_queue = num("queue_size");
    }
  } else if (n == "cal.ics.feed.requested") {
    MinuteAgg& a = agg_at();
    a.c[kFeedRequested] += 1;
    auto last = feed_last_ms_.find(key);
    if (last == feed_last_ms_.end() && feed_last_ms_.size() < options_.max_entities) {
      last = feed_last_ms_.emplace(key, ms).first;
    } else if (last != feed_last_ms_.end()) {
      if (ms > last->second)
        a.h[kFeedIntervalS].Add(static_cast<double>(ms - last->second) / 1000.0);
      last->second = std::max(last->second, ms);
    }
    // A download without a status was served (the platform reports failures with one).
    auto status = e.Number("status");
    if (!status || (*status >= 200 && *status < 400)) a.c[kFeedOk] += 1;
  } else if (n == "cal.ics.feed.token.regenerated") {
    agg_at().c[kTokenRegen] += 1;
  } else if (n == "cal.search.slots_surfaced") {
    MinuteAgg& a = agg_at();
    a.c[kSearches] += 1;
    a.c[kSlotsSurfaced] += num("count");
  } else if (n == "cal.booking.instant") {
    MinuteAgg& a = agg_at();
    a.c[kInstant] += 1;
    if (e.Bool("accepted").value_or(false)) a.c[kInstantAccepted] += 1;
  } else if (n == "cal.booking.rebooked") {
    MinuteAgg& a = agg_at();
    a.c[kRebooked] += 1;
    if (auto d = e.Number("latency_ms")) a.h[kRebookMs].Add(*d);
  } else if (n == "cal.support.ticket") {
    MinuteAgg& a = agg_at();
    a.c[kTickets] += 1;
    if (e.String("tag").value_or("") == "calendar") a.c[kTicketsCalendar] += 1;
  }
}

void Rollups::Prune(int64_t now_minute) {
  int64_t keep = std::chrono::duration_cast<std::chrono::minutes>(options_.retention).count();
  while (!minutes_.empty() && minutes_.begin()->first <= now_minute - keep) {
    minutes_.erase(minutes_.begin());
  }
  // Holds never confirmed nor expired (events lost): forget after a day.
  int64_t now_ms = now_minute * 60000;
  std::erase_if(holds_, [&](const auto& kv) { return kv.second.created_ms < now_ms - 86'400'000; });
}

Rollups::Range Rollups::Query(const Filter& filter, TimePoint from, TimePoint to,
                              int step_minutes) const {
  Range r;
  step_minutes = std::max(1, step_minutes);
  r.first_minute = MinuteOf(UnixMs(from));
  int64_t end_minute = MinuteOf(UnixMs(to) - 1) + 1;  // exclusive
  r.step_minutes = step_minutes;
  int64_t n = std::max<int64_t>(0, (end_minute - r.first_minute + step_minutes - 1) / step_minutes);
  r.buckets.resize(static_cast<size_t>(n));
  // The platform poller's queue is a gauge per key (one poller per region):
  // the latest report of each key, summed over keys.
  struct Gauge {
    int64_t ms = -1;
    double size = 0, queue = 0;
  };
  std::vector<std::map<RollupKey, Gauge>> latest(r.buckets.size());
  std::map<RollupKey, Gauge> latest_total;
  auto keep_latest = [](Gauge& g, const MinuteAgg& a) {
    if (a.backlog_ms > g.ms) g = {a.backlog_ms, a.backlog_size, a.backlog_queue};
  };
  for (auto it = minutes_.lower_bound(r.first_minute);
       it != minutes_.end() && it->first < end_minute; ++it) {
    size_t bi = static_cast<size_t>((it->first - r.first_minute) / step_minutes);
    for (const auto& [k, a] : it->second) {
      if (!filter.Matches(k)) continue;
      r.buckets[bi].Merge(a);
      r.total.Merge(a);
      if (a.backlog_ms >= 0) {
        keep_latest(latest[bi][k], a);
        keep_latest(latest_total[k], a);
      }
    }
  }
  auto apply = [](MinuteAgg& a, const std::map<RollupKey, Gauge>& gauges) {
    a.backlog_ms = -1;
    a.backlog_size = a.backlog_queue = 0;
    for (const auto& [k, g] : gauges) {
      a.backlog_ms = std::max(a.backlog_ms, g.ms);
      a.backlog_size += g.size;
      a.backlog_queue += g.queue;
    }
  };
  for (size_t i = 0; i < r.buckets.size(); ++i) apply(r.buckets[i], latest[i]);
  apply(r.total, latest_total);
  return r;
}

std::set<std::string> Rollups::Values(int which) const {
  std::set<std::string> out;
  for (const auto& [m, keys] : minutes_) {
    for (const auto& [k, a] : keys) {
      const std::string& v = which == 0 ? k.provider : which == 1 ? k.role : k.region;
      if (!v.empty()) out.insert(v);
    }
  }
  return out;
}

Status Rollups::Load(Store& store) {
  int64_t now_minute = MinuteOf(UnixMs(clock_.Now()));
  // Rows are ours, but a damaged or hand-edited store must not stop the
  // agent: unreadable rows are skipped and counted.
  size_t skipped = 0;
  auto each = [&](std::string_view ns,
                  const std::function<bool(const std::string&, const std::string&)>& fn) {
    for (const auto& [key, value] : LoadNs(store, ns)) {
      bool ok = false;
      try {
        ok = fn(key, value);
      } catch (const std::exception&) {
        ok = false;
      }
      if (!ok) ++skipped;
    }
  };
  each(kMinutesNs, [&](const std::string& key, const std::string& value) {
    size_t bar = key.find('|');
    if (bar == std::string::npos) return false;
    auto k = nlohmann::json::parse(key.substr(bar + 1), nullptr, false);
    auto v = nlohmann::json::parse(value, nullptr, false);
    if (!k.is_array() || k.size() != 4 || !v.is_object()) return false;
    int64_t minute = std::stoll(key.substr(0, bar));
    RollupKey rk{k[0].get<std::string>(), k[1].get<std::string>(), k[2].get<std::string>(),
                 k[3].get<std::string>()};
    // Re-admit the persisted label values so new events keep using them.
    providers_limit_->Map(rk.provider);
    roles_limit_->Map(rk.role);
    regions_limit_->Map(rk.region);
    minutes_[minute][rk] = AggFromJson(v);
    return true;
  });
  each(kProvidersNs, [&](const std::string& key, const std::string& value) {
    auto k = nlohmann::json::parse(key, nullptr, false);
    if (!k.is_array() || k.size() != 3) return false;
    providers_[{k[0].get<std::string>(), k[1].get<std::string>(), k[2].get<std::string>()}] =
        std::stoll(value);
    return true;
  });
  each(kSourcesNs, [&](const std::string& key, const std::string& value) {
    auto k = nlohmann::json::parse(key, nullptr, false);
    auto v = nlohmann::json::parse(value, nullptr, false);
    if (!k.is_array() || k.size() != 5 || !v.is_array() || v.size() != 3) return false;
    sources_[{k[0].get<std::string>(), k[1].get<std::string>(), k[2].get<std::string>(),
              k[3].get<std::string>(), k[4].get<std::string>()}] =
        SourceState{v[0].get<int64_t>(), v[1].get<bool>(), v[2].get<std::string>()};
    return true;
  });
  Prune(now_minute);
  if (skipped > 0) {
    return Status::Error(std::to_string(skipped) +
                         " unreadable panel rollup rows in the store were skipped");
  }
  return Status::Ok();
}

Status Rollups::Flush(Store& store) {
  int64_t now_minute = MinuteOf(UnixMs(clock_.Now()));
  Prune(now_minute);
  if (Status s = store.Exec("BEGIN"); !s.ok()) return s;
  auto fail = [&](Status s) {
    (void)store.Exec("ROLLBACK");
    return s;
  };
  for (int64_t m : dirty_minutes_) {
    auto it = minutes_.find(m);
    if (it == minutes_.end()) continue;
    for (const auto& [k, a] : it->second) {
      std::string key =
          MinuteKey(m) + "|" + nlohmann::json({k.provider, k.role, k.region, k.origin}).dump();
      if (Status s = store.Put(kMinutesNs, key, AggToJson(a).dump()); !s.ok()) return fail(s);
    }
  }
  for (const auto& pk : dirty_providers_) {
    auto it = providers_.find(pk);
    if (it == providers_.end()) continue;
    std::string key = nlohmann::json({std::get<0>(pk), std::get<1>(pk), std::get<2>(pk)}).dump();
    if (Status s = store.Put(kProvidersNs, key, std::to_string(it->second)); !s.ok())
      return fail(s);
  }
  for (const auto& sk : dirty_sources_) {
    auto it = sources_.find(sk);
    if (it == sources_.end()) continue;
    std::string key = nlohmann::json({std::get<0>(sk), std::get<1>(sk), std::get<2>(sk),
                                      std::get<3>(sk), std::get<4>(sk)})
                          .dump();
    nlohmann::json v = {it->second.last_poll_ms, it->second.last_ok, it->second.error_code};
    if (Status s = store.Put(kSourcesNs, key, v.dump()); !s.ok()) return fail(s);
  }
  int64_t keep = std::chrono::duration_cast<std::chrono::minutes>(options_.retention).count();
  std::string cutoff = MinuteKey(now_minute - keep + 1);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(store.handle(), "DELETE FROM kv WHERE ns = ?1 AND key < ?2", -1, &st,
                         nullptr) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, kMinutesNs.data(), static_cast<int>(kMinutesNs.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, cutoff.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  if (Status s = store.Exec("COMMIT"); !s.ok()) return fail(s);
  dirty_minutes_.clear();
  dirty_providers_.clear();
  dirty_sources_.clear();
  return Status::Ok();
}

}  // namespace calprobe::core::panels
