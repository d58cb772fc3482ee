#pragma once
// The transport vocabulary of the ICS probe and `calprobe diagnose`: turns an
// HttpResponse into at most one `http.*` finding (docs/diagnosis-codes.md,
// "Transport"), parses Retry-After and judges the Content-Type. Pure
// functions; thread-safe.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "calendar/ics/ics.h"
#include "core/clock.h"
#include "core/http/http_client.h"

namespace calprobe::probes::ics {

// Returns the code for an HTTP status that means the poll failed: 401
// http.auth_required, 403 http.forbidden, 404 http.not_found, 410 http.gone,
// 429 http.rate_limited, 5xx http.server_error, an unfollowed 3xx
// http.redirect_limit, any other 4xx http.client_error. Returns empty for
// 2xx and 304.
std::string_view StatusCode(int status);

// Returns the error finding for a failed fetch (transport error or failing
// status), or nullopt when the response carries a body to read (2xx) or is a
// 304. The message names the status / libcurl reason; `fix` comes from the
// code's documented remedy.
std::optional<calendar::Finding> FetchFinding(const core::HttpResponse& r);

// A finding for `code` with its documented severity, message and fix.
calendar::Finding TransportFinding(std::string_view code, std::string message);

// Retry-After as a delay from `now`: delta-seconds ("120") or an HTTP-date
// ("Wed, 21 Oct 2026 07:28:00 GMT"). nullopt when absent or unparsable;
// never negative.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, core::TimePoint now);

// Returns true iff `content_type` (the header value) is text/calendar
// (parameters and case ignored).
bool IsCalendarContentType(std::string_view content_type);

// Rewrites webcal:// (and webcals://) to https://; other URLs unchanged.
std::string NormalizeFeedUrl(std::string_view url);

}  // namespace calprobe::probes::ics
