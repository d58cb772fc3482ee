#include "probes/ics/http_codes.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace calprobe::probes::ics {
namespace {

using calendar::Finding;
using calendar::Severity;

struct CodeInfo {
  std::string_view code;
  Severity severity;
  std::string_view fix;
};

// Mirrors docs/diagnosis-codes.md, "Transport".
constexpr std::array<CodeInfo, 21> kCodes = {{
    {"http.unreachable", Severity::kError,
     "The host name is wrong or the domain expired: check the URL and its DNS records."},
    {"http.connection_refused", Severity::kError,
     "Nothing listens on that port: the server is down or the URL names the wrong port."},
    {"http.connection_closed", Severity::kError,
     "The server closed the connection without a reply: check the server's logs, proxy and "
     "firewall."},
    {"http.truncated_transfer", Severity::kError,
     "The body ended early and was not applied: check proxy/CDN timeouts and size limits."},
    {"http.timeout", Severity::kError,
     "The server is too slow: cache the generated feed and serve it as a static file."},
    {"http.slow_body", Severity::kWarning,
     "The body trickled in too slowly: serve a pre-generated file."},
    {"http.tls_error", Severity::kError,
     "Renew or fix the certificate chain (expiry, host name, intermediates)."},
    {"http.auth_required", Severity::kError,
     "The feed needs credentials: publish a public (secret-address) ICS URL."},
    {"http.forbidden", Severity::kError,
     "Sharing was turned off or the address restricted: re-publish the calendar."},
    {"http.not_found", Severity::kError,
     "Often a revoked or regenerated secret address: get the new URL from the provider."},
    {"http.gone", Severity::kError,
     "The calendar was deleted: remove the subscription or get a new address."},
    {"http.rate_limited", Severity::kError,
     "Polled too often for this provider: the probe backs off and honours Retry-After."},
    {"http.server_error", Severity::kError,
     "Provider-side failure: retried on the backoff ladder; check the provider's status."},
    {"http.client_error", Severity::kError,
     "The server rejected the request: check the URL and any required headers."},
    {"http.redirect_limit", Severity::kError,
     "Fix the redirect chain (or loop) and subscribe to the final URL."},
    {"http.redirect_insecure", Severity::kError,
     "A downgrade to http exposes the secret address: serve https end to end."},
    {"http.too_large", Severity::kError,
     "Publish a bounded window of events (e.g. the last year and the future)."},
    {"http.decompression_limit", Severity::kError,
     "The compressed body expands beyond the limit: publish a bounded window of events."},
    {"http.content_type", Severity::kWarning,
     "Serve the feed as `Content-Type: text/calendar; charset=utf-8`."},
    {"http.no_conditional_get", Severity::kInfo,
     "Send ETag or Last-Modified and answer If-None-Match / If-Modified-Since with 304."},
    {"http.bad_content_encoding", Severity::kError,
     "The Content-Encoding does not match the body: fix the server's compression settings."},
}};

const CodeInfo* Find(std::string_view code) {
  for (const auto& c : kCodes) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view StatusCode(int status) {
  if ((status >= 200 && status < 300) || status == 304) return {};
  switch (status) {
    case 401:
      return "http.auth_required";
    case 403:
      return "http.forbidden";
    case 404:
      return "http.not_found";
    case 410:
      return "http.gone";
    case 429:
      return "http.rate_limited";
    default:
      break;
  }
  if (status >= 500) return "http.server_error";
  if (status >= 300 && status < 400) return "http.redirect_limit";
  return "http.client_error";
}

Finding TransportFinding(std::string_view code, std::string message) {
  Finding f;
  f.code = std::string(code);
  const CodeInfo* info = Find(code);
  f.severity = info ? info->severity : Severity::kError;
  f.line = 0;
  f.message = std::move(message);
  f.fix = info ? std::string(info->fix) : "";
  return f;
}

std::optional<Finding> FetchFinding(const core::HttpResponse& r) {
  if (!r.ok()) {
    std::string msg = r.error_message.empty() ? "the transfer failed" : r.error_message;
    if (r.error == core::TransportError::kRedirectLimit && !r.redirect_chain.empty()) {
      msg += " after " + std::to_string(r.redirect_chain.size()) +
             " redirects (last: " + r.redirect_chain.back() + ")";
    }
    return TransportFinding(core::TransportErrorCode(r.error), std::move(msg));
  }
  std::string_view code = StatusCode(r.status);
  if (code.empty()) return std::nullopt;
  std::string msg = "HTTP " + std::to_string(r.status);
  if (r.status == 429 || r.status == 503) {
    std::string_view ra = r.Header("retry-after");
    if (!ra.empty()) msg += " with Retry-After: " + std::string(ra.substr(0, 64));
  }
  if (r.status >= 300 && r.status < 400) {
    std::string_view loc = r.Header("location");
    msg += " redirect not followed";
    if (!loc.empty()) msg += " (Location: " + std::string(loc.substr(0, 200)) + ")";
  }
  return TransportFinding(code, std::move(msg));
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, core::TimePoint now) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || p != value.data() + value.size()) {
      return std::chrono::seconds(365LL * 86400);  // absurdly large: caller caps it
    }
    return std::chrono::seconds(n);
  }
  std::string s(value.substr(0, 64));
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  time_t at = timegm(&tm);
  auto delta = std::chrono::system_clock::from_time_t(at) - now;
  if (delta <= core::Duration::zero()) return std::chrono::seconds(0);
  return std::chrono::duration_cast<std::chrono::seconds>(delta);
}

bool IsCalendarContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  return Lower(Trim(media)) == "text/calendar";
}

std::string NormalizeFeedUrl(std::string_view url) {
  std::string lower = Lower(url.substr(0, 10));
  if (lower.rfind("webcals://", 0) == 0) return "https://" + std::string(url.substr(10));
  if (lower.rfind("webcal://", 0) == 0) return "https://" + std::string(url.substr(9));
  return std::string(url);
}

}  // namespace calprobe::probes::ics
