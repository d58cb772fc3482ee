#pragma once
// `calprobe sandbox`: runs the sandbox service until SIGINT/SIGTERM.
// The HTTP API runs on config.threads threads (the latency fault sleeps in a
// handler); one more thread owns the HTTP client (event flushes, busy-source
// polls) and the timers (hold expiry sweep every 250 ms). The only sandbox
// translation unit that includes Boost.Asio.

#include <string>

#include "sandbox/config.h"

namespace calprobe::sandbox {

// Returns the process exit code (0 after a clean stop, 2 when it cannot
// listen). `listen_override` replaces sandbox.listen when non-empty.
int RunSandbox(const SandboxConfig& config, const std::string& listen_override);

}  // namespace calprobe::sandbox
