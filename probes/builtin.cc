#include "probes/builtin.h"

#include "probes/credential/credential_probe.h"
#include "probes/feasibility/feasibility_probe.h"
#include "probes/feed/feed_probe.h"
#include "probes/http/http_probe.h"
#include "probes/ics/ics_probe.h"
#include "probes/scenario/scenario_probe.h"

namespace calprobe::probes {

void RegisterBuiltinProbes(core::ProbeRegistry& registry) {
  (void)registry.Register(http::NewFactory());
  (void)registry.Register(feasibility::NewFactory());
  (void)registry.Register(ics::NewFactory());
  (void)registry.Register(credential::NewFactory());
  (void)registry.Register(feed::NewFactory());
  (void)registry.Register(scenario::NewFactory());
}

}  // namespace calprobe::probes
