#pragma once
// Turning notifications into HTTP requests, one builder per receiver type
// (core/notify/<type>/). Builders are pure: same input, same request; the
// time used for relative fields (Alertmanager's endsAt) is passed in.

#include <cstddef>
#include <vector>

#include "core/http/http_client.h"
#include "core/notify/notification.h"
#include "core/notify/receiver_config.h"

namespace calprobe::core::notify {

// Builds the request that delivers `batch` to destination `dest` (an index
// into receiver.urls, which must be valid). Every type accepts one
// notification; Alertmanager also accepts several (periodic re-sends).
HttpRequest BuildRequest(const ReceiverConfig& receiver, size_t dest,
                         const std::vector<Notification>& batch, const NotifySettings& settings,
                         TimePoint now);

// What a response means for the delivery.
struct Verdict {
  enum Kind { kDelivered, kRetry, kPermanent } kind = kRetry;
  std::string reason;  // "http 503", "http.connection_refused: …", "http 400: invalid routing key"
  std::optional<Duration> retry_after;  // from Retry-After (429/503)
};
// 2xx delivered; transport errors, 408, 425, 429 and 5xx retried; every
// other status permanent (a bad payload or key will not get better).
Verdict Classify(const HttpResponse& response, TimePoint now);

// Parses a Retry-After value: delay-seconds or an HTTP-date.
std::optional<Duration> ParseRetryAfter(std::string_view value, TimePoint now);

}  // namespace calprobe::core::notify
