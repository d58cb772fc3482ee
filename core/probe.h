#pragma once
// The probe plug-in interface (cloudprober/blackbox_exporter style). A probe
// type is a folder under probes/ with one ProbeFactory, registered by one
// line in probes/builtin.cc. Probes never loop and never know about alerts:
// the scheduler calls Run() once per interval; the core records the common
// metrics (success, duration, failure reason) from the outcome; the probe
// adds only its own events through the context's sink.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/config/config_node.h"
#include "core/event.h"
#include "core/event_sink.h"
#include "core/http/http_client.h"

namespace calprobe::core {

class Store;
namespace auth {
class CredentialSet;
}

// What one run concluded. `reason` uses the shared vocabulary: transport
// codes from TransportErrorCode() ("http.timeout", …), "assertion" for a
// failed expectation, or a probe-specific code ("mismatch", …).
struct ProbeOutcome {
  bool success = false;
  std::string reason;    // empty on success
  std::string message;   // one line for people; secrets are redacted by the core
  int http_status = 0;   // last HTTP status seen, 0 if none
  nlohmann::json details = nlohmann::json::object();  // shown in /api/v1/targets
  // No attempt was made this run (e.g. an ICS source backing off after an
  // error until its next retry). The target keeps its previous success state
  // and failure history, so waiting out a backoff is not counted as more
  // failures; the run is counted in calprobe_probe_skipped_total{reason}.
  bool skipped = false;
};

// Identity and labels of the target being probed.
struct TargetInfo {
  std::string name;
  std::string probe_type;
  Labels labels;  // target, probe, region, origin=synthetic, plus configured ones
};

// Everything a probe may use while running. Owned by the core; valid until
// the run's callback has been called.
class ProbeContext {
 public:
  virtual ~ProbeContext() = default;
  virtual HttpClient& http() = 0;
  virtual const Clock& clock() = 0;
  virtual EventSink& events() = 0;
  virtual Store* store() = 0;  // may be null (validate-config, tests)
  virtual const TargetInfo& target() = 0;
  // Instant by which the run must have finished (scheduled start + timeout).
  virtual TimePoint deadline() = 0;
  // Runs `fn` on the agent's thread after `delay` (for multi-step probes).
  virtual void After(Duration delay, std::function<void()> fn) = 0;
  // The agent's configured credentials (`credentials:`; core/auth/credentials.h);
  // null where there are none to use (validate-config, tests).
  virtual auth::CredentialSet* credentials() { return nullptr; }
  // An event pre-filled with the target's labels and the current time.
  Event NewEvent(std::string name) {
    Event e;
    e.name = std::move(name);
    e.time = clock().Now();
    e.labels = target().labels;
    return e;
  }
};

class Probe {
 public:
  virtual ~Probe() = default;
  // Runs once. Must call `done` exactly once, on the agent's thread, no later
  // than ctx.deadline() (the scheduler enforces it if the probe does not).
  virtual void Run(ProbeContext& ctx, std::function<void(ProbeOutcome)> done) = 0;
};

class ProbeFactory {
 public:
  virtual ~ProbeFactory() = default;
  virtual std::string_view type() const = 0;
  // Reads and validates this type's options (the map under the key named
  // after the type, e.g. `http:`). Records errors on `options` (and rejects
  // unknown keys); returns null when the options are unusable.
  virtual std::unique_ptr<Probe> Create(const ConfigNode& options,
                                        const TargetInfo& target) const = 0;
  // Default limit of concurrent runs of this type per agent.
  virtual int default_concurrency() const { return 256; }
};

class ProbeRegistry {
 public:
  // Adds a factory. Error on a duplicate type name.
  Status Register(std::unique_ptr<ProbeFactory> factory);
  // Returns the factory for `type`, or null.
  const ProbeFactory* Find(std::string_view type) const;
  std::vector<std::string> Types() const;

 private:
  std::vector<std::unique_ptr<ProbeFactory>> factories_;
};

}  // namespace calprobe::core
