// SandboxService::Feasibility: the oracle's slots for the provider's current
// state, a TTL cache in front, and the slot faults applied to the answer.

#include <algorithm>
#include <chrono>

#include "calendar/oracle/tz.h"
#include "core/event.h"
#include "sandbox/service.h"
#include "sandbox/service_internal.h"

namespace calprobe::sandbox {

namespace oracle = calendar::oracle;

namespace {

constexpr size_t kMaxCacheEntries = 2000;

std::string CacheKey(const FeasibilityQuery& q) {
  return q.provider_id + "|" + std::to_string(q.from.time_since_epoch().count()) + "|" +
         std::to_string(q.to.time_since_epoch().count()) + "|" + std::to_string(q.duration_minutes);
}

// dst_shift: slots computed with a wrong UTC offset. When the window crosses
// a change the engine uses the offset at the window start for every slot;
// otherwise it uses the other season's offset (both real bug shapes).
void ShiftByWrongOffset(const oracle::Zone& zone, TimePoint from, std::vector<Slot>* slots) {
  using std::chrono::hours;
  auto off_from = oracle::UtcOffset(zone, from);
  bool crosses = false;
  for (const auto& s : *slots) crosses |= oracle::UtcOffset(zone, s.start) != off_from;
  auto other = off_from;
  for (int month = 1; month < 12 && other == off_from; ++month) {
    other = oracle::UtcOffset(zone, from + hours(24 * 30 * month));
  }
  for (auto& s : *slots) {
    auto off = oracle::UtcOffset(zone, s.start);
    auto used = crosses ? off_from : (off == off_from ? other : off_from);
    auto shift = off - used;
    s.start += shift;
    s.end += shift;
  }
  std::sort(slots->begin(), slots->end());
}

}  // namespace

FeasibilityAnswer SandboxService::ComputeLocked(const ProviderState& p, const FeasibilityQuery& q,
                                                TimePoint now) {
  const std::string& pid = p.config.id;
  oracle::ProviderTruth truth = p.config.truth;
  if (q.duration_minutes > 0) truth.slot_minutes = q.duration_minutes;
  for (const auto& e : p.exceptions)
    (e.ex.kind == "blocked" ? truth.blocked : truth.extra).push_back(e.ex.span);
  if (!deps_.faults.Active("hold_not_hidden", pid)) {
    for (const auto& [id, h] : holds_) {
      if (h.provider_id == pid && h.state == HoldState::kActive) truth.holds.push_back(h.span);
    }
  }
  for (const auto& [id, b] : bookings_) {
    if (b.provider_id == pid) truth.bookings.push_back(b.span);
  }
  const oracle::Zone* zone = oracle::FindZone(truth.timezone);
  // Busy time of every external source (each its own calendar) blocks like a booking.
  for (const auto& s : p.sources) {
    if (!s.have_data || deps_.faults.Active("busy_source_ignored", pid)) continue;
    auto spans = s.calendar.Expand(q.from, q.to, zone);
    truth.bookings.insert(truth.bookings.end(), spans.begin(), spans.end());
  }
  if (deps_.faults.Active("lead_time_ignored", pid)) truth.lead_time_hours = 0;

  FeasibilityAnswer a;
  a.timezone = truth.timezone;
  a.slots = oracle::ComputeSlots(truth, q.from, q.to, now);
  if (deps_.faults.Active("slots_extra_in_exception", pid)) {
    oracle::ProviderTruth t2 = truth;
    t2.blocked.clear();
    auto more = oracle::ComputeSlots(t2, q.from, q.to, now);
    a.slots.insert(a.slots.end(), more.begin(), more.end());
    std::sort(a.slots.begin(), a.slots.end());
    a.slots.erase(std::unique(a.slots.begin(), a.slots.end()), a.slots.end());
  }
  if (auto f = deps_.faults.Find("slots_missing", pid)) {
    size_t every = static_cast<size_t>(f->Param("every", 4));
    std::vector<Slot> kept;
    for (size_t i = 0; i < a.slots.size(); ++i) {
      if (i % every != 0) kept.push_back(a.slots[i]);
    }
    a.slots = std::move(kept);
  }
  if (zone && deps_.faults.Active("dst_shift", pid)) ShiftByWrongOffset(*zone, q.from, &a.slots);

  oracle::ProviderTruth open = truth;
  open.blocked.clear();
  open.holds.clear();
  open.bookings.clear();
  open.lead_time_hours = 0;
  a.candidate_windows = static_cast<int>(oracle::ComputeSlots(open, q.from, q.to, now).size());
  if (a.slots.size() > static_cast<size_t>(p.config.max_slots)) {
    a.slots.resize(static_cast<size_t>(p.config.max_slots));
    a.truncated = true;
  }
  return a;
}

ApiResult<FeasibilityAnswer> SandboxService::Feasibility(const FeasibilityQuery& q,
                                                         double injected_latency_ms) {
  auto t0 = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  TimePoint now = deps_.clock.Now();
  ExpireLocked(now);
  ProviderState* p = FindLocked(q.provider_id);
  if (!p) return ApiError{404, "unknown provider \"" + q.provider_id + "\"", "provider_id", {}, {}};
  if (q.to <= q.from) return ApiError{400, "to: must be after from", "to", {}, {}};
  if (q.to - q.from > std::chrono::hours(24) * config_.max_window_days) {
    return ApiError{400,
                    "to: the window is longer than " + std::to_string(config_.max_window_days) +
                        " days (sandbox.max_window_days); ask for a shorter window",
                    "to",
                    {},
                    {}};
  }
  if (q.duration_minutes < 0 || q.duration_minutes > 1440) {
    return ApiError{400, "duration_minutes: expected 1..1440", "duration_minutes", {}, {}};
  }
  std::string key = CacheKey(q);
  uint64_t fault_gen = deps_.faults.generation();
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    const CacheEntry& e = *it->second;
    bool fresh = now >= e.computed_at && now - e.computed_at < config_.cache_ttl;
    if (fresh && e.version == p->version && e.generation == cache_generation_ &&
        e.fault_generation == fault_gen) {
      ++cache_hits_;
      FeasibilityAnswer a = e.answer;
      a.cache_hit = true;
      a.duration_ms = 0;
      if (!deps_.faults.Active("lead_time_ignored", q.provider_id)) {
        TimePoint cutoff = now + std::chrono::hours(p->config.truth.lead_time_hours);
        std::erase_if(a.slots, [&](const Slot& s) { return s.start < cutoff; });
      }
      EmitLocked(NewEvent("cal.feasible.cache.hit", p));
      return a;
    }
  }
  ++cache_misses_;
  FeasibilityAnswer a = ComputeLocked(*p, q, now);
  a.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() +
      injected_latency_ms;
  if (cache_.size() >= kMaxCacheEntries) {
    std::erase_if(
        cache_, [&](const auto& kv) { return now - kv.second->computed_at >= config_.cache_ttl; });
    if (cache_.size() >= kMaxCacheEntries) cache_.clear();
  }
  auto entry = std::make_shared<CacheEntry>();
  entry->answer = a;
  entry->computed_at = now;
  entry->version = p->version;
  entry->generation = cache_generation_;
  entry->fault_generation = fault_gen;
  cache_[key] = std::move(entry);
  EmitLocked(NewEvent("cal.feasible.cache.miss", p));
  EmitLocked(NewEvent("cal.feasible.generated", p)
                 .With("slot_count", static_cast<int64_t>(a.slots.size()))
                 .With("candidate_windows", int64_t{a.candidate_windows})
                 .With("duration_ms", a.duration_ms)
                 .With("truncated", a.truncated));
  return a;
}

void SandboxService::InvalidateCache() {
  std::lock_guard lock(mu_);
  ++cache_generation_;
  cache_.clear();
}

}  // namespace calprobe::sandbox
