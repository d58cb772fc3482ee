#include "core/notify/alertmanager/alertmanager.h"

#include "core/event.h"

namespace calprobe::core::notify::alertmanager {

nlohmann::json Alert(const ReceiverConfig& r, const Notification& n, const NotifySettings& s,
                     TimePoint now) {
  LabelMap annotations = n.annotations;
  annotations["value"] = FormatValue(n.value);
  if (!n.agent_region.empty()) annotations["agent_region"] = n.agent_region;
  if (std::string url = RunbookUrl(n, s); !url.empty()) {
    annotations["runbook_url"] = url;
  } else if (!n.runbook.empty()) {
    annotations["runbook"] = n.runbook;
  }
  TimePoint ends = n.firing ? now + 4 * r.resend_interval : n.ends_at;
  std::string generator = s.external_url;
  if (!generator.empty() && generator.back() == '/') generator.pop_back();
  nlohmann::json a = {{"labels", AlertLabels(n)},
                      {"annotations", annotations},
                      {"startsAt", FormatRfc3339(n.starts_at)},
                      {"endsAt", FormatRfc3339(ends)}};
  if (!generator.empty()) a["generatorURL"] = generator + "/api/v1/alerts";
  return a;
}

nlohmann::json Body(const ReceiverConfig& r, const std::vector<Notification>& batch,
                    const NotifySettings& s, TimePoint now) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : batch) out.push_back(Alert(r, n, s, now));
  return out;
}

std::string AlertsUrl(const std::string& base) {
  static const std::string kPath = "/api/v2/alerts";
  std::string b = base;
  if (b.size() >= kPath.size() && b.compare(b.size() - kPath.size(), kPath.size(), kPath) == 0)
    return b;
  while (!b.empty() && b.back() == '/') b.pop_back();
  return b + kPath;
}

}  // namespace calprobe::core::notify::alertmanager
