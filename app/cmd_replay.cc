// `calprobe replay [--rules FILE] EVENTS.ndjson [--json] [--start T] [--until T]
// [--step D]`: backtests alert rules over recorded events by event time and
// prints every alert transition. Exit 0; 2 on usage or config errors.

#include <fstream>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "core/config/config_node.h"
#include "core/event.h"
#include "core/rules/replay.h"
#include "core/rules/rule_config.h"

namespace calprobe::app {
namespace {

struct ReplayArgs {
  std::string rules;
  std::string events;
  bool json = false;
  std::string start, until, step = "10s";
};

int RunReplay(const ReplayArgs& a) {
  auto rules = a.rules.empty() ? core::rules::DefaultRules() : core::rules::LoadRulesFile(a.rules);
  if (!rules.ok()) {
    std::cerr << rules.error();
    return kExitUsage;
  }
  core::rules::ReplayOptions opt;
  for (auto [text, out, flag] :
       {std::tuple{&a.start, &opt.start, "--start"}, std::tuple{&a.until, &opt.until, "--until"}}) {
    if (text->empty()) continue;
    auto t = core::ParseRfc3339(*text);
    if (!t) {
      std::cerr << flag << ": expected an RFC 3339 time like 2027-03-15T09:00:00Z, got \"" << *text
                << "\"\n";
      return kExitUsage;
    }
    *out = *t;
  }
  auto step = core::ParseDuration(a.step);
  if (!step || step->count() <= 0) {
    std::cerr << "--step: expected a positive duration like 10s, got \"" << a.step << "\"\n";
    return kExitUsage;
  }
  opt.step = *step;
  std::ifstream in(a.events);
  if (!in) {
    std::cerr << a.events << ": cannot open file\n";
    return kExitUsage;
  }
  auto stats = core::rules::Replay(
      std::move(*rules), in, a.events, opt, [&](const core::rules::AlertTransition& t) {
        std::cout << (a.json ? core::rules::TransitionJson(t) : core::rules::TransitionText(t))
                  << "\n";
      });
  if (!stats.ok()) {
    std::cerr << stats.error() << "\n";
    return kExitUsage;
  }
  std::cerr << "replayed " << stats->events << " events (" << stats->rejected << " rejected), "
            << stats->evaluations << " evaluations, " << stats->transitions << " transitions\n";
  return kExitOk;
}

}  // namespace

void AddReplayCommand(CLI::App& app, Action* action) {
  auto a = std::make_shared<ReplayArgs>();
  auto* cmd = app.add_subcommand("replay", "Run alert rules over recorded NDJSON events");
  cmd->add_option("--rules", a->rules, "Rules file (default: the built-in config/alerts.yaml)");
  cmd->add_option("events", a->events, "NDJSON events file")->required();
  cmd->add_flag("--json", a->json, "Print transitions as JSON lines");
  cmd->add_option("--start", a->start, "Start time (RFC 3339; default: first event)");
  cmd->add_option("--until", a->until, "Evaluate up to this time (default: last event)");
  cmd->add_option("--step", a->step, "Evaluation step between events (default 10s)");
  cmd->callback([a, action] { *action = [a] { return RunReplay(*a); }; });
}

}  // namespace calprobe::app
