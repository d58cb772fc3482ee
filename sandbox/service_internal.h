#pragma once
// State shared by the service's translation units (service.cc,
// feasibility.cc, feed.cc, busy_sources.cc). Not part of the public API.

#include <string>
#include <vector>

#include "calendar/ics/ics.h"
#include "calendar/oracle/busy.h"
#include "calendar/oracle/tz.h"
#include "sandbox/service.h"

namespace calprobe::sandbox {

struct ExceptionState {
  std::string id;
  ExceptionConfig ex;
};

struct BusySourceState {
  BusySourceConfig config;
  bool inline_ics = false;  // given as text, never polled
  calendar::oracle::BusyCalendar calendar;
  calendar::Snapshot snapshot;
  bool have_data = false;
  std::string etag;
  std::string last_modified;
  TimePoint next_poll{};  // real time
  bool in_flight = false;
  int last_status = 0;
  std::string last_error;
  TimePoint last_ok{};
  int consecutive_errors = 0;
};

struct SandboxService::ProviderState {
  ProviderConfig config;  // config.truth holds rules and scalars only
  std::vector<ExceptionState> exceptions;
  std::vector<BusySourceState> sources;
  std::string feed_token;
  uint64_t version = 0;  // bumped by every change that can change slots
};

struct SandboxService::CacheEntry {
  FeasibilityAnswer answer;
  TimePoint computed_at{};
  uint64_t version = 0;
  uint64_t generation = 0;
  uint64_t fault_generation = 0;
};

inline ApiError NotFoundError(const std::string& what, const std::string& id) {
  return {404, "unknown " + what + " \"" + id + "\"", "", {}, nlohmann::json::object()};
}

// Formats `t` in RFC 3339 with the zone's offset at t ("…T09:00:00-04:00");
// UTC ("Z") when zone is null.
std::string FormatLocal(TimePoint t, const calendar::oracle::Zone* zone);

}  // namespace calprobe::sandbox
