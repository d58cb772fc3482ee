#include <algorithm>
#include <cctype>

#include "core/http/http_client.h"

namespace calprobe::core {

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string_view TransportErrorCode(TransportError e) {
  switch (e) {
    case TransportError::kNone: return "";
    case TransportError::kUnreachable: return "http.unreachable";
    case TransportError::kConnectionRefused: return "http.connection_refused";
    case TransportError::kConnectionClosed: return "http.connection_closed";
    case TransportError::kTruncated: return "http.truncated_transfer";
    case TransportError::kTimeout: return "http.timeout";
    case TransportError::kSlowBody: return "http.slow_body";
    case TransportError::kTls: return "http.tls_error";
    case TransportError::kTooLarge: return "http.too_large";
    case TransportError::kDecompressionLimit: return "http.decompression_limit";
    case TransportError::kRedirectLimit: return "http.redirect_limit";
    case TransportError::kRedirectInsecure: return "http.redirect_insecure";
    case TransportError::kBadEncoding: return "http.bad_content_encoding";
    case TransportError::kOther: return "http.error";
  }
  return "http.error";
}

std::string_view HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::optional<TimePoint> HttpResponse::EarliestCertificateExpiry() const {
  std::optional<TimePoint> best;
  for (const auto& c : certificates) {
    if (c.not_after == TimePoint{}) continue;
    if (!best || c.not_after < *best) best = c.not_after;
  }
  return best;
}

}  // namespace calprobe::core
