#pragma once
// `calprobe diagnose URL|FILE`: a report a support engineer can paste to a
// provider — what is wrong, on which line, why it breaks sync, how to fix it.
// Content findings come from calendar/ics (AnalyzeIcs); for URLs the report
// adds the HTTP story (status, redirects, content type, caching headers,
// whether conditional GET is honoured, timings, size) and `http.*` findings.
// With `twice`, a second (conditional when possible) poll reports the delta.
// No I/O besides the HttpClient handed in; rendering is pure.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "calendar/ics/ics.h"
#include "core/http/http_client.h"

namespace calprobe::probes::ics {

struct DiagnoseOptions {
  std::chrono::milliseconds timeout{30000};
  uint64_t max_body = 32 * 1024 * 1024;
  uint64_t max_decompressed = 64 * 1024 * 1024;
  int max_redirects = 5;
  bool twice = false;  // poll again and report the delta
  std::vector<std::pair<std::string, std::string>> headers;
  bool insecure = false;  // skip TLS verification
  std::string ca_file;
  int64_t now_unix = 0;  // for sync.stale_content; 0 = skip
  size_t max_components = 50000;
  // The feed worked before (the subscription used to sync): a 401/403, or a
  // 404/410 on a secret URL, is then reported as credential.expired /
  // credential.revoked / credential.secret_url_revoked with wording for
  // the calendar's owner (probes/ics/credential_class.h).
  bool worked_before = false;
};

// One HTTP exchange as the report tells it.
struct HttpStory {
  std::string url;           // requested (credentials redacted)
  bool conditional = false;  // sent If-None-Match / If-Modified-Since
  int status = 0;
  std::string error_code;  // http.* when the fetch failed, else empty
  std::string error_message;
  std::vector<std::string> redirects;
  std::string effective_url;
  std::string content_type, content_encoding, etag, last_modified, cache_control, expires,
      retry_after;
  uint64_t wire_bytes = 0, body_bytes = 0;
  core::HttpTimings timings;
  std::string certificate_expiry;  // RFC 3339, empty when not https
};

struct Report {
  std::string source;  // URL (redacted) or file path
  bool is_url = false;
  std::optional<HttpStory> first;
  std::optional<HttpStory> second;           // the conditional / --twice request
  std::optional<bool> conditional_honoured;  // known when validators were sent
  std::optional<calendar::Delta> delta;      // --twice and both bodies usable
  bool body_read = false;
  size_t event_count = 0;
  size_t component_count = 0;
  bool usable = false;
  std::optional<int64_t> refresh_interval_seconds;
  std::vector<calendar::Finding> findings;              // http.* first, then content by line
  std::unordered_map<std::string, int> finding_counts;  // exact, per code

  int Count(calendar::Severity s) const;
  bool has_error() const { return Count(calendar::Severity::kError) > 0; }
};

// Diagnoses a body read from a file (or stdin).
Report DiagnoseBody(std::string source, std::string_view body, const DiagnoseOptions& o);

// Fetches `url` (webcal:// means https) and diagnoses it; `done` runs once
// on the client's thread. Makes a second, conditional request when the first
// response carries validators, or when `o.twice` is set.
void DiagnoseUrl(core::HttpClient& http, std::string url, const DiagnoseOptions& o,
                 std::function<void(Report)> done);

// Renderers. Text uses ANSI colour iff `color`.
std::string RenderText(const Report& r, bool color);
std::string RenderMarkdown(const Report& r);
std::string RenderJson(const Report& r);

}  // namespace calprobe::probes::ics
