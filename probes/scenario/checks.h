#pragma once
// Judging one HTTP answer of a scenario step: its expectations (status,
// JSON pointers, headers, body, latency), the ICS checks of ics_fetch /
// ics_contains / ics_lacks (calendar/ics linter and scanner) and captures.
// Pure functions: no I/O, no clock.

#include <optional>
#include <string>

#include "core/http/http_client.h"
#include "probes/scenario/scenario.h"

namespace calprobe::probes::scenario {

// Returns nullopt when `r` meets every expectation of `step` (and, for ics
// steps, the feed checks), else one line saying which expectation failed and
// what was seen. `latency_seconds` is the answer's total time.
std::optional<std::string> JudgeResponse(const Step& step, const core::HttpResponse& r,
                                         const Vars& vars, core::TimePoint now);

// Applies the step's captures to `vars`. Returns an error naming the first
// capture whose pointer or header is absent (the others are still applied).
// Captured secrets are registered with core::Secrets.
core::Status ApplyCaptures(const Step& step, const core::HttpResponse& r, Vars* vars);

// A short, redacted description of the exchange for reports:
// "POST http://…/api/holds -> 409 in 12 ms: {"error":…}".
std::string Excerpt(const core::HttpRequest& req, const core::HttpResponse& r);

// True iff the ICS body has a VEVENT matching every given criterion (UID
// equal, DTSTART equal to `start` as an instant: TZID= IANA and Windows
// zone names are converted with the zone's rules; floating times and
// unknown zones are read as UTC).
bool IcsHasEvent(std::string_view body, const std::optional<std::string>& uid,
                 const std::optional<core::TimePoint>& start);

}  // namespace calprobe::probes::scenario
