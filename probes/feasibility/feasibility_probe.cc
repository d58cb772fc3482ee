#include "probes/feasibility/feasibility_probe.h"

#include <algorithm>

#include "core/auth/credentials.h"
#include "probes/feasibility/live_spans.h"
#include "probes/feasibility/options.h"

namespace calprobe::probes::feasibility {
namespace {

namespace oracle = calendar::oracle;
using core::HttpRequest;
using core::HttpResponse;
using core::ProbeOutcome;
using std::chrono::milliseconds;

// Re-issue the query once when the system's clock (Date header) is this far
// from the estimate the window was built on.
constexpr auto kResyncThreshold = std::chrono::minutes(1);

// State kept across runs of one target (runs of a target never overlap).
struct State {
  oracle::BusyCalendar busy;  // from busy_ics.url
  std::string busy_etag;
  bool busy_loaded = false;
  core::TimePoint busy_fetched{};
  core::Duration clock_offset{0};  // system clock (Date header) - agent clock
};

struct RunState {
  core::ProbeContext* ctx = nullptr;
  std::function<void(ProbeOutcome)> done;
  bool resynced = false;
  std::string busy_warning;
  std::vector<oracle::Span> live_before;  // truth.live_spans before the query
  // Filled once the answer is read, for Conclude().
  oracle::Span window;
  core::TimePoint now;
  MappedResponse mapped;
  double duration_ms = 0;
  int status = 0;
  nlohmann::json details = nlohmann::json::object();
};

milliseconds Remaining(core::ProbeContext& ctx) {
  auto left = std::chrono::duration_cast<milliseconds>(ctx.deadline() - ctx.clock().Now());
  return std::max(left, milliseconds(1));
}

ProbeOutcome Fail(std::string reason, std::string message, nlohmann::json details = {}) {
  ProbeOutcome o;
  o.reason = std::move(reason);
  o.message = std::move(message);
  if (details.is_object()) o.details = std::move(details);
  return o;
}

class FeasibilityProbe final : public core::Probe {
 public:
  explicit FeasibilityProbe(Options o)
      : o_(std::make_shared<const Options>(std::move(o))), state_(std::make_shared<State>()) {}

  void Run(core::ProbeContext& ctx, std::function<void(ProbeOutcome)> done) override {
    auto run = std::make_shared<RunState>();
    run->ctx = &ctx;
    run->done = std::move(done);
    const auto& src = o_->truth.busy_ics;
    if (!src.url.empty() &&
        (!state_->busy_loaded || ctx.clock().Now() - state_->busy_fetched >= src.refresh)) {
      FetchBusy(run);
    } else {
      Start(run);
    }
  }

 private:
  void FetchBusy(const std::shared_ptr<RunState>& run) {
    const auto& src = o_->truth.busy_ics;
    HttpRequest req;
    req.url = src.url;
    req.headers = src.headers;
    if (!state_->busy_etag.empty()) req.headers.emplace_back("If-None-Match", state_->busy_etag);
    req.timeout = Remaining(*run->ctx);
    run->ctx->http().Fetch(std::move(req), [this, run, o = o_, st = state_](HttpResponse r) {
      std::string error;
      if (!r.ok()) {
        error = std::string(core::TransportErrorCode(r.error)) + ": " + r.error_message;
      } else if (r.status == 304 && st->busy_loaded) {
        st->busy_fetched = run->ctx->clock().Now();
      } else if (r.status != 200) {
        error = "status " + std::to_string(r.status);
      } else {
        std::string etag(r.Header("etag"));
        auto cal = oracle::BusyCalendar::FromIcs(r.body, etag, &error);
        if (error.empty()) {
          st->busy = std::move(cal);
          st->busy_etag = std::move(etag);
          st->busy_loaded = true;
          st->busy_fetched = run->ctx->clock().Now();
        }
      }
      if (!error.empty()) {
        error = "busy ICS " + o->truth.busy_ics.url + ": " + error;
        if (!st->busy_loaded) return run->done(Fail("truth_source", error));
        run->busy_warning = error + " (judging with the last good copy)";
      }
      Start(run);
    });
  }

  // Live spans before the query (if any), then the query.
  void Start(const std::shared_ptr<RunState>& run) {
    if (o_->truth.live_spans.empty()) return Query(run);
    FetchLiveSpans(*run->ctx, o_->truth.live_spans, [this, run](auto spans) {
      if (!spans.ok()) return Finish(run, Fail("truth_source", "live spans " + spans.error()));
      run->live_before = std::move(*spans);
      Query(run);
    });
  }

  void Query(const std::shared_ptr<RunState>& run) {
    core::ProbeContext& ctx = *run->ctx;
    const Options& o = *o_;
    const core::TimePoint now_estimate =
        ctx.clock().Now() +
        (o.now_from == NowSource::kDateHeader ? state_->clock_offset : core::Duration::zero());
    const oracle::Span window = ComputeWindow(o.window, o.truth.truth.timezone, now_estimate);
    const std::string& tz = o.truth.truth.timezone;
    TemplateVars vars = {{"provider_id", o.provider_id},
                         {"from", FormatTime(window.start, o.time_format, tz)},
                         {"to", FormatTime(window.end, o.time_format, tz)},
                         {"duration_minutes", std::to_string(o.truth.truth.slot_minutes)},
                         {"now", FormatTime(now_estimate, o.time_format, tz)}};
    HttpRequest req = BuildRequest(o.request, vars);
    req.timeout = Remaining(ctx);
    if (o.request.auth.empty()) {
      ctx.http().Fetch(std::move(req), [this, run, window, now_estimate](HttpResponse r) {
        OnResponse(run, window, now_estimate, r);
      });
      return;
    }
    core::auth::CredentialSet* creds = ctx.credentials();
    if (!creds) return Finish(run, Fail("credential.unavailable", "no credentials configured"));
    creds->Authorize(
        o.request.auth, &ctx.target(),
        [this, run, window, now_estimate, req = std::move(req)](core::auth::AuthResult a) mutable {
          if (!a.ok) return Finish(run, Fail(a.reason, a.message));
          for (auto& h : a.headers) req.headers.push_back(std::move(h));
          run->ctx->http().Fetch(std::move(req), [this, run, window, now_estimate](HttpResponse r) {
            OnResponse(run, window, now_estimate, r);
          });
        });
  }

  void OnResponse(const std::shared_ptr<RunState>& run, const oracle::Span& window,
                  core::TimePoint now_estimate, const HttpResponse& r) {
    core::ProbeContext& ctx = *run->ctx;
    const Options& o = *o_;
    run->duration_ms = r.timings.total * 1000;
    run->status = r.status;
    run->window = window;
    nlohmann::json& details = run->details;
    details = {{"window",
                {{"from", oracle::FormatUtc(window.start)}, {"to", oracle::FormatUtc(window.end)}}},
               {"duration_ms", run->duration_ms},
               {"status", r.status}};
    if (!run->busy_warning.empty()) details["busy_ics_warning"] = run->busy_warning;
    if (!r.ok()) {
      return Finish(run, Fail(std::string(core::TransportErrorCode(r.error)), r.error_message));
    }
    const auto& want = o.request.expect_status;
    if (want.empty() ? (r.status < 200 || r.status > 299)
                     : std::find(want.begin(), want.end(), r.status) == want.end()) {
      return Finish(run,
                    Fail("assertion", "status " + std::to_string(r.status) + ", expected " +
                                          (want.empty() ? "2xx" : std::to_string(want.front()))));
    }
    run->now = now_estimate;
    details["now_source"] = o.now_from == NowSource::kDateHeader ? "date_header" : "agent";
    if (o.now_from == NowSource::kDateHeader) {
      auto date = ParseHttpDate(r.Header("date"));
      if (!date) {
        return Finish(run, Fail("response", "no valid Date header (now_from: date_header): \"" +
                                                std::string(r.Header("date")) + "\""));
      }
      state_->clock_offset = *date - ctx.clock().Now();
      run->now = *date;
      const auto drift = *date > now_estimate ? *date - now_estimate : now_estimate - *date;
      if (drift > kResyncThreshold && !run->resynced) {
        run->resynced = true;  // the window was built on a stale clock: ask again once
        return Query(run);
      }
    }
    details["now"] = oracle::FormatUtc(run->now);
    auto mapped = MapResponse(r.body, o.response, std::chrono::minutes(o.truth.truth.slot_minutes));
    if (!mapped.ok()) return Finish(run, Fail("response", mapped.error()));
    run->mapped = std::move(*mapped);
    if (o.truth.live_spans.empty()) return Conclude(run, {});
    FetchLiveSpans(ctx, o.truth.live_spans, [this, run](auto after) {
      if (!after.ok()) return Finish(run, Fail("truth_source", "live spans " + after.error()));
      Conclude(run, MergeLiveSpans(run->live_before, std::move(*after)));
    });
  }

  void Conclude(const std::shared_ptr<RunState>& run, LiveSpans live) {
    core::ProbeContext& ctx = *run->ctx;
    const Options& o = *o_;
    const MappedResponse& mapped = run->mapped;
    nlohmann::json& details = run->details;
    oracle::ProviderTruth truth = o.truth.truth;
    if (!o.truth.busy_ics.url.empty()) truth.busy = state_->busy;
    truth.holds.insert(truth.holds.end(), live.stable.begin(), live.stable.end());
    JudgeOptions judge = o.judge;
    judge.unjudged_spans = std::move(live.changed);
    if (!o.truth.live_spans.empty()) details["live_spans"] = truth.holds.size();
    const Verdict v = Judge(truth, run->window, run->now, mapped, judge);

    core::Event gen = ctx.NewEvent("cal.feasible.generated");
    gen.With("slot_count", static_cast<int64_t>(mapped.slots.size()))
        .With("candidate_windows", mapped.candidate_windows.value_or(0))
        .With("duration_ms", run->duration_ms)
        .With("truncated", mapped.truncated.value_or(false))
        .With("source", std::string("synthetic"));
    details["slot_count"] = mapped.slots.size();
    details["truncated"] = mapped.truncated.value_or(false);
    if (mapped.candidate_windows) details["candidate_windows"] = *mapped.candidate_windows;
    std::vector<std::string> rejected;
    if (auto s = ctx.events().Emit(std::move(gen)); !s.ok()) rejected.push_back(s.message());
    const nlohmann::json verdict_details = VerdictDetails(v, judge);
    for (const auto& [key, value] : verdict_details.items()) details[key] = value;
    ProbeOutcome out;
    if (!v.ok()) {
      core::Event mm = ctx.NewEvent("calprobe.feasibility.mismatch");
      AddMismatchFields(v, &mm);
      if (auto s = ctx.events().Emit(std::move(mm)); !s.ok()) rejected.push_back(s.message());
      out = Fail("mismatch", v.Summary());
    } else if (o.latency_budget &&
               run->duration_ms > static_cast<double>(o.latency_budget->count())) {
      out =
          Fail("latency", "answered in " + std::to_string(static_cast<int64_t>(run->duration_ms)) +
                              " ms, budget " + core::FormatDuration(*o.latency_budget));
    } else {
      out.success = true;
    }
    if (o.latency_budget) details["latency_budget_ms"] = o.latency_budget->count();
    if (!rejected.empty()) details["rejected_events"] = rejected;
    Finish(run, std::move(out));
  }

  static void Finish(const std::shared_ptr<RunState>& run, ProbeOutcome out) {
    out.http_status = run->status;
    for (const auto& [key, value] : run->details.items()) out.details[key] = value;
    run->done(std::move(out));
  }

  std::shared_ptr<const Options> o_;
  std::shared_ptr<State> state_;
};

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "feasibility"; }
  std::unique_ptr<core::Probe> Create(const core::ConfigNode& n,
                                      const core::TargetInfo&) const override {
    auto o = ParseOptions(n);
    if (!o) return nullptr;
    return std::make_unique<FeasibilityProbe>(std::move(*o));
  }
  int default_concurrency() const override { return 32; }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace calprobe::probes::feasibility
