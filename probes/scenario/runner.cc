#include "probes/scenario/runner.h"

#include <strings.h>

#include <atomic>

#include "core/secrets.h"
#include "probes/scenario/checks.h"
#include "probes/scenario/journal.h"

namespace calprobe::probes::scenario {
namespace {

using core::TimePoint;
using std::chrono::milliseconds;

double Seconds(core::Duration d) { return std::chrono::duration<double>(d).count(); }

std::string NewRunId() {
  static std::atomic<uint64_t> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::to_string(std::chrono::duration_cast<milliseconds>(now).count() % 100000000) + "-" +
         std::to_string(++counter);
}

class Journey : public std::enable_shared_from_this<Journey> {
 public:
  Journey(std::shared_ptr<const Scenario> s, core::ProbeContext& ctx, JourneyOptions o,
          std::function<void(JourneyReport)> done)
      : s_(std::move(s)), ctx_(ctx), o_(o), done_(std::move(done)) {
    vars_ = s_->vars;
    vars_["run_id"] = NewRunId();
    vars_["target"] = ctx_.target().name;
    start_ = Now();
    main_deadline_ = ctx_.deadline() - o_.cleanup_reserve;
    if (main_deadline_ < start_) main_deadline_ = ctx_.deadline();
    report_.scenario = s_->name;
  }

  void Start() { NextMain(); }

 private:
  TimePoint Now() { return ctx_.clock().Now(); }

  void NextMain() {
    if (index_ >= s_->steps.size() || failed_) {
      // Steps after a failure are reported as skipped.
      for (size_t i = index_; i < s_->steps.size(); ++i) {
        StepReport r = NewReport(s_->steps[i], "main");
        r.message = "not run: an earlier step failed";
        report_.steps.push_back(std::move(r));
      }
      StartCleanup();
      return;
    }
    const Step& step = s_->steps[index_++];
    RunStep(step, "main",
            [self = shared_from_this()](StepReport r) { self->MainStepDone(std::move(r)); });
  }

  void MainStepDone(StepReport r) {
    if (r.status == StepStatus::kFailed || r.status == StepStatus::kError) {
      failed_ = true;
      report_.reason = r.reason;
      report_.failed_step = r.name;
      report_.message = "step " + std::to_string(index_) + " " + r.name + ": " + r.message;
      if (r.reason == "scenario.timeout") report_.timed_out = true;
    }
    report_.steps.push_back(std::move(r));
    Journal();
    NextMain();
  }

  // Records the cleanup requests renderable with what is known now.
  void Journal() {
    if (!o_.journal || !ctx_.store() || s_->cleanup.empty()) return;
    std::vector<PendingRequest> pending;
    for (const auto& step : s_->cleanup) {
      if (step.kind != StepKind::kRequest || !Renderable(step)) continue;
      if (step.when) {
        auto w = step.when->Render(vars_, Now());
        if (!w.ok() || IsFalsy(*w)) continue;
      }
      auto req = BuildRequest(step);
      if (req.ok()) pending.push_back({step.name, std::move(req.value())});
    }
    (void)CleanupJournal(ctx_.store()).Record(ctx_.target().name, s_->name, pending);
  }

  bool Renderable(const Step& step) const {
    for (const auto& v : step.uses) {
      if (!IsBuiltinVariable(v) && !vars_.count(v)) return false;
    }
    return true;
  }

  void StartCleanup() {
    cleanup_deadline_ = std::max(Now(), ctx_.deadline()) + s_->cleanup_timeout;
    NextCleanup();
  }

  void NextCleanup() {
    if (cleanup_index_ >= s_->cleanup.size()) {
      Finish();
      return;
    }
    const Step& step = s_->cleanup[cleanup_index_++];
    if (!Renderable(step)) {
      StepReport r = NewReport(step, "cleanup");
      r.message = "not needed: its variables were never captured";
      report_.steps.push_back(std::move(r));
      NextCleanup();
      return;
    }
    RunStep(step, "cleanup", [self = shared_from_this()](StepReport r) {
      if (r.status == StepStatus::kFailed || r.status == StepStatus::kError) {
        self->report_.cleanup_ok = false;
        if (self->report_.reason.empty()) {
          self->report_.reason = "cleanup";
          self->report_.failed_step = r.name;
          self->report_.message = "cleanup step " + r.name + ": " + r.message;
        }
      }
      self->report_.steps.push_back(std::move(r));
      self->NextCleanup();
    });
  }

  void Finish() {
    if (o_.journal && ctx_.store() && report_.cleanup_ok) {
      (void)CleanupJournal(ctx_.store()).Remove(ctx_.target().name);
    }
    report_.success = !failed_ && report_.cleanup_ok;
    report_.seconds = Seconds(Now() - start_);
    core::Event e = ctx_.NewEvent("calprobe.scenario.run");
    e.With("scenario", s_->name)
        .With("success", report_.success)
        .With("duration_ms", report_.seconds * 1000)
        .With("cleanup_ok", report_.cleanup_ok);
    if (!report_.failed_step.empty()) e.With("failed_step", report_.failed_step);
    (void)ctx_.events().Emit(std::move(e));
    auto done = std::move(done_);
    done(std::move(report_));
  }

  StepReport NewReport(const Step& step, const char* phase) {
    StepReport r;
    r.name = step.name;
    r.phase = phase;
    r.kind = std::string(StepKindName(step.kind));
    r.measure = step.measure;
    return r;
  }

  core::Result<core::HttpRequest> BuildRequest(const Step& step) {
    core::HttpRequest req;
    const RequestTemplate& t = step.request;
    TimePoint now = Now();
    req.method = t.method;
    auto url = t.url.Render(vars_, now);
    if (!url.ok()) return url.status();
    req.url = std::move(*url);
    bool has_type = false;
    for (const auto& [k, v] : t.headers) {
      auto r = v.Render(vars_, now);
      if (!r.ok()) return r.status();
      has_type |= strcasecmp(k.c_str(), "content-type") == 0;
      req.headers.emplace_back(k, std::move(*r));
    }
    if (t.body_text) {
      auto r = t.body_text->Render(vars_, now);
      if (!r.ok()) return r.status();
      req.body = std::move(*r);
    } else if (t.body_json) {
      auto r = t.body_json->Render(vars_, now);
      if (!r.ok()) return r.status();
      req.body = r->dump();
      if (!has_type) req.headers.emplace_back("Content-Type", "application/json");
    }
    req.timeout = t.timeout;
    req.max_body_bytes = 16 * 1024 * 1024;
    return req;
  }

  // One step, with its poll loop. `finish` gets the step's report.
  void RunStep(const Step& step, const char* phase, std::function<void(StepReport)> finish) {
    auto st = std::make_shared<StepRun>();
    st->step = &step;
    st->report = NewReport(step, phase);
    st->start = Now();
    st->cleanup = std::string_view(phase) == "cleanup";
    st->finish = std::move(finish);
    if (step.when) {
      auto w = step.when->Render(vars_, st->start);
      if (w.ok() && IsFalsy(*w)) {
        st->report.message = "skipped: when: is false";
        st->finish(std::move(st->report));
        return;
      }
    }
    Attempt(st);
  }

  struct StepRun {
    const Step* step = nullptr;
    StepReport report;
    TimePoint start;
    bool cleanup = false;
    std::function<void(StepReport)> finish;
  };

  TimePoint Deadline(const StepRun& st) const {
    return st.cleanup ? cleanup_deadline_ : main_deadline_;
  }

  void Attempt(const std::shared_ptr<StepRun>& st) {
    const Step& step = *st->step;
    ++st->report.attempts;
    TimePoint now = Now();
    if (now >= Deadline(*st)) {
      Conclude(st, StepStatus::kError, "scenario.timeout",
               st->cleanup
                   ? "cleanup time (" + core::FormatDuration(s_->cleanup_timeout) + ") ran out"
                   : "the journey's timeout ran out before this step finished");
      return;
    }
    auto self = shared_from_this();
    switch (step.kind) {
      case StepKind::kWait: {
        core::Duration d = step.wait;
        if (step.wait_until) {
          auto r = step.wait_until->Render(vars_, now);
          if (!r.ok()) return Conclude(st, StepStatus::kError, "scenario.error", r.error());
          auto t = core::ParseRfc3339(*r);
          if (!t)
            return Conclude(st, StepStatus::kError, "scenario.error",
                            "wait_until: \"" + *r + "\" is not an RFC 3339 instant");
          d = std::max(core::Duration::zero(), *t - now);
        }
        if (now + d > Deadline(*st)) {
          ctx_.After(Deadline(*st) - now, [self, st] {
            self->Conclude(st, StepStatus::kError, "scenario.timeout",
                           "the journey's timeout ran out while waiting");
          });
          return;
        }
        ctx_.After(d, [self, st] { self->Conclude(st, StepStatus::kPassed, "", ""); });
        return;
      }
      case StepKind::kFeasibility: {
        if (!step.feasibility) {
          return Conclude(st, StepStatus::kError, "scenario.error", "feasibility check not bound");
        }
        step.feasibility->Run(ctx_, [self, st](core::ProbeOutcome o) {
          if (o.success) return self->Conclude(st, StepStatus::kPassed, "", "");
          bool transport = o.reason.rfind("http.", 0) == 0;
          self->Retry(st, transport ? StepStatus::kError : StepStatus::kFailed,
                      o.reason.empty() ? "assertion" : o.reason, core::Secrets::Redact(o.message),
                      "");
        });
        return;
      }
      default:
        break;
    }
    auto req = BuildRequest(step);
    if (!req.ok()) return Conclude(st, StepStatus::kError, "scenario.error", req.error());
    auto left = std::chrono::duration_cast<milliseconds>(Deadline(*st) - now);
    if (left < req->timeout) req->timeout = std::max(left, milliseconds(1));
    core::HttpRequest sent = *req;
    ctx_.http().Fetch(std::move(req.value()), [self, st, sent](core::HttpResponse r) {
      if (!r.ok()) {
        std::string excerpt = Excerpt(sent, r);
        bool timeout =
            r.error == core::TransportError::kTimeout && self->Now() >= self->Deadline(*st);
        return self->Retry(
            st, StepStatus::kError,
            timeout ? "scenario.timeout" : std::string(core::TransportErrorCode(r.error)),
            core::Secrets::Redact(r.error_message), excerpt);
      }
      auto captured = ApplyCaptures(*st->step, r, &self->vars_);
      // After the captures: a value captured with `secret: true` is already
      // registered, so it is redacted in this step's own excerpt too.
      std::string excerpt = Excerpt(sent, r);
      auto failure = JudgeResponse(*st->step, r, self->vars_, self->Now());
      if (!failure && !captured.ok()) failure = captured.message();
      if (failure) {
        return self->Retry(st, StepStatus::kFailed, "assertion", core::Secrets::Redact(*failure),
                           excerpt);
      }
      st->report.excerpt = excerpt;
      self->Conclude(st, StepStatus::kPassed, "", "");
    });
  }

  // A failed attempt: tries again under poll_until while its deadline allows.
  void Retry(const std::shared_ptr<StepRun>& st, StepStatus status, std::string reason,
             std::string message, std::string excerpt) {
    st->report.excerpt = std::move(excerpt);
    const auto& poll = st->step->poll;
    TimePoint now = Now();
    if (poll && now + poll->interval < st->start + poll->deadline &&
        now + poll->interval < Deadline(*st)) {
      auto self = shared_from_this();
      ctx_.After(poll->interval, [self, st] { self->Attempt(st); });
      return;
    }
    if (poll && now + poll->interval >= Deadline(*st) &&
        now + poll->interval < st->start + poll->deadline) {
      reason = "scenario.timeout";
      message = "the journey's timeout ran out while polling; last: " + message;
      status = StepStatus::kError;
    } else if (poll) {
      message += " (still after " + std::to_string(st->report.attempts) + " attempts in " +
                 core::FormatDuration(std::chrono::duration_cast<milliseconds>(now - st->start)) +
                 ")";
    }
    Conclude(st, status, std::move(reason), std::move(message));
  }

  void Conclude(const std::shared_ptr<StepRun>& st, StepStatus status, std::string reason,
                std::string message) {
    StepReport& r = st->report;
    r.status = status;
    r.reason = std::move(reason);
    r.message = std::move(message);
    r.seconds = Seconds(Now() - st->start);
    core::Event e = ctx_.NewEvent("calprobe.scenario.step");
    e.With("scenario", s_->name)
        .With("step", r.name)
        .With("phase", r.phase)
        .With("status", std::string(StepStatusName(status)))
        .With("duration_ms", r.seconds * 1000)
        .With("attempts", int64_t{r.attempts});
    if (!r.measure.empty()) e.With("measure", r.measure);
    (void)ctx_.events().Emit(std::move(e));
    if (status == StepStatus::kPassed) EmitStepEvents(*st->step);
    auto finish = std::move(st->finish);
    finish(std::move(r));
  }

  void EmitStepEvents(const Step& step) {
    TimePoint now = Now();
    for (const auto& spec : step.emit) {
      core::Event e = ctx_.NewEvent(spec.event);
      for (const auto& [label, t] : spec.labels) {
        auto v = t.Render(vars_, now);
        if (v.ok()) e.labels.Set(label, *v);
      }
      for (const auto& [name, j] : spec.literal_fields) {
        if (j.is_boolean())
          e.With(name, j.get<bool>());
        else if (j.is_number_integer())
          e.With(name, j.get<int64_t>());
        else if (j.is_number())
          e.With(name, j.get<double>());
        else if (j.is_string())
          e.With(name, j.get<std::string>());
      }
      for (const auto& [name, t] : spec.fields) {
        auto v = t.Render(vars_, now);
        if (!v.ok()) continue;
        e.With(name,
               t.ForcedString() || !t.IsSolePlaceholder() ? core::FieldValue(*v) : TypedField(*v));
      }
      (void)ctx_.events().Emit(std::move(e));
    }
  }

  std::shared_ptr<const Scenario> s_;
  core::ProbeContext& ctx_;
  JourneyOptions o_;
  std::function<void(JourneyReport)> done_;
  Vars vars_;
  TimePoint start_, main_deadline_, cleanup_deadline_;
  size_t index_ = 0, cleanup_index_ = 0;
  bool failed_ = false;
  JourneyReport report_;
};

}  // namespace

std::string_view StepStatusName(StepStatus s) {
  switch (s) {
    case StepStatus::kPassed:
      return "passed";
    case StepStatus::kFailed:
      return "failed";
    case StepStatus::kError:
      return "error";
    case StepStatus::kSkipped:
      return "skipped";
  }
  return "?";
}

nlohmann::json JourneyReport::ToJson() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& s : steps) {
    nlohmann::json j = {{"name", s.name},       {"phase", s.phase},
                        {"kind", s.kind},       {"status", StepStatusName(s.status)},
                        {"seconds", s.seconds}, {"attempts", s.attempts}};
    if (!s.reason.empty()) j["reason"] = s.reason;
    if (!s.message.empty()) j["message"] = s.message;
    if (!s.excerpt.empty()) j["excerpt"] = s.excerpt;
    if (!s.measure.empty()) j["measure"] = s.measure;
    steps_json.push_back(std::move(j));
  }
  nlohmann::json j = {{"scenario", scenario},     {"success", success}, {"timed_out", timed_out},
                      {"cleanup_ok", cleanup_ok}, {"seconds", seconds}, {"steps", steps_json}};
  if (!failed_step.empty()) j["failed_step"] = failed_step;
  return j;
}

void RunJourney(std::shared_ptr<const Scenario> scenario, core::ProbeContext& ctx,
                JourneyOptions options, std::function<void(JourneyReport)> done) {
  auto j = std::make_shared<Journey>(std::move(scenario), ctx, options, std::move(done));
  j->Start();
}

}  // namespace calprobe::probes::scenario
