// `calprobe diagnose URL|FILE`: why a provider's calendar does not sync.
// Exit 0 when no error-severity finding, 1 when there is one, 2 on usage
// errors. The logic lives in probes/ics/diagnose.h; this file only parses
// arguments, runs the one-shot io_context and prints.

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "core/config/config_node.h"
#include "core/http/curl_client.h"
#include "probes/ics/diagnose.h"

namespace calprobe::app {
namespace {

struct DiagnoseArgs {
  std::string target;
  bool json = false, markdown = false, twice = false, insecure = false, worked_before = false;
  std::string timeout = "30s", max_body = "32MiB", ca_file;
  int max_redirects = 5;
  std::vector<std::string> headers;
};

bool IsUrl(const std::string& s) {
  for (const char* p : {"http://", "https://", "webcal://", "webcals://"}) {
    if (s.rfind(p, 0) == 0) return true;
  }
  return false;
}

int Diagnose(const DiagnoseArgs& a) {
  probes::ics::DiagnoseOptions o;
  auto timeout = core::ParseDuration(a.timeout);
  if (!timeout || timeout->count() <= 0) {
    std::cerr << "calprobe diagnose: --timeout: expected a duration like 30s, got \"" << a.timeout
              << "\"\n";
    return kExitUsage;
  }
  o.timeout = *timeout;
  auto max_body = core::ParseBytes(a.max_body);
  if (!max_body || *max_body == 0) {
    std::cerr << "calprobe diagnose: --max-body: expected a size like 32MiB, got \"" << a.max_body
              << "\"\n";
    return kExitUsage;
  }
  o.max_body = *max_body;
  o.max_decompressed = std::max<uint64_t>(*max_body * 2, o.max_decompressed);
  o.max_redirects = a.max_redirects;
  o.twice = a.twice;
  o.insecure = a.insecure;
  o.worked_before = a.worked_before;
  o.ca_file = a.ca_file;
  for (const auto& h : a.headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "calprobe diagnose: --header: expected \"Name: value\", got \"" << h << "\"\n";
      return kExitUsage;
    }
    std::string v = h.substr(colon + 1);
    v.erase(0, v.find_first_not_of(' '));
    o.headers.emplace_back(h.substr(0, colon), v);
  }
  o.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();

  probes::ics::Report report;
  if (IsUrl(a.target)) {
    core::GlobalHttpInit();
    boost::asio::io_context io;
    core::CurlHttpClient http(io);
    probes::ics::DiagnoseUrl(http, a.target, o,
                             [&](probes::ics::Report r) { report = std::move(r); });
    io.run();
  } else {
    if (a.twice) {
      std::cerr << "calprobe diagnose: --twice needs a URL, not a file\n";
      return kExitUsage;
    }
    std::stringstream ss;
    if (a.target == "-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream f(a.target, std::ios::binary);
      if (!f) {
        std::cerr << "calprobe diagnose: cannot read \"" << a.target
                  << "\": give an http(s):// or webcal:// URL, a readable .ics file, or - for "
                     "stdin\n";
        return kExitUsage;
      }
      ss << f.rdbuf();
    }
    report = probes::ics::DiagnoseBody(a.target == "-" ? "(stdin)" : a.target, ss.str(), o);
  }
  if (a.json) {
    std::cout << probes::ics::RenderJson(report);
  } else if (a.markdown) {
    std::cout << probes::ics::RenderMarkdown(report);
  } else {
    bool color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
    std::cout << probes::ics::RenderText(report, color);
  }
  return report.has_error() ? kExitProblems : kExitOk;
}

}  // namespace

void AddDiagnoseCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<DiagnoseArgs>();
  auto* cmd = app.add_subcommand(
      "diagnose", "Explain why a calendar feed (URL or .ics file) does not sync; exit 1 on errors");
  cmd->add_option("target", a->target, "Feed URL (http, https, webcal), .ics file, or - for stdin")
      ->required();
  auto* json = cmd->add_flag("--json", a->json, "Print the report as JSON");
  auto* md = cmd->add_flag("--markdown", a->markdown, "Print the report as Markdown");
  json->excludes(md);
  cmd->add_flag("--twice", a->twice,
                "Poll the URL a second time (conditionally) and report the delta");
  cmd->add_option("--timeout", a->timeout, "Time limit per request (default 30s)");
  cmd->add_option("--max-body", a->max_body, "Body size limit (default 32MiB)");
  cmd->add_option("--max-redirects", a->max_redirects, "Redirects to follow (default 5)")
      ->check(CLI::Range(0, 20));
  cmd->add_option("-H,--header", a->headers, "Extra request header \"Name: value\" (repeatable)");
  cmd->add_flag("--insecure", a->insecure, "Do not verify TLS certificates");
  cmd->add_flag("--worked-before", a->worked_before,
                "The feed used to sync: report 401/403 (and 404/410 on a secret URL) as an "
                "expired or revoked credential");
  cmd->add_option("--ca-file", a->ca_file, "Extra CA bundle (PEM)");
  cmd->callback([a, action] { *action = [a]() -> int { return Diagnose(*a); }; });
}

}  // namespace calprobe::app
