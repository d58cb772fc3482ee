#include "probes/ics/ics_probe.h"

#include <algorithm>

#include "core/auth/credentials.h"
#include "core/log.h"
#include "probes/ics/options.h"
#include "probes/ics/poll.h"
#include "probes/ics/source_state.h"

namespace calprobe::probes::ics {
namespace {

using core::HttpResponse;
using core::ProbeOutcome;

int64_t UnixMs(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

core::TimePoint FromUnixMs(int64_t ms) {
  return core::TimePoint(std::chrono::duration_cast<core::Duration>(std::chrono::milliseconds(ms)));
}

nlohmann::json FindingCounts(const PollVerdict& v) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [code, n] : v.finding_counts) j[code] = n;
  return j;
}

class IcsProbe final : public core::Probe {
 public:
  explicit IcsProbe(Options o) : o_(std::move(o)), sources_(nullptr) {}

  void Run(core::ProbeContext& ctx, std::function<void(ProbeOutcome)> done) override {
    if (!loaded_) {
      sources_ = SourceStore(ctx.store());
      state_ = sources_.LoadState(o_.src_id);
      loaded_ = true;
    }
    core::TimePoint now = ctx.clock().Now();
    if (UnixMs(now) < state_.backoff_until_ms) {
      done(BackoffOutcome(now));
      return;
    }
    core::HttpRequest req = o_.request;
    if (state_.event_count >= 0) {  // validators only when a snapshot backs them
      if (!state_.etag.empty()) req.headers.emplace_back("If-None-Match", state_.etag);
      if (!state_.last_modified.empty()) {
        req.headers.emplace_back("If-Modified-Since", state_.last_modified);
      }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() - now);
    req.timeout = std::max(left, std::chrono::milliseconds(1));
    // `done` keeps the run (and so `ctx` and this probe) alive until called.
    ctx.http().Fetch(std::move(req), [this, &ctx, start = now, done = std::move(done)](
                                         HttpResponse r) { done(Finish(ctx, start, r)); });
  }

 private:
  ProbeOutcome BackoffOutcome(core::TimePoint now) const {
    ProbeOutcome out;
    out.skipped = true;
    out.reason = "ics.backoff";
    auto wait =
        std::chrono::duration_cast<std::chrono::seconds>(FromUnixMs(state_.backoff_until_ms) - now);
    out.message = "backing off after " + state_.last_error + " (retry tier " +
                  std::to_string(state_.tier) + "): no request until " +
                  core::FormatRfc3339(FromUnixMs(state_.backoff_until_ms)) + " (in " +
                  std::to_string(wait.count()) + "s)";
    out.details = {{"src_id", o_.src_id},
                   {"skipped", true},
                   {"retry_tier", state_.tier},
                   {"last_error", state_.last_error},
                   {"next_attempt", core::FormatRfc3339(FromUnixMs(state_.backoff_until_ms))}};
    return out;
  }

  ProbeOutcome Finish(core::ProbeContext& ctx, core::TimePoint start, const HttpResponse& r) {
    core::TimePoint now = ctx.clock().Now();
    PollVerdict v = JudgePoll(
        o_, r, [this] { return sources_.LoadSnapshot(o_.src_id); }, now, &state_);
    if (v.new_snapshot) {
      if (core::Status s = sources_.SaveSnapshot(o_.src_id, *v.new_snapshot); !s.ok()) {
        core::Log(core::LogLevel::kError, "cannot store ICS snapshot")
            .Kv("src_id", o_.src_id)
            .Kv("error", s.message());
      }
    }
    if (core::Status s = sources_.SaveState(o_.src_id, state_); !s.ok()) {
      core::Log(core::LogLevel::kError, "cannot store ICS source state")
          .Kv("src_id", o_.src_id)
          .Kv("error", s.message());
    }
    double duration_ms = core::ToSeconds(now - start) * 1000;
    Emit(ctx, v, r, now, duration_ms);
    RecordCredential(ctx, v);

    ProbeOutcome out;
    out.success = v.success;
    out.reason = v.error_code;
    out.message = v.message;
    out.http_status = r.status;
    out.details = {{"src_id", o_.src_id},
                   {"http_status", r.status},
                   {"etag_matched", v.etag_matched},
                   {"added", v.delta.added},
                   {"removed", v.delta.removed},
                   {"changed", v.delta.changed},
                   {"delta_event_count", v.delta.total()},
                   {"event_count", v.event_count},
                   {"previous_event_count", v.previous_event_count},
                   {"first_poll", v.first_poll},
                   {"payload_bytes", r.body.size()},
                   {"wire_bytes", r.wire_bytes},
                   {"content_type", std::string(r.Header("content-type"))},
                   {"redirects", r.redirect_count},
                   {"retry_tier", state_.tier},
                   {"findings", FindingCounts(v)},
                   {"timings",
                    {{"dns", r.timings.dns},
                     {"connect", r.timings.connect},
                     {"tls", r.timings.tls},
                     {"first_byte", r.timings.first_byte},
                     {"total", r.timings.total}}}};
    if (v.mass_deletion_accepted) out.details["mass_deletion_accepted"] = true;
    if (v.refresh_interval_seconds) {
      out.details["refresh_interval_seconds"] = *v.refresh_interval_seconds;
    }
    if (!v.success && state_.backoff_until_ms > 0 && v.error_code != "sync.mass_deletion") {
      out.details["next_attempt"] = core::FormatRfc3339(FromUnixMs(state_.backoff_until_ms));
    }
    if (auto expiry = r.EarliestCertificateExpiry()) {
      out.details["certificate_expiry"] = core::FormatRfc3339(*expiry);
    }
    return out;
  }

  // The feed's secret (URL token or auth) as a credential named after the
  // source: calprobe_credential_valid{credential=src_id,kind="ics_feed"} and
  // calprobe.credential.* events, only once it has been classified.
  void RecordCredential(core::ProbeContext& ctx, const PollVerdict& v) {
    core::auth::CredentialSet* creds = ctx.credentials();
    if (!creds) return;
    using core::auth::Observation;
    if (v.error_code.rfind("credential.", 0) == 0) {
      Observation o;
      o.state = v.error_code == "credential.expired" ? Observation::State::kExpired
                                                     : Observation::State::kRevoked;
      o.reason = v.error_code;
      o.message = v.message;
      creds->Record(o_.src_id, "ics_feed", o, &ctx.target());
      credential_flagged_ = true;
    } else if (v.success && credential_flagged_) {
      Observation o;
      o.state = Observation::State::kValid;
      creds->Record(o_.src_id, "ics_feed", o, &ctx.target());
      credential_flagged_ = false;
    }
  }

  void Emit(core::ProbeContext& ctx, const PollVerdict& v, const HttpResponse& r,
            core::TimePoint now, double duration_ms) {
    core::Event e;
    e.name = v.success ? "cal.ics.poll.ok" : "cal.ics.poll.error";
    e.time = now;
    e.labels = ctx.target().labels;
    e.labels.Set(core::Label::kSrcId, o_.src_id);
    e.labels.Set(core::Label::kOrigin, std::string(core::kOriginSynthetic));
    e.With("http_status", static_cast<int64_t>(r.status))
        .With("etag_matched", v.etag_matched)
        .With("delta_event_count", static_cast<int64_t>(v.delta.total()))
        .With("payload_bytes", static_cast<int64_t>(r.body.size()))
        .With("duration_ms", duration_ms)
        .With("retry_tier", static_cast<int64_t>(state_.tier))
        .With("added", static_cast<int64_t>(v.delta.added))
        .With("removed", static_cast<int64_t>(v.delta.removed))
        .With("changed", static_cast<int64_t>(v.delta.changed));
    if (!v.error_code.empty()) e.With("error_code", v.error_code);
    if (v.event_count >= 0) e.With("event_count", v.event_count);
    if (v.previous_event_count >= 0) e.With("previous_event_count", v.previous_event_count);
    if (v.refresh_interval_seconds) {
      e.With("refresh_interval_seconds", *v.refresh_interval_seconds);
    }
    if (core::Status s = ctx.events().Emit(std::move(e)); !s.ok()) {
      core::Log(core::LogLevel::kWarn, "ICS poll event rejected").Kv("error", s.message());
    }
  }

  Options o_;
  SourceStore sources_;
  SourceState state_;
  bool loaded_ = false;
  bool credential_flagged_ = false;  // a credential.* verdict was recorded
};

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "ics"; }
  std::unique_ptr<core::Probe> Create(const core::ConfigNode& n,
                                      const core::TargetInfo& target) const override {
    Options o;
    if (!ReadOptions(n, target, &o)) return nullptr;
    return std::make_unique<IcsProbe>(std::move(o));
  }
  int default_concurrency() const override { return 64; }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace calprobe::probes::ics
