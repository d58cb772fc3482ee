#pragma once
// Each subcommand lives in its own app/cmd_<name>.cc and adds itself to the
// CLI with one call from main.cc. `action` is set to what runs when the
// subcommand was chosen; it returns the exit code (0 ok, 1 checks failed /
// problems found, 2 usage or config error).

#include <CLI/CLI.hpp>
#include <functional>

namespace calprobe::app {

using Action = std::function<int()>;

constexpr int kExitOk = 0;
constexpr int kExitProblems = 1;
constexpr int kExitUsage = 2;

void AddRunCommand(CLI::App& app, Action* action);
void AddDiagnoseCommand(CLI::App& app, Action* action);
void AddValidateConfigCommand(CLI::App& app, Action* action);
void AddVersionCommand(CLI::App& app, Action* action);
void AddSandboxCommand(CLI::App& app, Action* action);
void AddReplayCommand(CLI::App& app, Action* action);
void AddWebhookSinkCommand(CLI::App& app, Action* action);
void AddExportRulesCommand(CLI::App& app, Action* action);
void AddCheckCommand(CLI::App& app, Action* action);

}  // namespace calprobe::app
