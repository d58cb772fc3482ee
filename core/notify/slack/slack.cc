#include "core/notify/slack/slack.h"

#include "core/event.h"

namespace calprobe::core::notify::slack {

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

nlohmann::json Body(const ReceiverConfig& r, const Notification& n, const NotifySettings& s) {
  const std::string state = n.firing ? "FIRING" : "RESOLVED";
  const std::string icon = n.firing ? ":red_circle:" : ":large_green_circle:";
  std::string summary = Summary(n);

  std::string labels;
  for (const auto& [k, v] : n.labels)
    labels += (labels.empty() ? "" : ", ") + ("`" + k + "=" + v + "`");
  if (labels.empty()) labels = "(none)";

  std::string headline = icon + " *" + state + "* " + Escape(n.rule) +
                         (n.severity.empty() ? "" : " (" + Escape(n.severity) + ")") + "\n" +
                         Escape(summary);
  std::string when = n.firing ? "*Firing since*\n" + FormatRfc3339(n.starts_at)
                              : "*Resolved at*\n" + FormatRfc3339(n.ends_at);
  nlohmann::json fields = nlohmann::json::array({
      {{"type", "mrkdwn"}, {"text", "*Labels*\n" + Escape(labels)}},
      {{"type", "mrkdwn"}, {"text", "*Value*\n" + FormatValue(n.value)}},
      {{"type", "mrkdwn"}, {"text", when}},
      {{"type", "mrkdwn"}, {"text", "*Agent region*\n" + Escape(n.agent_region)}},
  });
  nlohmann::json blocks = nlohmann::json::array();
  blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", headline}}}});
  blocks.push_back({{"type", "section"}, {"fields", fields}});
  if (auto it = n.annotations.find("action"); it != n.annotations.end() && n.firing) {
    blocks.push_back({{"type", "section"},
                      {"text", {{"type", "mrkdwn"}, {"text", "*Action*\n" + Escape(it->second)}}}});
  }
  std::string links;
  if (std::string url = RunbookUrl(n, s); !url.empty()) {
    links += "<" + url + "|Runbook>";
  } else if (!n.runbook.empty()) {
    links += "Runbook: `" + Escape(n.runbook) + "`";
  }
  std::string dashboard = r.dashboard_url.empty() ? s.dashboard_url : r.dashboard_url;
  if (!dashboard.empty())
    links += std::string(links.empty() ? "" : " · ") + "<" + dashboard + "|Dashboard>";
  if (!links.empty()) {
    blocks.push_back(
        {{"type", "context"},
         {"elements", nlohmann::json::array({{{"type", "mrkdwn"}, {"text", links}}})}});
  }
  return {{"channel", r.channel},
          {"username", r.username},
          {"text", icon + " " + state + ": " + Escape(summary)},
          {"blocks", blocks}};
}

}  // namespace calprobe::core::notify::slack
