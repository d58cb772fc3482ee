// SandboxService's external busy sources: added at run time (calendar-connect),
// polled by server.cc through DuePolls/OnPollResult, read by feasibility.

#include <chrono>

#include "core/event.h"
#include "core/log.h"
#include "core/secrets.h"
#include "sandbox/service.h"
#include "sandbox/service_internal.h"

namespace calprobe::sandbox {

namespace {

// Loads ICS text into a source. Returns false (and sets *error) when the
// body is not a usable calendar; the previous data is kept then.
bool LoadIcs(BusySourceState* s, const std::string& body, const std::string& version,
             calendar::Delta* delta, std::string* error) {
  calendar::Analysis a = calendar::AnalyzeIcs(body);
  if (!a.usable) {
    *error = "not a usable iCalendar body";
    return false;
  }
  std::string parse_error;
  auto cal = calendar::oracle::BusyCalendar::FromIcs(body, version, &parse_error);
  if (!parse_error.empty()) {
    *error = parse_error;
    return false;
  }
  if (s->have_data) {
    *delta = calendar::ComputeDelta(s->snapshot, a.snapshot);
  } else {
    delta->added = static_cast<int>(a.snapshot.events.size());
  }
  s->calendar = std::move(cal);
  s->snapshot = std::move(a.snapshot);
  s->have_data = true;
  return true;
}

}  // namespace

ApiResult<nlohmann::json> SandboxService::AddBusySource(const std::string& id,
                                                        const std::string& body) {
  core::ConfigErrors errors;
  std::optional<YAML::Node> yaml;
  if (body.empty()) {
    errors.Add({"request body", 0, 0, "", "empty body; send {\"url\": …} or {\"ics\": …}"});
  } else {
    yaml = ParseYamlText(body, "request body", &errors);
  }
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  auto body_error = [&] {
    ApiError e{400, "invalid request body", "", {}, nlohmann::json::object()};
    for (const auto& ce : errors.all()) e.details.push_back(ce.ToString());
    if (!errors.all().empty()) {
      e.param = errors.all().front().path;
      e.message = (e.param.empty() ? "" : e.param + ": ") + errors.all().front().message;
    }
    return e;
  };
  if (!yaml) return body_error();
  core::ConfigNode root(*yaml, std::make_shared<const std::string>("request body"), "", &errors);
  BusySourceState s;
  if (root.IsMap() && root.Has("ics")) {
    s.inline_ics = true;
    s.config.id = root.String("id", "src" + std::to_string(p->sources.size() + 1));
    std::string ics = root.String("ics");
    root.RejectUnknownKeys();
    if (!errors.empty()) return body_error();
    calendar::Delta delta;
    std::string err;
    if (!LoadIcs(&s, ics, "inline", &delta, &err)) {
      return ApiError{400, "ics: " + err, "ics", {}, nlohmann::json::object()};
    }
  } else {
    auto cfg = ReadBusySource(root, p->sources.size());
    if (!cfg || !errors.empty()) return body_error();
    s.config = *cfg;
  }
  for (const auto& existing : p->sources) {
    if (existing.config.id == s.config.id) {
      return ApiError{
          409, "busy source \"" + s.config.id + "\" exists; delete it first", "id", {}, {}};
    }
  }
  bool loaded = s.have_data;
  nlohmann::json out = {{"provider_id", id}, {"source_id", s.config.id}, {"inline", s.inline_ics}};
  if (!s.inline_ics) out["url"] = core::RedactUrl(s.config.url);
  p->sources.push_back(std::move(s));
  if (loaded) TouchLocked(p);
  core::Log(core::LogLevel::kInfo, "busy source added")
      .Kv("provider", id)
      .Kv("src_id", out["source_id"].get<std::string>());
  return out;
}

ApiResult<bool> SandboxService::DeleteBusySource(const std::string& id,
                                                 const std::string& source_id) {
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(id);
  if (!p) return NotFoundError("provider", id);
  size_t n =
      std::erase_if(p->sources, [&](const BusySourceState& s) { return s.config.id == source_id; });
  if (n == 0) return NotFoundError("busy source", source_id);
  TouchLocked(p);
  return true;
}

std::vector<PollJob> SandboxService::DuePolls(TimePoint real_now, size_t max) {
  std::lock_guard lock(mu_);
  std::vector<PollJob> jobs;
  for (auto& [pid, p] : providers_) {
    for (auto& s : p->sources) {
      if (jobs.size() >= max) return jobs;
      if (s.inline_ics || s.in_flight || s.next_poll > real_now) continue;
      s.in_flight = true;
      jobs.push_back({pid, s.config.id, s.config.url, s.etag, s.last_modified});
    }
  }
  return jobs;
}

size_t SandboxService::PollBacklog(TimePoint real_now) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [pid, p] : providers_) {
    for (const auto& s : p->sources) n += !s.inline_ics && !s.in_flight && s.next_poll <= real_now;
  }
  return n;
}

void SandboxService::EmitBacklog(size_t size, size_t queue_size) {
  std::lock_guard lock(mu_);
  EmitLocked(NewEvent("cal.ics.backlog", nullptr)
                 .With("size", static_cast<int64_t>(size))
                 .With("queue_size", static_cast<int64_t>(queue_size)));
}

void SandboxService::OnPollResult(const PollJob& job, const PollOutcome& o, TimePoint real_now) {
  std::lock_guard lock(mu_);
  ProviderState* p = FindLocked(job.provider_id);
  if (!p) return;
  BusySourceState* s = nullptr;
  for (auto& x : p->sources) {
    if (x.config.id == job.source_id) s = &x;
  }
  if (!s) return;  // deleted while in flight
  s->in_flight = false;
  s->next_poll = real_now + s->config.poll_interval;
  s->last_status = o.http_status;
  calendar::Delta delta;
  std::string error_code = o.error_code;
  std::string error_message;
  bool etag_matched = o.http_status == 304;
  if (error_code.empty() && o.http_status == 200) {
    std::string version =
        !o.etag.empty() ? o.etag : std::to_string(std::hash<std::string>{}(o.body));
    if (!LoadIcs(s, o.body, version, &delta, &error_message))
      error_code = "ics.unusable";
    else if (delta.total() > 0)
      TouchLocked(p);
    if (error_code.empty()) {
      s->etag = o.etag;
      s->last_modified = o.last_modified;
    }
  } else if (error_code.empty() && o.http_status != 304) {
    error_code = "http.status_" + std::to_string(o.http_status);
  }
  core::Event e = NewEvent(error_code.empty() ? "cal.ics.poll.ok" : "cal.ics.poll.error", p);
  e.labels.Set(core::Label::kSrcId, s->config.id);
  e.With("http_status", int64_t{o.http_status})
      .With("etag_matched", etag_matched)
      .With("delta_event_count", int64_t{delta.total()})
      .With("payload_bytes", static_cast<int64_t>(o.body.size()))
      .With("duration_ms", o.duration_ms);
  if (error_code.empty()) {
    s->last_error.clear();
    s->last_ok = real_now;
    s->consecutive_errors = 0;
    e.With("added", int64_t{delta.added})
        .With("removed", int64_t{delta.removed})
        .With("changed", int64_t{delta.changed});
  } else {
    s->last_error = error_code;
    ++s->consecutive_errors;
    e.With("error_code", error_code).With("retry_tier", int64_t{s->consecutive_errors});
    core::Log(core::LogLevel::kWarn, "busy source poll failed")
        .Kv("provider", job.provider_id)
        .Kv("src_id", job.source_id)
        .Kv("url", core::RedactUrl(job.url))
        .Kv("error", error_code + (error_message.empty() ? "" : ": " + error_message));
  }
  EmitLocked(std::move(e));
}

}  // namespace calprobe::sandbox
