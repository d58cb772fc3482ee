#include "probes/builtin.h"

#include "probes/credential/credential_probe.h"
#include "probes/feasibility/feasibility_probe.h"
#include "probes/http/http_probe.h"
#include "probes/ics/ics_probe.h"

namespace calprobe::probes {

void RegisterBuiltinProbes(core::ProbeRegistry& registry) {
  (void)registry.Register(http::NewFactory());
  (void)registry.Register(feasibility::NewFactory());
  (void)registry.Register(ics::NewFactory());
  (void)registry.Register(credential::NewFactory());
}

}  // namespace calprobe::probes
