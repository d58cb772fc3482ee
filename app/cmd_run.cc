// `calprobe run`: the agent.

#include <malloc.h>

#include <iostream>
#include <regex>

#include "app/commands.h"
#include "core/agent.h"

namespace calprobe::app {

void AddRunCommand(CLI::App& app, Action* action) {
  struct Opts {
    core::AgentOptions agent;
    std::string shard;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = app.add_subcommand("run", "Run the agent: schedule probes, ingest events, serve /metrics");
  cmd->add_option("-c,--config", o->agent.config_path, "Agent config file (YAML)")->required();
  cmd->add_option("--listen", o->agent.listen_override, "Admin server HOST:PORT (overrides agent.listen)");
  cmd->add_option("--region", o->agent.region_override, "Region label (overrides agent.region)");
  cmd->add_option("--shard", o->shard, "Probe only shard I of N (0-based I/N, e.g. 0/2)");
  cmd->callback([o, action] {
    *action = [o]() -> int {
      if (!o->shard.empty()) {
        std::smatch m;
        static const std::regex kShard(R"(^(\d+)/(\d+)$)");
        if (!std::regex_match(o->shard, m, kShard) || std::stoi(m[2]) < 1 ||
            std::stoi(m[1]) >= std::stoi(m[2])) {
          std::cerr << "calprobe run: --shard: expected I/N with 0 <= I < N, e.g. 0/2, got \""
                    << o->shard << "\"\n";
          return kExitUsage;
        }
        o->agent.shard_index = std::stoi(m[1]);
        o->agent.shard_count = std::stoi(m[2]);
      }
      // glibc raises its mmap threshold to the size of the largest freed
      // mmapped block (up to 32 MiB), after which big short-lived buffers (a
      // multi-megabyte /metrics exposition, a large ICS body) come from the
      // heap and stay resident after they are freed. A fixed threshold keeps
      // buffers of 1 MiB and more in their own mappings, returned to the
      // kernel when freed, so a long-running agent's RSS tracks what it
      // holds rather than its largest transient. The trim threshold is
      // pinned with it (glibc would otherwise raise it alongside).
      mallopt(M_MMAP_THRESHOLD, 1 << 20);
      mallopt(M_TRIM_THRESHOLD, 256 << 10);
      auto agent = core::Agent::Create(o->agent);
      if (!agent.ok()) {
        std::string err = agent.error();
        if (err.empty() || err.back() != '\n') err += "\n";
        std::cerr << "calprobe run: " << err;
        return kExitUsage;
      }
      return agent.value()->Run();
    };
  });
}

}  // namespace calprobe::app
