#include "core/config/agent_config.h"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <cstring>

#include "core/scratch_arena.h"
#include "core/secrets.h"

namespace calprobe::core {
namespace {

namespace fs = std::filesystem;

// Parses a YAML file; syntax errors become a ConfigError with the position.
std::optional<YAML::Node> ParseYamlFile(const std::string& path, ConfigErrors* errors) {
  std::ifstream f(path);
  if (!f) {
    errors->Add({path, 0, 0, "", "cannot open file (" + std::string(std::strerror(errno)) + ")"});
    return std::nullopt;
  }
  try {
    YAML::Node root;
    // The tree lives in the scratch arena; see core/scratch_arena.h.
    RunInScratchArena([&] {
      std::stringstream ss;
      ss << f.rdbuf();
      root = YAML::Load(ss.str());
    });
    return root;
  } catch (const YAML::Exception& e) {
    errors->Add({path, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg});
    return std::nullopt;
  }
}

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.' &&
        c != ':' && c != '/') {
      return false;
    }
  }
  return true;
}

std::optional<TargetConfig> ReadTarget(const ConfigNode& t, const ProbeRegistry& registry,
                                       const TargetDefaults& defaults) {
  if (!t.ExpectMap()) {
    if (!t.defined()) t.Error("empty target");
    return std::nullopt;
  }
  size_t before = t.errors()->size();
  TargetConfig tc;
  tc.file = t.file();
  tc.line = t.raw().Mark().line + 1;
  tc.name = t.RequiredString("name");
  if (!tc.name.empty() && !ValidName(tc.name)) {
    t["name"].Error("target names use letters, digits and _-.:/ (max 128), got \"" + tc.name + "\"");
  }
  tc.probe_type = t.RequiredString("probe");
  const ProbeFactory* factory = nullptr;
  if (!tc.probe_type.empty()) {
    factory = registry.Find(tc.probe_type);
    if (!factory) {
      std::string known;
      for (const auto& k : registry.Types()) known += (known.empty() ? "" : ", ") + k;
      t["probe"].Error("unknown probe type \"" + tc.probe_type + "\" (known: " + known + ")");
      (void)t[tc.probe_type];  // its option block is not a second problem
    }
  }
  tc.interval = t.Duration("interval", defaults.interval);
  bool timeout_set = t.Has("timeout");
  tc.timeout = t.Duration("timeout", std::min(defaults.timeout, tc.interval * 4 / 5));
  if (tc.interval < std::chrono::milliseconds(100)) {
    t["interval"].Error("must be at least 100ms");
  }
  if (tc.timeout <= std::chrono::milliseconds(0)) {
    t["timeout"].Error("must be positive");
  } else if (tc.timeout >= tc.interval) {
    (timeout_set ? t["timeout"] : t).Error("timeout (" + FormatDuration(tc.timeout) +
                                           ") must be shorter than the interval (" +
                                           FormatDuration(tc.interval) + ")");
  }
  ConfigNode labels = t["labels"];
  if (labels.ExpectMap()) {
    for (const auto& k : labels.Keys()) {
      auto l = LabelFromName(k);
      if (!l || (*l != Label::kProvider && *l != Label::kRole && *l != Label::kSrcId)) {
        labels[k].Error("unknown label \"" + k +
                        "\" (targets may set provider, role, src_id; region, target, probe and "
                        "origin are set by the agent)");
        continue;
      }
      tc.labels.Set(*l, labels[k].AsString().value_or(""));
    }
  }
  if (factory) {
    TargetInfo info;
    info.name = tc.name;
    info.probe_type = tc.probe_type;
    info.labels = tc.labels;
    tc.probe = factory->Create(t[tc.probe_type], info);
  }
  // Other probe types' option blocks are a mistake, not something to ignore.
  for (const auto& type : registry.Types()) {
    if (type != tc.probe_type && t.Has(type)) {
      t[type].Error("options for probe type \"" + type + "\" on a \"" + tc.probe_type +
                    "\" target");
    }
  }
  t.RejectUnknownKeys();
  if (t.errors()->size() != before) return std::nullopt;
  tc.labels.Set(Label::kTarget, tc.name);
  tc.labels.Set(Label::kProbe, tc.probe_type);
  tc.labels.Set(Label::kOrigin, std::string(kOriginSynthetic));
  return tc;
}

void ReadTargets(const ConfigNode& list, const ProbeRegistry& registry,
                 const TargetDefaults& defaults, std::vector<TargetConfig>* out) {
  if (!list.defined()) return;
  if (!list.IsSequence()) {
    list.Error("expected a list of targets (each starting with \"- name: …\")");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (auto t = ReadTarget(list.At(i), registry, defaults)) out->push_back(std::move(*t));
  }
}

void CheckDuplicateNames(const std::vector<TargetConfig>& targets, ConfigErrors* errors) {
  std::map<std::string, const TargetConfig*> seen;
  for (const auto& t : targets) {
    auto [it, inserted] = seen.emplace(t.name, &t);
    if (!inserted) {
      errors->Add({t.file, t.line, 3, "targets",
                   "duplicate target name \"" + t.name + "\" (first defined at " +
                       it->second->file + ":" + std::to_string(it->second->line) + ")"});
    }
  }
}

void ReadAgent(const ConfigNode& a, AgentSettings* s) {
  if (!a.ExpectMap()) return;
  s->region = a.String("region", s->region);
  if (!ValidName(s->region)) a["region"].Error("region uses letters, digits and _-.");
  s->listen = a.String("listen", s->listen);
  static const std::regex kListen(R"(^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$)");
  if (!std::regex_match(s->listen, kListen)) {
    a["listen"].Error("expected HOST:PORT such as 127.0.0.1:9464 or [::1]:9464");
  }
  s->store_path = a.String("store", s->store_path);
  s->ingest_token = a.String("ingest_token", "");
  if (!s->ingest_token.empty()) Secrets::Register(s->ingest_token);
  if (a.Has("log_format") && !ParseLogFormat(a.String("log_format"), &s->log_format)) {
    a["log_format"].Error("expected logfmt or json");
  }
  if (a.Has("log_level") && !ParseLogLevel(a.String("log_level"), &s->log_level)) {
    a["log_level"].Error("expected debug, info, warn or error");
  }
  s->max_event_lateness = a.Duration("max_event_lateness", s->max_event_lateness);
  s->max_event_future_skew = a.Duration("max_event_future_skew", s->max_event_future_skew);
  s->ingest_max_body_bytes = a.Bytes("ingest_max_body", s->ingest_max_body_bytes);
  s->target_files_refresh = a.Duration("target_files_refresh", s->target_files_refresh);
  s->export_top_k = static_cast<int>(a.Int("export_top_k", s->export_top_k, 1, 100000));
  s->max_signal_keys = a.Int("max_signal_keys", s->max_signal_keys, 1000, 100'000'000);
  s->event_log = a.String("event_log", "");
  ConfigNode c = a["concurrency"];
  if (c.ExpectMap()) {
    for (const auto& k : c.Keys()) {
      if (auto v = c[k].AsInt(1, 100000)) s->concurrency[k] = static_cast<int>(*v);
    }
  }
  a.RejectUnknownKeys();
}

void ReadAlerts(const ConfigNode& a, const std::string& base_dir, AlertsSettings* s) {
  if (!a.ExpectMap() || !a.defined()) return;
  s->builtin = a.Bool("builtin", s->builtin);
  for (const auto& pattern : a.StringList("rule_files")) {
    auto files = ExpandGlob(pattern, base_dir);
    if (files.empty()) a["rule_files"].Error("no file matches \"" + pattern + "\"");
    s->rule_files.insert(s->rule_files.end(), files.begin(), files.end());
  }
  s->evaluation_interval = a.Duration("evaluation_interval", s->evaluation_interval);
  if (s->evaluation_interval < std::chrono::seconds(1)) {
    a["evaluation_interval"].Error("evaluation_interval must be at least 1s");
  }
  s->probe_failure_window =
      static_cast<int>(a.Int("probe_failure_window", s->probe_failure_window, 1, 32));
  s->health_interval = a.Duration("health_interval", s->health_interval);
  if (s->health_interval < std::chrono::seconds(1)) {
    a["health_interval"].Error("health_interval must be at least 1s");
  }
  s->heartbeat_url = a.String("heartbeat_url", "");
  if (!s->heartbeat_url.empty() && s->heartbeat_url.rfind("http://", 0) != 0 &&
      s->heartbeat_url.rfind("https://", 0) != 0) {
    a["heartbeat_url"].Error("expected an http:// or https:// URL");
  }
  s->heartbeat_interval = a.Duration("heartbeat_interval", s->heartbeat_interval);
  ConfigNode list = a["silences"];
  if (list.defined() && !list.IsSequence()) list.Error("expected a list of silences");
  for (size_t i = 0; list.IsSequence() && i < list.size(); ++i) {
    ConfigNode n = list.At(i);
    if (!n.ExpectMap()) continue;
    SilenceConfig sc;
    sc.id = "config-" + std::to_string(i + 1);
    ConfigNode m = n["matchers"];
    if (!m.defined() || !m.IsMap() || m.size() == 0) {
      (m.defined() ? m : n).Error("a silence needs matchers: a map of label: value (e.g. alertname: SyncStaleness)");
    } else {
      for (const auto& k : m.Keys()) {
        if (auto v = m[k].AsString()) sc.matchers[k] = *v;
      }
    }
    for (const char* key : {"starts", "ends"}) {
      std::string text = n.RequiredString(key);
      if (text.empty()) continue;
      auto t = ParseRfc3339(text);
      if (!t) {
        n[key].Error("expected an RFC 3339 time such as 2026-12-01T22:00:00Z");
      } else {
        (std::string(key) == "starts" ? sc.starts : sc.ends) = *t;
      }
    }
    if (sc.ends <= sc.starts && sc.ends != TimePoint{}) n["ends"].Error("ends must be after starts");
    sc.comment = n.String("comment", "");
    sc.created_by = n.String("created_by", "config");
    n.RejectUnknownKeys();
    s->silences.push_back(std::move(sc));
  }
  a.RejectUnknownKeys();
}

TargetDefaults ReadDefaults(const ConfigNode& d) {
  TargetDefaults td;
  if (!d.ExpectMap()) return td;
  td.interval = d.Duration("interval", td.interval);
  td.timeout = d.Duration("timeout", std::min(td.timeout, td.interval * 4 / 5));
  d.RejectUnknownKeys();
  return td;
}

}  // namespace

std::vector<std::string> ExpandGlob(const std::string& pattern, const std::string& base_dir) {
  std::string full = fs::path(pattern).is_absolute() ? pattern : (fs::path(base_dir) / pattern).string();
  glob_t g{};
  std::vector<std::string> out;
  if (glob(full.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {
Result<AgentConfig> LoadAgentConfigTrees(const std::string& path, const ProbeRegistry& registry) {
  ConfigErrors errors;
  AgentConfig cfg;
  cfg.file = path;
  auto root = ParseYamlFile(path, &errors);
  if (!root) return Status::Error(errors.ToString());
  auto file = std::make_shared<const std::string>(path);
  ConfigNode top(*root, file, "", &errors);
  if (!top.IsMap()) {
    if (root->IsNull()) {
      errors.Add({path, 0, 0, "", "the file is empty; see config/demo.yaml for an example"});
    } else {
      top.Error("expected a mapping with agent:, targets:, … at the top level");
    }
    return Status::Error(errors.ToString());
  }
  std::string base_dir = fs::path(path).parent_path().string();
  ReadAgent(top["agent"], &cfg.agent);
  ReadAlerts(top["alerts"], base_dir, &cfg.alerts);
  TargetDefaults defaults = ReadDefaults(top["defaults"]);
  ReadTargets(top["targets"], registry, defaults, &cfg.targets);
  cfg.credentials = auth::ReadCredentials(top["credentials"]);
  cfg.tls = tls::ReadTlsOptions(top["tls"]);
  for (const auto& g : top.StringList("target_files")) {
    cfg.target_file_globs.push_back(fs::path(g).is_absolute() ? g : (fs::path(base_dir) / g).string());
  }
  for (const auto& c : top.StringList("catalog")) {
    auto files = ExpandGlob(c, base_dir);
    if (files.empty()) top["catalog"].Error("no file matches \"" + c + "\"");
    cfg.catalog_files.insert(cfg.catalog_files.end(), files.begin(), files.end());
  }
  cfg.receivers = notify::ReadReceivers(top["receivers"]);
  cfg.notify = notify::ReadNotifySettings(top["notifications"]);
  ConfigNode includes = top["include"];
  for (const auto& pattern : top.StringList("include")) {
    auto files = ExpandGlob(pattern, base_dir);
    if (files.empty()) {
      includes.Error("no file matches \"" + pattern + "\" (paths are relative to " +
                     (base_dir.empty() ? "." : base_dir) + ")");
    }
    for (const auto& inc : files) {
      auto node = ParseYamlFile(inc, &errors);
      if (!node) continue;
      ConfigNode inc_top(*node, std::make_shared<const std::string>(inc), "", &errors);
      if (node->IsNull()) continue;
      if (!inc_top.IsMap()) {
        inc_top.Error("an included file is a mapping with targets: (and later rules:, receivers:)");
        continue;
      }
      ReadTargets(inc_top["targets"], registry, defaults, &cfg.targets);
      inc_top.RejectUnknownKeys();
    }
  }
  top.RejectUnknownKeys();
  CheckDuplicateNames(cfg.targets, &errors);
  if (!errors.empty()) return Status::Error(errors.ToString());
  cfg.targets.shrink_to_fit();  // growth slack is ~60 % of a large list
  return cfg;
}

Result<std::vector<TargetConfig>> LoadTargetFileTree(const std::string& path,
                                                     const ProbeRegistry& registry,
                                                     const TargetDefaults& defaults) {
  ConfigErrors errors;
  auto root = ParseYamlFile(path, &errors);
  if (!root) return Status::Error(errors.ToString());
  ConfigNode top(*root, std::make_shared<const std::string>(path), "", &errors);
  std::vector<TargetConfig> out;
  if (root->IsNull()) return out;
  if (top.IsSequence()) {
    ConfigNode list(*root, std::make_shared<const std::string>(path), "targets", &errors);
    ReadTargets(list, registry, defaults, &out);
  } else if (top.IsMap()) {
    ReadTargets(top["targets"], registry, defaults, &out);
    top.RejectUnknownKeys();
  } else {
    top.Error("expected a list of targets or a mapping with targets:");
  }
  CheckDuplicateNames(out, &errors);
  if (!errors.empty()) return Status::Error(errors.ToString());
  out.shrink_to_fit();
  return out;
}
}  // namespace

// The YAML trees are gone when the *Tree functions return: give their
// scratch arena back (core/scratch_arena.h).
Result<AgentConfig> LoadAgentConfig(const std::string& path, const ProbeRegistry& registry) {
  auto cfg = LoadAgentConfigTrees(path, registry);
  ReleaseScratchArena();
  return cfg;
}

Result<std::vector<TargetConfig>> LoadTargetFile(const std::string& path,
                                                 const ProbeRegistry& registry,
                                                 const TargetDefaults& defaults) {
  auto targets = LoadTargetFileTree(path, registry, defaults);
  ReleaseScratchArena();
  return targets;
}

}  // namespace calprobe::core
