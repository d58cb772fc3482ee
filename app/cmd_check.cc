// `calprobe check`: a one-shot pre-deploy smoke run of the configured probes
// and scenarios (or --only some of them). Independent checks run at once on
// one io_context; journeys sharing a scenario `lock:` run one after another.
// Progress on a TTY, plain lines otherwise, a summary table, --junit and
// --json files. Exit 0 all passed, 1 any failed, 2 usage or config error.

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "app/check_report.h"
#include "app/commands.h"
#include "core/catalog.h"
#include "core/config/agent_config.h"
#include "core/embedded.h"
#include "core/http/curl_client.h"
#include "core/log.h"
#include "core/secrets.h"
#include "core/store.h"
#include "probes/builtin.h"
#include "probes/scenario/scenario_probe.h"

namespace calprobe::app {
namespace {

namespace asio = boost::asio;

struct Opts {
  std::string config;
  std::vector<std::string> scenarios;
  std::vector<std::string> only;
  std::vector<std::string> sets;
  std::string junit, json, events, store;
  std::string timeout = "60s";
  std::string progress = "auto";
  int parallel = 8;
};

// Records events; validates each against the catalog so a scenario with a
// mistyped field fails here, not silently in production.
class CheckSink final : public core::EventSink {
 public:
  explicit CheckSink(const core::Catalog& catalog) : catalog_(catalog) {}
  core::Status Emit(core::Event e) override {
    if (auto s = catalog_.Validate(e); !s.ok()) {
      rejected.push_back(e.name + ": " + s.message());
      return s;
    }
    lines.push_back(core::EventToJson(e));
    return core::Status::Ok();
  }
  std::vector<std::string> lines, rejected;

 private:
  const core::Catalog& catalog_;
};

struct Check {
  core::TargetConfig config;
  core::TargetInfo info;
  std::string lock;
};

class Runner;

class CheckContext final : public core::ProbeContext {
 public:
  CheckContext(Runner* r, Check* c, core::TimePoint start);
  core::HttpClient& http() override;
  const core::Clock& clock() override { return core::SystemClock::Instance(); }
  core::EventSink& events() override;
  core::Store* store() override;
  const core::TargetInfo& target() override { return check_->info; }
  core::TimePoint deadline() override { return deadline_; }
  void After(core::Duration delay, std::function<void()> fn) override;

  Check* check_;
  core::TimePoint start_, deadline_;
  bool completed = false;

 private:
  Runner* runner_;
};

class Runner {
 public:
  Runner(const Opts& o, std::vector<Check> checks, core::Store* store, const core::Catalog& catalog)
      : o_(o), checks_(std::move(checks)), store_(store), http_(io_), sink_(catalog) {
    tty_ = o.progress == "tty" || (o.progress == "auto" && isatty(STDOUT_FILENO));
    // Queues: one per lock (journeys on the same provider run in turn),
    // every other check alone.
    std::map<std::string, size_t> by_lock;
    for (size_t i = 0; i < checks_.size(); ++i) {
      const std::string& lock = checks_[i].lock;
      if (!lock.empty() && by_lock.count(lock)) {
        queues_[by_lock[lock]].push_back(i);
      } else {
        if (!lock.empty()) by_lock[lock] = queues_.size();
        queues_.push_back({i});
      }
    }
  }

  std::vector<CheckResult> Run() {
    start_ = std::chrono::steady_clock::now();
    results_.resize(checks_.size());
    for (size_t q = 0; q < queues_.size() && running_queues_ < o_.parallel; ++q) StartQueue();
    Progress();
    io_.run();
    if (tty_) std::cout << "\r\033[K" << std::flush;
    return std::move(results_);
  }

  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  const CheckSink& sink() const { return sink_; }

  asio::io_context io_;

 private:
  friend class CheckContext;

  void StartQueue() {
    if (next_queue_ >= queues_.size()) return;
    ++running_queues_;
    RunNext(next_queue_++, 0);
  }

  void RunNext(size_t q, size_t pos) {
    if (pos >= queues_[q].size()) {
      --running_queues_;
      StartQueue();
      return;
    }
    size_t i = queues_[q][pos];
    Check& c = checks_[i];
    auto ctx = std::make_shared<CheckContext>(this, &c, std::chrono::system_clock::now());
    running_.insert(c.config.name);
    Progress();
    auto finish = [this, ctx, q, pos, i](core::ProbeOutcome o) {
      if (ctx->completed) return;
      ctx->completed = true;
      CheckResult& r = results_[i];
      r.target = ctx->check_->config.name;
      r.probe_type = ctx->check_->config.probe_type;
      r.seconds =
          std::chrono::duration<double>(std::chrono::system_clock::now() - ctx->start_).count();
      r.started = core::FormatRfc3339(ctx->start_);
      r.outcome = std::move(o);
      r.outcome.message = core::Secrets::Redact(r.outcome.message);
      running_.erase(r.target);
      ++done_;
      Report(r);
      RunNext(q, pos + 1);
    };
    // The probe must answer by its deadline; a journey's cleanup may run
    // past it, so the watchdog allows a generous grace.
    auto watchdog = std::make_shared<asio::steady_timer>(io_);
    watchdog->expires_after(c.config.timeout + std::chrono::seconds(30));
    watchdog->async_wait([finish, watchdog](const boost::system::error_code& ec) {
      if (ec) return;
      core::ProbeOutcome o;
      o.reason = "probe.deadline_exceeded";
      o.message = "the check did not finish within its timeout (+30s for cleanup)";
      finish(std::move(o));
    });
    c.config.probe->Run(*ctx, [finish, watchdog](core::ProbeOutcome o) {
      watchdog->cancel();
      finish(std::move(o));
    });
  }

  void Progress() {
    if (!tty_) return;
    std::string names;
    for (const auto& n : running_) names += (names.empty() ? "" : ", ") + n;
    if (names.size() > 60) names = names.substr(0, 57) + "...";
    std::cout << "\r\033[K[" << done_ << "/" << checks_.size() << "] " << std::fixed;
    std::cout.precision(1);
    std::cout << Elapsed() << "s running: " << names << std::flush;
  }

  void Report(const CheckResult& r) {
    Verdict v = VerdictOf(r);
    if (tty_) std::cout << "\r\033[K";
    const char* mark = !tty_ ? "" : v == Verdict::kPassed ? "\033[32m" : "\033[31m";
    std::cout << mark << VerdictName(v) << (tty_ ? "\033[0m" : "") << " " << r.target << " ("
              << r.probe_type << ", ";
    std::cout.precision(2);
    std::cout << std::fixed << r.seconds << "s)";
    if (!r.outcome.success) std::cout << ": " << r.outcome.reason << ": " << r.outcome.message;
    std::cout << "\n";
    if (r.outcome.details.contains("steps") && !tty_) {
      for (const auto& s : r.outcome.details["steps"]) {
        std::cout << "  " << s.value("phase", "") << " " << s.value("name", "") << " "
                  << s.value("status", "") << " " << s.value("seconds", 0.0) << "s";
        std::string msg = s.value("message", "");
        if (!msg.empty()) std::cout << ": " << core::Secrets::Redact(msg);
        std::cout << "\n";
      }
    }
    Progress();
    std::cout << std::flush;
  }

  const Opts& o_;
  std::vector<Check> checks_;
  core::Store* store_;
  core::CurlHttpClient http_;
  CheckSink sink_;
  std::vector<std::vector<size_t>> queues_;
  std::vector<CheckResult> results_;
  std::set<std::string> running_;
  size_t next_queue_ = 0;
  int running_queues_ = 0;
  size_t done_ = 0;
  bool tty_ = false;
  std::chrono::steady_clock::time_point start_;
};

CheckContext::CheckContext(Runner* r, Check* c, core::TimePoint start)
    : check_(c), start_(start), deadline_(start + c->config.timeout), runner_(r) {}
core::HttpClient& CheckContext::http() { return runner_->http_; }
core::EventSink& CheckContext::events() { return runner_->sink_; }
core::Store* CheckContext::store() { return runner_->store_; }
void CheckContext::After(core::Duration delay, std::function<void()> fn) {
  auto t = std::make_shared<asio::steady_timer>(runner_->io_);
  t->expires_after(delay);
  t->async_wait([t, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

int Fail(const std::string& msg) {
  std::cerr << "calprobe check: " << msg << (msg.empty() || msg.back() != '\n' ? "\n" : "");
  return kExitUsage;
}

// --scenario NAME|FILE: a target built from a one-line YAML mapping.
std::optional<Check> ScenarioTarget(const std::string& arg, std::chrono::milliseconds timeout,
                                    const core::ProbeRegistry& registry,
                                    core::ConfigErrors* errors) {
  bool is_file =
      arg.find('/') != std::string::npos || arg.ends_with(".yaml") || arg.ends_with(".yml");
  YAML::Node y;
  y[is_file ? "file" : "name"] = is_file ? std::filesystem::absolute(arg).string() : arg;
  core::ConfigNode n(y, std::make_shared<const std::string>("--scenario " + arg), "scenario",
                     errors);
  Check c;
  c.config.name = std::filesystem::path(arg).stem().string();
  c.config.probe_type = "scenario";
  c.config.timeout = timeout;
  c.info.name = c.config.name;
  c.info.probe_type = "scenario";
  c.info.labels.Set(core::Label::kTarget, c.config.name);
  c.info.labels.Set(core::Label::kProbe, "scenario");
  c.info.labels.Set(core::Label::kOrigin, std::string(core::kOriginSynthetic));
  c.config.probe = registry.Find("scenario")->Create(n, c.info);
  if (!c.config.probe) return std::nullopt;
  return c;
}

int RunCheck(Opts& o) {
  if (o.config.empty() && o.scenarios.empty()) {
    return Fail(
        "give --config FILE and/or --scenario NAME|FILE (shipped scenarios: hold-to-confirm, "
        "hold-expiry, feed-security, calendar-connect)");
  }
  if (o.progress != "auto" && o.progress != "tty" && o.progress != "plain") {
    return Fail("--progress: expected auto, tty or plain");
  }
  auto timeout = core::ParseDuration(o.timeout);
  if (!timeout || timeout->count() <= 0) return Fail("--timeout: expected a duration such as 60s");
  // --set k=v: a scenario variable and, for ${k} in the config, an environment variable.
  probes::scenario::Vars overrides;
  for (const auto& s : o.sets) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return Fail("--set: expected NAME=VALUE, got \"" + s + "\"");
    std::string k = s.substr(0, eq), v = s.substr(eq + 1);
    overrides[k] = v;
    setenv(k.c_str(), v.c_str(), 1);
    if (core::Secrets::LooksSecret(k)) core::Secrets::Register(v);
  }
  probes::scenario::SetGlobalVarOverrides(overrides);
  core::GlobalHttpInit();
  core::ProbeRegistry registry;
  probes::RegisterBuiltinProbes(registry);
  std::vector<Check> checks;
  std::string store_path = o.store;
  if (!o.config.empty()) {
    auto cfg = core::LoadAgentConfig(o.config, registry);
    if (!cfg.ok()) return Fail("\n" + cfg.error());
    for (const auto& g : cfg->target_file_globs) {
      for (const auto& f : core::ExpandGlob(g, "")) {
        auto t = core::LoadTargetFile(f, registry, {});
        if (!t.ok()) return Fail("\n" + t.error());
        cfg->targets.insert(cfg->targets.end(), t->begin(), t->end());
      }
    }
    for (auto& t : cfg->targets) {
      Check c;
      c.config = std::move(t);
      c.info.name = c.config.name;
      c.info.probe_type = c.config.probe_type;
      c.info.labels = c.config.labels;
      c.info.labels.Set(core::Label::kRegion, cfg->agent.region);
      checks.push_back(std::move(c));
    }
    if (store_path.empty()) store_path = cfg->agent.store_path;
  }
  core::ConfigErrors errors;
  for (const auto& s : o.scenarios) {
    if (auto c = ScenarioTarget(s, *timeout, registry, &errors)) checks.push_back(std::move(*c));
  }
  if (!errors.empty()) return Fail("\n" + errors.ToString());
  if (!o.only.empty()) {
    std::set<std::string> names;
    for (const auto& c : checks) names.insert(c.config.name);
    for (const auto& n : o.only) {
      if (!names.count(n)) {
        std::string known;
        for (const auto& k : names) known += (known.empty() ? "" : ", ") + k;
        return Fail("--only: no target named \"" + n + "\" (targets: " + known + ")");
      }
    }
    std::erase_if(checks, [&](const Check& c) {
      return std::find(o.only.begin(), o.only.end(), c.config.name) == o.only.end();
    });
  }
  if (checks.empty()) return Fail("nothing to check: the config has no targets");
  for (auto& c : checks) c.lock = probes::scenario::ScenarioLock(*c.config.probe);
  core::Catalog catalog;
  if (auto s = catalog.LoadString(std::string(core::kEmbeddedEventCatalog),
                                  "config/events.yaml (built in)");
      !s.ok()) {
    return Fail(s.message());
  }
  std::unique_ptr<core::Store> store;
  if (!store_path.empty()) {
    auto st = core::Store::Open(store_path);
    if (!st.ok()) return Fail("--store " + store_path + ": " + st.error());
    store = std::move(st.value());
  }
  core::InitLogging(core::LogFormat::kLogfmt, core::LogLevel::kWarn);
  std::string timestamp = core::FormatRfc3339(std::chrono::system_clock::now());
  Runner runner(o, std::move(checks), store.get(), catalog);
  std::vector<CheckResult> results = runner.Run();
  double seconds = runner.Elapsed();
  std::cout << "\n" << SummaryTable(results, seconds);
  for (const auto& r : runner.sink().rejected) {
    std::cerr << "calprobe check: event rejected by the catalog: " << core::Secrets::Redact(r)
              << "\n";
  }
  int rc = kExitOk;
  for (const auto& r : results) {
    if (!r.outcome.success) rc = kExitProblems;
  }
  if (!o.junit.empty()) {
    if (auto s = WriteJUnit(o.junit, results, seconds, timestamp); !s.ok())
      return Fail(s.message());
  }
  if (!o.json.empty()) {
    std::ofstream f(o.json);
    f << ResultsJson(results, seconds, timestamp).dump(2) << "\n";
    if (!f) return Fail("cannot write " + o.json);
  }
  if (!o.events.empty()) {
    std::ofstream f(o.events);
    for (const auto& l : runner.sink().lines) f << core::Secrets::Redact(l) << "\n";
    if (!f) return Fail("cannot write " + o.events);
  }
  return rc;
}

}  // namespace

void AddCheckCommand(CLI::App& app, Action* action) {
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("check",
                                 "One-shot smoke run of the configured probes and scenarios; exit "
                                 "0 passed, 1 failed, 2 usage");
  cmd->add_option("-c,--config", o->config, "Agent config file (YAML): its targets are the checks");
  cmd->add_option("--scenario", o->scenarios,
                  "A shipped scenario name or a scenario file (repeatable)");
  cmd->add_option("--only", o->only, "Run only these targets (names; repeatable)");
  cmd->add_option("--set", o->sets,
                  "NAME=VALUE: scenario variable and ${NAME} in the config (repeatable)");
  cmd->add_option("--junit", o->junit, "Write a JUnit XML report to FILE");
  cmd->add_option("--json", o->json, "Write a JSON report to FILE");
  cmd->add_option("--events", o->events, "Write the events the checks emitted (NDJSON) to FILE");
  cmd->add_option("--store", o->store,
                  "State file for the cleanup journal (default: the config's agent.store)");
  cmd->add_option("--timeout", o->timeout, "Timeout of each --scenario journey (default 60s)");
  cmd->add_option("--parallel", o->parallel, "Checks running at once (default 8)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--progress", o->progress, "auto (a live line on a TTY), tty or plain");
  cmd->callback([o, action] { *action = [o]() -> int { return RunCheck(*o); }; });
}

}  // namespace calprobe::app
