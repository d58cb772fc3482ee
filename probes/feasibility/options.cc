#include "probes/feasibility/options.h"

#include <algorithm>

namespace calprobe::probes::feasibility {
namespace {

using core::ConfigNode;

std::optional<Template> ReadTemplate(const ConfigNode& n) {
  auto s = n.AsString();
  if (!s) return std::nullopt;
  auto t = Template::Parse(*s);
  if (!t.ok()) {
    n.Error(t.error());
    return std::nullopt;
  }
  return *t;
}

// YAML (already env-expanded through ConfigNode) to JSON: plain scalars that
// look like numbers, booleans or null keep that type; everything else is a string.
nlohmann::json ToJson(const ConfigNode& n) {
  if (n.IsMap()) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& k : n.Keys()) o[k] = ToJson(n[k]);
    return o;
  }
  if (n.IsSequence()) {
    nlohmann::json a = nlohmann::json::array();
    for (size_t i = 0; i < n.size(); ++i) a.push_back(ToJson(n.At(i)));
    return a;
  }
  if (!n.defined()) return nullptr;
  std::string s = n.AsString().value_or("");
  if (n.raw().Tag() == "?") {  // plain (unquoted) scalar
    auto j = nlohmann::json::parse(s, nullptr, false);
    if (!j.is_discarded() && !j.is_structured() && !j.is_string()) return j;
  }
  return s;
}

void ReadPointer(const ConfigNode& n, std::string* out, bool* configured) {
  if (!n.defined()) return;
  auto s = n.AsString();
  if (!s) return;
  if (!ValidPointer(*s)) {
    n.Error("\"" + *s + "\" is not a JSON pointer (RFC 6901): use \"\" or /a/b/0");
    return;
  }
  *out = *s;
  if (configured) *configured = !s->empty();  // "" = not read
}

void ReadRequest(const ConfigNode& n, RequestSpec* r) {
  if (!n.defined()) {
    n.Error("missing: the request to send (at least url:)");
    return;
  }
  if (!n.ExpectMap()) return;
  if (!n.Has("url")) n.Error("missing required key \"url\"");
  if (auto u = ReadTemplate(n["url"])) {
    r->url = *u;
    const std::string probe = u->Render({});
    if (probe.rfind("http://", 0) != 0 && probe.rfind("https://", 0) != 0) {
      n["url"].Error("expected an http:// or https:// URL");
    }
  }
  r->method = n.String("method", "GET");
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "QUERY"};
  if (std::none_of(std::begin(kMethods), std::end(kMethods),
                   [&](const char* m) { return r->method == m; })) {
    n["method"].Error("unsupported method \"" + r->method + "\" (GET, POST, PUT, PATCH, QUERY)");
  }
  ConfigNode headers = n["headers"];
  if (headers.ExpectMap()) {
    for (const auto& k : headers.Keys()) {
      if (auto t = ReadTemplate(headers[k])) r->headers.emplace_back(k, *t);
    }
  }
  ConfigNode body = n["body"];
  if (body.IsMap() || body.IsSequence()) {
    auto t = JsonTemplate::Parse(ToJson(body));
    if (!t.ok())
      body.Error(t.error());
    else
      r->body_json = *t;
  } else if (body.defined()) {
    r->body_text = ReadTemplate(body);
  }
  ConfigNode status = n["expect_status"];
  if (status.IsSequence()) {
    for (size_t i = 0; i < status.size(); ++i) {
      if (auto v = status.At(i).AsInt(100, 599)) r->expect_status.push_back(static_cast<int>(*v));
    }
  } else if (status.defined()) {
    if (auto v = status.AsInt(100, 599)) r->expect_status.push_back(static_cast<int>(*v));
  }
  r->max_body_bytes = n.Bytes("max_body", r->max_body_bytes);
  r->auth = n.String("auth", "");
  n.RejectUnknownKeys();
}

void ReadResponse(const ConfigNode& n, ResponseMapping* m) {
  if (!n.ExpectMap()) return;
  ReadPointer(n["slots"], &m->slots, nullptr);
  ReadPointer(n["start"], &m->start, nullptr);
  if (ConfigNode end = n["end"]; end.defined()) {
    ReadPointer(end, &m->end, nullptr);
  } else if (n.Has("start")) {
    m->has_end = false;  // a custom shape without end: slots last slot_minutes
  }
  ReadPointer(n["truncated"], &m->truncated, &m->truncated_required);
  ReadPointer(n["candidate_windows"], &m->candidate_windows, &m->candidate_windows_required);
  ReadPointer(n["errors"], &m->errors, nullptr);
  n.RejectUnknownKeys();
}

template <typename E>
E ReadEnum(const ConfigNode& n, E fallback,
           std::initializer_list<std::pair<const char*, E>> names) {
  if (!n.defined()) return fallback;
  auto s = n.AsString();
  if (!s) return fallback;
  std::string list;
  for (const auto& [name, value] : names) {
    if (*s == name) return value;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  n.Error("unknown value \"" + *s + "\" (one of: " + list + ")");
  return fallback;
}

}  // namespace

std::optional<Options> ParseOptions(const ConfigNode& n) {
  if (!n.defined()) {
    n.Error("the feasibility probe needs options (provider_id, request, truth)");
    return std::nullopt;
  }
  if (!n.ExpectMap()) return std::nullopt;
  const size_t before = n.errors()->size();
  Options o;
  o.provider_id = n.RequiredString("provider_id");
  ReadRequest(n["request"], &o.request);
  ReadResponse(n["response"], &o.response);
  o.window.length = n.Duration("window", o.window.length);
  if (o.window.length < std::chrono::minutes(1) || o.window.length > std::chrono::hours(24 * 92)) {
    n["window"].Error("must be between 1m and 92d");
  }
  o.window.start = ReadEnum(n["window_start"], WindowStart::kNow,
                            {{"now", WindowStart::kNow},
                             {"today", WindowStart::kToday},
                             {"next_day", WindowStart::kNextDay}});
  o.time_format = ReadEnum(n["time_format"], TimeFormat::kUtc,
                           {{"utc", TimeFormat::kUtc}, {"local", TimeFormat::kLocal}});
  o.now_from = ReadEnum(n["now_from"], NowSource::kAgent,
                        {{"agent", NowSource::kAgent}, {"date_header", NowSource::kDateHeader}});
  o.judge.skew_tolerance = std::chrono::duration_cast<std::chrono::seconds>(
      n.Duration("skew_tolerance", o.judge.skew_tolerance));
  o.judge.max_slots = static_cast<int>(n.Int("max_slots", 0, 0, 1000000));
  o.judge.max_listed = static_cast<size_t>(n.Int("max_listed", 10, 1, 1000));
  if (n.Has("latency_budget")) o.latency_budget = n.Duration("latency_budget", {});
  if (auto t = ReadTruthConfig(n)) o.truth = std::move(*t);
  n.RejectUnknownKeys();
  if (n.errors()->size() != before) return std::nullopt;
  return o;
}

core::HttpRequest BuildRequest(const RequestSpec& spec, const TemplateVars& vars) {
  core::HttpRequest req;
  req.method = spec.method;
  req.url = spec.url.Render(vars, Escape::kUrl);
  bool has_content_type = false;
  for (const auto& [name, value] : spec.headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    has_content_type |= lower == "content-type";
    req.headers.emplace_back(name, value.Render(vars));
  }
  if (spec.body_json) {
    req.body = spec.body_json->Render(vars).dump();
    if (!has_content_type) req.headers.emplace_back("Content-Type", "application/json");
  } else if (spec.body_text) {
    req.body = spec.body_text->Render(vars);
  }
  req.max_body_bytes = spec.max_body_bytes;
  return req;
}

}  // namespace calprobe::probes::feasibility
