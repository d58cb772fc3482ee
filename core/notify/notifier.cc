#include "core/notify/notifier.h"

#include <charconv>
#include <ctime>

#include "core/http/http_client.h"
#include "core/notify/alertmanager/alertmanager.h"
#include "core/notify/pagerduty/pagerduty.h"
#include "core/notify/slack/slack.h"
#include "core/notify/webhook/webhook.h"

namespace calprobe::core::notify {

HttpRequest BuildRequest(const ReceiverConfig& r, size_t dest,
                         const std::vector<Notification>& batch, const NotifySettings& s,
                         TimePoint now) {
  HttpRequest req;
  req.method = "POST";
  req.url = r.urls.at(dest);
  req.timeout = r.timeout;
  req.max_body_bytes = 64 * 1024;  // answers are tiny; never buffer much
  req.headers.emplace_back("Content-Type", "application/json");
  req.headers.emplace_back("User-Agent", "calprobe/" CALPROBE_VERSION);
  if (!r.bearer_token.empty())
    req.headers.emplace_back("Authorization", "Bearer " + r.bearer_token);
  // One line per receiver type.
  switch (r.type) {
    case ReceiverType::kPagerDuty:
      req.body = pagerduty::Body(r, batch.at(0), s).dump();
      break;
    case ReceiverType::kSlack:
      req.body = slack::Body(r, batch.at(0), s).dump();
      break;
    case ReceiverType::kAlertmanager:
      req.url = alertmanager::AlertsUrl(req.url);
      req.body = alertmanager::Body(r, batch, s, now).dump();
      break;
    case ReceiverType::kWebhook: {
      const Notification& n = batch.at(0);
      req.body = webhook::Body(r, n, s).dump();
      req.headers.emplace_back(
          "Idempotency-Key",
          n.dedup_key + "/" + (n.firing ? "firing" : "resolved") + "/" +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 n.starts_at.time_since_epoch())
                                 .count()));
      if (!r.signing_secret.empty()) {
        req.headers.emplace_back("X-Calprobe-Signature",
                                 webhook::Signature(r.signing_secret, req.body));
      }
      break;
    }
  }
  return req;
}

std::optional<Duration> ParseRetryAfter(std::string_view v, TimePoint now) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  int64_t secs = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec == std::errc() && p == v.data() + v.size()) {
    if (secs < 0) return std::nullopt;
    return std::chrono::seconds(secs);
  }
  // HTTP-date (IMF-fixdate): "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string s(v);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  TimePoint at = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (at <= now) return Duration::zero();
  return at - now;
}

Verdict Classify(const HttpResponse& r, TimePoint now) {
  Verdict v;
  if (!r.ok()) {
    v.kind = Verdict::kRetry;
    v.reason = std::string(TransportErrorCode(r.error)) + ": " + r.error_message;
    return v;
  }
  v.reason = "http " + std::to_string(r.status);
  if (r.status >= 200 && r.status < 300) {
    v.kind = Verdict::kDelivered;
    return v;
  }
  // Keep the receiver's explanation (Slack: "invalid_payload"), short.
  std::string body = r.body.substr(0, 200);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (!body.empty()) v.reason += ": " + body;
  if (r.status == 408 || r.status == 425 || r.status == 429 || r.status >= 500) {
    v.kind = Verdict::kRetry;
    if (r.status == 429 || r.status == 503)
      v.retry_after = ParseRetryAfter(r.Header("retry-after"), now);
    return v;
  }
  v.kind = Verdict::kPermanent;
  return v;
}

}  // namespace calprobe::core::notify
