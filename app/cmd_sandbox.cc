// `calprobe sandbox --config FILE [--listen HOST:PORT]`: the reference
// calendar service with fault injection (docs/sandbox.md).

#include <iostream>

#include "app/commands.h"
#include "core/log.h"
#include "sandbox/config.h"
#include "sandbox/server.h"

namespace calprobe::app {

void AddSandboxCommand(CLI::App& app, Action* action) {
  struct Opts {
    std::string config;
    std::string listen;
    std::string log_format = "logfmt";
    std::string log_level = "info";
    bool check = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand(
      "sandbox", "Run the sandbox calendar service (fault injection, demo and tests)");
  cmd->add_option("-c,--config", o->config, "Sandbox config file (YAML, see config/sandbox.yaml)")
      ->required();
  cmd->add_option("--listen", o->listen,
                  "HOST:PORT to serve on (overrides sandbox.listen; port 0 = any)");
  cmd->add_option("--log-format", o->log_format, "logfmt or json");
  cmd->add_option("--log-level", o->log_level, "debug, info, warn or error");
  cmd->add_flag("--check-config", o->check, "Only validate the config; exit 0 if valid, 2 if not");
  cmd->callback([o, action] {
    *action = [o]() -> int {
      core::LogFormat format;
      core::LogLevel level;
      if (!core::ParseLogFormat(o->log_format, &format) ||
          !core::ParseLogLevel(o->log_level, &level)) {
        std::cerr << "calprobe sandbox: --log-format expects logfmt|json, --log-level "
                     "debug|info|warn|error\n";
        return kExitUsage;
      }
      core::InitLogging(format, level);
      auto cfg = sandbox::LoadSandboxConfig(o->config);
      if (!cfg.ok()) {
        std::cerr << cfg.error();
        return kExitUsage;
      }
      if (o->check) {
        std::cout << o->config << ": OK (" << cfg->providers.size() << " providers)\n";
        return kExitOk;
      }
      return sandbox::RunSandbox(*cfg, o->listen);
    };
  });
}

}  // namespace calprobe::app
