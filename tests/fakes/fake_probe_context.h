#pragma once
// A core::ProbeContext for probe unit tests: a ManualClock, a FakeHttpClient,
// an event sink that records events (optionally validating them against the
// embedded catalog), no store, and After() callbacks run by RunTimers().

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/catalog.h"
#include "core/clock.h"
#include "core/probe.h"
#include "tests/fakes/fake_http_client.h"

namespace calprobe::testing {

// Records events; Emit fails (and drops the event) when a catalog is set and
// the event does not validate.
class RecordingSink final : public core::EventSink {
 public:
  core::Status Emit(core::Event event) override {
    if (catalog_) {
      if (auto s = catalog_->Validate(event); !s.ok()) {
        rejected.push_back(s.message());
        return s;
      }
    }
    events.push_back(std::move(event));
    return core::Status::Ok();
  }
  void SetCatalog(const core::Catalog* catalog) { catalog_ = catalog; }
  // Events named `name`, in emission order.
  std::vector<core::Event> Named(std::string_view name) const {
    std::vector<core::Event> out;
    for (const auto& e : events) {
      if (e.name == name) out.push_back(e);
    }
    return out;
  }

  std::vector<core::Event> events;
  std::vector<std::string> rejected;

 private:
  const core::Catalog* catalog_ = nullptr;
};

class FakeProbeContext final : public core::ProbeContext {
 public:
  explicit FakeProbeContext(core::TimePoint now = core::TimePoint{}) : clock_(now) {
    target_.name = "test-target";
    target_.labels.Set(core::Label::kTarget, "test-target");
    target_.labels.Set(core::Label::kOrigin, std::string(core::kOriginSynthetic));
  }

  core::HttpClient& http() override { return http_; }
  const core::Clock& clock() override { return clock_; }
  core::EventSink& events() override { return sink_; }
  core::Store* store() override { return nullptr; }
  const core::TargetInfo& target() override { return target_; }
  core::TimePoint deadline() override { return clock_.Now() + timeout_; }
  core::auth::CredentialSet* credentials() override { return credentials_; }
  void set_credentials(core::auth::CredentialSet* c) { credentials_ = c; }
  void After(core::Duration delay, std::function<void()> fn) override {
    timers_.emplace_back(clock_.Now() + delay, std::move(fn));
  }

  // Runs the After() callbacks that are due at the clock's current time.
  void RunTimers() {
    auto due = std::move(timers_);
    timers_.clear();
    for (auto& [at, fn] : due) {
      if (at <= clock_.Now())
        fn();
      else
        timers_.emplace_back(at, std::move(fn));
    }
  }

  FakeHttpClient& fake_http() { return http_; }
  core::ManualClock& manual_clock() { return clock_; }
  RecordingSink& sink() { return sink_; }
  core::TargetInfo& mutable_target() { return target_; }
  void set_timeout(core::Duration d) { timeout_ = d; }

 private:
  core::ManualClock clock_;
  FakeHttpClient http_;
  RecordingSink sink_;
  core::TargetInfo target_;
  core::Duration timeout_ = std::chrono::seconds(10);
  core::auth::CredentialSet* credentials_ = nullptr;
  std::vector<std::pair<core::TimePoint, std::function<void()>>> timers_;
};

// Runs `probe` once in `ctx` and returns its outcome (the fake client
// answers synchronously unless deferred; then the test delivers first).
inline std::optional<core::ProbeOutcome> RunOnce(core::Probe& probe, FakeProbeContext& ctx) {
  std::optional<core::ProbeOutcome> out;
  probe.Run(ctx, [&](core::ProbeOutcome o) { out = std::move(o); });
  ctx.fake_http().DeliverAll();
  return out;
}

}  // namespace calprobe::testing
