// The admin endpoints: /metrics, /healthz, /readyz, /api/v1/targets,
// /api/v1/events (NDJSON ingest).

#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/agent_internal.h"
#include "core/config/config_node.h"
#include "core/embedded.h"
#include "core/panels/panels.h"
#include "core/secrets.h"

namespace calprobe::core {
namespace {

// process_* metrics from /proc/self (Prometheus client convention).
void WriteProcessMetrics(MetricsWriter* w) {
  std::ifstream f("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = content.rfind(')');
  if (paren == std::string::npos) return;
  std::istringstream in(content.substr(paren + 2));
  std::vector<std::string> fields;
  std::string s;
  while (in >> s) fields.push_back(s);
  // fields[0] is field 3 (state); utime=14, stime=15, starttime=22, rss=24.
  if (fields.size() < 22) return;
  double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double cpu = (std::stod(fields[11]) + std::stod(fields[12])) / ticks;
  double rss = std::stod(fields[21]) * static_cast<double>(sysconf(_SC_PAGESIZE));
  w->Family("process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.");
  w->Sample("process_cpu_seconds_total", {}, {}, cpu);
  w->Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w->Sample("process_resident_memory_bytes", {}, {}, rss);
  struct mallinfo2 mi = mallinfo2();
  w->Family("calprobe_heap_in_use_bytes", "gauge",
            "Heap bytes allocated and in use (malloc), beside RSS to tell data from fragmentation.");
  w->Sample("calprobe_heap_in_use_bytes", {}, {}, static_cast<double>(mi.uordblks + mi.hblkhd));
}

bool BearerOk(const std::string& header, const std::string& token) {
  if (token.empty()) return false;
  static const std::string kPrefix = "Bearer ";
  if (header.size() != kPrefix.size() + token.size() || header.compare(0, kPrefix.size(), kPrefix) != 0) {
    return false;
  }
  // Constant-time compare.
  unsigned char diff = 0;
  for (size_t i = 0; i < token.size(); ++i) diff |= header[kPrefix.size() + i] ^ token[i];
  return diff == 0;
}

}  // namespace

std::optional<AdminResponse> AgentState::CheckWriteAuth(const AdminRequest& r) const {
  if (config.agent.ingest_token.empty()) {
    nlohmann::json err = {{"error",
                           "event ingest and silences are disabled: set agent.ingest_token, e.g. "
                           "ingest_token: ${CALPROBE_INGEST_TOKEN}"}};
    return AdminResponse::Json(401, err.dump() + "\n");
  }
  if (!BearerOk(r.authorization, config.agent.ingest_token)) {
    nlohmann::json err = {
        {"error", "missing or wrong bearer token (send Authorization: Bearer <agent.ingest_token>)"}};
    AdminResponse resp = AdminResponse::Json(401, err.dump() + "\n");
    resp.headers.emplace_back("WWW-Authenticate", "Bearer");
    return resp;
  }
  return std::nullopt;
}

void AgentState::RegisterRoutes() {
  RegisterAlertRoutes();
  metrics.AddCollector(&WriteProcessMetrics);
  admin->Route("GET", "/metrics", [this](const AdminRequest&) {
    return AdminResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics.Render(), {}};
  });
  admin->Route("GET", "/healthz", [](const AdminRequest&) { return AdminResponse::Text(200, "ok\n"); });
  admin->Route("GET", "/readyz", [this](const AdminRequest&) {
    return ready ? AdminResponse::Text(200, "ready\n") : AdminResponse::Text(503, "starting\n");
  });
  admin->Route("GET", "/api/v1/targets", [this](const AdminRequest&) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : targets) {
      nlohmann::json labels = nlohmann::json::object();
      for (size_t i = 0; i < kLabelCount; ++i) {
        const auto& v = t->info.labels.Get(static_cast<Label>(i));
        if (!v.empty()) labels[std::string(kLabelNames[i])] = v;
      }
      out.push_back({{"name", t->config.name},
                     {"probe", t->config.probe_type},
                     {"interval_seconds", t->config.interval.count() / 1000.0},
                     {"timeout_seconds", t->config.timeout.count() / 1000.0},
                     {"labels", labels},
                     {"tls", tls ? tls->TargetJson(t->config.name) : nlohmann::json()},
                     {"last", t->last.empty() ? nlohmann::json()
                                              : nlohmann::json::parse(t->last, nullptr, false)}});
    }
    return AdminResponse::Json(200, Secrets::Redact(out.dump(2)) + "\n");
  });
  admin->Route("POST", "/api/v1/events", [this](const AdminRequest& r) {
    if (auto denied = CheckWriteAuth(r)) return *denied;
    nlohmann::json errors = nlohmann::json::array();
    size_t accepted = 0, lines = 0, line_no = 0, pos = 0;
    std::string_view body = r.body;
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      std::string_view line = body.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? body.size() : nl + 1;
      ++line_no;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      if (line.empty()) continue;
      ++lines;
      auto ev = ParseEventJson(line);
      Status st = ev.ok() ? pipeline->Emit(std::move(ev.value())) : ev.status();
      if (st.ok()) {
        ++accepted;
      } else {
        if (errors.size() < 100) errors.push_back({{"line", line_no}, {"error", st.message()}});
      }
    }
    nlohmann::json out = {{"accepted", accepted}, {"rejected", lines - accepted}, {"errors", errors}};
    return AdminResponse::Json(200, Secrets::Redact(out.dump()) + "\n");
  });
  admin->Route("GET", "/api/v1/panels", [this](const AdminRequest& r) {
    TimePoint now = std::chrono::system_clock::now();
    auto q = panels::ParsePanelQuery([&r](const char* k) { return r.Param(k); }, now,
                                     rollups->options().retention);
    if (!q.ok()) {
      return AdminResponse::Json(400, nlohmann::json({{"error", q.error()}}).dump() + "\n");
    }
    std::string body = panels::BuildPanels(*rollups, *q, now).dump();
    return AdminResponse::Json(200, Secrets::Redact(body) + "\n");
  });
  // The runbooks every alert links to, compiled in (ops/runbooks/*.md).
  admin->Route("GET", "/ops/runbooks/*", [](const AdminRequest& r) {
    std::string name = r.path.substr(std::string("/ops/runbooks/").size());
    if (name.empty()) name = "README.md";
    for (size_t i = 0; i < kEmbeddedRunbooksCount; ++i) {
      if (kEmbeddedRunbooks[i].name == name) {
        return AdminResponse::Text(200, std::string(kEmbeddedRunbooks[i].content));
      }
    }
    return AdminResponse::Text(404, "no runbook \"" + name + "\"; the index is /ops/runbooks/\n");
  });
  admin->Route("GET", "/", [this](const AdminRequest&) {
    std::string html = std::string(kEmbeddedIndexHtml);
    std::string region;  // HTML-escaped: the region comes from config or --region
    for (char c : config.agent.region) {
      if (c == '<') region += "&lt;";
      else if (c == '>') region += "&gt;";
      else if (c == '&') region += "&amp;";
      else if (c == '"') region += "&quot;";
      else region += c;
    }
    for (size_t p = html.find("{{region}}"); p != std::string::npos;
         p = html.find("{{region}}", p)) {
      html.replace(p, 10, region);
      p += region.size();
    }
    return AdminResponse{200, "text/html; charset=utf-8", html, {}};
  });
}

}  // namespace calprobe::core
