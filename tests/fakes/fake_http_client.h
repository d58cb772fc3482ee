#pragma once
// A core::HttpClient for unit tests: records every request and answers from a
// handler, either at once (inside Fetch) or when the test calls Deliver().
// Single-threaded; no sockets, no sleeps.

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/http/http_client.h"

namespace calprobe::testing {

class FakeHttpClient final : public core::HttpClient {
 public:
  using Handler = std::function<core::HttpResponse(const core::HttpRequest&)>;

  // Answers every request with handler(request). Without a handler, 404.
  void SetHandler(Handler h) { handler_ = std::move(h); }
  // When true, callbacks wait for Deliver() instead of running inside Fetch.
  void SetDeferred(bool deferred) { deferred_ = deferred; }

  void Fetch(core::HttpRequest request, Callback done) override {
    requests_.push_back(request);
    core::HttpResponse r;
    if (handler_) {
      r = handler_(request);
    } else {
      r.status = 404;
    }
    if (deferred_) {
      pending_.emplace_back(std::move(r), std::move(done));
      return;
    }
    done(std::move(r));
  }

  size_t InFlight() const override { return pending_.size(); }

  // Runs the oldest deferred callback. Returns false when none is pending.
  bool Deliver() {
    if (pending_.empty()) return false;
    auto [r, done] = std::move(pending_.front());
    pending_.pop_front();
    done(std::move(r));
    return true;
  }
  void DeliverAll() {
    while (Deliver()) {
    }
  }

  const std::vector<core::HttpRequest>& requests() const { return requests_; }
  void ClearRequests() { requests_.clear(); }

  // A 200 response with `body` and optional headers (names lower-case).
  static core::HttpResponse Ok(std::string body,
                               std::vector<std::pair<std::string, std::string>> headers = {},
                               double total_seconds = 0.01) {
    core::HttpResponse r;
    r.status = 200;
    r.body = std::move(body);
    r.headers = std::move(headers);
    r.timings.total = total_seconds;
    return r;
  }
  // A transport failure.
  static core::HttpResponse Failed(core::TransportError e, std::string message) {
    core::HttpResponse r;
    r.error = e;
    r.error_message = std::move(message);
    return r;
  }

 private:
  Handler handler_;
  bool deferred_ = false;
  std::vector<core::HttpRequest> requests_;
  std::deque<std::pair<core::HttpResponse, Callback>> pending_;
};

}  // namespace calprobe::testing
