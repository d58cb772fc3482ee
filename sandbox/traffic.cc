#include "sandbox/traffic.h"

#include <chrono>

#include "core/log.h"
#include "sandbox/service.h"

namespace calprobe::sandbox {

namespace {
constexpr size_t kMaxBookings = 12;  // older bookings are rescheduled away
constexpr int kHoldTtlSeconds = 60;  // short, so expiries show within a minute
}  // namespace

BuyerTraffic::BuyerTraffic(SandboxService& service, std::string self_url, uint32_t seed)
    : service_(service), self_url_(std::move(self_url)), rng_(seed) {}

// A platform-side busy source for each real provider, fed by another
// provider's outbound feed: the platform poller then emits cal.ics.poll.*.
void BuyerTraffic::Setup() {
  setup_done_ = true;
  std::vector<std::string> ids;
  for (const auto& id : service_.ProviderIds()) {
    if (id.find("synthetic") == std::string::npos) ids.push_back(id);
  }
  // Providers open the availability editor first thing (cal.rule.updated).
  if (ticks_ == 0) {
    for (const auto& id : ids) (void)service_.UpdateRules(id, "{}");
  }
  for (size_t i = 0; i < ids.size() && ids.size() > 1; ++i) {
    const std::string& other = ids[(i + 1) % ids.size()];
    auto d = service_.DescribeProvider(other, true);
    if (!d.ok() || !d.value->contains("feed_token")) continue;
    std::string url =
        self_url_ + "/feeds/" + other + ".ics?token=" + (*d.value)["feed_token"].get<std::string>();
    nlohmann::json body = {{"id", "demo-" + other}, {"url", url}, {"poll_interval", "20s"}};
    auto r = service_.AddBusySource(ids[i], body.dump());
    if (!r.ok()) {
      core::Log(core::LogLevel::kWarn, "traffic: could not add a busy source")
          .Kv("error", r.error.message);
    }
  }
}

void BuyerTraffic::RemoveSources() {
  std::vector<std::string> ids;
  for (const auto& id : service_.ProviderIds()) {
    if (id.find("synthetic") == std::string::npos) ids.push_back(id);
  }
  for (size_t i = 0; i < ids.size() && ids.size() > 1; ++i) {
    (void)service_.DeleteBusySource(ids[i], "demo-" + ids[(i + 1) % ids.size()]);
  }
}

void BuyerTraffic::Tick() {
  if (!setup_done_) Setup();
  // After a token regeneration (ours or anyone's) the sources poll the old URL
  // (errors, as on the real platform) until the "provider" re-connects them:
  // half a minute after ours, and every 120 ticks in any case.
  if ((resetup_in_ >= 0 && resetup_in_-- == 0) || ++ticks_ % 120 == 0) {
    RemoveSources();
    Setup();
  }
  std::vector<std::string> ids;
  for (const auto& id : service_.ProviderIds()) {
    if (id.find("synthetic") == std::string::npos) ids.push_back(id);
  }
  if (ids.empty()) return;
  const std::string& p = ids[std::uniform_int_distribution<size_t>(0, ids.size() - 1)(rng_)];
  auto now = std::chrono::system_clock::now();

  // A buyer searches the next week.
  FeasibilityQuery q{p, now + std::chrono::hours(24), now + std::chrono::hours(24 * 8), 0};
  auto ans = service_.Feasibility(q);
  if (!ans.ok()) return;
  const std::vector<calendar::oracle::Slot>& fresh = ans.value->slots;
  service_.EmitPlatformEvent("cal.search.slots_surfaced", p,
                             {{"count", static_cast<int64_t>(fresh.size())}});
  std::vector<calendar::oracle::Slot> previous = std::move(last_slots_[p]);
  last_slots_[p] = fresh;
  // Usually the buyer acts on the fresh result, sometimes on a stale page.
  const auto& slots = previous.empty() || !Chance(0.2) ? fresh : previous;

  // Some searches become an Instant Book attempt: a hold, then a confirm.
  if (!slots.empty() && Chance(0.5)) {
    // Mostly early slots, so attempts sometimes collide with live holds.
    size_t span = std::min<size_t>(slots.size(), 6);
    const auto& slot = slots[std::uniform_int_distribution<size_t>(0, span - 1)(rng_)];
    auto hold = service_.CreateHold({p, slot.start, slot.end, kHoldTtlSeconds, "search"});
    if (!hold.ok()) {
      service_.EmitPlatformEvent("cal.booking.instant", p, {{"accepted", false}});
    } else if (Chance(0.7)) {
      auto booking = service_.ConfirmHold(hold.value->id);
      service_.EmitPlatformEvent("cal.booking.instant", p, {{"accepted", booking.ok()}});
      if (booking.ok()) bookings_.push_back(booking.value->id);
    }  // else: abandoned; the hold expires after its TTL
  }
  // Reschedules: the oldest booking is cancelled and rebooked elsewhere.
  if (bookings_.size() > kMaxBookings) {
    (void)service_.DeleteBooking(bookings_.front());
    bookings_.pop_front();
    double latency_ms = std::uniform_real_distribution<>(1500, 25000)(rng_);
    service_.EmitPlatformEvent("cal.booking.rebooked", p, {{"latency_ms", latency_ms}});
  }
  if (Chance(0.08)) {
    static const char* kTags[] = {"calendar", "calendar", "billing", "account"};
    service_.EmitPlatformEvent(
        "cal.support.ticket", p,
        {{"tag", std::string(kTags[std::uniform_int_distribution<>(0, 3)(rng_)])}});
  }
  // Providers edit their availability now and then (no-op edits keep the
  // demo's truth unchanged but are real rule updates).
  if (Chance(0.05)) (void)service_.UpdateRules(p, "{}");
  if (Chance(0.06)) {
    auto start = std::chrono::floor<std::chrono::hours>(now + std::chrono::hours(24 * 20));
    nlohmann::json ex = {{"kind", "blocked"},
                         {"start", core::FormatRfc3339(start)},
                         {"end", core::FormatRfc3339(start + std::chrono::hours(2))}};
    (void)service_.AddException(p, ex.dump());
  }
  if (resetup_in_ < 0 && Chance(0.004)) {
    (void)service_.RegenerateFeedToken(p);
    resetup_in_ = 30;
  }
}

}  // namespace calprobe::sandbox
