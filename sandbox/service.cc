// SandboxService: providers, rules, exceptions, holds, bookings, events.
// Feasibility is in feasibility.cc, the feed in feed.cc, busy sources in
// busy_sources.cc.

#include "sandbox/service.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "core/event.h"
#include "core/log.h"
#include "core/secrets.h"
#include "sandbox/service_internal.h"

namespace calprobe::sandbox {

namespace oracle = calendar::oracle;

std::string_view HoldStateName(HoldState s) {
  switch (s) {
    case HoldState::kActive:
      return "active";
    case HoldState::kConverted:
      return "converted";
    case HoldState::kExpired:
      return "expired";
    case HoldState::kReleased:
      return "released";
  }
  return "unknown";
}

std::string NewToken() {
  std::random_device rd;
  std::string out;
  char buf[9];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%08x", static_cast<unsigned>(rd()));
    out += buf;
  }
  return out;
}

std::string FormatLocal(TimePoint t, const oracle::Zone* zone) {
  using namespace std::chrono;
  auto secs = time_point_cast<seconds>(t);
  int off = zone ? static_cast<int>(oracle::UtcOffset(*zone, secs).count()) : 0;
  auto local = secs + seconds(off);
  std::time_t tt = system_clock::to_time_t(local);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string s = buf;
  if (off == 0) return s + "Z";
  int a = off < 0 ? -off : off;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", off < 0 ? '-' : '+', a / 3600, (a / 60) % 60);
  return s + buf;
}

namespace {

// Parses a JSON body with the config readers; on problems fills *err.
std::optional<YAML::Node> ParseBody(const std::string& body, core::ConfigErrors* errors) {
  if (body.empty()) {
    errors->Add({"request body", 0, 0, "", "empty body; send a JSON object"});
    return std::nullopt;
  }
  return ParseYamlText(body, "request body", errors);
}

ApiError BodyError(const core::ConfigErrors& errors) {
  ApiError e{400, "invalid request body", "", {}, nlohmann::json::object()};
  for (const auto& ce : errors.all()) {
    e.details.push_back(ce.ToString());
    if (e.param.empty()) e.param = ce.path;
  }
  if (!errors.all().empty())
    e.message = errors.all().front().path.empty()
                    ? errors.all().front().message
                    : errors.all().front().path + ": " + errors.all().front().message;
  return e;
}

}  // namespace

SandboxService::SandboxService(const SandboxConfig& config, ServiceDeps deps)
    : config_(config), deps_(deps) {
  for (const auto& pc : config_.providers) {
    auto p = std::make_unique<ProviderState>();
    p->config = pc;
    p->feed_token = pc.feed_token.empty() ? NewToken() : pc.feed_token;
    core::Secrets::Register(p->feed_token);
    for (const auto& ex : pc.exceptions) {
      p->exceptions.push_back({"ex" + std::to_string(next_id_++), ex});
    }
    for (const auto& bs : pc.busy_sources) {
      BusySourceState s;
      s.config = bs;
      p->sources.push_back(std::move(s));
    }
    providers_[pc.id] = std::move(p);
  }
}

SandboxService::~SandboxService() = default;

core::Event SandboxService::NewEvent(const std::string& name, const ProviderState* p) const {
  core::Event e;
  e.name = name;
  e.time = deps_.event_clock.Now();
  e.labels.Set(core::Label::kRegion, config_.region);
  e.labels.Set(core::Label::kOrigin, std::string(core::kOriginPlatform));
  if (p) {
    e.labels.Set(core::Label::kProvider, p->config.id);
    e.labels.Set(core::Label::kRole, p->config.role);
  }
  return e;
}

void SandboxService::EmitLocked(core::Event e) { (void)deps_.sink.Emit(std::move(e)); }

void SandboxService::EmitPlatformEvent(const std::string& name, const std::string& provider_id,
                                       std::vector<core::Field> fields) {
  std::lock_guard lock(mu_);
  core::Event e = NewEvent(name, FindLocked(provider_id));
  e.fields = std::move(fields);
  EmitLocked(std::move(e));
}

SandboxService::ProviderState* SandboxService::FindLocked(const std::string& id) const {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : it->second.get();
}

void SandboxService::TouchLocked(ProviderState* p) { ++p->version; }

std::vector<std::string> SandboxService::ProviderIds() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> ids;
  for (const auto& [id, p] : providers_) ids.push_back(id);
  return ids;
}

ApiResult<nlohmann::json> SandboxService::DescribeProvider(const std::string& id,
                                                           bool with_secrets) const {
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  const auto& t = p->config.truth;
  const oracle::Zone* zone = oracle::FindZone(t.timezone);
  nlohmann::json rules = nlohmann::json::array();
  auto hhmm = [](int m) {
    char b[16];
    std::snprintf(b, sizeof b, "%02d:%02d", m / 60, m % 60);
    return std::string(b);
  };
  for (const auto& r : t.rules) {
    rules.push_back({{"weekday_mask", r.weekday_mask},
                     {"start", hhmm(r.start_minute)},
                     {"end", hhmm(r.end_minute)}});
  }
  nlohmann::json exceptions = nlohmann::json::array();
  for (const auto& e : p->exceptions) {
    exceptions.push_back({{"exception_id", e.id},
                          {"kind", e.ex.kind},
                          {"start", FormatLocal(e.ex.span.start, zone)},
                          {"end", FormatLocal(e.ex.span.end, zone)}});
  }
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& s : p->sources) {
    nlohmann::json j = {{"source_id", s.config.id},   {"inline", s.inline_ics},
                        {"loaded", s.have_data},      {"last_status", s.last_status},
                        {"last_error", s.last_error}, {"busy_events", s.calendar.stats().events}};
    if (!s.inline_ics) {
      j["url"] = core::RedactUrl(s.config.url);
      j["poll_interval_seconds"] = s.config.poll_interval.count() / 1000.0;
    }
    sources.push_back(std::move(j));
  }
  nlohmann::json out = {{"provider_id", id},
                        {"role", p->config.role},
                        {"timezone", t.timezone},
                        {"slot_minutes", t.slot_minutes},
                        {"granularity_minutes", t.granularity_minutes},
                        {"lead_time_hours", t.lead_time_hours},
                        {"max_slots", p->config.max_slots},
                        {"rules", rules},
                        {"exceptions", exceptions},
                        {"busy_sources", sources},
                        {"version", p->version}};
  if (with_secrets) out["feed_token"] = p->feed_token;
  return out;
}

ApiResult<nlohmann::json> SandboxService::UpdateRules(const std::string& id,
                                                      const std::string& body) {
  core::ConfigErrors errors;
  auto yaml = ParseBody(body, &errors);
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  if (!yaml) return BodyError(errors);
  oracle::ProviderTruth truth = p->config.truth;
  core::ConfigNode root(*yaml, std::make_shared<const std::string>("request body"), "", &errors);
  ReadRulesUpdate(root, &truth);
  if (errors.empty()) ReportTruthErrors(oracle::ValidateTruth(truth, "@"), root);
  if (!errors.empty()) return BodyError(errors);
  p->config.truth = truth;
  TouchLocked(p);
  uint8_t mask = 0;
  for (const auto& r : truth.rules) mask |= r.weekday_mask;
  EmitLocked(NewEvent("cal.rule.updated", p)
                 .With("weekday_mask", int64_t{mask})
                 .With("timezone", truth.timezone)
                 .With("lead_time_hours", int64_t{truth.lead_time_hours}));
  core::Log(core::LogLevel::kInfo, "rules updated")
      .Kv("provider", id)
      .Kv("rules", truth.rules.size());
  return nlohmann::json{{"provider_id", id},
                        {"rules", truth.rules.size()},
                        {"weekday_mask", mask},
                        {"timezone", truth.timezone},
                        {"lead_time_hours", truth.lead_time_hours},
                        {"version", p->version}};
}

ApiResult<nlohmann::json> SandboxService::AddException(const std::string& id,
                                                       const std::string& body) {
  core::ConfigErrors errors;
  auto yaml = ParseBody(body, &errors);
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  if (!yaml) return BodyError(errors);
  core::ConfigNode root(*yaml, std::make_shared<const std::string>("request body"), "", &errors);
  auto ex = ReadException(root);
  if (!ex || !errors.empty()) return BodyError(errors);
  std::string eid = "ex" + std::to_string(next_id_++);
  p->exceptions.push_back({eid, *ex});
  TouchLocked(p);
  double minutes = std::chrono::duration<double>(ex->span.end - ex->span.start).count() / 60.0;
  EmitLocked(
      NewEvent("cal.exception.upserted", p).With("kind", ex->kind).With("span_minutes", minutes));
  const oracle::Zone* zone = oracle::FindZone(p->config.truth.timezone);
  return nlohmann::json{{"exception_id", eid},
                        {"provider_id", id},
                        {"kind", ex->kind},
                        {"start", FormatLocal(ex->span.start, zone)},
                        {"end", FormatLocal(ex->span.end, zone)}};
}

ApiResult<bool> SandboxService::DeleteException(const std::string& id,
                                                const std::string& exception_id) {
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  size_t n =
      std::erase_if(p->exceptions, [&](const ExceptionState& e) { return e.id == exception_id; });
  if (n == 0) return NotFoundError("exception", exception_id);
  TouchLocked(p);
  return true;
}

std::optional<std::string> SandboxService::OverlapLocked(const std::string& provider_id,
                                                         const Span& s) const {
  for (const auto& [id, h] : holds_) {
    if (h.provider_id == provider_id && h.state == HoldState::kActive && h.span.Overlaps(s))
      return id;
  }
  for (const auto& [id, b] : bookings_) {
    if (b.provider_id == provider_id && b.span.Overlaps(s)) return id;
  }
  return std::nullopt;
}

ApiResult<Hold> SandboxService::CreateHold(const HoldRequest& r) {
  std::lock_guard lock(mu_);
  TimePoint now = deps_.clock.Now();
  ExpireLocked(now);
  ProviderState* p = FindLocked(r.provider_id);
  if (!p) return ApiError{404, "unknown provider \"" + r.provider_id + "\"", "provider_id", {}, {}};
  if (r.end <= r.start) return ApiError{400, "end: must be after start", "end", {}, {}};
  if (r.end - r.start > std::chrono::hours(24)) {
    return ApiError{400, "end: a hold spans at most 24 hours", "end", {}, {}};
  }
  if (r.ttl_seconds < 1 || r.ttl_seconds > 86400) {
    return ApiError{400, "ttl_seconds: expected 1..86400 seconds", "ttl_seconds", {}, {}};
  }
  double ttl_minutes = r.ttl_seconds / 60.0;
  auto conflict = OverlapLocked(r.provider_id, {r.start, r.end});
  if (conflict && !deps_.faults.Active("overlap_not_rejected", r.provider_id)) {
    ++holds_rejected_;
    EmitLocked(NewEvent("cal.hold.created", p)
                   .With("source", r.source)
                   .With("ttl_minutes", ttl_minutes)
                   .With("overlap_detected", true));
    ApiError e{
        409, "the span overlaps an existing hold or booking", "", {}, nlohmann::json::object()};
    e.extra["overlap_detected"] = true;
    e.extra["conflicting_id"] = *conflict;
    return e;
  }
  Hold h;
  h.id = "h" + std::to_string(next_id_++);
  h.provider_id = r.provider_id;
  h.source = r.source;
  h.span = {r.start, r.end};
  h.ttl_seconds = r.ttl_seconds;
  h.created_at = now;
  h.expires_at = now + std::chrono::seconds(r.ttl_seconds);
  holds_[h.id] = h;
  ++holds_created_;
  // The hold_not_hidden fault: a stale cache keeps serving the held slot.
  if (!deps_.faults.Active("hold_not_hidden", r.provider_id)) TouchLocked(p);
  EmitHoldEventLocked("cal.hold.created", h, p);
  PruneLocked();
  return h;
}

int SandboxService::ExpireLocked(TimePoint now) {
  int n = 0;
  for (auto& [id, h] : holds_) {
    if (h.state != HoldState::kActive || h.expires_at > now) continue;
    if (deps_.faults.Active("hold_never_expires", h.provider_id)) continue;
    h.state = HoldState::kExpired;
    h.ended_at = now;
    ++n;
    ++holds_expired_;
    ProviderState* p = FindLocked(h.provider_id);
    if (p) TouchLocked(p);
    EmitHoldEventLocked("cal.hold.expired", h, p);
  }
  return n;
}

void SandboxService::EmitHoldEventLocked(const std::string& name, const Hold& h,
                                         const ProviderState* p) {
  EmitLocked(NewEvent(name, p)
                 .With("source", h.source)
                 .With("ttl_minutes", h.ttl_seconds / 60.0)
                 .With("overlap_detected", false)
                 .With("hold_id", h.id));
}

int SandboxService::Sweep() {
  std::lock_guard lock(mu_);
  return ExpireLocked(deps_.clock.Now());
}

ApiResult<Booking> SandboxService::ConfirmHold(const std::string& hold_id) {
  std::lock_guard lock(mu_);
  TimePoint now = deps_.clock.Now();
  ExpireLocked(now);
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return NotFoundError("hold", hold_id);
  Hold& h = it->second;
  if (h.state == HoldState::kConverted) return bookings_.at(h.booking_id);
  if (h.state != HoldState::kActive) {
    ApiError e{410,
               "hold " + hold_id + " is " + std::string(HoldStateName(h.state)),
               "",
               {},
               nlohmann::json::object()};
    e.extra["state"] = std::string(HoldStateName(h.state));
    return e;
  }
  Booking b;
  b.id = "b" + std::to_string(next_id_++);
  b.provider_id = h.provider_id;
  b.hold_id = h.id;
  b.source = h.source;
  b.span = h.span;
  b.created_at = now;
  bookings_[b.id] = b;
  h.state = HoldState::kConverted;
  h.ended_at = now;
  h.booking_id = b.id;
  ++holds_converted_;
  ProviderState* p = FindLocked(h.provider_id);
  if (p) TouchLocked(p);
  EmitHoldEventLocked("cal.hold.converted", h, p);
  return b;
}

ApiResult<Hold> SandboxService::ReleaseHold(const std::string& hold_id) {
  std::lock_guard lock(mu_);
  TimePoint now = deps_.clock.Now();
  ExpireLocked(now);
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return NotFoundError("hold", hold_id);
  Hold& h = it->second;
  if (h.state == HoldState::kActive) {
    h.state = HoldState::kReleased;
    h.ended_at = now;
    if (ProviderState* p = FindLocked(h.provider_id)) TouchLocked(p);
  }
  return h;
}

ApiResult<Hold> SandboxService::GetHold(const std::string& hold_id) {
  std::lock_guard lock(mu_);
  ExpireLocked(deps_.clock.Now());
  auto it = holds_.find(hold_id);
  if (it == holds_.end()) return NotFoundError("hold", hold_id);
  return it->second;
}

std::vector<Hold> SandboxService::Holds(const std::string& provider_id, bool active_only) {
  std::lock_guard lock(mu_);
  ExpireLocked(deps_.clock.Now());
  std::vector<Hold> out;
  for (const auto& [id, h] : holds_) {
    if (!provider_id.empty() && h.provider_id != provider_id) continue;
    if (active_only && h.state != HoldState::kActive) continue;
    out.push_back(h);
  }
  return out;
}

std::vector<Booking> SandboxService::Bookings(const std::string& provider_id) {
  std::lock_guard lock(mu_);
  std::vector<Booking> out;
  for (const auto& [id, b] : bookings_) {
    if (provider_id.empty() || b.provider_id == provider_id) out.push_back(b);
  }
  return out;
}

ApiResult<Booking> SandboxService::DeleteBooking(const std::string& booking_id) {
  std::lock_guard lock(mu_);
  auto it = bookings_.find(booking_id);
  if (it == bookings_.end()) return NotFoundError("booking", booking_id);
  Booking b = it->second;
  bookings_.erase(it);
  if (ProviderState* p = FindLocked(b.provider_id)) TouchLocked(p);
  return b;
}

void SandboxService::PruneLocked() {
  // Keep at most 10000 ended holds (the newest); live ones are never pruned.
  constexpr size_t kMaxEnded = 10000;
  size_t ended = 0;
  for (const auto& [id, h] : holds_) ended += h.state != HoldState::kActive;
  if (ended <= kMaxEnded) return;
  std::vector<std::pair<TimePoint, std::string>> order;
  for (const auto& [id, h] : holds_) {
    if (h.state != HoldState::kActive) order.emplace_back(h.ended_at, id);
  }
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < ended - kMaxEnded; ++i) holds_.erase(order[i].second);
}

nlohmann::json SandboxService::Stats() const {
  std::lock_guard lock(mu_);
  size_t active = 0;
  for (const auto& [id, h] : holds_) active += h.state == HoldState::kActive;
  return {{"cache_hits", cache_hits_},           {"cache_misses", cache_misses_},
          {"cache_entries", cache_.size()},      {"holds_created", holds_created_},
          {"holds_rejected", holds_rejected_},   {"holds_expired", holds_expired_},
          {"holds_converted", holds_converted_}, {"holds_active", active},
          {"bookings", bookings_.size()},        {"feed_requests", feed_requests_},
          {"feed_rejected", feed_rejected_}};
}

}  // namespace calprobe::sandbox
