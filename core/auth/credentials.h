#pragma once
// The agent's credentials at run time: hands probes the headers for a named
// credential (fetching and caching OAuth 2.0 client-credentials tokens and
// renewing them before they expire), runs the synthetic checks of the
// `credential` probe, and turns what anyone learns about a credential —
// including external ones such as an ICS feed's secret URL — into
//   calprobe_credential_expiry_timestamp_seconds{credential,kind}
//   calprobe_credential_valid{credential,kind}
// and calprobe.credential.expiring|expired|revoked|restored events. Events
// and metrics carry the credential's name, never its value.
// Not thread-safe: lives on the agent's io_context thread.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/auth/credential_spec.h"
#include "core/event_sink.h"
#include "core/http/http_client.h"
#include "core/metrics.h"
#include "core/probe.h"

namespace calprobe::core::auth {

// What a check or a use of a credential showed.
struct Observation {
  enum class State { kUnknown, kValid, kExpired, kRevoked };
  State state = State::kUnknown;    // kUnknown: the check could not tell (endpoint down)
  std::optional<TimePoint> expiry;  // when known
  std::string reason;               // credential.* code when not valid
  std::string message;              // for people; redacted before it is stored or sent
};

struct AuthResult {
  bool ok = false;
  std::string reason;  // credential.* code when !ok (docs/credentials.md)
  std::string message;
  std::vector<std::pair<std::string, std::string>> headers;  // to add to the request
  std::optional<TimePoint> expiry;                           // of what is being sent
};

// Classifies an OAuth 2.0 token endpoint reply (RFC 6749 §5.2). Exposed for tests.
Observation ClassifyTokenError(const HttpResponse& r);

class CredentialSet {
 public:
  CredentialSet(HttpClient& http, EventSink& events, MetricsRegistry& metrics, const Clock& clock);

  // Replaces the specs; cached tokens of unchanged credentials are kept.
  void Configure(std::vector<CredentialSpec> specs, std::string region);
  const CredentialSpec* Find(std::string_view name) const;

  // Headers for a request authenticated with `name`, via `done` (once, on
  // the agent's thread). OAuth: the cached token while it lasts; a renewal
  // starts `refresh_before` its expiry (at most half its lifetime) and a
  // failed renewal does not fail requests while the cached token is valid.
  void Authorize(const std::string& name, const TargetInfo* by,
                 std::function<void(AuthResult)> done);
  // The synthetic check: OAuth asks the token endpoint for a fresh token
  // (so a rejected client secret is seen while the cached token still
  // works); static credentials are judged by their declared or JWT expiry.
  void Check(const std::string& name, const TargetInfo* by, std::function<void(AuthResult)> done);
  // Records an observation of credential `name` of `kind`; updates the
  // metrics and emits an event when the state or expiry window changes.
  void Record(const std::string& name, std::string_view kind, const Observation& o,
              const TargetInfo* by);

 private:
  struct FetchResult {
    bool ok = false;
    Observation obs;
  };
  struct Runtime {
    CredentialSpec spec;
    std::string token;  // OAuth: cached access token
    std::optional<TimePoint> token_expiry;
    TimePoint fetched_at{};
    TimePoint retry_at{};                   // no background renewal before this after a failure
    std::string last_reason, last_message;  // of the last failed token request
    bool fetching = false;
    std::vector<std::function<void(const FetchResult&)>> waiters;
  };
  struct Reported {
    Observation::State state = Observation::State::kUnknown;
    std::optional<TimePoint> expiry;
    bool expiring_sent = false;
    TimePoint expiring_sent_at{};
    std::string kind;
  };
  void FetchToken(Runtime& rt, const TargetInfo* by, std::function<void(const FetchResult&)> cb);
  AuthResult StaticResult(const Runtime& rt) const;
  AuthResult CachedResult(const Runtime& rt) const;
  // The answer once a token fetch for `name` finished: the cached token, or
  // why there is none (with the cached token's expiry when asked, for Check).
  AuthResult AfterFetch(const std::string& name, const FetchResult& f,
                        bool with_cached_expiry) const;
  void EmitEvent(const std::string& name, const std::string& credential, std::string_view kind,
                 const Observation& o, const TargetInfo* by);

  HttpClient& http_;
  EventSink& events_;
  const Clock& clock_;
  std::string region_;
  std::map<std::string, Runtime, std::less<>> creds_;
  std::map<std::string, Reported> reported_;
  MetricFamily& expiry_;
  MetricFamily& valid_;
  MetricFamily& fetches_;
};

}  // namespace calprobe::core::auth
