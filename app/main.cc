// calprobe: synthetic monitoring for calendar availability and sync.

#include <CLI/CLI.hpp>

#include "app/commands.h"

int main(int argc, char** argv) {
  using namespace calprobe::app;
  CLI::App app{"calprobe: synthetic monitoring for calendar availability and sync"};
  app.require_subcommand(1);
  Action action;
  // One line per subcommand.
  AddRunCommand(app, &action);
  AddDiagnoseCommand(app, &action);
  AddValidateConfigCommand(app, &action);
  AddVersionCommand(app, &action);
  AddSandboxCommand(app, &action);
  AddReplayCommand(app, &action);
  AddWebhookSinkCommand(app, &action);
  AddExportRulesCommand(app, &action);
  AddCheckCommand(app, &action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  return action ? action() : kExitUsage;
}
