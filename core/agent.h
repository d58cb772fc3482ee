#pragma once
// The agent: one io_context running the scheduler, probes, HTTP client,
// event pipeline and admin server; reloads config on SIGHUP (a bad config is
// logged and the old one keeps running) and re-reads target files when they
// change. Created by `calprobe run`.

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace calprobe::core {

struct AgentOptions {
  std::string config_path;
  std::string listen_override;  // --listen
  std::string region_override;  // --region
  int shard_index = 0;          // --shard i/n: this replica probes only its share
  int shard_count = 1;
};

class Agent {
 public:
  // Loads the config, opens the store and binds the admin server.
  static Result<std::unique_ptr<Agent>> Create(const AgentOptions& options);
  ~Agent();

  // Runs until SIGINT/SIGTERM or Stop(). Returns the process exit code.
  int Run();
  // Thread-safe request to stop Run().
  void Stop();
  uint16_t admin_port() const;

  struct Impl;

 private:
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Returns true iff target `name` belongs to shard `index` of `count`
// (rendezvous hashing: stable when replicas are added or removed).
bool InShard(const std::string& name, int index, int count);

}  // namespace calprobe::core
