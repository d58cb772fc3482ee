#include "probes/builtin.h"

#include "probes/http/http_probe.h"

namespace calprobe::probes {

void RegisterBuiltinProbes(core::ProbeRegistry& registry) {
  (void)registry.Register(http::NewFactory());
}

}  // namespace calprobe::probes
