// Alerting inside the agent (issue 8): the rule engine evaluated on a timer
// over the agent's SignalStore, silences applied before any receiver, the
// agent's own health event, the heartbeat ping, and the alert endpoints:
//
//   GET    /api/v1/alerts          rules, pending/firing alerts, silences
//   GET    /api/v1/silences        active and future silences
//   POST   /api/v1/silences        {"matchers":{...},"starts":..,"ends":..,"comment":..}
//   DELETE /api/v1/silences/ID     expire a silence made through the API
//
// Silences suppress notifications, not state: a silenced alert still goes
// pending -> firing (visible in /api/v1/alerts with "silenced_by"); if it is
// still firing when the silence ends, it is notified then. An alert whose
// firing was never notified is not notified when it resolves either. That
// set is persisted, so a restart does not change what gets delivered.

#include <algorithm>
#include <random>

#include "core/agent_internal.h"
#include "core/http/curl_client.h"
#include "core/log.h"
#include "core/rules/rule_config.h"
#include "core/secrets.h"

namespace calprobe::core {

using rules::AlertState;
using rules::AlertTransition;
using rules::LabelMap;

namespace {

constexpr std::string_view kSilenceNs = "alerts.silences";
constexpr std::string_view kSuppressedNs = "alerts.suppressed";

std::string AlertKey(const std::string& rule, const LabelMap& labels) {
  return rule + nlohmann::json(labels).dump();
}

bool SilenceMatches(const SilenceConfig& s, const std::string& rule, const std::string& severity,
                    const LabelMap& labels, TimePoint now) {
  if (now < s.starts || now >= s.ends) return false;
  for (const auto& [k, v] : s.matchers) {
    if (k == "alertname") {
      if (v != rule) return false;
    } else if (k == "severity") {
      if (v != severity) return false;
    } else {
      auto it = labels.find(k);
      if (it == labels.end() || it->second != v) return false;
    }
  }
  return true;
}

nlohmann::json SilenceJson(const SilenceConfig& s, TimePoint now) {
  const char* state = now < s.starts ? "pending" : now >= s.ends ? "expired" : "active";
  return {{"id", s.id},       {"matchers", s.matchers},       {"starts", FormatRfc3339(s.starts)},
          {"ends", FormatRfc3339(s.ends)}, {"comment", s.comment}, {"created_by", s.created_by},
          {"state", state}};
}

// Parses a silence from the API's JSON; errors name the field.
Result<SilenceConfig> ParseSilence(const std::string& body, TimePoint now) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::Error("body: expected a JSON object");
  SilenceConfig s;
  for (const auto& [k, v] : j.items()) {
    if (k != "matchers" && k != "starts" && k != "ends" && k != "comment" && k != "created_by" &&
        k != "duration_seconds") {
      return Status::Error("unknown field \"" + k +
                           "\" (matchers, starts, ends, duration_seconds, comment, created_by)");
    }
  }
  if (!j.contains("matchers") || !j["matchers"].is_object() || j["matchers"].empty()) {
    return Status::Error("matchers: expected a non-empty object of label: value, e.g. "
                         "{\"alertname\":\"SyncStaleness\",\"src_id\":\"feed-1\"}");
  }
  for (const auto& [k, v] : j["matchers"].items()) {
    if (!v.is_string()) return Status::Error("matchers." + k + ": expected a string");
    s.matchers[k] = v.get<std::string>();
  }
  s.starts = now;
  if (j.contains("starts")) {
    auto t = j["starts"].is_string() ? ParseRfc3339(j["starts"].get<std::string>()) : std::nullopt;
    if (!t) return Status::Error("starts: expected an RFC 3339 time such as 2026-12-01T22:00:00Z");
    s.starts = *t;
  }
  if (j.contains("ends")) {
    auto t = j["ends"].is_string() ? ParseRfc3339(j["ends"].get<std::string>()) : std::nullopt;
    if (!t) return Status::Error("ends: expected an RFC 3339 time such as 2026-12-02T06:00:00Z");
    s.ends = *t;
  } else if (j.contains("duration_seconds") && j["duration_seconds"].is_number() &&
             j["duration_seconds"].get<double>() > 0) {
    s.ends = s.starts + std::chrono::duration_cast<Duration>(
                            std::chrono::duration<double>(j["duration_seconds"].get<double>()));
  } else {
    return Status::Error("ends: give ends (RFC 3339) or duration_seconds (> 0)");
  }
  if (s.ends <= s.starts) return Status::Error("ends: must be after starts");
  if (j.contains("comment") && j["comment"].is_string()) s.comment = j["comment"];
  s.created_by = j.value("created_by", std::string("api"));
  return s;
}

Result<SilenceConfig> SilenceFromStored(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::Error("bad stored silence");
  SilenceConfig s;
  s.id = j.value("id", "");
  for (const auto& [k, v] : j["matchers"].items()) s.matchers[k] = v.get<std::string>();
  auto st = ParseRfc3339(j.value("starts", ""));
  auto en = ParseRfc3339(j.value("ends", ""));
  if (s.id.empty() || !st || !en) return Status::Error("bad stored silence");
  s.starts = *st;
  s.ends = *en;
  s.comment = j.value("comment", "");
  s.created_by = j.value("created_by", "api");
  return s;
}

std::string LabelsText(const LabelMap& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=" + v;
  return out;
}

}  // namespace

Status AgentState::InitAlerts() {
  std::vector<std::string> replaced;
  auto set = rules::LoadRuleSet(config.alerts.builtin, config.alerts.rule_files, &replaced);
  if (!set.ok()) return set.status();
  for (const auto& n : replaced) {
    Log(LogLevel::kInfo, "built-in alert rule replaced by a rules file").Kv("rule", n);
  }
  // The new engine loads the states the previous one persisted after its
  // last evaluation, so a reload neither drops nor re-announces an alert.
  rules.reset();
  auto engine = rules::RuleEngine::Create(std::move(*set), signals.get(), store.get());
  if (!engine.ok()) return engine.status();
  rules = std::move(engine.value());
  // Prometheus' copy of the same rules (export-rules) reads these series;
  // re-planned with every rule set, installed once (collectors stay).
  if (!rule_exports) {
    rule_exports = InstallRuleExports(metrics, *pipeline,
                                      {static_cast<size_t>(config.agent.export_top_k), config.agent.region});
  }
  rule_exports->SetRegion(config.agent.region);
  rule_exports->SetRules(rules->rules(), signals->clock().Now());
  if (!alerts_loaded) {
    alerts_loaded = true;
    // Alerts restored from the store already fired (and were notified)
    // before this start; they are not announced again, so say so here.
    for (const auto& a : rules->Active()) {
      if (a.state != AlertState::kFiring) continue;
      Log(LogLevel::kWarn, "alert still firing from the previous run (not notified again)")
          .Kv("alert", a.rule)
          .Kv("labels", LabelsText(a.labels))
          .Kv("value", a.value)
          .Kv("since", FormatRfc3339(a.fired_at));
    }
    for (const auto& ns : {kSilenceNs, kSuppressedNs}) {
      auto keys = store->Keys(ns);
      if (!keys.ok()) {
        Log(LogLevel::kWarn, "cannot read persisted alert state").Kv("error", keys.error());
        continue;
      }
      for (const auto& k : *keys) {
        if (ns == kSuppressedNs) {
          suppressed.insert(k);
          continue;
        }
        auto v = store->Get(ns, k);
        if (!v.ok() || !*v) continue;
        auto s = SilenceFromStored(**v);
        if (s.ok()) api_silences.push_back(std::move(*s));
      }
    }
  }
  return Status::Ok();
}

const SilenceConfig* AgentState::SilencedBy(const std::string& rule, const std::string& severity,
                                            const LabelMap& labels, TimePoint now) const {
  for (const auto* list : {&config.alerts.silences, &api_silences}) {
    for (const auto& s : *list) {
      if (SilenceMatches(s, rule, severity, labels, now)) return &s;
    }
  }
  return nullptr;
}

void AgentState::SetSuppressed(const std::string& key, bool on) {
  bool changed = on ? suppressed.insert(key).second : suppressed.erase(key) > 0;
  if (!changed) return;
  Status s = on ? store->Put(kSuppressedNs, key, "1") : store->Delete(kSuppressedNs, key);
  if (!s.ok()) Log(LogLevel::kError, "cannot persist silence state").Kv("error", s.message());
}

void AgentState::EvaluateAlerts() {
  if (!rules) return;
  Status err;
  std::vector<AlertTransition> ts = rules->Evaluate(&err);
  if (!err.ok()) {
    Log(LogLevel::kError, "cannot persist alert states; will retry").Kv("error", err.message());
  }
  const TimePoint now = std::chrono::system_clock::now();
  std::vector<AlertTransition> deliver;
  for (auto& t : ts) {
    alert_transitions->Inc({t.rule, rules::StateName(t.to)});
    if (t.to == AlertState::kFiring || t.to == AlertState::kResolved) {
      Log(t.to == AlertState::kFiring ? LogLevel::kWarn : LogLevel::kInfo,
          t.to == AlertState::kFiring ? "alert firing" : "alert resolved")
          .Kv("alert", t.rule)
          .Kv("labels", LabelsText(t.labels))
          .Kv("value", t.value)
          .Kv("severity", t.severity);
    }
    const std::string key = AlertKey(t.rule, t.labels);
    if (t.to == AlertState::kFiring) {
      if (const SilenceConfig* s = SilencedBy(t.rule, t.severity, t.labels, now)) {
        Log(LogLevel::kInfo, "alert notification silenced").Kv("alert", t.rule).Kv("silence", s->id);
        SetSuppressed(key, true);
        continue;
      }
      deliver.push_back(std::move(t));
    } else if (t.to == AlertState::kResolved) {
      if (suppressed.count(key)) {
        SetSuppressed(key, false);  // its firing was never announced
        continue;
      }
      deliver.push_back(std::move(t));
    }
  }
  // Silences that ended while their alert still fires: announce it now.
  if (!suppressed.empty()) {
    for (const auto& a : rules->Active()) {
      if (a.state != AlertState::kFiring) continue;
      const std::string key = AlertKey(a.rule, a.labels);
      if (!suppressed.count(key)) continue;
      const rules::Rule* rule = FindRule(a.rule);
      if (rule == nullptr || SilencedBy(a.rule, rule->severity, a.labels, now)) continue;
      SetSuppressed(key, false);
      AlertTransition t;
      t.rule = a.rule;
      t.labels = a.labels;
      t.from = AlertState::kPending;
      t.to = AlertState::kFiring;
      t.value = a.value;
      t.at = now;
      t.severity = rule->severity;
      for (const auto& [k, v] : rule->annotations) t.annotations[k] = rules::RenderTemplate(v, a.labels, a.value);
      deliver.push_back(std::move(t));
    }
  }
  if (!deliver.empty()) OnAlertTransitions(deliver);
  ReconcileNotifications();  // core/notify: what a crash or reload left un-notified
  // Forget expired API silences.
  for (auto it = api_silences.begin(); it != api_silences.end();) {
    if (now >= it->ends + std::chrono::hours(24)) {
      (void)store->Delete(kSilenceNs, it->id);
      it = api_silences.erase(it);
    } else {
      ++it;
    }
  }
}

const rules::Rule* AgentState::FindRule(const std::string& name) const {
  if (!rules) return nullptr;
  for (const auto& r : rules->rules()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

// The hook where notifications leave the agent: firing and resolved
// transitions that no silence holds back. Receivers (core/notify) enqueue
// them in the durable outbox here.
void AgentState::OnAlertTransitions(const std::vector<AlertTransition>& transitions) {
  for (const auto& t : transitions) {
    Log(LogLevel::kDebug, "alert notification due")
        .Kv("alert", t.rule)
        .Kv("state", rules::StateName(t.to))
        .Kv("labels", LabelsText(t.labels));
  }
  if (notifier && rules) notifier->OnTransitions(transitions, rules->rules());
}

void AgentState::NoteLateness(double seconds) { lateness_max = std::max(lateness_max, seconds); }

void AgentState::EmitHealth() {
  auto backlog = scheduler->Backlog();
  auto limits = scheduler->Limits();
  auto find = [](const auto& m, const std::string& k) -> double {
    auto it = m.find(k);
    return it == m.end() ? 0.0 : static_cast<double>(it->second);
  };
  Event e;
  e.name = "calprobe.agent.health";
  e.time = std::chrono::system_clock::now();
  e.labels.Set(Label::kRegion, config.agent.region);
  e.labels.Set(Label::kOrigin, "synthetic");
  e.With("ics_backlog", static_cast<int64_t>(find(backlog, "ics")));
  // Without ICS targets there is no limit to be at (0 >= 0 must not fire).
  if (find(limits, "ics") > 0 && find(backlog, "ics") + find(scheduler->Running(), "ics") > 0) {
    e.With("ics_backlog_limit", static_cast<int64_t>(find(limits, "ics")));
  }
  e.With("scheduler_lateness_max_seconds", lateness_max)
      .With("notifications_dead_letter", dead_letter_count ? dead_letter_count() : int64_t{0})
      .With("targets", static_cast<int64_t>(targets.size()));
  lateness_max = 0;
  if (Status s = pipeline->Emit(std::move(e)); !s.ok()) {
    Log(LogLevel::kWarn, "health event rejected").Kv("error", s.message());
  }
}

void AgentState::PingHeartbeat() {
  if (config.alerts.heartbeat_url.empty()) return;
  HttpRequest req;
  req.url = config.alerts.heartbeat_url;
  req.timeout = std::chrono::seconds(10);
  req.max_body_bytes = 64 * 1024;
  http->Fetch(std::move(req), [this](HttpResponse r) {
    const bool ok = r.ok() && r.status >= 200 && r.status < 300;
    heartbeat_ok->Set({}, ok ? 1 : 0);
    if (!ok) {
      Log(LogLevel::kWarn, "heartbeat ping failed")
          .Kv("url", Secrets::Redact(config.alerts.heartbeat_url))
          .Kv("status", r.status)
          .Kv("error", r.error_message);
    }
  });
}

void AgentState::InitAlertMetrics() {
  alert_transitions = &metrics.Counter("calprobe_alert_transitions_total",
                                       "Alert state changes, by rule and new state.",
                                       {"alertname", "state"});
  heartbeat_ok = &metrics.Gauge("calprobe_heartbeat_last_ping_ok",
                                "1 if the last heartbeat ping got a 2xx.", {});
  metrics.AddCollector([this](MetricsWriter* w) {
    if (!rules) return;
    std::map<std::pair<std::string, std::string>, std::pair<int, int>> counts;  // firing, pending
    for (const auto& r : rules->rules()) counts[{r.name, r.severity}] = {0, 0};
    const rules::Rule* last = nullptr;
    for (const auto& a : rules->Active()) {
      if (last == nullptr || last->name != a.rule) last = FindRule(a.rule);
      if (last == nullptr) continue;
      auto& c = counts[{a.rule, last->severity}];
      (a.state == AlertState::kFiring ? c.first : c.second)++;
    }
    w->Family("calprobe_alerts_firing", "gauge", "Firing alerts per rule (group keys).");
    for (const auto& [k, c] : counts) {
      w->Sample("calprobe_alerts_firing", {"alertname", "severity"}, {k.first, k.second}, c.first);
    }
    w->Family("calprobe_alerts_pending", "gauge", "Pending alerts per rule (condition true, for: not yet met).");
    for (const auto& [k, c] : counts) {
      w->Sample("calprobe_alerts_pending", {"alertname", "severity"}, {k.first, k.second}, c.second);
    }
    const TimePoint now = std::chrono::system_clock::now();
    double active = 0;
    for (const auto* list : {&config.alerts.silences, &api_silences}) {
      for (const auto& s : *list) active += (now >= s.starts && now < s.ends) ? 1 : 0;
    }
    w->Family("calprobe_silences_active", "gauge", "Silences in effect now.");
    w->Sample("calprobe_silences_active", {}, {}, active);
  });
}

nlohmann::json AgentState::AlertsJson() const {
  using nlohmann::json;
  const TimePoint now = std::chrono::system_clock::now();
  json out = {{"region", config.agent.region}};
  json rules_json = json::array();
  json alerts_json = json::array();
  if (rules) {
    std::map<std::string, std::pair<int, int>> counts;
    for (const auto& a : rules->Active()) {
      const rules::Rule* r = FindRule(a.rule);
      if (r == nullptr) continue;
      (a.state == AlertState::kFiring ? counts[a.rule].first : counts[a.rule].second)++;
      json labels = a.labels;
      json ann = json::object();
      for (const auto& [k, v] : r->annotations) ann[k] = rules::RenderTemplate(v, a.labels, a.value);
      json item = {{"rule", a.rule},
                   {"labels", labels},
                   {"state", rules::StateName(a.state)},
                   {"severity", r->severity},
                   {"value", std::isnan(a.value) ? json() : json(a.value)},
                   {"active_since", FormatRfc3339(a.active_since)},
                   {"annotations", ann},
                   {"runbook", r->runbook},
                   {"receivers", r->receivers}};
      if (a.state == AlertState::kFiring) item["fired_at"] = FormatRfc3339(a.fired_at);
      if (const SilenceConfig* s = SilencedBy(a.rule, r->severity, a.labels, now)) {
        item["silenced_by"] = s->id;
      }
      alerts_json.push_back(std::move(item));
    }
    for (const auto& r : rules->rules()) {
      auto c = counts[r.name];
      rules_json.push_back({{"name", r.name},
                            {"severity", r.severity},
                            {"origins", r.origins},
                            {"runbook", r.runbook},
                            {"firing", c.first},
                            {"pending", c.second}});
    }
  }
  out["rules"] = std::move(rules_json);
  out["alerts"] = std::move(alerts_json);
  out["silences"] = SilencesJson();
  if (alerts_json_extra) alerts_json_extra(&out);
  return out;
}

nlohmann::json AgentState::SilencesJson() const {
  const TimePoint now = std::chrono::system_clock::now();
  nlohmann::json out = nlohmann::json::array();
  for (const auto* list : {&config.alerts.silences, &api_silences}) {
    for (const auto& s : *list) {
      if (now < s.ends) out.push_back(SilenceJson(s, now));
    }
  }
  return out;
}

void AgentState::RegisterAlertRoutes() {
  admin->Route("GET", "/api/v1/alerts", [this](const AdminRequest&) {
    return AdminResponse::Json(200, Secrets::Redact(AlertsJson().dump(2)) + "\n");
  });
  admin->Route("GET", "/api/v1/silences", [this](const AdminRequest&) {
    return AdminResponse::Json(200, SilencesJson().dump(2) + "\n");
  });
  admin->Route("POST", "/api/v1/silences", [this](const AdminRequest& r) {
    if (auto denied = CheckWriteAuth(r)) return *denied;
    const TimePoint now = std::chrono::system_clock::now();
    auto s = ParseSilence(r.body, now);
    if (!s.ok()) return AdminResponse::Json(400, nlohmann::json{{"error", s.error()}}.dump() + "\n");
    static std::mt19937_64 rng{std::random_device{}()};
    char id[17];
    snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(rng()));
    s->id = id;
    nlohmann::json j = SilenceJson(*s, now);
    if (Status st = store->Put(kSilenceNs, s->id, j.dump()); !st.ok()) {
      return AdminResponse::Json(500, nlohmann::json{{"error", "cannot persist the silence: " + st.message()}}.dump() + "\n");
    }
    Log(LogLevel::kInfo, "silence created").Kv("id", s->id).Kv("comment", s->comment);
    api_silences.push_back(std::move(*s));
    return AdminResponse::Json(200, j.dump() + "\n");
  });
  // Dead letters (docs/notifications.md): send them again once the cause is
  // fixed (a receiver's key or URL, then a reload).
  admin->Route("POST", "/api/v1/notifications/dead-letters/retry", [this](const AdminRequest& r) {
    if (auto denied = CheckWriteAuth(r)) return *denied;
    if (!notifier) {
      return AdminResponse::Json(409, nlohmann::json{{"error", "notifications are not running"}}.dump() + "\n");
    }
    const std::string receiver = r.Param("receiver");
    if (!receiver.empty() &&
        std::none_of(config.receivers.begin(), config.receivers.end(),
                     [&](const notify::ReceiverConfig& rc) { return rc.name == receiver; })) {
      return AdminResponse::Json(
          404, nlohmann::json{{"error", "no receiver named \"" + receiver +
                                            "\" in the config (omit ?receiver= to retry all)"}}
                       .dump() +
                   "\n");
    }
    auto done = notifier->RetryDeadLetters(receiver);
    if (!done.ok()) {
      return AdminResponse::Json(500, nlohmann::json{{"error", done.error()}}.dump() + "\n");
    }
    return AdminResponse::Json(200, done->dump() + "\n");
  });
  admin->Route("DELETE", "/api/v1/silences/*", [this](const AdminRequest& r) {
    if (auto denied = CheckWriteAuth(r)) return *denied;
    const std::string id = r.path.substr(std::string("/api/v1/silences/").size());
    for (auto& s : api_silences) {
      if (s.id != id) continue;
      const TimePoint now = std::chrono::system_clock::now();
      s.ends = std::min(s.ends, now);
      if (s.starts > s.ends) s.starts = s.ends;
      (void)store->Put(kSilenceNs, s.id, SilenceJson(s, now).dump());
      Log(LogLevel::kInfo, "silence expired").Kv("id", id);
      return AdminResponse::Json(200, SilenceJson(s, now).dump() + "\n");
    }
    std::string msg = "no API silence with id \"" + id + "\"";
    if (id.rfind("config-", 0) == 0) msg += " (config silences end by editing the config and reloading)";
    return AdminResponse::Json(404, nlohmann::json{{"error", msg}}.dump() + "\n");
  });
}

}  // namespace calprobe::core
