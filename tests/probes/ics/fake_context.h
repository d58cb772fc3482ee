#pragma once
// Test doubles for the ICS probe: an HttpClient that answers from a queue
// (synchronously, recording requests), an EventSink that keeps events, and a
// ProbeContext over a ManualClock and an optional Store.

#include <deque>
#include <functional>
#include <vector>

#include "core/probe.h"
#include "core/store.h"

namespace calprobe::probes::ics::testing {

class FakeHttpClient final : public core::HttpClient {
 public:
  void Fetch(core::HttpRequest request, Callback done) override {
    requests.push_back(request);
    core::HttpResponse r;
    if (!responses.empty()) {
      r = std::move(responses.front());
      responses.pop_front();
    } else {
      r.error = core::TransportError::kConnectionRefused;
      r.error_message = "no response queued";
    }
    done(std::move(r));
  }
  size_t InFlight() const override { return 0; }

  std::deque<core::HttpResponse> responses;
  std::vector<core::HttpRequest> requests;
};

class CapturingSink final : public core::EventSink {
 public:
  core::Status Emit(core::Event e) override {
    events.push_back(std::move(e));
    return core::Status::Ok();
  }
  std::vector<core::Event> events;
};

class FakeContext final : public core::ProbeContext {
 public:
  FakeContext(core::ManualClock* clock, core::Store* store) : clock_(clock), store_(store) {
    info_.name = "feed-1";
    info_.probe_type = "ics";
    info_.labels.Set(core::Label::kTarget, "feed-1");
    info_.labels.Set(core::Label::kProvider, "p1");
    info_.labels.Set(core::Label::kOrigin, "synthetic");
  }
  core::HttpClient& http() override { return http_client; }
  const core::Clock& clock() override { return *clock_; }
  core::EventSink& events() override { return sink; }
  core::Store* store() override { return store_; }
  const core::TargetInfo& target() override { return info_; }
  core::TimePoint deadline() override { return clock_->Now() + std::chrono::seconds(10); }
  void After(core::Duration, std::function<void()> fn) override { fn(); }

  FakeHttpClient http_client;
  CapturingSink sink;

 private:
  core::ManualClock* clock_;
  core::Store* store_;
  core::TargetInfo info_;
};

// A 200 text/calendar response with `n` events (uids ev-0.., summary suffix `v`).
inline core::HttpResponse Feed(int n, const std::string& v = "1", const std::string& etag = "") {
  core::HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "text/calendar; charset=utf-8");
  if (!etag.empty()) r.headers.emplace_back("etag", etag);
  std::string b = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n";
  for (int i = 0; i < n; ++i) {
    b += "BEGIN:VEVENT\r\nUID:ev-" + std::to_string(i) +
         "\r\nDTSTAMP:20990101T000000Z\r\nDTSTART:20990105T090000Z\r\nDTEND:20990105T100000Z\r\n"
         "SUMMARY:e" +
         std::to_string(i) + (i == 0 ? " v" + v : "") + "\r\nEND:VEVENT\r\n";
  }
  b += "END:VCALENDAR\r\n";
  r.body = std::move(b);
  r.wire_bytes = r.body.size();
  return r;
}

inline core::HttpResponse Status(int status, const std::string& retry_after = "") {
  core::HttpResponse r;
  r.status = status;
  if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
  return r;
}

}  // namespace calprobe::probes::ics::testing
