#include "core/auth/credentials.h"
#include "core/http/http_client.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/auth/jwt.h"
#include "core/log.h"
#include "core/secrets.h"

namespace calprobe::core::auth {
namespace {

using State = Observation::State;

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string FormEncode(std::string_view s) { return core::PercentEncode(s); }

std::optional<TimePoint> TokenExpiry(const std::string& token) {
  if (auto t = DecodeJwtTimes(token)) return t->exp;
  return std::nullopt;
}

std::string_view StateName(State s) {
  switch (s) {
    case State::kValid:
      return "valid";
    case State::kExpired:
      return "expired";
    case State::kRevoked:
      return "revoked";
    case State::kUnknown:
      return "unknown";
  }
  return "unknown";
}

}  // namespace

Observation ClassifyTokenError(const HttpResponse& r) {
  Observation o;
  if (!r.ok()) {
    o.reason = "credential.endpoint_unreachable";
    o.message = "token endpoint: " + std::string(TransportErrorCode(r.error)) + " (" +
                r.error_message + ")";
    return o;
  }
  std::string error, description;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("error") && j["error"].is_string()) error = j["error"].get<std::string>();
    if (j.contains("error_description") && j["error_description"].is_string()) {
      description = j["error_description"].get<std::string>().substr(0, 200);
    }
  }
  std::string detail = "token endpoint answered HTTP " + std::to_string(r.status) +
                       (error.empty() ? "" : " " + error) +
                       (description.empty() ? "" : ": " + description);
  o.message = detail;
  if (r.status == 429 || r.status >= 500) {
    o.reason = "credential.endpoint_error";  // says nothing about the credential
    return o;
  }
  std::string lower = description;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (error == "invalid_scope") {
    o.state = State::kRevoked;
    o.reason = "credential.invalid_scope";
  } else if (error == "invalid_client" || error == "unauthorized_client" ||
             error == "invalid_grant" || r.status == 401 || r.status == 403) {
    bool expired = lower.find("expired") != std::string::npos;
    o.state = expired ? State::kExpired : State::kRevoked;
    o.reason = expired ? "credential.expired" : "credential.revoked";
  } else {
    o.reason = "credential.token_request_rejected";  // 400 invalid_request etc.: our request
  }
  return o;
}

CredentialSet::CredentialSet(HttpClient& http, EventSink& events, MetricsRegistry& m,
                             const Clock& clock)
    : http_(http),
      events_(events),
      clock_(clock),
      expiry_(m.Gauge("calprobe_credential_expiry_timestamp_seconds",
                      "When the credential stops working (unix time): declared expiry, JWT exp, "
                      "or the cached OAuth token's expiry.",
                      {"credential", "kind"})),
      valid_(m.Gauge("calprobe_credential_valid",
                     "1 if the credential's last check or use succeeded, 0 if it was rejected "
                     "or has expired.",
                     {"credential", "kind"})),
      fetches_(m.Counter("calprobe_credential_token_fetches_total",
                         "OAuth token requests by result (ok or a credential.* reason).",
                         {"credential", "result"})) {}

void CredentialSet::Configure(std::vector<CredentialSpec> specs, std::string region) {
  region_ = std::move(region);
  std::map<std::string, Runtime, std::less<>> next;
  for (auto& s : specs) {
    auto old = creds_.find(s.name);
    if (old != creds_.end() && old->second.spec == s) {
      next.emplace(s.name, std::move(old->second));
      continue;
    }
    Runtime rt;
    rt.spec = std::move(s);
    std::string name = rt.spec.name;
    next.emplace(std::move(name), std::move(rt));
  }
  for (const auto& [name, rt] : creds_) {
    if (!next.count(name)) {
      std::string kind(KindName(rt.spec.kind));
      expiry_.Remove({name, kind});
      valid_.Remove({name, kind});
      reported_.erase(name);
    }
  }
  creds_ = std::move(next);
  // Declared and JWT expiries are known without any request.
  for (auto& [name, rt] : creds_) {
    if (rt.spec.kind == CredentialKind::kOAuth2) continue;
    AuthResult r = StaticResult(rt);
    if (r.expiry) {
      Observation o;
      o.state = r.ok ? State::kValid : State::kExpired;
      o.expiry = r.expiry;
      o.reason = r.reason;
      o.message = r.message;
      Record(name, KindName(rt.spec.kind), o, nullptr);
    }
  }
}

const CredentialSpec* CredentialSet::Find(std::string_view name) const {
  auto it = creds_.find(name);
  return it == creds_.end() ? nullptr : &it->second.spec;
}

AuthResult CredentialSet::StaticResult(const Runtime& rt) const {
  const CredentialSpec& s = rt.spec;
  AuthResult r;
  switch (s.kind) {
    case CredentialKind::kBearer:
      r.headers.emplace_back("Authorization", "Bearer " + s.token);
      break;
    case CredentialKind::kApiKey:
      r.headers.emplace_back(s.header, s.token);
      break;
    case CredentialKind::kBasic:
      r.headers.emplace_back("Authorization", "Basic " + Base64(s.username + ":" + s.password));
      break;
    case CredentialKind::kOAuth2:
      break;
  }
  r.expiry = s.declared_expiry;
  if (!r.expiry && s.kind != CredentialKind::kBasic) r.expiry = TokenExpiry(s.token);
  if (r.expiry && *r.expiry <= clock_.Now()) {
    r.ok = false;
    r.reason = "credential.expired";
    r.message = "credential \"" + s.name + "\" expired at " + FormatRfc3339(*r.expiry);
    return r;
  }
  r.ok = true;
  return r;
}

AuthResult CredentialSet::AfterFetch(const std::string& name, const FetchResult& f,
                                     bool with_cached_expiry) const {
  auto it = creds_.find(name);
  if (f.ok && it != creds_.end()) return CachedResult(it->second);
  AuthResult r;
  r.reason = f.ok ? "credential.unknown" : f.obs.reason;
  r.message = f.ok ? "credential removed by a reload" : f.obs.message;
  if (with_cached_expiry && it != creds_.end()) r.expiry = it->second.token_expiry;
  return r;
}

AuthResult CredentialSet::CachedResult(const Runtime& rt) const {
  AuthResult r;
  r.ok = true;
  r.headers.emplace_back("Authorization", "Bearer " + rt.token);
  r.expiry = rt.token_expiry;
  return r;
}

void CredentialSet::Authorize(const std::string& name, const TargetInfo* by,
                              std::function<void(AuthResult)> done) {
  auto it = creds_.find(name);
  if (it == creds_.end()) {
    AuthResult r;
    r.reason = "credential.unknown";
    r.message = "no credential named \"" + name + "\" under credentials:";
    done(std::move(r));
    return;
  }
  Runtime& rt = it->second;
  if (rt.spec.kind != CredentialKind::kOAuth2) {
    done(StaticResult(rt));
    return;
  }
  TimePoint now = clock_.Now();
  // A token is not sent in its last moments (clock skew between us and the
  // resource server): a tenth of its lifetime, at most 5 s.
  Duration skew{};
  if (rt.token_expiry) {
    skew = std::min<Duration>(std::chrono::seconds(5), (*rt.token_expiry - rt.fetched_at) / 10);
  }
  bool have = !rt.token.empty() && (!rt.token_expiry || now < *rt.token_expiry - skew);
  bool renew = !have;
  if (have && rt.token_expiry) {
    Duration ahead =
        std::min<Duration>(rt.spec.refresh_before, (*rt.token_expiry - rt.fetched_at) / 2);
    renew = now >= *rt.token_expiry - ahead;
  }
  if (have && (!renew || rt.fetching || now < rt.retry_at)) {
    done(CachedResult(rt));
    return;
  }
  if (have) {  // renew in the background; this request uses the token that still works
    FetchToken(rt, by, [](const FetchResult&) {});
    done(CachedResult(rt));
    return;
  }
  if (!rt.fetching && now < rt.retry_at) {
    AuthResult r;
    r.reason = rt.last_reason;
    r.message = "no valid token; the last token request failed: " + rt.last_message;
    done(std::move(r));
    return;
  }
  FetchToken(rt, by, [this, name, done = std::move(done)](const FetchResult& f) {
    done(AfterFetch(name, f, /*with_cached_expiry=*/false));
  });
}

void CredentialSet::Check(const std::string& name, const TargetInfo* by,
                          std::function<void(AuthResult)> done) {
  auto it = creds_.find(name);
  if (it == creds_.end()) {
    Authorize(name, by, std::move(done));  // reports credential.unknown
    return;
  }
  Runtime& rt = it->second;
  if (rt.spec.kind != CredentialKind::kOAuth2) {
    AuthResult r = StaticResult(rt);
    Observation o;
    o.state = r.ok ? State::kValid : State::kExpired;
    o.expiry = r.expiry;
    o.reason = r.reason;
    o.message = r.message;
    if (r.expiry || !r.ok) Record(name, KindName(rt.spec.kind), o, by);
    done(std::move(r));
    return;
  }
  FetchToken(rt, by, [this, name, done = std::move(done)](const FetchResult& f) {
    done(AfterFetch(name, f, /*with_cached_expiry=*/true));
  });
}

void CredentialSet::FetchToken(Runtime& rt, const TargetInfo* by,
                               std::function<void(const FetchResult&)> cb) {
  rt.waiters.push_back(std::move(cb));
  if (rt.fetching) return;
  rt.fetching = true;
  const CredentialSpec& s = rt.spec;
  HttpRequest q;
  q.method = "POST";
  q.url = s.token_url;
  q.timeout = std::chrono::seconds(10);
  q.max_body_bytes = 64 * 1024;
  q.verify_tls = s.verify_tls;
  q.ca_file = s.ca_file;
  q.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  q.headers.emplace_back("Accept", "application/json");
  q.body = "grant_type=client_credentials";
  if (!s.scope.empty()) q.body += "&scope=" + FormEncode(s.scope);
  if (!s.audience.empty()) q.body += "&audience=" + FormEncode(s.audience);
  if (s.client_secret_basic) {
    q.headers.emplace_back("Authorization", "Basic " + Base64(FormEncode(s.client_id) + ":" +
                                                              FormEncode(s.client_secret)));
  } else {
    q.body +=
        "&client_id=" + FormEncode(s.client_id) + "&client_secret=" + FormEncode(s.client_secret);
  }
  std::optional<TargetInfo> who;
  if (by) who = *by;
  std::string name = s.name;
  http_.Fetch(std::move(q), [this, name, who](HttpResponse r) {
    auto it = creds_.find(name);
    if (it == creds_.end()) return;  // removed by a reload meanwhile
    Runtime& rt = it->second;
    rt.fetching = false;
    TimePoint now = clock_.Now();
    FetchResult f;
    if (r.ok() && r.status >= 200 && r.status < 300) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("access_token") && j["access_token"].is_string()) {
        f.ok = true;
        rt.token = j["access_token"].get<std::string>();
        Secrets::Register(rt.token);
        rt.fetched_at = now;
        rt.token_expiry = TokenExpiry(rt.token);
        if (!rt.token_expiry && j.contains("expires_in") && j["expires_in"].is_number()) {
          rt.token_expiry = now + std::chrono::duration_cast<Duration>(
                                      std::chrono::duration<double>(j["expires_in"].get<double>()));
        }
        f.obs.state = State::kValid;
        f.obs.expiry = rt.token_expiry;
      } else {
        f.obs.reason = "credential.bad_token_response";
        f.obs.message =
            "token endpoint answered HTTP " + std::to_string(r.status) + " without an access_token";
      }
    } else {
      f.obs = ClassifyTokenError(r);
    }
    if (!f.ok) {
      rt.retry_at = now + std::chrono::seconds(5);
      rt.last_reason = f.obs.reason;
      rt.last_message = f.obs.message;
    }
    fetches_.Inc({name, f.ok ? "ok" : f.obs.reason});
    if (!f.ok) {
      Log(LogLevel::kWarn, "OAuth token request failed")
          .Kv("credential", name)
          .Kv("reason", f.obs.reason)
          .Kv("message", Secrets::Redact(f.obs.message));
    }
    Record(name, "oauth2", f.obs, who ? &*who : nullptr);
    auto waiters = std::move(rt.waiters);
    rt.waiters.clear();
    for (auto& w : waiters) w(f);
  });
}

void CredentialSet::Record(const std::string& name, std::string_view kind, const Observation& o,
                           const TargetInfo* by) {
  Reported& rep = reported_[name];
  rep.kind = std::string(kind);
  LabelValues lv = {name, rep.kind};
  TimePoint now = clock_.Now();
  if (o.expiry) expiry_.Set(lv, ToUnixSeconds(*o.expiry));
  if (o.state == State::kUnknown) return;  // a failed check that says nothing about the credential
  valid_.Set(lv, o.state == State::kValid ? 1 : 0);
  State before = rep.state;
  if (o.state != before) {
    if (o.state == State::kExpired) EmitEvent("calprobe.credential.expired", name, kind, o, by);
    if (o.state == State::kRevoked) EmitEvent("calprobe.credential.revoked", name, kind, o, by);
    if (o.state == State::kValid && (before == State::kExpired || before == State::kRevoked)) {
      EmitEvent("calprobe.credential.restored", name, kind, o, by);
    }
  }
  rep.state = o.state;
  if (o.state == State::kValid && o.expiry) {
    const CredentialSpec* spec = Find(name);
    Duration lead = spec ? spec->warn_before : std::chrono::hours(72);
    bool within = *o.expiry - now <= lead;
    // A fresh expiry (renewed token, new key) re-arms the warning; while it
    // stays inside the lead time the warning is repeated twice a day, so
    // count-over-24h alert rules keep firing until the credential is renewed.
    if (rep.expiry != o.expiry && !within) rep.expiring_sent = false;
    bool due = !rep.expiring_sent || now - rep.expiring_sent_at >= std::chrono::hours(12);
    if (within && due && !(spec && spec->kind == CredentialKind::kOAuth2)) {
      // OAuth tokens are short-lived by design and renewed automatically;
      // their expiry is a gauge, not news.
      EmitEvent("calprobe.credential.expiring", name, kind, o, by);
      rep.expiring_sent = true;
      rep.expiring_sent_at = now;
    }
  }
  rep.expiry = o.expiry;
}

void CredentialSet::EmitEvent(const std::string& event, const std::string& credential,
                              std::string_view kind, const Observation& o, const TargetInfo* by) {
  Event e;
  e.name = event;
  e.time = clock_.Now();
  if (by) e.labels = by->labels;
  e.labels.Set(Label::kRegion, region_);
  e.labels.Set(Label::kOrigin, std::string(kOriginSynthetic));
  e.With("credential", credential).With("kind", std::string(kind));
  e.With("state", std::string(StateName(o.state)));
  // Numeric view of the state for rules (config/probe-alerts.yaml).
  e.With("valid", o.state != State::kExpired && o.state != State::kRevoked);
  if (!o.reason.empty()) e.With("reason", o.reason);
  if (!o.message.empty()) e.With("message", Secrets::Redact(o.message));
  if (o.expiry) {
    e.With("expires_at", FormatRfc3339(*o.expiry));
    e.With("hours_left", ToSeconds(*o.expiry - e.time) / 3600.0);
  }
  Log(event == "calprobe.credential.restored" ? LogLevel::kInfo : LogLevel::kWarn, "credential")
      .Kv("event", event)
      .Kv("credential", credential)
      .Kv("kind", kind)
      .Kv("reason", o.reason);
  if (Status s = events_.Emit(std::move(e)); !s.ok()) {
    Log(LogLevel::kWarn, "credential event rejected").Kv("event", event).Kv("error", s.message());
  }
}

}  // namespace calprobe::core::auth
