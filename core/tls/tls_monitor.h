#pragma once
// Certificate expiry for every https target of every probe type. Probes'
// requests pass through an ObservingHttpClient (one per run) that tells the
// monitor which origins (host:port) a target talks to; the monitor inspects
// each origin on its own schedule with a separate handshake (verification
// off so that even an expired or self-signed chain is seen, then judged by
// core/tls/cert_check.h), exports gauges per (target, host) and emits
// calprobe.tls.cert.* events when a threshold or the verdict changes.
// The probe's own request is never altered.
// Not thread-safe: lives on the agent's io_context thread.

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <unordered_map>

#include "core/config/config_node.h"
#include "core/event_sink.h"
#include "core/http/http_client.h"
#include "core/metrics.h"
#include "core/probe.h"
#include "core/tls/cert_check.h"

namespace calprobe::core::tls {

struct TlsOptions {
  bool enabled = true;
  Duration inspect_interval = std::chrono::minutes(15);  // per origin
  Duration warn_before = std::chrono::hours(24 * 21);
  Duration critical_before = std::chrono::hours(24 * 7);
  std::chrono::milliseconds timeout{10000};
};

// Reads the top-level `tls:` map (absent: defaults). Records errors on `n`.
TlsOptions ReadTlsOptions(const ConfigNode& n);

// host and port of an https URL (userinfo dropped); false for other URLs.
bool HttpsOrigin(std::string_view url, std::string* host, int* port);

class TlsMonitor {
 public:
  TlsMonitor(HttpClient& http, EventSink& events, MetricsRegistry& metrics, const Clock& clock);
  void SetOptions(const TlsOptions& o) { options_ = o; }
  void SetRegion(std::string region) { region_ = std::move(region); }

  // Notes that `target` sent `request`; starts an inspection of its origin
  // when none is recent. Cheap when nothing is due.
  void Observe(const TargetInfo& target, const HttpRequest& request);
  // Drops series and state of targets not in `keep` (after a reload).
  void Retain(const std::set<std::string>& keep);
  // The target's TLS view for /api/v1/targets: one entry per host; null
  // when the target has no https origin.
  nlohmann::json TargetJson(const std::string& target) const;

 private:
  struct Origin {
    std::string host;
    int port = 443;
    std::string ca_file;
    bool in_flight = false;
    TimePoint last_inspection{};
    std::unique_ptr<ChainCheck> check;
    std::map<std::string, TargetInfo> targets;  // name -> labels for events
  };
  struct Seen {  // per (target, origin): what the last event said
    ExpiryLevel level = ExpiryLevel::kOk;
    Verdict verdict = Verdict::kOk;
    bool known = false;
    std::string info_verdict, info_issuer;  // labels of the calprobe_tls_cert_info series
  };
  void Inspect(const std::string& key);
  void Publish(Origin& o);
  void Emit(const TargetInfo& t, const Origin& o, const std::string& name);

  HttpClient& http_;
  EventSink& events_;
  const Clock& clock_;
  TlsOptions options_;
  std::string region_;
  std::unordered_map<std::string, Origin> origins_;           // key: host:port|ca_file
  std::map<std::pair<std::string, std::string>, Seen> seen_;  // (target, key)
  MetricFamily& expiry_;
  MetricFamily& days_left_;
  MetricFamily& verified_;
  MetricFamily& hostname_;
  MetricFamily& info_;
  MetricFamily& inspections_;
};

// The HttpClient a probe run sees: forwards everything, tells the monitor.
class ObservingHttpClient final : public HttpClient {
 public:
  ObservingHttpClient(HttpClient& inner, TlsMonitor* monitor, const TargetInfo& target)
      : inner_(inner), monitor_(monitor), target_(target) {}
  void Fetch(HttpRequest request, Callback done) override {
    if (monitor_ && request.url.rfind("https://", 0) == 0) monitor_->Observe(target_, request);
    inner_.Fetch(std::move(request), std::move(done));
  }
  size_t InFlight() const override { return inner_.InFlight(); }

 private:
  HttpClient& inner_;
  TlsMonitor* monitor_;
  const TargetInfo& target_;
};

}  // namespace calprobe::core::tls
