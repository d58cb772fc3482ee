#pragma once
// Credentials the agent's probes authenticate with (the top-level
// `credentials:` list of the agent config; docs/credentials.md). Secret
// values must come from ${ENV} or ${file:/path}; an inline secret is a
// config error. Every secret value is registered with core::Secrets so it
// is redacted from everything calprobe prints.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config/config_node.h"

namespace calprobe::core::auth {

enum class CredentialKind { kBearer, kApiKey, kBasic, kOAuth2 };
// "bearer", "api_key", "basic", "oauth2" (the `kind` label of credential metrics).
std::string_view KindName(CredentialKind k);

struct CredentialSpec {
  std::string name;
  CredentialKind kind = CredentialKind::kBearer;
  // bearer: token; api_key: key sent in `header` (default X-API-Key).
  std::string token;
  std::string header = "X-API-Key";
  // basic
  std::string username, password;
  // oauth2 client credentials (RFC 6749 §4.4)
  std::string token_url, client_id, client_secret, scope;
  std::string audience;             // optional extra form parameter some providers need
  bool client_secret_basic = true;  // secret in Authorization: Basic (else in the form)
  Duration refresh_before = std::chrono::minutes(5);  // renew this long before exp
  std::string ca_file;
  bool verify_tls = true;
  // Any kind: a known expiry (`expires:`); for bearer tokens that are JWTs the
  // exp claim is used when no date is declared.
  std::optional<TimePoint> declared_expiry;
  // Lead time: calprobe.credential.expiring fires this long before expiry.
  Duration warn_before = std::chrono::hours(72);

  bool operator==(const CredentialSpec&) const = default;
};

// Reads the `credentials:` list. Records errors (with paths) on `list`.
std::vector<CredentialSpec> ReadCredentials(const ConfigNode& list);

}  // namespace calprobe::core::auth
