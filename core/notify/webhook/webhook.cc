#include "core/notify/webhook/webhook.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdio>

#include "core/event.h"

namespace calprobe::core::notify::webhook {

nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s) {
  const char* status = n.firing ? "firing" : "resolved";
  LabelMap labels = AlertLabels(n);
  LabelMap annotations = n.annotations;
  annotations["value"] = FormatValue(n.value);
  if (!n.agent_region.empty()) annotations["agent_region"] = n.agent_region;
  if (std::string url = RunbookUrl(n, s); !url.empty()) {
    annotations["runbook_url"] = url;
  } else if (!n.runbook.empty()) {
    annotations["runbook"] = n.runbook;
  }
  std::string external = s.external_url;
  if (!external.empty() && external.back() == '/') external.pop_back();
  nlohmann::json alert = {{"status", status},
                          {"labels", labels},
                          {"annotations", annotations},
                          {"startsAt", FormatRfc3339(n.starts_at)},
                          // Alertmanager's zero time for alerts still firing.
                          {"endsAt", n.firing ? "0001-01-01T00:00:00Z" : FormatRfc3339(n.ends_at)},
                          {"generatorURL", external.empty() ? "" : external + "/api/v1/alerts"},
                          {"fingerprint", Fingerprint(n)}};
  return {{"version", "4"},
          {"groupKey", n.dedup_key},
          {"truncatedAlerts", 0},
          {"status", status},
          {"receiver", r.name},
          {"groupLabels", n.labels},
          {"commonLabels", labels},
          {"commonAnnotations", annotations},
          {"externalURL", r.dashboard_url.empty() ? s.dashboard_url : r.dashboard_url},
          {"alerts", nlohmann::json::array({alert})}};
}

std::string Signature(const std::string& secret, const std::string& body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  std::string hex = "sha256=";
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

}  // namespace calprobe::core::notify::webhook
