// SandboxRouter: the HTTP mapping of SandboxService (docs/sandbox.md).

#include "sandbox/routes.h"

#include <algorithm>
#include <ctime>
#include <sstream>

#include "core/event.h"
#include "core/log.h"
#include "core/secrets.h"
#include "sandbox/service_internal.h"

namespace calprobe::sandbox {

namespace oracle = calendar::oracle;
using core::AdminRequest;
using core::AdminResponse;
using nlohmann::json;

std::string HttpDate(core::TimePoint t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::stringstream ss(path);
  std::string s;
  while (std::getline(ss, s, '/')) {
    if (!s.empty()) out.push_back(s);
  }
  return out;
}

AdminResponse JsonReply(int status, const json& body) {
  return AdminResponse::Json(status, core::Secrets::Redact(body.dump()) + "\n");
}
// Responses that must carry a secret (feed tokens) skip redaction.
AdminResponse SecretJsonReply(int status, const json& body) {
  return AdminResponse::Json(status, body.dump() + "\n");
}

AdminResponse Error(int status, const std::string& message, const std::string& param = "") {
  json j = {{"error", message}};
  if (!param.empty()) j["param"] = param;
  return JsonReply(status, j);
}

AdminResponse Error(const ApiError& e) {
  json j = e.extra.is_object() ? e.extra : json::object();
  j["error"] = e.message;
  if (!e.param.empty()) j["param"] = e.param;
  if (!e.details.empty()) j["details"] = e.details;
  return JsonReply(e.status, j);
}

std::string Utc(core::TimePoint t) { return FormatLocal(t, nullptr); }

json HoldJson(const Hold& h) {
  json j = {{"hold_id", h.id},
            {"provider_id", h.provider_id},
            {"start", Utc(h.span.start)},
            {"end", Utc(h.span.end)},
            {"ttl_seconds", h.ttl_seconds},
            {"expires_at", Utc(h.expires_at)},
            {"created_at", Utc(h.created_at)},
            {"source", h.source},
            {"state", HoldStateName(h.state)}};
  if (!h.booking_id.empty()) j["booking_id"] = h.booking_id;
  return j;
}

json BookingJson(const Booking& b) {
  return {{"booking_id", b.id},
          {"hold_id", b.hold_id},
          {"provider_id", b.provider_id},
          {"start", Utc(b.span.start)},
          {"end", Utc(b.span.end)},
          {"source", b.source},
          {"created_at", Utc(b.created_at)}};
}

// Reads a required RFC 3339 member of a JSON body or query.
std::optional<core::TimePoint> Instant(const std::string& v, const std::string& name,
                                       AdminResponse* err) {
  if (v.empty()) {
    *err = Error(400, name + ": missing; expected an RFC 3339 time like 2027-03-15T09:00:00-04:00",
                 name);
    return std::nullopt;
  }
  auto t = core::ParseRfc3339(v);
  if (!t && v.find(' ') != std::string::npos) {
    // An unencoded "+01:00" in a query string arrives as " 01:00".
    std::string fixed = v;
    std::replace(fixed.begin(), fixed.end(), ' ', '+');
    t = core::ParseRfc3339(fixed);
  }
  if (!t)
    *err = Error(400, name + ": expected an RFC 3339 time with offset, got \"" + v + "\"", name);
  return t;
}

std::optional<json> ParseJsonBody(const AdminRequest& r, AdminResponse* err) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *err = Error(400, "body: expected a JSON object", "body");
    return std::nullopt;
  }
  return j;
}

std::string ProviderOf(const AdminRequest& r, const std::vector<std::string>& seg) {
  if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "providers") return seg[2];
  if (seg.size() == 2 && seg[0] == "feeds") return seg[1].substr(0, seg[1].rfind(".ics"));
  std::string q = r.Param("provider_id");
  if (!q.empty()) return q;
  if (r.method == "POST" && seg.size() == 2 && seg[1] == "holds") {
    json j = json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("provider_id") && j["provider_id"].is_string())
      return j["provider_id"];
  }
  return "";
}

}  // namespace

AdminResponse SandboxRouter::Handle(const AdminRequest& r) {
  AdminResponse resp = Dispatch(r);
  resp.headers.emplace_back("Date", HttpDate(d_.clock.Now()));
  resp.headers.emplace_back("Cache-Control", "no-store");
  return resp;
}

AdminResponse SandboxRouter::Dispatch(const AdminRequest& r) {
  auto seg = Segments(r.path);
  if (seg.size() == 1 && seg[0] == "healthz") return AdminResponse::Text(200, "ok\n");
  if (!seg.empty() && seg[0] == "admin") return Admin(r, seg);
  if (seg.empty() || (seg[0] != "api" && seg[0] != "feeds")) {
    return Error(404, "not found: " + r.path + " (see docs/sandbox.md for the API)");
  }
  std::string provider = ProviderOf(r, seg);
  double latency_ms = 0;
  if (auto f = d_.faults.Find("latency", provider)) {
    latency_ms = f->Param("ms", 1000);
    d_.sleep(std::chrono::milliseconds(static_cast<int64_t>(latency_ms)));
  }
  if (auto f = d_.faults.Find("errors", provider)) {
    if (d_.faults.NextErrorDraw(f->Param("rate", 1.0))) {
      return Error(static_cast<int>(f->Param("status", 503)), "injected error (fault: errors)");
    }
  }
  if (seg[0] == "feeds") {
    if (seg.size() != 2 || r.method != "GET") return Error(404, "not found: " + r.path);
    return FeedRequest(r, seg[1]);
  }
  if (!d_.config.api_token.empty()) {
    std::string want = "Bearer " + d_.config.api_token;
    if (r.authorization.size() != want.size() || r.authorization != want) {
      AdminResponse e = Error(401, "missing or wrong bearer token (sandbox.api_token)");
      e.headers.emplace_back("WWW-Authenticate", "Bearer");
      return e;
    }
  }
  return Api(r, seg, latency_ms);
}

AdminResponse SandboxRouter::FeedRequest(const AdminRequest& r, const std::string& file) {
  if (file.size() <= 4 || file.substr(file.size() - 4) != ".ics") {
    return Error(404, "feeds are at /feeds/{provider_id}.ics");
  }
  std::string provider = file.substr(0, file.size() - 4);
  std::string inc = r.Param("include_holds");
  bool include_holds = inc == "true" || inc == "1";
  if (!include_holds && !inc.empty() && inc != "false" && inc != "0") {
    return Error(400, "include_holds: expected true or false, got \"" + inc + "\"",
                 "include_holds");
  }
  std::string token = r.Param("token");
  auto res = d_.service.Feed(
      provider, token.empty() ? std::nullopt : std::optional<std::string>(token), include_holds);
  if (!res.ok()) {
    AdminResponse e = Error(res.error);
    if (res.error.status == 401)
      e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"feed\"");
    return e;
  }
  return AdminResponse{200, "text/calendar; charset=utf-8", std::move(*res.value), {}};
}

AdminResponse SandboxRouter::Api(const AdminRequest& r, const std::vector<std::string>& seg,
                                 double latency_ms) {
  const std::string& m = r.method;
  AdminResponse err;
  // /api/providers...
  if (seg.size() >= 2 && seg[1] == "providers") {
    if (seg.size() == 2 && m == "GET")
      return JsonReply(200, {{"providers", d_.service.ProviderIds()}});
    if (seg.size() < 3) return Error(404, "not found: " + r.path);
    const std::string& id = seg[2];
    if (seg.size() == 3 && m == "GET") {
      auto res = d_.service.DescribeProvider(id, false);
      return res.ok() ? JsonReply(200, *res.value) : Error(res.error);
    }
    std::string what = seg.size() > 3 ? seg[3] : "";
    if (seg.size() == 4 && what == "feasibility" && m == "GET") {
      FeasibilityQuery q;
      q.provider_id = id;
      auto from = Instant(r.Param("from"), "from", &err);
      if (!from) return err;
      auto to = Instant(r.Param("to"), "to", &err);
      if (!to) return err;
      q.from = *from;
      q.to = *to;
      std::string dur = r.Param("duration_minutes");
      if (!dur.empty()) {
        char* end = nullptr;
        long v = std::strtol(dur.c_str(), &end, 10);
        if (*end != '\0' || v < 1 || v > 1440) {
          return Error(400, "duration_minutes: expected an integer 1..1440, got \"" + dur + "\"",
                       "duration_minutes");
        }
        q.duration_minutes = static_cast<int>(v);
      }
      auto res = d_.service.Feasibility(q, latency_ms);
      if (!res.ok()) return Error(res.error);
      const FeasibilityAnswer& a = *res.value;
      const oracle::Zone* zone = oracle::FindZone(a.timezone);
      json slots = json::array();
      for (const auto& s : a.slots)
        slots.push_back({{"start", FormatLocal(s.start, zone)}, {"end", FormatLocal(s.end, zone)}});
      return JsonReply(200, {{"provider_id", id},
                             {"from", FormatLocal(q.from, zone)},
                             {"to", FormatLocal(q.to, zone)},
                             {"timezone", a.timezone},
                             {"slots", slots},
                             {"truncated", a.truncated},
                             {"candidate_windows", a.candidate_windows},
                             {"cache", a.cache_hit ? "hit" : "miss"}});
    }
    if (seg.size() == 4 && what == "rules" && m == "PUT") {
      auto res = d_.service.UpdateRules(id, r.body);
      return res.ok() ? JsonReply(200, *res.value) : Error(res.error);
    }
    if (seg.size() == 4 && what == "exceptions" && m == "POST") {
      auto res = d_.service.AddException(id, r.body);
      return res.ok() ? JsonReply(201, *res.value) : Error(res.error);
    }
    if (seg.size() == 5 && what == "exceptions" && m == "DELETE") {
      auto res = d_.service.DeleteException(id, seg[4]);
      return res.ok() ? AdminResponse::Json(204, "") : Error(res.error);
    }
    if (seg.size() == 4 && what == "busy-sources" && m == "POST") {
      auto res = d_.service.AddBusySource(id, r.body);
      return res.ok() ? JsonReply(201, *res.value) : Error(res.error);
    }
    if (seg.size() == 5 && what == "busy-sources" && m == "DELETE") {
      auto res = d_.service.DeleteBusySource(id, seg[4]);
      return res.ok() ? AdminResponse::Json(204, "") : Error(res.error);
    }
    if (seg.size() == 5 && what == "feed-token" && seg[4] == "regenerate" && m == "POST") {
      auto res = d_.service.RegenerateFeedToken(id);
      if (!res.ok()) return Error(res.error);
      return SecretJsonReply(200, {{"provider_id", id},
                                   {"token", *res.value},
                                   {"feed_url", "/feeds/" + id + ".ics?token=" + *res.value}});
    }
    return Error(404, "not found: " + m + " " + r.path);
  }
  // /api/holds...
  if (seg.size() >= 2 && seg[1] == "holds") {
    if (seg.size() == 2 && m == "POST") {
      auto body = ParseJsonBody(r, &err);
      if (!body) return err;
      HoldRequest h;
      auto str = [&](const char* k) -> std::optional<std::string> {
        if (!body->contains(k)) return std::string();
        if (!(*body)[k].is_string()) return std::nullopt;
        return (*body)[k].get<std::string>();
      };
      auto pid = str("provider_id");
      if (!pid || pid->empty())
        return Error(400, "provider_id: missing; expected a string", "provider_id");
      h.provider_id = *pid;
      auto start_s = str("start");
      auto end_s = str("end");
      if (!start_s) return Error(400, "start: expected a string", "start");
      if (!end_s) return Error(400, "end: expected a string", "end");
      auto start = Instant(*start_s, "start", &err);
      if (!start) return err;
      auto end = Instant(*end_s, "end", &err);
      if (!end) return err;
      h.start = *start;
      h.end = *end;
      if (body->contains("ttl_seconds")) {
        const json& t = (*body)["ttl_seconds"];
        if (!t.is_number_integer())
          return Error(400, "ttl_seconds: expected an integer number of seconds", "ttl_seconds");
        int64_t v = t.get<int64_t>();
        if (v < 1 || v > 86400)
          return Error(400, "ttl_seconds: expected 1..86400 seconds", "ttl_seconds");
        h.ttl_seconds = static_cast<int>(v);
      }
      auto src = str("source");
      if (!src) return Error(400, "source: expected a string", "source");
      if (!src->empty()) h.source = *src;
      auto res = d_.service.CreateHold(h);
      if (!res.ok()) return Error(res.error);
      return JsonReply(201, HoldJson(*res.value));
    }
    if (seg.size() == 2 && m == "GET") {
      std::string state = r.Param("state");
      if (!state.empty() && state != "active" && state != "all") {
        return Error(400, "state: expected active or all", "state");
      }
      json out = json::array();
      for (const auto& h : d_.service.Holds(r.Param("provider_id"), state == "active"))
        out.push_back(HoldJson(h));
      return JsonReply(200, {{"holds", out}});
    }
    if (seg.size() == 3 && m == "GET") {
      auto res = d_.service.GetHold(seg[2]);
      return res.ok() ? JsonReply(200, HoldJson(*res.value)) : Error(res.error);
    }
    if (seg.size() == 4 && seg[3] == "confirm" && m == "POST") {
      auto res = d_.service.ConfirmHold(seg[2]);
      return res.ok() ? JsonReply(200, BookingJson(*res.value)) : Error(res.error);
    }
    if (seg.size() == 3 && m == "DELETE") {
      auto res = d_.service.ReleaseHold(seg[2]);
      return res.ok() ? JsonReply(200, HoldJson(*res.value)) : Error(res.error);
    }
    return Error(404, "not found: " + m + " " + r.path);
  }
  // /api/bookings...
  if (seg.size() >= 2 && seg[1] == "bookings") {
    if (seg.size() == 2 && m == "GET") {
      json out = json::array();
      for (const auto& b : d_.service.Bookings(r.Param("provider_id")))
        out.push_back(BookingJson(b));
      return JsonReply(200, {{"bookings", out}});
    }
    if (seg.size() == 3 && m == "DELETE") {
      auto res = d_.service.DeleteBooking(seg[2]);
      return res.ok() ? JsonReply(200, BookingJson(*res.value)) : Error(res.error);
    }
  }
  return Error(404, "not found: " + m + " " + r.path + " (see docs/sandbox.md for the API)");
}

AdminResponse SandboxRouter::Admin(const AdminRequest& r, const std::vector<std::string>& seg) {
  const std::string& m = r.method;
  AdminResponse err;
  std::string what = seg.size() > 1 ? seg[1] : "";
  auto fault_list = [&] {
    json out = json::array();
    for (const auto& f : d_.faults.List()) {
      json j = {{"fault", f.name}, {"params", f.params}};
      if (!f.provider_id.empty()) j["provider_id"] = f.provider_id;
      out.push_back(j);
    }
    return json{{"faults", out}};
  };
  if (seg.size() == 2 && what == "faults") {
    if (m == "GET") return JsonReply(200, fault_list());
    if (m == "DELETE") {
      d_.faults.Clear();
      core::Log(core::LogLevel::kInfo, "faults cleared");
      return JsonReply(200, fault_list());
    }
    if (m == "POST") {
      auto body = ParseJsonBody(r, &err);
      if (!body) return err;
      Fault f;
      if (!body->contains("fault") || !(*body)["fault"].is_string()) {
        return Error(400, "fault: missing; expected a fault name such as slots_missing", "fault");
      }
      f.name = (*body)["fault"];
      if (body->contains("provider_id")) {
        if (!(*body)["provider_id"].is_string())
          return Error(400, "provider_id: expected a string", "provider_id");
        f.provider_id = (*body)["provider_id"];
        auto ids = d_.service.ProviderIds();
        if (std::find(ids.begin(), ids.end(), f.provider_id) == ids.end()) {
          return Error(400, "provider_id: unknown provider \"" + f.provider_id + "\"",
                       "provider_id");
        }
      }
      if (body->contains("params")) {
        const json& p = (*body)["params"];
        if (!p.is_object()) return Error(400, "params: expected an object of numbers", "params");
        for (auto it = p.begin(); it != p.end(); ++it) {
          if (!it.value().is_number())
            return Error(400, "params." + it.key() + ": expected a number", "params." + it.key());
          f.params[it.key()] = it.value().get<double>();
        }
      }
      std::string name = f.name, provider = f.provider_id;
      core::Status st = d_.faults.Set(std::move(f));
      if (!st.ok())
        return Error(400, st.message(), st.message().rfind("params", 0) == 0 ? "params" : "fault");
      core::Log(core::LogLevel::kInfo, "fault set").Kv("fault", name).Kv("provider", provider);
      return JsonReply(200, fault_list());
    }
  }
  if (seg.size() == 2 && what == "clock") {
    auto describe = [&] {
      return json{{"now", Utc(d_.clock.Now())},
                  {"offset_seconds", std::chrono::duration<double>(d_.clock.Offset()).count()},
                  {"frozen", d_.clock.frozen()}};
    };
    if (m == "GET") return JsonReply(200, describe());
    if (m == "POST") {
      auto body = ParseJsonBody(r, &err);
      if (!body) return err;
      if (body->contains("now")) {
        if (!(*body)["now"].is_string())
          return Error(400, "now: expected an RFC 3339 string", "now");
        auto t = Instant((*body)["now"].get<std::string>(), "now", &err);
        if (!t) return err;
        bool freeze = body->value("freeze", false);
        d_.clock.SetNow(*t, freeze);
      } else if (body->contains("offset_seconds")) {
        if (!(*body)["offset_seconds"].is_number())
          return Error(400, "offset_seconds: expected a number", "offset_seconds");
        d_.clock.SetOffset(std::chrono::duration_cast<core::Duration>(
            std::chrono::duration<double>((*body)["offset_seconds"].get<double>())));
      } else if (body->value("real", false)) {
        d_.clock.Reset();
      } else {
        return Error(
            400, "body: expected {\"now\": RFC3339}, {\"offset_seconds\": n} or {\"real\": true}",
            "body");
      }
      d_.service.InvalidateCache();
      d_.service.Sweep();
      core::Log(core::LogLevel::kInfo, "clock set").Kv("now", Utc(d_.clock.Now()));
      return JsonReply(200, describe());
    }
  }
  if (seg.size() == 3 && what == "providers" && m == "GET") {
    auto res = d_.service.DescribeProvider(seg[2], true);
    return res.ok() ? SecretJsonReply(200, *res.value) : Error(res.error);
  }
  if (seg.size() == 2 && what == "stats" && m == "GET") {
    json s = d_.service.Stats();
    auto e = d_.events.stats();
    s["events"] = {{"emitted", e.emitted},
                   {"sent", e.sent},
                   {"dropped", e.dropped},
                   {"queued", e.queued},
                   {"failed_flushes", e.failed_flushes}};
    return JsonReply(200, s);
  }
  if (seg.size() == 2 && what == "events" && m == "GET") {
    json out = json::array();
    for (const auto& line : d_.events.Recent(r.Param("name"))) out.push_back(json::parse(line));
    return JsonReply(200, {{"events", out}});
  }
  return Error(404, "not found: " + m + " " + r.path +
                        " (admin: /admin/faults, /admin/clock, /admin/stats, "
                        "/admin/events, /admin/providers/{id})");
}

}  // namespace calprobe::sandbox
