#pragma once
// Shared fixture for the sandbox tests: a service on a ManualClock with a
// recording event sink, built from YAML written to a temp file.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/event.h"
#include "sandbox/clock.h"
#include "sandbox/config.h"
#include "sandbox/events.h"
#include "sandbox/faults.h"
#include "sandbox/service.h"

namespace calprobe::sandbox::testing {

inline core::TimePoint T(const std::string& rfc3339) {
  auto t = core::ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(core::TimePoint{});
}

// Writes `yaml` to a unique temp file and loads it.
inline core::Result<SandboxConfig> LoadYaml(const std::string& yaml,
                                            const std::string& name = "sandbox.yaml") {
  std::string dir = ::testing::TempDir();
  std::string path = dir + "/" + std::to_string(::getpid()) + "-" + name;
  std::ofstream(path) << yaml;
  auto cfg = LoadSandboxConfig(path);
  std::remove(path.c_str());
  return cfg;
}

// One provider "p" in New York, Mon-Fri 09:00-17:00, 30-minute slots, 1 h
// lead time, a feed token, and a second provider "b" in Berlin.
inline const char* kBaseYaml = R"(
sandbox: {region: test-region, cache_ttl: 5m}
providers:
  - id: p
    role: therapist
    timezone: America/New_York
    slot_minutes: 30
    granularity_minutes: 30
    lead_time_hours: 1
    max_slots: 100
    feed_token: feedtoken-0123456789
    rules:
      - {weekdays: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
  - id: b
    timezone: Europe/Berlin
    rules:
      - {weekdays: [mon, tue, wed, thu, fri], start: "08:00", end: "12:00"}
)";

class RecordingSink final : public core::EventSink {
 public:
  core::Status Emit(core::Event e) override {
    events.push_back(std::move(e));
    return core::Status::Ok();
  }
  int Count(const std::string& name) const {
    int n = 0;
    for (const auto& e : events) n += e.name == name;
    return n;
  }
  const core::Event* Last(const std::string& name) const {
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->name == name) return &*it;
    }
    return nullptr;
  }
  std::vector<core::Event> events;
};

class SandboxFixture : public ::testing::Test {
 protected:
  void SetUpWith(const std::string& yaml) {
    auto cfg = LoadYaml(yaml);
    ASSERT_TRUE(cfg.ok()) << cfg.error();
    config = std::make_unique<SandboxConfig>(*cfg);
    base.Set(T("2027-03-15T10:00:00Z"));  // Monday 06:00 in New York (EDT)
    service = std::make_unique<SandboxService>(*config, ServiceDeps{clock, clock, faults, sink});
  }
  void SetUp() override { SetUpWith(kBaseYaml); }

  // Feasibility for "p" on Monday 2027-03-15 (local day).
  FeasibilityAnswer Monday(const std::string& provider = "p") {
    auto r = service->Feasibility(
        {provider, T("2027-03-15T00:00:00-04:00"), T("2027-03-16T00:00:00-04:00"), 0});
    EXPECT_TRUE(r.ok()) << r.error.message;
    return r.value.value_or(FeasibilityAnswer{});
  }
  ApiResult<Hold> HoldAt(const std::string& start, int minutes = 30, int ttl = 60) {
    HoldRequest h;
    h.provider_id = "p";
    h.start = T(start);
    h.end = h.start + std::chrono::minutes(minutes);
    h.ttl_seconds = ttl;
    h.source = "test";
    return service->CreateHold(h);
  }
  static bool HasSlotAt(const FeasibilityAnswer& a, const std::string& start) {
    for (const auto& s : a.slots) {
      if (s.start == T(start)) return true;
    }
    return false;
  }

  core::ManualClock base;
  SandboxClock clock{base};
  FaultSet faults;
  RecordingSink sink;
  std::unique_ptr<SandboxConfig> config;
  std::unique_ptr<SandboxService> service;
};

}  // namespace calprobe::sandbox::testing
