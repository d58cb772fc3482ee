// `calprobe webhook-sink --listen HOST:PORT [--json] [--status CODE]`: a
// local receiver that prints every notification it gets, readably, so the
// demo (and anyone trying receivers) can watch deliveries in a terminal.
// It recognises PagerDuty Events v2, Slack webhook, Alertmanager v2 and
// Alertmanager-webhook bodies and answers each like the real service
// (PagerDuty: 202 with the dedup_key; others: 200), or with --status.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/commands.h"
#include "core/admin/admin_server.h"
#include "core/clock.h"
#include "core/event.h"

namespace calprobe::app {
namespace {

using nlohmann::json;

std::string Labels(const json& labels, bool skip_name) {
  std::string out;
  if (!labels.is_object()) return out;
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    if (skip_name && (it.key() == "alertname" || it.key() == "severity")) continue;
    out += (out.empty() ? "" : ",") + it.key() + "=\"" +
           (it.value().is_string() ? it.value().get<std::string>() : it.value().dump()) + "\"";
  }
  return "{" + out + "}";
}

std::string Str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

// Returns (kind, readable lines).
std::pair<std::string, std::string> Describe(const std::string& path, const json& b) {
  std::string out;
  if (b.is_object() && b.contains("event_action")) {
    out = "PagerDuty " + Str(b, "event_action") + " dedup_key=" + Str(b, "dedup_key");
    if (b.contains("payload")) {
      const json& p = b["payload"];
      out += " severity=" + Str(p, "severity") + " source=" + Str(p, "source") + "\n    " +
             Str(p, "summary");
    }
    if (b.contains("links") && b["links"].is_array()) {
      for (const auto& l : b["links"]) out += "\n    " + Str(l, "text") + ": " + Str(l, "href");
    }
    return {"pagerduty", out};
  }
  if (b.is_object() && b.contains("version") && b.contains("alerts")) {
    out = "Webhook receiver=" + Str(b, "receiver") + " status=" + Str(b, "status") +
          " groupKey=" + Str(b, "groupKey");
    for (const auto& a : b["alerts"]) {
      out += "\n    " + Str(a, "status") + " " + Str(a["labels"], "alertname") +
             Labels(a["labels"], true) + "  " + Str(a["annotations"], "summary");
    }
    return {"webhook", out};
  }
  if (b.is_array()) {
    out = "Alertmanager " + path + ": " + std::to_string(b.size()) + " alert(s)";
    for (const auto& a : b) {
      out += "\n    " + Str(a["labels"], "alertname") + Labels(a["labels"], true) +
             " startsAt=" + Str(a, "startsAt") + " endsAt=" + Str(a, "endsAt") + "  " +
             Str(a["annotations"], "summary");
    }
    return {"alertmanager", out};
  }
  if (b.is_object() && b.contains("text")) {
    out = "Slack " + Str(b, "channel") + " " + Str(b, "text");
    if (b.contains("blocks") && b["blocks"].is_array()) {
      for (const auto& blk : b["blocks"]) {
        std::string t = blk.contains("text") ? Str(blk["text"], "text") : "";
        if (blk.contains("fields")) {
          for (const auto& f : blk["fields"]) t += (t.empty() ? "" : " | ") + Str(f, "text");
        }
        if (blk.contains("elements")) {
          for (const auto& e : blk["elements"]) t += (t.empty() ? "" : " ") + Str(e, "text");
        }
        for (char& c : t) {
          if (c == '\n') c = ' ';
        }
        if (!t.empty()) out += "\n    " + t;
      }
    }
    return {"slack", out};
  }
  return {"unknown", "POST " + path + " " + b.dump().substr(0, 300)};
}

}  // namespace

void AddWebhookSinkCommand(CLI::App& app, Action* action) {
  struct Opts {
    std::string listen;
    bool json = false;
    int status = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "webhook-sink",
      "Print notifications (PagerDuty, Slack, Alertmanager, webhook) received over HTTP");
  cmd->add_option("--listen", o->listen, "HOST:PORT to listen on (port 0 = any)")->required();
  cmd->add_flag("--json", o->json, "One JSON object per delivery instead of text");
  cmd->add_option("--status", o->status,
                  "Answer every delivery with this HTTP status (test retries)");
  cmd->callback([o, action] {
    *action = [o]() -> int {
      boost::asio::io_context io;
      core::AdminServer server(io, 1 << 20);
      uint64_t count = 0;
      server.Route("POST", "/*", [o, &count](const core::AdminRequest& r) {
        json body = json::parse(r.body, nullptr, false);
        auto [kind, text] = Describe(r.path, body);
        std::string now = core::FormatRfc3339(std::chrono::system_clock::now());
        ++count;
        if (o->json) {
          json line = {{"time", now},
                       {"path", r.path},
                       {"kind", kind},
                       {"body", body.is_discarded() ? json(r.body) : body}};
          std::cout << line.dump() << std::endl;
        } else {
          std::cout << now << " #" << count << " " << text << std::endl;
        }
        if (o->status) return core::AdminResponse::Text(o->status, "status set by --status\n");
        if (kind == "pagerduty") {
          json ok = {{"status", "success"},
                     {"message", "Event processed"},
                     {"dedup_key", body.value("dedup_key", "")}};
          return core::AdminResponse::Json(202, ok.dump());
        }
        return core::AdminResponse::Text(200, "ok");
      });
      if (core::Status s = server.Listen(o->listen); !s.ok()) {
        std::cerr << "calprobe webhook-sink: " << s.message() << "\n";
        return kExitUsage;
      }
      std::string host = o->listen.substr(0, o->listen.rfind(':'));
      std::cerr << "calprobe webhook-sink: listening on http://" << host << ":" << server.port()
                << "/ (Ctrl-C to stop)" << std::endl;
      boost::asio::signal_set signals(io, SIGINT, SIGTERM);
      signals.async_wait([&](const boost::system::error_code&, int) {
        server.Stop();
        io.stop();
      });
      io.run();
      return kExitOk;
    };
  });
}

}  // namespace calprobe::app
