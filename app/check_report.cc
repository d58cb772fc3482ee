#include "app/check_report.h"

#include <cstdio>
#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "core/secrets.h"

namespace calprobe::app {
namespace {

using core::Secrets;

std::string Fixed(double v, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool IsScenario(const CheckResult& r) {
  return r.probe_type == "scenario" && r.outcome.details.contains("steps");
}

void AddOutput(pugi::xml_node tc, const std::string& text) {
  if (text.empty()) return;
  tc.append_child("system-out")
      .append_child(pugi::node_pcdata)
      .set_value(Secrets::Redact(text).c_str());
}

struct Counts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double time = 0;
};

void SetCounts(pugi::xml_node n, const Counts& c) {
  n.append_attribute("tests") = c.tests;
  n.append_attribute("failures") = c.failures;
  n.append_attribute("errors") = c.errors;
  n.append_attribute("skipped") = c.skipped;
  n.append_attribute("time") = Fixed(c.time).c_str();
}

// One testcase per step of a scenario target.
Counts ScenarioSuite(pugi::xml_node suite, const CheckResult& r) {
  Counts c;
  for (const auto& s : r.outcome.details["steps"]) {
    pugi::xml_node tc = suite.append_child("testcase");
    std::string phase = s.value("phase", "main");
    std::string name = (phase == "cleanup" ? "cleanup/" : "") + s.value("name", "?");
    tc.append_attribute("name") = name.c_str();
    tc.append_attribute("classname") = ("scenario." + r.target).c_str();
    double t = s.value("seconds", 0.0);
    tc.append_attribute("time") = Fixed(t).c_str();
    ++c.tests;
    c.time += t;
    std::string status = s.value("status", "");
    std::string message = Secrets::Redact(s.value("message", ""));
    std::string excerpt = Secrets::Redact(s.value("excerpt", ""));
    if (status == "failed" || status == "error") {
      pugi::xml_node f = tc.append_child(status == "failed" ? "failure" : "error");
      f.append_attribute("message") = message.c_str();
      f.append_attribute("type") = s.value("reason", "assertion").c_str();
      f.append_child(pugi::node_pcdata).set_value((message + "\n" + excerpt).c_str());
      ++(status == "failed" ? c.failures : c.errors);
    } else if (status == "skipped") {
      tc.append_child("skipped").append_attribute("message") = message.c_str();
      ++c.skipped;
    }
    AddOutput(tc, excerpt);
  }
  // A journey that failed outside any step (e.g. could not be built).
  if (c.tests == 0) {
    pugi::xml_node tc = suite.append_child("testcase");
    tc.append_attribute("name") = r.target.c_str();
    tc.append_attribute("classname") = ("scenario." + r.target).c_str();
    tc.append_attribute("time") = Fixed(r.seconds).c_str();
    ++c.tests;
    if (!r.outcome.success) {
      pugi::xml_node e = tc.append_child("error");
      e.append_attribute("message") = Secrets::Redact(r.outcome.message).c_str();
      e.append_attribute("type") = r.outcome.reason.c_str();
      ++c.errors;
    }
  }
  return c;
}

}  // namespace

Verdict VerdictOf(const CheckResult& r) {
  if (r.outcome.success) return Verdict::kPassed;
  const std::string& reason = r.outcome.reason;
  if (reason.rfind("http.", 0) == 0 || reason == "probe.deadline_exceeded" ||
      reason == "scenario.timeout" || reason == "scenario.error" || reason == "truth_source") {
    return Verdict::kError;
  }
  return Verdict::kFailed;
}

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPassed:
      return "PASS";
    case Verdict::kFailed:
      return "FAIL";
    case Verdict::kError:
      return "ERROR";
  }
  return "?";
}

std::string SummaryTable(const std::vector<CheckResult>& results, double seconds) {
  size_t wt = 6, wp = 5;
  for (const auto& r : results) {
    wt = std::max(wt, r.target.size());
    wp = std::max(wp, r.probe_type.size());
  }
  auto pad = [](std::string s, size_t w) {
    s.resize(std::max(s.size(), w), ' ');
    return s;
  };
  std::ostringstream out;
  out << pad("TARGET", wt) << "  " << pad("PROBE", wp) << "  " << pad("RESULT", 6) << "  "
      << pad("TIME", 8) << "  DETAIL\n";
  int pass = 0, fail = 0, err = 0;
  for (const auto& r : results) {
    Verdict v = VerdictOf(r);
    (v == Verdict::kPassed ? pass : v == Verdict::kFailed ? fail : err)++;
    std::string detail = r.outcome.success ? "" : r.outcome.reason + ": " + r.outcome.message;
    if (detail.size() > 160) detail = detail.substr(0, 157) + "...";
    out << pad(r.target, wt) << "  " << pad(r.probe_type, wp) << "  "
        << pad(std::string(VerdictName(v)), 6) << "  " << pad(Fixed(r.seconds, 2) + "s", 8) << "  "
        << Secrets::Redact(detail) << "\n";
  }
  out << pass << " passed, " << fail << " failed, " << err << " errors in " << Fixed(seconds, 2)
      << "s\n";
  return out.str();
}

core::Status WriteJUnit(const std::string& path, const std::vector<CheckResult>& results,
                        double seconds, const std::string& timestamp) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  pugi::xml_node root = doc.append_child("testsuites");
  root.append_attribute("name") = "calprobe check";
  Counts total;
  // Scenario targets: a suite each. Other probes: a suite per probe type.
  std::map<std::string, std::vector<const CheckResult*>> by_type;
  std::vector<std::pair<pugi::xml_node, Counts>> suites;
  int id = 0;
  for (const auto& r : results) {
    if (!IsScenario(r)) {
      by_type[r.probe_type].push_back(&r);
      continue;
    }
    pugi::xml_node suite = root.append_child("testsuite");
    suite.append_attribute("name") = ("scenario." + r.target).c_str();
    suite.append_attribute("id") = id++;
    suite.append_attribute("timestamp") = r.started.c_str();
    Counts c = ScenarioSuite(suite, r);
    c.time = r.seconds;
    suites.emplace_back(suite, c);
  }
  for (const auto& [type, list] : by_type) {
    pugi::xml_node suite = root.append_child("testsuite");
    suite.append_attribute("name") = ("probes." + type).c_str();
    suite.append_attribute("id") = id++;
    suite.append_attribute("timestamp") = timestamp.c_str();
    Counts c;
    for (const CheckResult* r : list) {
      pugi::xml_node tc = suite.append_child("testcase");
      tc.append_attribute("name") = r->target.c_str();
      tc.append_attribute("classname") = ("probes." + type).c_str();
      tc.append_attribute("time") = Fixed(r->seconds).c_str();
      ++c.tests;
      c.time += r->seconds;
      Verdict v = VerdictOf(*r);
      if (v != Verdict::kPassed) {
        std::string message = Secrets::Redact(r->outcome.message);
        pugi::xml_node f = tc.append_child(v == Verdict::kFailed ? "failure" : "error");
        f.append_attribute("message") = message.c_str();
        f.append_attribute("type") = r->outcome.reason.c_str();
        f.append_child(pugi::node_pcdata).set_value(message.c_str());
        ++(v == Verdict::kFailed ? c.failures : c.errors);
      }
      AddOutput(tc, RedactJson(r->outcome.details).dump());
    }
    suites.emplace_back(suite, c);
  }
  for (auto& [suite, c] : suites) {
    // Attributes first in the file: move the counts before the children.
    pugi::xml_node n = suite;
    n.insert_attribute_after("tests", n.attribute("name")) = c.tests;
    n.insert_attribute_after("failures", n.attribute("tests")) = c.failures;
    n.insert_attribute_after("errors", n.attribute("failures")) = c.errors;
    n.insert_attribute_after("skipped", n.attribute("errors")) = c.skipped;
    n.insert_attribute_after("time", n.attribute("skipped")) = Fixed(c.time).c_str();
    total.tests += c.tests;
    total.failures += c.failures;
    total.errors += c.errors;
    total.skipped += c.skipped;
  }
  total.time = seconds;
  SetCounts(root, total);
  root.append_attribute("timestamp") = timestamp.c_str();
  if (!doc.save_file(path.c_str(), "  ", pugi::format_default, pugi::encoding_utf8)) {
    return core::Status::Error("cannot write JUnit file " + path);
  }
  return core::Status::Ok();
}

nlohmann::json RedactJson(const nlohmann::json& j) {
  if (j.is_string()) return Secrets::Redact(j.get<std::string>());
  if (j.is_object()) {
    nlohmann::json o = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) o[it.key()] = RedactJson(it.value());
    return o;
  }
  if (j.is_array()) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : j) a.push_back(RedactJson(e));
    return a;
  }
  return j;
}

nlohmann::json ResultsJson(const std::vector<CheckResult>& results, double seconds,
                           const std::string& timestamp) {
  nlohmann::json list = nlohmann::json::array();
  int pass = 0, fail = 0, err = 0;
  for (const auto& r : results) {
    Verdict v = VerdictOf(r);
    (v == Verdict::kPassed ? pass : v == Verdict::kFailed ? fail : err)++;
    nlohmann::json j = {{"target", r.target},          {"probe", r.probe_type},
                        {"result", VerdictName(v)},    {"success", r.outcome.success},
                        {"seconds", r.seconds},        {"started", r.started},
                        {"details", r.outcome.details}};
    if (!r.outcome.success) {
      j["reason"] = r.outcome.reason;
      j["message"] = r.outcome.message;
    }
    if (r.outcome.http_status) j["http_status"] = r.outcome.http_status;
    list.push_back(std::move(j));
  }
  return RedactJson({{"timestamp", timestamp},
                     {"seconds", seconds},
                     {"passed", pass},
                     {"failed", fail},
                     {"errors", err},
                     {"success", fail == 0 && err == 0},
                     {"results", list}});
}

}  // namespace calprobe::app
