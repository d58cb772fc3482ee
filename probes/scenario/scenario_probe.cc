#include "probes/scenario/scenario_probe.h"

#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/secrets.h"
#include "probes/scenario/journal.h"
#include "probes/scenario/runner.h"
#include "probes/scenario/scenario.h"

namespace calprobe::core {
extern const std::string_view kScenarioHoldToConfirm;
extern const std::string_view kScenarioHoldExpiry;
extern const std::string_view kScenarioFeedSecurity;
extern const std::string_view kScenarioCalendarConnect;
}  // namespace calprobe::core

namespace calprobe::probes::scenario {
namespace {

using core::ConfigNode;

struct Shipped {
  const char* name;
  const std::string_view* text;
};
const Shipped kShipped[] = {
    {"hold-to-confirm", &core::kScenarioHoldToConfirm},
    {"hold-expiry", &core::kScenarioHoldExpiry},
    {"feed-security", &core::kScenarioFeedSecurity},
    {"calendar-connect", &core::kScenarioCalendarConnect},
};

std::mutex g_mu;
Vars& GlobalOverrides() {
  static Vars v;
  return v;
}

class ScenarioProbe final : public core::Probe {
 public:
  explicit ScenarioProbe(std::shared_ptr<const Scenario> s) : s_(std::move(s)) {}

  void Run(core::ProbeContext& ctx, std::function<void(core::ProbeOutcome)> done) override {
    core::Store* store = ctx.store();
    if (!store) return Journey(s_, ctx, std::move(done));
    AfterJournalReplay(store, ctx.http(), [s = s_, &ctx, done = std::move(done)]() mutable {
      Journey(s, ctx, std::move(done));
    });
  }

  const Scenario& scenario() const { return *s_; }

 private:
  static void Journey(std::shared_ptr<const Scenario> s, core::ProbeContext& ctx,
                      std::function<void(core::ProbeOutcome)> done) {
    RunJourney(s, ctx, {}, [done = std::move(done)](JourneyReport r) {
      core::ProbeOutcome o;
      o.success = r.success;
      o.reason = r.success ? "" : r.reason;
      o.message = core::Secrets::Redact(r.message);
      o.details = r.ToJson();
      done(std::move(o));
    });
  }

  std::shared_ptr<const Scenario> s_;
};

std::optional<YAML::Node> ParseYaml(const std::string& text, const std::string& file,
                                    const ConfigNode& at) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    at.errors()->Add({file, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax error: " + e.msg});
    return std::nullopt;
  }
}

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "scenario"; }
  int default_concurrency() const override { return 16; }

  std::unique_ptr<core::Probe> Create(const ConfigNode& n,
                                      const core::TargetInfo& target) const override {
    if (!n.defined()) {
      n.Error("the scenario probe needs options (name: a shipped scenario, or file:)");
      return nullptr;
    }
    if (!n.ExpectMap()) return nullptr;
    size_t before = n.errors()->size();
    std::string text, file;
    if (n.Has("name") == n.Has("file")) {
      n.Error("give exactly one of name: (shipped: " + Join(ShippedScenarioNames()) + ") or file:");
    } else if (n.Has("name")) {
      std::string name = n.String("name");
      for (const auto& s : kShipped) {
        if (name == s.name) {
          text = std::string(*s.text);
          file = "scenarios/" + name + ".yaml";
        }
      }
      if (file.empty()) {
        n["name"].Error("unknown scenario \"" + name + "\" (shipped: " +
                        Join(ShippedScenarioNames()) + "; use file: for your own)");
      }
    } else {
      std::filesystem::path p = n.String("file");
      if (p.is_relative()) p = std::filesystem::path(n.file()).parent_path() / p;
      std::ifstream f(p);
      if (!f) {
        n["file"].Error("cannot read scenario file " + p.string());
      } else {
        std::stringstream ss;
        ss << f.rdbuf();
        text = ss.str();
        file = p.string();
      }
    }
    Vars overrides;
    {
      std::lock_guard lock(g_mu);
      overrides = GlobalOverrides();
    }
    ConfigNode vars = n["vars"];
    if (vars.ExpectMap()) {
      for (const auto& k : vars.Keys()) overrides[k] = vars[k].AsString().value_or("");
    }
    n.RejectUnknownKeys();
    if (file.empty() || n.errors()->size() != before) return nullptr;
    auto yaml = ParseYaml(text, file, n);
    if (!yaml) return nullptr;
    ConfigNode root(*yaml, std::make_shared<const std::string>(file), "", n.errors());
    auto s = ParseScenario(root, overrides, target);
    if (!s) return nullptr;
    if (vars.IsMap()) {
      for (const auto& k : vars.Keys()) {
        if (!s->vars.count(k)) {
          std::string declared;
          for (const auto& [name, v] : s->vars) declared += (declared.empty() ? "" : ", ") + name;
          vars[k].Error("scenario \"" + s->name + "\" declares no variable \"" + k +
                        "\" (declared: " + declared + ")");
        }
      }
    }
    if (n.errors()->size() != before) return nullptr;
    return std::make_unique<ScenarioProbe>(std::make_shared<const Scenario>(std::move(*s)));
  }

 private:
  static std::string Join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
  }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

void SetGlobalVarOverrides(Vars vars) {
  std::lock_guard lock(g_mu);
  GlobalOverrides() = std::move(vars);
}

void ReplayCleanupJournal(core::Store* store, core::HttpClient& http) {
  if (store) AfterJournalReplay(store, http, [] {});
}

std::vector<std::string> ShippedScenarioNames() {
  std::vector<std::string> out;
  for (const auto& s : kShipped) out.emplace_back(s.name);
  return out;
}

std::string ScenarioLock(const core::Probe& probe) {
  auto* p = dynamic_cast<const ScenarioProbe*>(&probe);
  return p ? p->scenario().lock : "";
}

}  // namespace calprobe::probes::scenario
