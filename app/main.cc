// calprobe: synthetic monitoring for calendar availability and sync.
// Exit codes (everywhere): 0 ok, 1 checks failed / problems found,
// 2 usage or config error.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <regex>

#include "core/agent.h"
#include "core/config/agent_config.h"
#include "core/log.h"
#include "probes/builtin.h"

namespace {

using namespace calprobe;

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

int ValidateConfig(const std::string& path) {
  core::ProbeRegistry registry;
  probes::RegisterBuiltinProbes(registry);
  auto cfg = core::LoadAgentConfig(path, registry);
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
  if (!file_errors.empty()) {
    std::cerr << file_errors;
    return kExitUsage;
  }
  std::cout << path << ": OK (" << cfg->targets.size() << " targets";
  if (file_targets) std::cout << " + " << file_targets << " from target files";
  std::cout << ", region " << cfg->agent.region << ")\n";
  return kExitOk;
}

int RunAgent(const core::AgentOptions& options) {
  auto agent = core::Agent::Create(options);
  if (!agent.ok()) {
    std::cerr << "calprobe run: " << agent.error();
    if (agent.error().empty() || agent.error().back() != '\n') std::cerr << "\n";
    return kExitUsage;
  }
  return agent.value()->Run();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"calprobe: synthetic monitoring for calendar availability and sync"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("calprobe ") + CALPROBE_VERSION);

  core::AgentOptions run_opts;
  std::string shard;
  std::string log_format, log_level;
  auto* run = app.add_subcommand("run", "Run the agent: schedule probes, ingest events, serve /metrics");
  run->add_option("-c,--config", run_opts.config_path, "Agent config file (YAML)")->required();
  run->add_option("--listen", run_opts.listen_override, "Admin server HOST:PORT (overrides agent.listen)");
  run->add_option("--region", run_opts.region_override, "Region label (overrides agent.region)");
  run->add_option("--shard", shard, "Probe only shard I of N targets (I/N, 0-based), e.g. 0/2");

  std::string validate_path;
  auto* validate = app.add_subcommand("validate-config", "Check a config file; exit 0 if valid, 2 if not");
  validate->add_option("file", validate_path, "Agent config file")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (*version) {
    std::cout << "calprobe " << CALPROBE_VERSION << "\n";
    return kExitOk;
  }
  if (*validate) return ValidateConfig(validate_path);
  if (*run) {
    if (!shard.empty()) {
      std::smatch m;
      static const std::regex kShard(R"(^(\d+)/(\d+)$)");
      if (!std::regex_match(shard, m, kShard) || std::stoi(m[2]) < 1 ||
          std::stoi(m[1]) >= std::stoi(m[2])) {
        std::cerr << "calprobe run: --shard: expected I/N with 0 <= I < N, e.g. 0/2, got \"" << shard
                  << "\"\n";
        return kExitUsage;
      }
      run_opts.shard_index = std::stoi(m[1]);
      run_opts.shard_count = std::stoi(m[2]);
    }
    return RunAgent(run_opts);
  }
  return kExitUsage;
}
