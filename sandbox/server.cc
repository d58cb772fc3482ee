// RunSandbox: sockets, threads and timers around SandboxService.

#include "sandbox/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "core/admin/admin_server.h"
#include "core/http/curl_client.h"
#include "core/log.h"
#include "core/secrets.h"
#include "sandbox/clock.h"
#include "sandbox/events.h"
#include "sandbox/faults.h"
#include "sandbox/routes.h"
#include "sandbox/service.h"
#include "sandbox/traffic.h"

namespace calprobe::sandbox {

namespace asio = boost::asio;
using core::Log;
using core::LogLevel;

namespace {

constexpr size_t kMaxConcurrentPolls = 16;
constexpr auto kSweepPeriod = std::chrono::milliseconds(250);
constexpr auto kPollTick = std::chrono::milliseconds(500);
constexpr auto kBacklogPeriod = std::chrono::seconds(30);

// Runs fn every `period` on io until *stopped. Pending waits own the ticker.
struct Ticker : std::enable_shared_from_this<Ticker> {
  Ticker(asio::io_context& io, std::chrono::milliseconds p, std::shared_ptr<bool> s,
         std::function<void()> f)
      : timer(io), period(p), stopped(std::move(s)), fn(std::move(f)) {}
  void Arm() {
    timer.expires_after(period);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || *self->stopped) return;
      self->fn();
      self->Arm();
    });
  }
  asio::steady_timer timer;
  std::chrono::milliseconds period;
  std::shared_ptr<bool> stopped;
  std::function<void()> fn;
};

void Every(asio::io_context& io, std::chrono::milliseconds period, std::shared_ptr<bool> stopped,
           std::function<void()> fn) {
  std::make_shared<Ticker>(io, period, std::move(stopped), std::move(fn))->Arm();
}

struct Flusher {
  asio::io_context& io;
  core::HttpClient& http;
  EventQueue& queue;
  const EventsConfig& cfg;
  bool in_flight = false;
  bool failing = false;

  void Flush(std::function<void()> done = nullptr) {
    if (in_flight || cfg.url.empty()) {
      if (done) done();
      return;
    }
    auto batch = std::make_shared<std::vector<core::Event>>(queue.Take(cfg.batch_size));
    if (batch->empty()) {
      if (done) done();
      return;
    }
    in_flight = true;
    core::HttpRequest req;
    req.method = "POST";
    req.url = cfg.url;
    req.headers = {{"Authorization", "Bearer " + cfg.token},
                   {"Content-Type", "application/x-ndjson"}};
    req.body = EventQueue::ToNdjson(*batch);
    req.timeout = std::chrono::seconds(5);
    req.max_body_bytes = 1024 * 1024;
    http.Fetch(std::move(req), [this, batch, done](core::HttpResponse resp) {
      in_flight = false;
      if (resp.ok() && resp.status >= 200 && resp.status < 300) {
        queue.MarkSent(batch->size());
        if (failing) Log(LogLevel::kInfo, "event delivery recovered").Kv("url", cfg.url);
        failing = false;
      } else {
        if (!failing) {
          Log(LogLevel::kWarn, "event delivery failed; keeping events while the queue has room")
              .Kv("url", cfg.url)
              .Kv("status", resp.status)
              .Kv("error", resp.ok() ? std::string(resp.body.substr(0, 200)) : resp.error_message);
        }
        failing = true;
        // 4xx other than 429 will not get better by retrying: drop the batch.
        if (resp.ok() && resp.status >= 400 && resp.status < 500 && resp.status != 429) {
          queue.Requeue({});
        } else {
          queue.Requeue(std::move(*batch));
        }
      }
      if (done) done();
    });
  }
};

void StartPolls(SandboxService& service, core::HttpClient& http) {
  auto now = std::chrono::system_clock::now();
  for (auto& job : service.DuePolls(now, kMaxConcurrentPolls)) {
    core::HttpRequest req;
    req.url = job.url;
    req.timeout = std::chrono::seconds(10);
    req.max_body_bytes = 8 * 1024 * 1024;
    req.max_redirects = 3;
    if (!job.etag.empty()) req.headers.emplace_back("If-None-Match", job.etag);
    if (!job.last_modified.empty())
      req.headers.emplace_back("If-Modified-Since", job.last_modified);
    auto start = std::chrono::steady_clock::now();
    http.Fetch(std::move(req), [&service, job, start](core::HttpResponse resp) {
      PollOutcome o;
      o.duration_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (!resp.ok()) {
        o.error_code = std::string(core::TransportErrorCode(resp.error));
      } else {
        o.http_status = resp.status;
        o.body = std::move(resp.body);
        o.etag = std::string(resp.Header("etag"));
        o.last_modified = std::string(resp.Header("last-modified"));
      }
      service.OnPollResult(job, o, std::chrono::system_clock::now());
    });
  }
}

}  // namespace

int RunSandbox(const SandboxConfig& config, const std::string& listen_override) {
  core::GlobalHttpInit();
  asio::io_context server_io;
  asio::io_context bg_io;
  auto stopped = std::make_shared<bool>(false);

  SandboxClock clock(core::SystemClock::Instance());
  FaultSet faults;
  EventQueue queue(config.events.max_queue, !config.events.url.empty());
  const core::Clock& event_clock = config.events.sandbox_time
                                       ? static_cast<const core::Clock&>(clock)
                                       : core::SystemClock::Instance();
  SandboxService service(config, ServiceDeps{clock, event_clock, faults, queue});
  SandboxRouter router(
      RouterDeps{service, faults, clock, queue, config,
                 [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }});

  core::AdminServer server(server_io, config.max_body);
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"}) {
    server.Route(method, "/*", [&router](const core::AdminRequest& r) { return router.Handle(r); });
  }
  std::string listen = listen_override.empty() ? config.listen : listen_override;
  core::Status st = server.Listen(listen);
  if (!st.ok()) {
    std::cerr << "calprobe sandbox: " << st.message() << " (sandbox.listen or --listen)\n";
    return 2;
  }

  core::CurlHttpClient http(bg_io);
  Flusher flusher{bg_io, http, queue, config.events};
  Every(bg_io, kSweepPeriod, stopped, [&service] { service.Sweep(); });
  Every(bg_io, config.events.flush_interval, stopped, [&flusher] { flusher.Flush(); });
  Every(bg_io, kPollTick, stopped, [&service, &http] { StartPolls(service, http); });
  Every(bg_io, std::chrono::duration_cast<std::chrono::milliseconds>(kBacklogPeriod), stopped,
        [&service] {
          service.EmitBacklog(service.PollBacklog(std::chrono::system_clock::now()),
                              kMaxConcurrentPolls);
        });
  asio::post(bg_io, [&service, &http] { StartPolls(service, http); });
  std::unique_ptr<BuyerTraffic> traffic;
  if (config.traffic_interval.count() > 0) {
    std::string host = listen.substr(0, listen.rfind(':'));
    traffic = std::make_unique<BuyerTraffic>(
        service, "http://" + host + ":" + std::to_string(server.port()),
        static_cast<uint32_t>(std::random_device{}()));
    Every(bg_io, config.traffic_interval, stopped, [&traffic] { traffic->Tick(); });
  }

  asio::signal_set signals(server_io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    Log(LogLevel::kInfo, "stopping").Kv("signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server.Stop();
    // Last flush (bounded by the request timeout), then stop everything.
    asio::post(bg_io, [&] {
      *stopped = true;
      flusher.Flush([&] {
        bg_io.stop();
        server_io.stop();
      });
    });
  });

  Log(LogLevel::kInfo, "sandbox listening")
      .Kv("listen", listen.substr(0, listen.rfind(':')) + ":" + std::to_string(server.port()))
      .Kv("providers", config.providers.size())
      .Kv("events_url", config.events.url.empty() ? std::string("(none)") : config.events.url)
      .Kv("threads", config.threads);
  std::cout << "calprobe sandbox listening on http://" << listen.substr(0, listen.rfind(':')) << ":"
            << server.port() << "\n"
            << std::flush;

  auto bg_guard = asio::make_work_guard(bg_io);
  std::thread bg([&] { bg_io.run(); });
  std::vector<std::thread> workers;
  for (int i = 1; i < config.threads; ++i) workers.emplace_back([&] { server_io.run(); });
  server_io.run();
  for (auto& t : workers) t.join();
  bg_guard.reset();
  bg_io.stop();
  bg.join();
  auto s = queue.stats();
  Log(LogLevel::kInfo, "sandbox stopped")
      .Kv("events_sent", static_cast<int64_t>(s.sent))
      .Kv("events_dropped", static_cast<int64_t>(s.dropped))
      .Kv("events_queued", s.queued);
  return 0;
}

}  // namespace calprobe::sandbox
