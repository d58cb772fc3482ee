#include "probes/scenario/checks.h"

#include <algorithm>

#include "calendar/ics/ics.h"
#include "calendar/ics/scanner.h"
#include "calendar/ics/tz_names.h"
#include "calendar/ics/values.h"
#include "calendar/oracle/tz.h"
#include "core/secrets.h"

namespace calprobe::probes::scenario {
namespace {

// One line of at most n bytes (messages are single lines; bodies may not be).
std::string Short(std::string s, size_t n = 120) {
  if (s.size() > n) s = s.substr(0, n) + "…";
  for (char& c : s) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  return s;
}

// Returns true iff `want` is "in" `have`: equal scalars, or for objects
// every key of `want` matches (so {start: X} finds a slot by its start).
bool Subset(const nlohmann::json& want, const nlohmann::json& have) {
  if (want.is_object() && have.is_object()) {
    for (auto it = want.begin(); it != want.end(); ++it) {
      if (!have.contains(it.key()) || !Subset(it.value(), have[it.key()])) return false;
    }
    return true;
  }
  if (want.is_string() && have.is_string()) {
    // Instants compare as instants: the same slot may be written with a
    // local offset by one endpoint and in UTC by another.
    auto a = core::ParseRfc3339(want.get<std::string>());
    auto b = core::ParseRfc3339(have.get<std::string>());
    if (a && b) return *a == *b;
  }
  return want == have;
}

std::optional<std::string> JudgeJson(const Step& step, const std::string& body, const Vars& vars,
                                     core::TimePoint now) {
  if (step.expect.json.empty()) return std::nullopt;
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded()) return "body is not valid JSON: " + Short(body, 80);
  for (const auto& c : step.expect.json) {
    nlohmann::json::json_pointer ptr(c.pointer);
    bool present = doc.contains(ptr);
    const std::string& p = c.pointer;
    using K = JsonCheck::Kind;
    if (c.kind == K::kExists) {
      if (!present) return "JSON " + p + " is missing";
      continue;
    }
    if (c.kind == K::kMissing) {
      if (present)
        return "JSON " + p + " exists (" + Short(doc.at(ptr).dump(), 60) + "), expected none";
      continue;
    }
    if (!present) return "JSON " + p + " is missing";
    const nlohmann::json& v = doc.at(ptr);
    if (c.kind == K::kMatches) {
      std::string s = v.is_string() ? v.get<std::string>() : v.dump();
      if (!std::regex_search(s, *c.regex)) {
        return "JSON " + p + " = \"" + Short(s, 80) + "\" does not match /" + c.regex_text + "/";
      }
      continue;
    }
    nlohmann::json want = c.literal;
    if (c.templ) {
      auto r = c.templ->Render(vars, now);
      if (!r.ok()) return "JSON " + p + ": " + r.error();
      want = std::move(*r);
    }
    if (c.kind == K::kEquals) {
      if (!Subset(want, v) || (want.is_object() && want.size() != v.size())) {
        return "JSON " + p + " = " + Short(v.dump(), 80) + ", expected " + Short(want.dump(), 80);
      }
      continue;
    }
    if (!v.is_array()) return "JSON " + p + " is not a list";
    bool found =
        std::any_of(v.begin(), v.end(), [&](const nlohmann::json& e) { return Subset(want, e); });
    if (c.kind == K::kContains && !found) {
      return "JSON " + p + " (" + std::to_string(v.size()) + " items) has no item like " +
             Short(want.dump(), 80);
    }
    if (c.kind == K::kLacks && found) {
      return "JSON " + p + " still has an item like " + Short(want.dump(), 80);
    }
  }
  return std::nullopt;
}

std::optional<std::string> JudgeIcs(const Step& step, const core::HttpResponse& r, const Vars& vars,
                                    core::TimePoint now) {
  if (step.kind == StepKind::kIcsFetch) {
    calendar::Analysis a = calendar::AnalyzeIcs(r.body);
    if (!a.usable)
      return "the feed is not a usable calendar (" + std::to_string(r.body.size()) + " bytes)";
    if (a.has_error()) {
      for (const auto& f : a.findings) {
        if (f.severity == calendar::Severity::kError) {
          return "lint error " + f.code + " on line " + std::to_string(f.line) + ": " +
                 Short(f.message);
        }
      }
    }
    return std::nullopt;
  }
  std::optional<std::string> uid;
  std::optional<core::TimePoint> start;
  std::string what;
  if (step.match.uid) {
    auto u = step.match.uid->Render(vars, now);
    if (!u.ok()) return u.error();
    uid = *u;
    what = "UID " + *u;
  }
  if (step.match.start) {
    auto s = step.match.start->Render(vars, now);
    if (!s.ok()) return s.error();
    start = core::ParseRfc3339(*s);
    if (!start) return "start \"" + *s + "\" is not an RFC 3339 instant";
    what += (what.empty() ? "" : ", ") + std::string("DTSTART ") + FormatUtcSeconds(*start);
  }
  bool has = IcsHasEvent(r.body, uid, start);
  if (step.kind == StepKind::kIcsContains && !has) return "the feed has no event with " + what;
  if (step.kind == StepKind::kIcsLacks && has) return "the feed still has an event with " + what;
  return std::nullopt;
}

// The instant a DTSTART stands for. UTC values as written; TZID= an IANA
// or Windows zone name through that zone's rules (a local time in a
// spring-forward gap reads with the offset before it, RFC 5545 3.3.5);
// floating values, dates, and zones with no rules here (a feed-defined
// VTIMEZONE under a custom name) as UTC wall-clock time.
core::TimePoint DtstartInstant(std::string_view params, const calendar::internal::DateTime& dt) {
  const int64_t wall = dt.ToUnixApprox();
  if (!dt.utc && !dt.is_date) {
    std::string_view tzid = calendar::internal::FindParam(params, "TZID");
    if (tzid.size() >= 2 && tzid.front() == '"' && tzid.back() == '"') {
      tzid = tzid.substr(1, tzid.size() - 2);
    }
    std::string_view iana = calendar::internal::IanaNameIgnoringCase(tzid);
    if (iana.empty()) iana = calendar::internal::WindowsToIana(tzid);
    if (const auto* zone = iana.empty() ? nullptr : calendar::oracle::FindZone(iana)) {
      return calendar::oracle::LocalToUtc(*zone, calendar::oracle::LocalSeconds(wall),
                                          calendar::oracle::GapPolicy::kOffsetBefore);
    }
  }
  return core::TimePoint{std::chrono::seconds(wall)};
}

}  // namespace

bool IcsHasEvent(std::string_view body, const std::optional<std::string>& uid,
                 const std::optional<core::TimePoint>& start) {
  using calendar::internal::ContentLine;
  using calendar::internal::EqualsIgnoreCase;
  calendar::internal::Scanner scanner(body);
  ContentLine cl;
  bool in_event = false, uid_ok = false, start_ok = false;
  while (scanner.Next(&cl)) {
    if (EqualsIgnoreCase(cl.name, "BEGIN") && EqualsIgnoreCase(cl.value, "VEVENT")) {
      in_event = true;
      uid_ok = !uid;
      start_ok = !start;
    } else if (in_event && EqualsIgnoreCase(cl.name, "END") &&
               EqualsIgnoreCase(cl.value, "VEVENT")) {
      if (uid_ok && start_ok) return true;
      in_event = false;
    } else if (in_event && uid && EqualsIgnoreCase(cl.name, "UID")) {
      uid_ok = cl.value == *uid;
    } else if (in_event && start && EqualsIgnoreCase(cl.name, "DTSTART")) {
      calendar::internal::DateTime dt;
      if (calendar::internal::ParseDateOrDateTime(cl.value, &dt)) {
        start_ok = DtstartInstant(cl.params, dt) == *start;
      }
    }
  }
  return false;
}

std::optional<std::string> JudgeResponse(const Step& step, const core::HttpResponse& r,
                                         const Vars& vars, core::TimePoint now) {
  const Expect& e = step.expect;
  bool status_ok = e.status.empty()
                       ? (r.status >= 200 && r.status < 300)
                       : std::find(e.status.begin(), e.status.end(), r.status) != e.status.end();
  if (!status_ok) {
    std::string want;
    for (int s : e.status) want += (want.empty() ? "" : " or ") + std::to_string(s);
    std::string msg =
        "status " + std::to_string(r.status) + ", expected " + (want.empty() ? "2xx" : want);
    if (!r.body.empty()) msg += " (body: " + Short(r.body, 100) + ")";
    return msg;
  }
  if (e.latency && r.timings.total * 1000 > static_cast<double>(e.latency->count())) {
    return "took " + std::to_string(static_cast<int>(r.timings.total * 1000)) + " ms, budget " +
           core::FormatDuration(*e.latency);
  }
  for (size_t i = 0; i < e.headers.size(); ++i) {
    std::string_view v = r.Header(e.headers[i].first);
    if (!std::regex_search(v.begin(), v.end(), e.headers[i].second)) {
      return "header " + e.headers[i].first + ": \"" + Short(std::string(v), 80) +
             "\" does not match /" + e.header_texts[i] + "/";
    }
  }
  if (e.body_matches && !std::regex_search(r.body, *e.body_matches)) {
    return "body does not match /" + e.body_matches_text + "/: " + Short(r.body, 80);
  }
  if (auto m = JudgeJson(step, r.body, vars, now)) return m;
  if (step.kind == StepKind::kIcsFetch || step.kind == StepKind::kIcsContains ||
      step.kind == StepKind::kIcsLacks) {
    return JudgeIcs(step, r, vars, now);
  }
  return std::nullopt;
}

core::Status ApplyCaptures(const Step& step, const core::HttpResponse& r, Vars* vars) {
  std::optional<nlohmann::json> doc;
  std::string first_error;
  for (const auto& c : step.captures) {
    std::optional<std::string> value;
    if (!c.header.empty()) {
      std::string_view h = r.Header(c.header);
      if (!h.empty())
        value = std::string(h);
      else if (first_error.empty() && !c.optional)
        first_error = "capture " + c.var + ": no header " + c.header;
    } else {
      if (!doc) doc = nlohmann::json::parse(r.body, nullptr, false);
      nlohmann::json::json_pointer ptr(c.json_pointer);
      if (!doc->is_discarded() && doc->contains(ptr)) {
        const auto& v = doc->at(ptr);
        value = v.is_string() ? v.get<std::string>() : v.dump();
      } else if (first_error.empty() && !c.optional) {
        first_error = "capture " + c.var + ": JSON " + c.json_pointer + " is missing";
      }
    }
    if (value) {
      if (c.secret) core::Secrets::Register(*value);
      (*vars)[c.var] = std::move(*value);
    }
  }
  return first_error.empty() ? core::Status::Ok() : core::Status::Error(first_error);
}

std::string Excerpt(const core::HttpRequest& req, const core::HttpResponse& r) {
  std::string out = req.method + " " + req.url;
  if (!req.body.empty()) out += " " + Short(req.body, 200);
  if (!r.ok()) {
    out += " -> " + std::string(core::TransportErrorCode(r.error)) + ": " + r.error_message;
  } else {
    out += " -> " + std::to_string(r.status) + " in " +
           std::to_string(static_cast<int>(r.timings.total * 1000)) + " ms";
    if (!r.body.empty()) out += ": " + Short(r.body, 300);
  }
  return core::Secrets::Redact(out);
}

}  // namespace calprobe::probes::scenario
