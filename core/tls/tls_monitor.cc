#include "core/tls/tls_monitor.h"

#include "core/log.h"

namespace calprobe::core::tls {

TlsOptions ReadTlsOptions(const ConfigNode& n) {
  TlsOptions o;
  if (!n.ExpectMap()) return o;
  o.enabled = n.Bool("enabled", o.enabled);
  auto ms = [](Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d); };
  o.inspect_interval = n.Duration("inspect_interval", ms(o.inspect_interval));
  o.warn_before = n.Duration("warn_before", ms(o.warn_before));
  o.critical_before = n.Duration("critical_before", ms(o.critical_before));
  o.timeout = n.Duration("timeout", o.timeout);
  if (o.inspect_interval < std::chrono::milliseconds(500)) {
    n["inspect_interval"].Error("must be at least 500ms");
  }
  if (o.critical_before > o.warn_before) {
    n["critical_before"].Error("must not exceed warn_before (" + FormatDuration(ms(o.warn_before)) +
                               ")");
  }
  if (o.timeout <= std::chrono::milliseconds(0)) n["timeout"].Error("must be positive");
  n.RejectUnknownKeys();
  return o;
}

bool HttpsOrigin(std::string_view url, std::string* host, int* port) {
  constexpr std::string_view kScheme = "https://";
  if (url.substr(0, kScheme.size()) != kScheme) return false;
  std::string_view rest = url.substr(kScheme.size());
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  *port = 443;
  std::string_view h = rest;
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    h = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') {
      *port = std::atoi(std::string(rest.substr(close + 2)).c_str());
    }
  } else if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    h = rest.substr(0, colon);
    *port = std::atoi(std::string(rest.substr(colon + 1)).c_str());
  }
  if (h.empty() || *port <= 0 || *port > 65535) return false;
  *host = std::string(h);
  return true;
}

TlsMonitor::TlsMonitor(HttpClient& http, EventSink& events, MetricsRegistry& m, const Clock& clock)
    : http_(http),
      events_(events),
      clock_(clock),
      expiry_(m.Gauge("calprobe_tls_cert_expiry_timestamp_seconds",
                      "Earliest notAfter in the certificate chain the host presented (unix time).",
                      {"target", "host", "region"})),
      days_left_(m.Gauge("calprobe_tls_cert_days_left",
                         "Days until the earliest certificate in the chain expires (negative once "
                         "expired), at the last inspection.",
                         {"target", "host", "region"})),
      verified_(m.Gauge("calprobe_tls_cert_chain_verified",
                        "1 if the presented chain verifies against the trust store.",
                        {"target", "host", "region"})),
      hostname_(m.Gauge("calprobe_tls_cert_hostname_match",
                        "1 if the leaf certificate is valid for the host name.",
                        {"target", "host", "region"})),
      info_(m.Gauge("calprobe_tls_cert_info",
                    "The last inspection's verdict (ok, expired, self_signed, incomplete_chain, "
                    "untrusted_root, hostname_mismatch, not_yet_valid, invalid) and the leaf's "
                    "issuer; value 1.",
                    {"target", "host", "region", "verdict", "issuer"})),
      inspections_(m.Counter("calprobe_tls_inspections_total",
                             "Certificate inspections by result (ok: a chain was read).",
                             {"result"})) {}

void TlsMonitor::Observe(const TargetInfo& target, const HttpRequest& request) {
  if (!options_.enabled) return;
  std::string host;
  int port = 0;
  if (!HttpsOrigin(request.url, &host, &port)) return;
  std::string key = host + ":" + std::to_string(port) + "|" + request.ca_file;
  Origin& o = origins_[key];
  if (o.host.empty()) {
    o.host = host;
    o.port = port;
    o.ca_file = request.ca_file;
  }
  auto [it, added] = o.targets.try_emplace(target.name, target);
  if (added && o.check) Publish(o);  // a new target on a known origin gets its series now
  if (o.in_flight) return;
  if (o.check && clock_.Now() - o.last_inspection < options_.inspect_interval) return;
  Inspect(key);
}

void TlsMonitor::Inspect(const std::string& key) {
  Origin& o = origins_[key];
  o.in_flight = true;
  HttpRequest q;
  // The origin's root, never the probe's path or query (they may hold secrets).
  bool v6 = o.host.find(':') != std::string::npos;
  q.url = "https://" + (v6 ? "[" + o.host + "]" : o.host) + ":" + std::to_string(o.port) + "/";
  q.method = "HEAD";
  q.timeout = options_.timeout;
  q.verify_tls = false;  // see the chain even when it is broken; judged below
  q.capture_certificates = true;
  q.fresh_connection = true;  // a reused connection carries no certificates
  q.accept_compressed = false;
  q.ca_file = o.ca_file;
  http_.Fetch(std::move(q), [this, key](HttpResponse r) {
    auto it = origins_.find(key);
    if (it == origins_.end()) return;
    Origin& o = it->second;
    o.in_flight = false;
    o.last_inspection = clock_.Now();
    std::vector<std::string> pems;
    for (const auto& c : r.certificates) pems.push_back(c.pem);
    auto check = std::make_unique<ChainCheck>(CheckChain(pems, o.host, o.ca_file, clock_.Now()));
    if (!check->has_chain) {
      inspections_.Inc({"error"});
      Log(LogLevel::kWarn, "TLS inspection got no certificate")
          .Kv("host", o.host)
          .Kv("port", o.port)
          .Kv("error", r.ok() ? check->error : r.error_message);
      return;  // keep the last good view, if any
    }
    inspections_.Inc({"ok"});
    o.check = std::move(check);
    Publish(o);
  });
}

void TlsMonitor::Publish(Origin& o) {
  const ChainCheck& c = *o.check;
  std::string key = o.host + ":" + std::to_string(o.port) + "|" + o.ca_file;
  std::string host = o.host + ":" + std::to_string(o.port);
  ExpiryLevel level =
      LevelFor(c.earliest_expiry, clock_.Now(), options_.warn_before, options_.critical_before);
  for (const auto& [name, info] : o.targets) {
    LabelValues lv = {name, host, region_};
    expiry_.Set(lv, ToUnixSeconds(c.earliest_expiry));
    days_left_.Set(lv, c.days_left);
    verified_.Set(lv, c.chain_verified ? 1 : 0);
    hostname_.Set(lv, c.hostname_match ? 1 : 0);
    Seen& s = seen_[{name, key}];
    if (s.known) info_.Remove({name, host, region_, s.info_verdict, s.info_issuer});
    info_.Set({name, host, region_, std::string(VerdictCode(c.verdict)), c.issuer}, 1);
    bool expiry_worse = level > s.level;
    bool verdict_changed = !s.known ? c.verdict != Verdict::kOk : c.verdict != s.verdict;
    bool recovered = s.known && c.verdict == Verdict::kOk && level == ExpiryLevel::kOk &&
                     (s.verdict != Verdict::kOk || s.level != ExpiryLevel::kOk);
    if (expiry_worse) Emit(info, o, "calprobe.tls.cert.expiring");
    if (verdict_changed && c.verdict != Verdict::kOk && c.verdict != Verdict::kExpired) {
      Emit(info, o, "calprobe.tls.cert.invalid");
    }
    if (recovered) Emit(info, o, "calprobe.tls.cert.recovered");
    s.level = level;
    s.verdict = c.verdict;
    s.info_verdict = std::string(VerdictCode(c.verdict));
    s.info_issuer = c.issuer;
    s.known = true;
  }
}

void TlsMonitor::Emit(const TargetInfo& t, const Origin& o, const std::string& name) {
  const ChainCheck& c = *o.check;
  Event e;
  e.name = name;
  e.time = clock_.Now();
  e.labels = t.labels;
  e.With("host", o.host + ":" + std::to_string(o.port))
      .With("level",
            std::string(ExpiryLevelName(LevelFor(c.earliest_expiry, clock_.Now(),
                                                 options_.warn_before, options_.critical_before))))
      .With("verdict", std::string(VerdictCode(c.verdict)))
      .With("days_left", c.days_left)
      .With("not_after", FormatRfc3339(c.earliest_expiry))
      .With("issuer", c.issuer)
      .With("hostname_match", c.hostname_match)
      .With("chain_verified", c.chain_verified)
      // Verifies and matches the host, expiry aside (the level covers expiry).
      .With("usable", c.usable);
  if (!c.verify_error.empty()) e.With("verify_error", c.verify_error);
  if (Status s = events_.Emit(std::move(e)); !s.ok()) {
    Log(LogLevel::kWarn, "TLS event rejected").Kv("event", name).Kv("error", s.message());
  }
}

void TlsMonitor::Retain(const std::set<std::string>& keep) {
  for (auto& [key, o] : origins_) {
    for (auto it = o.targets.begin(); it != o.targets.end();) {
      if (keep.count(it->first)) {
        ++it;
        continue;
      }
      LabelValues lv = {it->first, o.host + ":" + std::to_string(o.port), region_};
      expiry_.Remove(lv);
      days_left_.Remove(lv);
      verified_.Remove(lv);
      hostname_.Remove(lv);
      if (auto s = seen_.find({it->first, key}); s != seen_.end()) {
        info_.Remove({it->first, lv[1], region_, s->second.info_verdict, s->second.info_issuer});
        seen_.erase(s);
      }
      it = o.targets.erase(it);
    }
  }
}

nlohmann::json TlsMonitor::TargetJson(const std::string& target) const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [key, o] : origins_) {
    if (!o.targets.count(target)) continue;
    nlohmann::json j = {{"host", o.host + ":" + std::to_string(o.port)}};
    if (o.check) {
      const ChainCheck& c = *o.check;
      j["verdict"] = VerdictCode(c.verdict);
      j["not_after"] = FormatRfc3339(c.earliest_expiry);
      j["days_left"] = c.days_left;
      j["expiring_subject"] = c.expiring_subject;
      j["subject"] = c.leaf_subject;
      j["issuer"] = c.issuer;
      j["hostname_match"] = c.hostname_match;
      j["chain_verified"] = c.chain_verified;
      j["chain_length"] = c.chain_length;
      if (!c.verify_error.empty()) j["verify_error"] = c.verify_error;
      j["level"] = ExpiryLevelName(LevelFor(c.earliest_expiry, clock_.Now(), options_.warn_before,
                                            options_.critical_before));
      j["inspected"] = FormatRfc3339(o.last_inspection);
    } else {
      j["verdict"] = nullptr;
    }
    out.push_back(std::move(j));
  }
  return out.empty() ? nlohmann::json() : out;
}

}  // namespace calprobe::core::tls
