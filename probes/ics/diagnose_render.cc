// Text, Markdown and JSON renderings of a diagnose Report.

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probes/ics/diagnose.h"

namespace calprobe::probes::ics {
namespace {

using calendar::Finding;
using calendar::Severity;

std::string Ms(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f ms", seconds * 1000);
  return buf;
}

std::string StatusLine(const HttpStory& s) {
  if (!s.error_code.empty()) return s.error_code + " (" + s.error_message + ")";
  return "HTTP " + std::to_string(s.status);
}

std::string Timings(const core::HttpTimings& t) {
  std::string out = "dns " + Ms(t.dns) + ", connect " + Ms(t.connect);
  if (t.tls > 0) out += ", tls " + Ms(t.tls);
  out += ", first byte " + Ms(t.first_byte) + ", total " + Ms(t.total);
  return out;
}

std::string Caching(const HttpStory& s) {
  std::string out;
  auto add = [&](std::string_view name, const std::string& v) {
    if (v.empty()) return;
    if (!out.empty()) out += ", ";
    out += std::string(name) + ": " + v;
  };
  add("ETag", s.etag);
  add("Last-Modified", s.last_modified);
  add("Cache-Control", s.cache_control);
  add("Expires", s.expires);
  return out.empty() ? "none (no ETag, Last-Modified, Cache-Control or Expires)" : out;
}

std::string Size(const HttpStory& s) {
  std::string out = std::to_string(s.body_bytes) + " bytes";
  if (!s.content_encoding.empty()) {
    out += " (" + std::to_string(s.wire_bytes) + " on the wire, " + s.content_encoding + ")";
  }
  return out;
}

std::string Conditional(const Report& r) {
  if (!r.second || !r.second->conditional) {
    return r.first && r.first->etag.empty() && r.first->last_modified.empty()
               ? "not possible (no validators)"
               : "not checked";
  }
  if (r.conditional_honoured == true) return "honoured (304 Not Modified)";
  if (r.conditional_honoured == false) {
    return "ignored (HTTP " + std::to_string(r.second->status) + " to a conditional request)";
  }
  return "unknown (second request failed)";
}

std::vector<std::pair<std::string, std::string>> HttpRows(const Report& r) {
  std::vector<std::pair<std::string, std::string>> rows;
  const HttpStory& s = *r.first;
  rows.emplace_back("status", StatusLine(s));
  if (!s.redirects.empty()) {
    std::string chain;
    for (const auto& l : s.redirects) chain += (chain.empty() ? "" : " -> ") + l;
    rows.emplace_back("redirects", std::to_string(s.redirects.size()) + ": " + chain);
  }
  if (s.status > 0) {
    rows.emplace_back("content type", s.content_type.empty() ? "(none)" : s.content_type);
    rows.emplace_back("size", Size(s));
    rows.emplace_back("caching", Caching(s));
    if (s.error_code.empty() && s.status >= 200 && s.status < 300) {
      rows.emplace_back("conditional GET", Conditional(r));
    }
    if (!s.retry_after.empty()) rows.emplace_back("retry-after", s.retry_after);
  }
  rows.emplace_back("timings", Timings(s.timings));
  if (!s.certificate_expiry.empty()) rows.emplace_back("certificate expires", s.certificate_expiry);
  if (r.second)
    rows.emplace_back("second request",
                      StatusLine(*r.second) + (r.second->conditional ? " (conditional)" : ""));
  if (r.delta) {
    rows.emplace_back("delta", "+" + std::to_string(r.delta->added) + " added, -" +
                                   std::to_string(r.delta->removed) + " removed, ~" +
                                   std::to_string(r.delta->changed) + " changed");
  }
  return rows;
}

std::string Summary(const Report& r) {
  return std::to_string(r.Count(Severity::kError)) + " error(s), " +
         std::to_string(r.Count(Severity::kWarning)) + " warning(s), " +
         std::to_string(r.Count(Severity::kInfo)) + " info";
}

// Findings whose exact count exceeds the ones listed.
std::vector<std::pair<std::string, int>> Hidden(const Report& r) {
  std::map<std::string, int> listed;
  for (const auto& f : r.findings) listed[f.code]++;
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [code, n] : r.finding_counts) {
    if (n > listed[code]) out.emplace_back(code, n - listed[code]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string RenderText(const Report& r, bool color) {
  auto paint = [color](const char* code, const std::string& s) {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
  };
  std::ostringstream out;
  out << paint("1", "calprobe diagnose " + r.source) << "\n";
  if (r.first) {
    out << "\n" << paint("1", "HTTP") << "\n";
    for (const auto& [k, v] : HttpRows(r)) {
      out << "  " << k << std::string(k.size() < 20 ? 20 - k.size() : 1, ' ') << v << "\n";
    }
  }
  if (r.body_read) {
    out << "\n" << paint("1", "Calendar") << "\n";
    out << "  events              " << r.event_count << " in " << r.component_count
        << " components (" << (r.usable ? "usable" : "NOT usable: clients keep their old copy")
        << ")\n";
    if (r.refresh_interval_seconds) {
      out << "  refresh interval    " << *r.refresh_interval_seconds << " s (REFRESH-INTERVAL / "
          << "X-PUBLISHED-TTL)\n";
    }
  }
  out << "\n" << paint("1", "Findings: " + Summary(r)) << "\n";
  for (const Finding& f : r.findings) {
    const char* col = f.severity == Severity::kError     ? "31;1"
                      : f.severity == Severity::kWarning ? "33"
                                                         : "36";
    std::string sev = Upper(calendar::SeverityName(f.severity));
    sev.resize(7, ' ');
    out << "  " << paint(col, sev) << " "
        << (f.line > 0 ? "line " + std::to_string(f.line) : std::string("feed")) << "  "
        << paint("1", f.code) << "\n";
    out << "          " << f.message << "\n";
    if (!f.fix.empty()) out << "          fix: " << f.fix << "\n";
  }
  for (const auto& [code, n] : Hidden(r)) {
    out << "  … and " << n << " more " << code << "\n";
  }
  if (r.findings.empty()) out << "  none: the feed looks healthy\n";
  out << "\nCodes are explained in docs/diagnosis-codes.md.\n";
  return out.str();
}

std::string RenderMarkdown(const Report& r) {
  auto cell = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (c == '|')
        out += "\\|";
      else if (c == '\n')
        out += ' ';
      else
        out.push_back(c);
    }
    return out;
  };
  std::ostringstream out;
  out << "## Calendar feed diagnosis: `" << r.source << "`\n\n";
  out << "**" << Summary(r) << "**\n\n";
  if (r.first) {
    out << "### HTTP\n\n| | |\n| --- | --- |\n";
    for (const auto& [k, v] : HttpRows(r)) out << "| " << k << " | " << cell(v) << " |\n";
    out << "\n";
  }
  if (r.body_read) {
    out << "### Calendar\n\n"
        << r.event_count << " events in " << r.component_count << " components; "
        << (r.usable ? "usable" : "**not usable**") << ".\n\n";
  }
  if (!r.findings.empty()) {
    out << "### Findings\n\n| severity | line | code | what | how to fix |\n"
           "| --- | --- | --- | --- | --- |\n";
    for (const Finding& f : r.findings) {
      out << "| " << calendar::SeverityName(f.severity) << " | "
          << (f.line > 0 ? std::to_string(f.line) : "—") << " | `" << f.code << "` | "
          << cell(f.message) << " | " << cell(f.fix) << " |\n";
    }
    for (const auto& [code, n] : Hidden(r)) out << "\n… and " << n << " more `" << code << "`.\n";
  }
  return out.str();
}

std::string RenderJson(const Report& r) {
  using nlohmann::json;
  auto story = [](const HttpStory& s) {
    return json{{"url", s.url},
                {"conditional", s.conditional},
                {"status", s.status},
                {"error_code", s.error_code},
                {"error_message", s.error_message},
                {"redirects", s.redirects},
                {"effective_url", s.effective_url},
                {"content_type", s.content_type},
                {"content_encoding", s.content_encoding},
                {"etag", s.etag},
                {"last_modified", s.last_modified},
                {"cache_control", s.cache_control},
                {"expires", s.expires},
                {"retry_after", s.retry_after},
                {"wire_bytes", s.wire_bytes},
                {"body_bytes", s.body_bytes},
                {"timings",
                 {{"dns", s.timings.dns},
                  {"connect", s.timings.connect},
                  {"tls", s.timings.tls},
                  {"first_byte", s.timings.first_byte},
                  {"total", s.timings.total}}},
                {"certificate_expiry", s.certificate_expiry}};
  };
  json j = {{"source", r.source},
            {"is_url", r.is_url},
            {"summary",
             {{"errors", r.Count(Severity::kError)},
              {"warnings", r.Count(Severity::kWarning)},
              {"info", r.Count(Severity::kInfo)}}}};
  if (r.first) j["http"] = story(*r.first);
  if (r.second) j["second_request"] = story(*r.second);
  if (r.conditional_honoured) j["conditional_get_honoured"] = *r.conditional_honoured;
  if (r.delta) {
    j["delta"] = {
        {"added", r.delta->added}, {"removed", r.delta->removed}, {"changed", r.delta->changed}};
  }
  if (r.body_read) {
    j["calendar"] = {{"event_count", r.event_count},
                     {"component_count", r.component_count},
                     {"usable", r.usable}};
    if (r.refresh_interval_seconds) {
      j["calendar"]["refresh_interval_seconds"] = *r.refresh_interval_seconds;
    }
  }
  json findings = json::array();
  for (const Finding& f : r.findings) {
    findings.push_back({{"code", f.code},
                        {"severity", calendar::SeverityName(f.severity)},
                        {"line", f.line},
                        {"message", f.message},
                        {"fix", f.fix}});
  }
  j["findings"] = std::move(findings);
  json counts = json::object();
  for (const auto& [code, n] : r.finding_counts) counts[code] = n;
  j["finding_counts"] = std::move(counts);
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace calprobe::probes::ics
