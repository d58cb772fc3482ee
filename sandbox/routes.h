#pragma once
// The sandbox's HTTP API (docs/sandbox.md) as one function from request to
// response, so tests call it without sockets. server.cc routes every method
// and path here through core::AdminServer.
//   /api/*    the platform's calendar API (latency/errors faults apply,
//             optional bearer token sandbox.api_token)
//   /feeds/*  outbound ICS feeds (token in the query)
//   /admin/*  faults, clock, stats, recent events, provider secrets
// Every response carries a Date header from the sandbox clock.
// Thread-safe (handlers may run on several server threads at once).

#include <chrono>
#include <functional>

#include "core/admin/admin_server.h"
#include "sandbox/clock.h"
#include "sandbox/config.h"
#include "sandbox/events.h"
#include "sandbox/faults.h"
#include "sandbox/service.h"

namespace calprobe::sandbox {

struct RouterDeps {
  SandboxService& service;
  FaultSet& faults;
  SandboxClock& clock;
  EventQueue& events;
  const SandboxConfig& config;
  // Blocks the calling thread (the latency fault); tests pass a recorder.
  std::function<void(std::chrono::milliseconds)> sleep;
};

class SandboxRouter {
 public:
  explicit SandboxRouter(RouterDeps deps) : d_(std::move(deps)) {}
  core::AdminResponse Handle(const core::AdminRequest& r);

 private:
  core::AdminResponse Dispatch(const core::AdminRequest& r);
  core::AdminResponse Api(const core::AdminRequest& r, const std::vector<std::string>& seg,
                          double latency_ms);
  core::AdminResponse Admin(const core::AdminRequest& r, const std::vector<std::string>& seg);
  core::AdminResponse FeedRequest(const core::AdminRequest& r, const std::string& file);

  RouterDeps d_;
};

// "Sun, 14 Mar 2027 09:00:00 GMT" (RFC 9110 IMF-fixdate).
std::string HttpDate(core::TimePoint t);

}  // namespace calprobe::sandbox
