// Notifications inside the agent (issue 8, docs/notifications.md): the
// dispatcher (core/notify) gets the transitions EvaluateAlerts lets through
// (silences already applied), reconciles with the engine's firing alerts
// after every evaluation, and shows its dead letters in /api/v1/alerts.

#include "core/agent_internal.h"
#include "core/http/curl_client.h"
#include "core/log.h"

namespace calprobe::core {

Status AgentState::InitNotify() {
  notify::NotifySettings settings = config.notify;
  if (settings.external_url.empty()) settings.external_url = "http://" + ListenDisplay();
  if (notifier) {  // reload
    notifier->Configure(config.receivers, settings);
    return Status::Ok();
  }
  notify::DispatcherDeps deps;
  deps.store = store.get();
  deps.http = http.get();
  deps.clock = &SystemClock::Instance();
  deps.metrics = &metrics;
  deps.after = [this](Duration d, std::function<void()> fn) { After(d, std::move(fn)); };
  deps.region = config.agent.region;
  auto d = notify::Dispatcher::Create(std::move(deps), config.receivers, settings);
  if (!d.ok()) return d.status();
  notifier = std::move(d.value());
  // The same silences as EvaluateAlerts, for alerts the reconcile finds.
  notifier->SetSilenced([this](const notify::Notification& n) {
    return SilencedBy(n.rule, n.severity, n.labels, std::chrono::system_clock::now()) != nullptr;
  });
  dead_letter_count = [this] {
    int64_t n = 0;
    for (const auto& [receiver, count] : notifier->outbox().DeadLetterCounts()) n += count;
    return n;
  };
  alerts_json_extra = [this](nlohmann::json* out) {
    (*out)["dead_letters"] = notifier->DeadLettersJson();
    (*out)["notifications"] = notifier->StatusJson();
  };
  notifier->Start();
  if (size_t pending = notifier->outbox().Pending(); pending > 0) {
    Log(LogLevel::kInfo, "notifications pending from the previous run; sending")
        .Kv("pending", pending);
  }
  return Status::Ok();
}

void AgentState::ReconcileNotifications() {
  if (notifier && rules) notifier->Reconcile(rules->Active(), rules->rules());
}

}  // namespace calprobe::core
