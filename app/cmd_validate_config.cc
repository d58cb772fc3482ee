// `calprobe validate-config FILE`: exit 0 when valid, 2 with every problem
// as FILE:LINE:COL: PATH: message.

#include <iostream>

#include "app/commands.h"
#include "core/config/agent_config.h"
#include "core/rules/rule_config.h"
#include "probes/builtin.h"

namespace calprobe::app {

void AddValidateConfigCommand(CLI::App& app, Action* action) {
  auto path = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("validate-config", "Check a config file; exit 0 if valid, 2 if not");
  cmd->add_option("file", *path, "Agent config file")->required();
  cmd->callback([path, action] {
    *action = [path]() -> int {
      core::ProbeRegistry registry;
      probes::RegisterBuiltinProbes(registry);
      auto cfg = core::LoadAgentConfig(*path, registry);
      if (!cfg.ok()) {
        std::cerr << cfg.error();
        return kExitUsage;
      }
      size_t file_targets = 0;
      std::string file_errors;
      for (const auto& g : cfg->target_file_globs) {
        for (const auto& f : core::ExpandGlob(g, "")) {
          auto t = core::LoadTargetFile(f, registry, {});
          if (t.ok()) file_targets += t->size();
          else file_errors += t.error();
        }
      }
      auto rules = core::rules::LoadRuleSet(cfg->alerts.builtin, cfg->alerts.rule_files);
      if (!rules.ok()) file_errors += rules.error();
      if (!file_errors.empty()) {
        std::cerr << file_errors;
        if (file_errors.back() != '\n') std::cerr << '\n';
        return kExitUsage;
      }
      std::cout << *path << ": OK (" << cfg->targets.size() << " targets";
      if (file_targets) std::cout << " + " << file_targets << " from target files";
      std::cout << ", " << rules->size() << " alert rules";
      std::cout << ", region " << cfg->agent.region << ")\n";
      return kExitOk;
    };
  });
}

void AddVersionCommand(CLI::App& app, Action* action) {
  app.set_version_flag("--version", std::string("calprobe ") + CALPROBE_VERSION);
  auto* cmd = app.add_subcommand("version", "Print the version");
  cmd->callback([action] {
    *action = [] {
      std::cout << "calprobe " << CALPROBE_VERSION << "\n";
      return kExitOk;
    };
  });
}

}  // namespace calprobe::app
