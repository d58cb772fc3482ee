#include "probes/scenario/journal.h"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "core/event.h"
#include "core/log.h"
#include "core/secrets.h"
#include "core/store.h"

namespace calprobe::probes::scenario {
namespace {

constexpr std::string_view kKey = "pending";
constexpr int kMaxAttempts = 5;

// Secret values (tokens in headers, URLs, bodies) are sealed before the
// request is written to the store: references, not values, are kept at rest
// (core::Secrets::Seal), and put back when the request is replayed.
nlohmann::json RequestToJson(const PendingRequest& p) {
  using core::Secrets;
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [k, v] : p.request.headers) headers.push_back({k, Secrets::Seal(v)});
  return {{"step", p.step},
          {"method", p.request.method},
          {"url", Secrets::Seal(p.request.url)},
          {"headers", headers},
          {"body", Secrets::Seal(p.request.body)}};
}

// nullopt when the request needs a secret this process does not know.
std::optional<core::HttpRequest> RequestFromJson(const nlohmann::json& j) {
  using core::Secrets;
  core::HttpRequest r;
  r.method = j.value("method", "GET");
  auto url = Secrets::Unseal(j.value("url", ""));
  auto body = Secrets::Unseal(j.value("body", ""));
  if (!url || !body) return std::nullopt;
  r.url = std::move(*url);
  r.body = std::move(*body);
  if (j.contains("headers") && j["headers"].is_array()) {
    for (const auto& h : j["headers"]) {
      if (!h.is_array() || h.size() != 2) continue;
      auto v = Secrets::Unseal(h[1].get<std::string>());
      if (!v) return std::nullopt;
      r.headers.emplace_back(h[0].get<std::string>(), std::move(*v));
    }
  }
  r.timeout = std::chrono::seconds(5);
  return r;
}

}  // namespace

core::Result<nlohmann::json> CleanupJournal::Pending() {
  if (!store_) return nlohmann::json::object();
  auto v = store_->Get(kJournalNamespace, kKey);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(**v, nullptr, false);
  if (!j.is_object()) return nlohmann::json::object();  // unreadable: start afresh
  return j;
}

core::Status CleanupJournal::Save(const nlohmann::json& pending) {
  if (!store_) return core::Status::Ok();
  if (pending.empty()) return store_->Delete(kJournalNamespace, kKey);
  return store_->Put(kJournalNamespace, kKey, pending.dump());
}

core::Status CleanupJournal::Record(const std::string& key, const std::string& scenario,
                                    const std::vector<PendingRequest>& requests) {
  if (!store_) return core::Status::Ok();
  auto pending = Pending();
  if (!pending.ok()) return pending.status();
  if (requests.empty()) {
    if (!pending->contains(key)) return core::Status::Ok();
    pending->erase(key);
  } else {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : requests) list.push_back(RequestToJson(r));
    (*pending)[key] = {{"scenario", scenario},
                       {"recorded_at", core::FormatRfc3339(std::chrono::system_clock::now())},
                       {"attempts", 0},
                       {"requests", list}};
  }
  return Save(*pending);
}

core::Status CleanupJournal::Remove(const std::string& key) { return Record(key, "", {}); }

void AfterJournalReplay(core::Store* store, core::HttpClient& http, std::function<void()> then) {
  struct Replay {
    bool done = false;
    std::vector<std::function<void()>> waiting;
  };
  static std::mutex mu;  // guards the map; each store's replay lives on its caller's thread
  static std::map<const core::Store*, std::shared_ptr<Replay>> replays;
  std::shared_ptr<Replay> r;
  bool start = false;
  {
    std::lock_guard lock(mu);
    auto& slot = replays[store];
    if (!slot) {
      slot = std::make_shared<Replay>();
      start = true;
    }
    r = slot;
  }
  if (r->done) {
    then();
    return;
  }
  r->waiting.push_back(std::move(then));
  if (!start) return;
  ReplayJournal(store, http, [r](int) {
    r->done = true;
    auto waiting = std::move(r->waiting);
    for (auto& fn : waiting) fn();
  });
}

void ReplayJournal(core::Store* store, core::HttpClient& http, std::function<void(int)> done) {
  CleanupJournal journal(store);
  auto pending = journal.Pending();
  if (!pending.ok() || pending->empty()) {
    done(0);
    return;
  }
  struct State {
    nlohmann::json pending;
    std::vector<std::pair<std::string, nlohmann::json>> queue;  // (key, request)
    std::set<std::string> failed;
    std::set<std::string> unrecoverable;  // needs a secret this process does not know
    size_t next = 0;
    int sent = 0;
    std::function<void(int)> done;
  };
  auto st = std::make_shared<State>();
  st->pending = std::move(*pending);
  st->done = std::move(done);
  for (auto it = st->pending.begin(); it != st->pending.end(); ++it) {
    for (const auto& r : it.value().value("requests", nlohmann::json::array())) {
      st->queue.emplace_back(it.key(), r);
    }
  }
  auto step = std::make_shared<std::function<void()>>();
  *step = [st, store, &http, step] {
    if (st->next >= st->queue.size()) {
      for (auto it = st->pending.begin(); it != st->pending.end();) {
        int attempts = it.value().value("attempts", 0) + 1;
        if (st->unrecoverable.count(it.key())) {
          it = st->pending.erase(it);  // logged above; retrying cannot help
        } else if (!st->failed.count(it.key())) {
          core::Log(core::LogLevel::kInfo, "cleaned up after an interrupted journey")
              .Kv("target", it.key())
              .Kv("scenario", it.value().value("scenario", ""));
          it = st->pending.erase(it);
        } else if (attempts >= kMaxAttempts) {
          core::Log(core::LogLevel::kError, "giving up cleaning up after an interrupted journey")
              .Kv("target", it.key())
              .Kv("attempts", attempts);
          it = st->pending.erase(it);
        } else {
          it.value()["attempts"] = attempts;
          ++it;
        }
      }
      (void)CleanupJournal(store).Save(st->pending);
      auto fin = std::move(st->done);
      int sent = st->sent;
      *step = nullptr;  // breaks the self-reference
      fin(sent);
      return;
    }
    auto [key, rj] = st->queue[st->next++];
    std::optional<core::HttpRequest> sealed = RequestFromJson(rj);
    if (!sealed) {
      // Retrying cannot help: the secret is gone with the previous process.
      st->unrecoverable.insert(key);
      core::Log(core::LogLevel::kError,
                "journal cleanup request needs a secret that is not kept on disk (captured by "
                "the journey before the restart); clean up by hand")
          .Kv("target", key)
          .Kv("step", rj.value("step", ""))
          .Kv("method", rj.value("method", ""))
          .Kv("url", core::Secrets::Redact(rj.value("url", "")));
      (*step)();
      return;
    }
    core::HttpRequest req = std::move(*sealed);
    ++st->sent;
    http.Fetch(req, [st, step, key = key, step_name = rj.value("step", ""),
                     url = req.url](core::HttpResponse r) {
      bool ok =
          r.ok() && ((r.status >= 200 && r.status < 300) || r.status == 404 || r.status == 410);
      if (!ok) {
        st->failed.insert(key);
        core::Log(core::LogLevel::kWarn, "journal cleanup request failed")
            .Kv("target", key)
            .Kv("step", step_name)
            .Kv("url", core::Secrets::Redact(url))
            .Kv("status", r.status)
            .Kv("error", r.error_message);
      }
      (*step)();
    });
  };
  (*step)();
}

}  // namespace calprobe::probes::scenario
