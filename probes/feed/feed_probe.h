#pragma once
// The `feed` probe: a scheduled check of a provider's outbound ICS feed with
// its token (the seed's "ICS Feed Outbound" panel). Each run fetches the
// feed without and/or with holds (`include_holds`), and checks: status 200,
// a usable calendar without lint errors (calendar/ics), size and generation
// latency within budget, and that include_holds is respected (the feed
// without holds has no tentative events, and every event of it is also in
// the feed with holds). Emits cal.ics.feed.requested{include_holds, status,
// duration_ms, source="synthetic"} per fetch. Options under `feed:`; see
// docs/probes/feed.md. Fails with reason "assertion" (status), "lint",
// "size", "latency", "include_holds" or a transport code.

#include <memory>

#include "core/probe.h"

namespace calprobe::probes::feed {

std::unique_ptr<core::ProbeFactory> NewFactory();

}  // namespace calprobe::probes::feed
