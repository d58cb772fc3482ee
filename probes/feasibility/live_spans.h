#pragma once
// Live holds/bookings of the synthetic provider (truth.live_spans): fetched
// through the agent's HttpClient before and after each feasibility query.

#include <functional>
#include <vector>

#include "calendar/oracle/types.h"
#include "core/probe.h"
#include "probes/feasibility/truth_config.h"

namespace calprobe::probes::feasibility {

using LiveSpansCallback = std::function<void(core::Result<std::vector<calendar::oracle::Span>>)>;

// Fetches every source in order and calls `done` once, on the client's
// thread, with all their spans or the first error ("<url>: status 500").
void FetchLiveSpans(core::ProbeContext& ctx, const std::vector<LiveSpanSource>& sources,
                    LiveSpansCallback done);

struct LiveSpans {
  std::vector<calendar::oracle::Span> stable;   // in both lists: treated as holds
  std::vector<calendar::oracle::Span> changed;  // in one list only: not judged
};

// Splits the spans seen before and after the query.
LiveSpans MergeLiveSpans(std::vector<calendar::oracle::Span> before,
                         std::vector<calendar::oracle::Span> after);

}  // namespace calprobe::probes::feasibility
