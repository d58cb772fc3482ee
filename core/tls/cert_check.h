#pragma once
// Judges a TLS certificate chain as a server presented it: earliest expiry,
// issuer, hostname match and chain verification against the trust store,
// with one classification a person can act on. Verification uses OpenSSL
// at an explicit instant, so tests (and replays) control time.
// Pure apart from reading the CA bundle; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace calprobe::core::tls {

// What is wrong with a chain, most urgent first (docs/credentials.md).
enum class Verdict {
  kOk,
  kExpired,           // a presented certificate's notAfter has passed
  kNotYetValid,       // a presented certificate's notBefore is in the future
  kSelfSigned,        // the leaf signs itself and is not trusted
  kIncompleteChain,   // the leaf's issuer is neither presented nor trusted: intermediate missing
  kUntrustedRoot,     // the chain ends in a CA the trust store does not hold
  kHostnameMismatch,  // the chain is fine, but not for this host name
  kInvalid,           // anything else OpenSSL rejects (bad signature, …), or no chain
};
std::string_view VerdictCode(Verdict v);  // "ok", "expired", "self_signed", …

struct ChainCheck {
  bool has_chain = false;  // false: nothing could be parsed (see error)
  std::string error;
  size_t chain_length = 0;
  TimePoint earliest_expiry{};   // min notAfter over the presented chain
  std::string expiring_subject;  // subject of that certificate
  std::string leaf_subject;
  std::string issuer;  // the leaf's issuer (RFC 2253)
  bool hostname_match = false;
  bool chain_verified = false;  // verifies against the trust store at `now`
  bool usable = false;          // verifies (validity dates aside) and matches the host name
  std::string verify_error;     // OpenSSL's reason when !chain_verified
  Verdict verdict = Verdict::kInvalid;
  double days_left = 0;  // (earliest_expiry - now) in days; negative once expired
};

// Checks `pem_chain` (leaf first, as presented) for `host` (a DNS name or an
// IP literal) at instant `now`. `ca_file` empty: the system trust store;
// otherwise only that bundle (as libcurl's CURLOPT_CAINFO does).
ChainCheck CheckChain(const std::vector<std::string>& pem_chain, std::string_view host,
                      const std::string& ca_file, TimePoint now);

// Expiry levels for threshold events.
enum class ExpiryLevel { kOk, kWarn, kCritical, kExpired };
std::string_view ExpiryLevelName(ExpiryLevel l);  // "ok", "warn", "critical", "expired"
ExpiryLevel LevelFor(TimePoint expiry, TimePoint now, Duration warn, Duration critical);

}  // namespace calprobe::core::tls
