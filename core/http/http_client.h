#pragma once
// Asynchronous HTTP client interface. The production implementation
// (curl_client.h) drives libcurl's multi-socket API from the agent's
// io_context: thousands of transfers in flight on one thread. Tests may
// substitute a fake through this interface.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace calprobe::core {

// Why a transfer failed below HTTP. The codes are the shared vocabulary of
// probes, `calprobe diagnose` and docs/diagnosis-codes.md.
enum class TransportError {
  kNone,
  kUnreachable,         // http.unreachable: DNS failure / no route
  kConnectionRefused,   // http.connection_refused
  kConnectionClosed,    // http.connection_closed: closed with no reply
  kTruncated,           // http.truncated_transfer
  kTimeout,             // http.timeout: no response headers in time
  kSlowBody,            // http.slow_body: headers came, body did not finish in time
  kTls,                 // http.tls_error
  kTooLarge,            // http.too_large
  kDecompressionLimit,  // http.decompression_limit
  kRedirectLimit,       // http.redirect_limit
  kRedirectInsecure,    // http.redirect_insecure: https -> http
  kBadEncoding,         // http.bad_content_encoding
  kOther,               // http.error
};
std::string_view TransportErrorCode(TransportError e);
// RFC 3986 percent-encoding of everything but unreserved characters
// (ALPHA / DIGIT / "-" / "." / "_" / "~"): query values, form bodies.
std::string PercentEncode(std::string_view s);

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  uint64_t max_body_bytes = 10 * 1024 * 1024;          // bytes on the wire
  uint64_t max_decompressed_bytes = 64 * 1024 * 1024;  // bytes after Content-Encoding
  int max_redirects = 0;                               // 0: do not follow
  bool accept_compressed = true;
  bool verify_tls = true;
  bool capture_certificates = false;  // fill HttpResponse::certificates for https
  bool fresh_connection = false;      // no connection reuse (measures connect + TLS every time)
  std::string ca_file;                // extra CA bundle (tests, private CAs)
};

struct HttpTimings {  // seconds per phase; 0 when the phase did not happen
  double dns = 0, connect = 0, tls = 0, first_byte = 0, total = 0;
};

struct CertificateInfo {
  std::string subject;
  std::string issuer;
  TimePoint not_after{};
  TimePoint not_before{};
  std::string pem;  // the certificate as presented (PEM), for core/tls checks
};

struct HttpResponse {
  TransportError error = TransportError::kNone;
  std::string error_message;  // human-readable, from libcurl when error != kNone
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, last response
  std::string body;                                          // decompressed
  HttpTimings timings;
  int redirect_count = 0;
  std::string effective_url;
  std::vector<std::string> redirect_chain;  // Location values followed, in order
  uint64_t wire_bytes = 0;                  // body bytes as received (compressed)
  std::vector<CertificateInfo> certificates;
  bool tls_verified = false;

  bool ok() const { return error == TransportError::kNone; }
  // Returns the first header with this (lower-case) name, or empty.
  std::string_view Header(std::string_view lower_name) const;
  std::optional<TimePoint> EarliestCertificateExpiry() const;
};

class HttpClient {
 public:
  using Callback = std::function<void(HttpResponse)>;
  virtual ~HttpClient() = default;
  // Starts a transfer; `done` runs exactly once on the client's thread.
  virtual void Fetch(HttpRequest request, Callback done) = 0;
  virtual size_t InFlight() const = 0;
};

}  // namespace calprobe::core
