#include "sandbox/config.h"

#include <strings.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "core/event.h"
#include "core/secrets.h"

namespace calprobe::sandbox {
namespace {

namespace oracle = calendar::oracle;
using core::ConfigNode;

constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<oracle::TimePoint> ReadInstant(const ConfigNode& n) {
  if (!n.defined()) {
    n.Error("missing required key; expected an RFC 3339 time like 2027-03-15T09:00:00-04:00");
    return std::nullopt;
  }
  auto s = n.AsString();
  if (!s) return std::nullopt;
  auto t = core::ParseRfc3339(*s);
  if (!t)
    n.Error("expected an RFC 3339 time with offset like 2027-03-15T09:00:00-04:00, got \"" + *s +
            "\"");
  return t;
}

bool ValidId(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  }
  return true;
}

// Walks "rules[2].end" below `root`; stops at the deepest defined node.
ConfigNode Walk(const ConfigNode& root, const std::string& suffix) {
  ConfigNode cur = root;
  std::stringstream ss(suffix);
  std::string seg;
  while (std::getline(ss, seg, '.')) {
    size_t br = seg.find('[');
    ConfigNode next = cur[seg.substr(0, br)];
    if (br != std::string::npos) next = next.At(std::strtoul(seg.c_str() + br + 1, nullptr, 10));
    if (!next.defined()) return cur;
    cur = next;
  }
  return cur;
}

void ReadTruthScalars(const ConfigNode& n, oracle::ProviderTruth* truth) {
  if (n.Has("timezone")) truth->timezone = n.String("timezone");
  truth->slot_minutes = static_cast<int>(n.Int("slot_minutes", truth->slot_minutes, 1, 1440));
  truth->granularity_minutes =
      static_cast<int>(n.Int("granularity_minutes", truth->granularity_minutes, 1, 1440));
  truth->lead_time_hours =
      static_cast<int>(n.Int("lead_time_hours", truth->lead_time_hours, 0, 8760));
}

std::optional<ProviderConfig> ReadProvider(const ConfigNode& p, std::set<std::string>* ids) {
  if (!p.ExpectMap()) {
    if (!p.defined()) p.Error("empty provider");
    return std::nullopt;
  }
  size_t before = p.errors()->size();
  ProviderConfig pc;
  pc.id = p.RequiredString("id");
  if (!pc.id.empty() && !ValidId(pc.id)) {
    p["id"].Error("provider ids use letters, digits and _-. (max 64), got \"" + pc.id + "\"");
  } else if (!pc.id.empty() && !ids->insert(pc.id).second) {
    p["id"].Error("duplicate provider id \"" + pc.id + "\"");
  }
  pc.role = p.String("role", pc.role);
  pc.truth.timezone = p.RequiredString("timezone");
  ReadTruthScalars(p, &pc.truth);
  pc.max_slots = static_cast<int>(p.Int("max_slots", pc.max_slots, 1, 100000));
  pc.feed_token = p.String("feed_token");
  if (!pc.feed_token.empty()) {
    if (pc.feed_token.size() < 8) p["feed_token"].Error("feed tokens need at least 8 characters");
    core::Secrets::Register(pc.feed_token);
  }
  ConfigNode rules = p["rules"];
  if (!rules.defined() || !rules.IsSequence() || rules.size() == 0) {
    (rules.defined() ? rules : p)
        .Error(rules.defined() ? "expected a list of weekly rules"
                               : "missing required key \"rules\" (a list of weekly rules)");
  } else {
    for (size_t i = 0; i < rules.size(); ++i) {
      if (auto r = ReadWeeklyRule(rules.At(i))) pc.truth.rules.push_back(*r);
    }
  }
  ConfigNode ex = p["exceptions"];
  for (size_t i = 0; ex.IsSequence() && i < ex.size(); ++i) {
    if (auto e = ReadException(ex.At(i))) pc.exceptions.push_back(*e);
  }
  if (ex.defined() && !ex.IsSequence()) ex.Error("expected a list of exceptions");
  ConfigNode bs = p["busy_sources"];
  std::set<std::string> src_ids;
  for (size_t i = 0; bs.IsSequence() && i < bs.size(); ++i) {
    if (auto b = ReadBusySource(bs.At(i), i)) {
      if (!src_ids.insert(b->id).second)
        bs.At(i)["id"].Error("duplicate busy source id \"" + b->id + "\"");
      pc.busy_sources.push_back(*b);
    }
  }
  if (bs.defined() && !bs.IsSequence()) bs.Error("expected a list of busy sources");
  p.RejectUnknownKeys();
  if (p.errors()->size() == before) ReportTruthErrors(oracle::ValidateTruth(pc.truth, "@"), p);
  return pc;
}

}  // namespace

std::optional<YAML::Node> ParseYamlText(const std::string& text, const std::string& label,
                                        core::ConfigErrors* errors) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    errors->Add({label, e.mark.line + 1, e.mark.column + 1, "", "syntax error: " + e.msg});
    return std::nullopt;
  }
}

std::optional<oracle::WeeklyRule> ReadWeeklyRule(const ConfigNode& n) {
  if (!n.ExpectMap()) {
    if (!n.defined()) n.Error("empty rule");
    return std::nullopt;
  }
  size_t before = n.errors()->size();
  oracle::WeeklyRule r;
  if (n.Has("weekday_mask")) {
    r.weekday_mask = static_cast<uint8_t>(n.Int("weekday_mask", 0, 1, 0x7f));
  } else {
    ConfigNode days = n["weekdays"];
    if (!days.defined()) {
      n.Error("missing required key \"weekdays\" (e.g. [mon, tue, wed, thu, fri])");
    }
    for (const auto& d : n.StringList("weekdays")) {
      int idx = -1;
      for (int i = 0; i < 7; ++i) {
        if (d.size() >= 3 && strncasecmp(d.c_str(), kDayNames[i], 3) == 0) idx = i;
      }
      if (idx < 0) {
        days.Error("unknown weekday \"" + d + "\"; use mon, tue, wed, thu, fri, sat, sun");
      } else {
        r.weekday_mask |= static_cast<uint8_t>(1 << idx);
      }
    }
  }
  for (const char* key : {"start", "end"}) {
    std::string v = n.RequiredString(key);
    if (v.empty()) continue;
    auto m = core::ParseClockTime(v);
    if (!m) {
      n[key].Error("expected a local time HH:MM (00:00..24:00), got \"" + v + "\"");
      continue;
    }
    (std::string_view(key) == "start" ? r.start_minute : r.end_minute) = *m;
  }
  n.RejectUnknownKeys();
  if (n.errors()->size() != before) return std::nullopt;
  return r;
}

std::optional<ExceptionConfig> ReadException(const ConfigNode& n) {
  if (!n.ExpectMap()) {
    if (!n.defined()) n.Error("empty exception");
    return std::nullopt;
  }
  size_t before = n.errors()->size();
  ExceptionConfig e;
  e.kind = n.RequiredString("kind");
  if (!e.kind.empty() && e.kind != "blocked" && e.kind != "extra") {
    n["kind"].Error("expected blocked (removes availability) or extra (adds availability), got \"" +
                    e.kind + "\"");
  }
  auto start = ReadInstant(n["start"]);
  auto end = ReadInstant(n["end"]);
  if (start && end) {
    e.span = {*start, *end};
    if (*end <= *start) n["end"].Error("end is not after start");
  }
  n.RejectUnknownKeys();
  if (n.errors()->size() != before) return std::nullopt;
  return e;
}

std::optional<BusySourceConfig> ReadBusySource(const ConfigNode& n, size_t index) {
  if (!n.ExpectMap()) {
    if (!n.defined()) n.Error("empty busy source");
    return std::nullopt;
  }
  size_t before = n.errors()->size();
  BusySourceConfig b;
  b.id = n.String("id", "src" + std::to_string(index + 1));
  if (!ValidId(b.id))
    n["id"].Error("source ids use letters, digits and _-. (max 64), got \"" + b.id + "\"");
  b.url = n.RequiredString("url");
  if (!b.url.empty() && b.url.rfind("http://", 0) != 0 && b.url.rfind("https://", 0) != 0) {
    n["url"].Error("expected an http:// or https:// URL");
  }
  b.poll_interval = n.Duration("poll_interval", b.poll_interval);
  if (b.poll_interval < std::chrono::milliseconds(500))
    n["poll_interval"].Error("must be at least 500ms");
  n.RejectUnknownKeys();
  if (n.errors()->size() != before) return std::nullopt;
  return b;
}

void ReadRulesUpdate(const ConfigNode& n, oracle::ProviderTruth* truth) {
  if (!n.ExpectMap()) {
    if (!n.defined()) n.Error("expected a JSON object with \"rules\"");
    return;
  }
  ReadTruthScalars(n, truth);
  ConfigNode rules = n["rules"];
  if (rules.defined()) {
    if (!rules.IsSequence()) {
      rules.Error("expected a list of weekly rules");
    } else {
      truth->rules.clear();
      for (size_t i = 0; i < rules.size(); ++i) {
        if (auto r = ReadWeeklyRule(rules.At(i))) truth->rules.push_back(*r);
      }
    }
  }
  n.RejectUnknownKeys();
}

void ReportTruthErrors(const std::vector<oracle::TruthError>& errors, const ConfigNode& provider) {
  for (const auto& e : errors) {
    std::string suffix = e.path.rfind("@.", 0) == 0 ? e.path.substr(2) : e.path;
    std::string message = e.message;
    // Messages may name sibling paths with the same placeholder prefix.
    for (size_t p; (p = message.find("@.")) != std::string::npos;) {
      message.replace(p, 2, provider.path().empty() ? "" : provider.path() + ".");
    }
    ConfigNode at = Walk(provider, suffix);
    std::string want = provider.path().empty() ? suffix : provider.path() + "." + suffix;
    if (at.path() == want) {
      at.Error(message);
    } else {
      core::ConfigError ce;
      ce.file = provider.file();
      YAML::Mark m = at.raw().Mark();
      if (at.raw().IsDefined() && m.line >= 0) {
        ce.line = m.line + 1;
        ce.column = m.column + 1;
      }
      ce.path = want;
      ce.message = message;
      provider.errors()->Add(std::move(ce));
    }
  }
}

core::Result<SandboxConfig> LoadSandboxConfig(const std::string& path) {
  core::ConfigErrors errors;
  std::ifstream f(path);
  if (!f) {
    return core::Status::Error(path + ": cannot open file (" + std::strerror(errno) + ")\n");
  }
  std::stringstream ss;
  ss << f.rdbuf();
  auto yaml = ParseYamlText(ss.str(), path, &errors);
  if (!yaml) return core::Status::Error(errors.ToString());
  ConfigNode root(*yaml, std::make_shared<const std::string>(path), "", &errors);
  SandboxConfig cfg;
  cfg.file = path;
  if (!root.ExpectMap()) {
    if (!root.defined()) root.Error("empty config; expected sandbox:, events: and providers:");
    return core::Status::Error(errors.ToString());
  }
  ConfigNode s = root["sandbox"];
  if (s.ExpectMap()) {
    cfg.listen = s.String("listen", cfg.listen);
    cfg.region = s.String("region", cfg.region);
    cfg.threads = static_cast<int>(s.Int("threads", cfg.threads, 1, 64));
    cfg.max_body = s.Bytes("max_body", cfg.max_body);
    cfg.cache_ttl = s.Duration("cache_ttl", cfg.cache_ttl);
    cfg.max_window_days = static_cast<int>(s.Int("max_window_days", cfg.max_window_days, 1, 366));
    cfg.api_token = s.String("api_token");
    cfg.traffic_interval = s.Duration("traffic_interval", cfg.traffic_interval);
    if (cfg.traffic_interval.count() != 0 &&
        cfg.traffic_interval < std::chrono::milliseconds(100)) {
      s["traffic_interval"].Error("must be 0s (off) or at least 100ms");
    }
    if (!cfg.api_token.empty()) core::Secrets::Register(cfg.api_token);
    s.RejectUnknownKeys();
  }
  ConfigNode e = root["events"];
  if (e.ExpectMap()) {
    cfg.events.url = e.String("url");
    if (!cfg.events.url.empty() && cfg.events.url.rfind("http://", 0) != 0 &&
        cfg.events.url.rfind("https://", 0) != 0) {
      e["url"].Error("expected the agent's ingest URL, e.g. http://127.0.0.1:9090/api/v1/events");
    }
    cfg.events.token = e.String("token");
    if (!cfg.events.token.empty()) core::Secrets::Register(cfg.events.token);
    if (!cfg.events.url.empty() && cfg.events.token.empty()) {
      e.Error("events.url is set but events.token is empty; set token: ${CALPROBE_INGEST_TOKEN}");
    }
    cfg.events.flush_interval = e.Duration("flush_interval", cfg.events.flush_interval);
    if (cfg.events.flush_interval < std::chrono::milliseconds(50)) {
      e["flush_interval"].Error("must be at least 50ms");
    }
    cfg.events.max_queue = static_cast<size_t>(e.Int("max_queue", 10000, 1, 10'000'000));
    cfg.events.batch_size = static_cast<size_t>(e.Int("batch_size", 500, 1, 100000));
    std::string ts = e.String("timestamps", "real");
    if (ts != "real" && ts != "sandbox") {
      e["timestamps"].Error("expected real (wall clock) or sandbox (the injected clock)");
    }
    cfg.events.sandbox_time = ts == "sandbox";
    e.RejectUnknownKeys();
  }
  ConfigNode ps = root["providers"];
  if (!ps.defined() || !ps.IsSequence() || ps.size() == 0) {
    (ps.defined() ? ps : root).Error("expected providers: a non-empty list of providers");
  } else {
    std::set<std::string> ids;
    for (size_t i = 0; i < ps.size(); ++i) {
      if (auto p = ReadProvider(ps.At(i), &ids)) cfg.providers.push_back(std::move(*p));
    }
  }
  root.RejectUnknownKeys();
  if (!errors.empty()) return core::Status::Error(errors.ToString());
  return cfg;
}

}  // namespace calprobe::sandbox
