#pragma once
// ICS sync metrics derived from events (DESIGN.md: probes emit events, the
// core turns them into metrics). Subscribes to the event pipeline, keeps
// exact per-source state for `cal.ics.poll.ok|error` (synthetic from the ics
// probe, or platform events from the platform's own poller), and renders at
// scrape time:
//   per source (src_id bounded to `src_id_limit`, excess folded into
//   src_id="other": oldest timestamps, highest tier, summed bytes):
//     calprobe_ics_last_poll_timestamp_seconds{origin,provider,src_id}
//     calprobe_ics_last_success_timestamp_seconds{…}   (absent until a success)
//     calprobe_ics_retry_tier{…}, calprobe_ics_payload_bytes{…},
//     calprobe_ics_feed_refresh_interval_seconds{…} (when the feed declares one)
//   per provider (always; provider bounded like calprobe_events_total):
//     calprobe_ics_provider_sources, _failing_sources, _max_retry_tier,
//     _oldest_poll_timestamp_seconds, _oldest_success_timestamp_seconds,
//     calprobe_ics_polls_total{result=ok|not_modified|error},
//     calprobe_ics_poll_errors_total{code}, calprobe_ics_delta_events_total{kind}
//   self-health: calprobe_ics_backlog beside calprobe_ics_concurrency_limit
//     (the scheduler's queue for probe type "ics", not the platform's),
//     calprobe_ics_sources_tracked, calprobe_ics_untracked_polls_total.
// Not thread-safe: the agent's io_context thread only.

#include <cstddef>
#include <memory>

#include "core/event.h"
#include "core/metrics.h"

namespace calprobe::core {

class EventPipeline;
class Scheduler;

struct IcsMetricsOptions {
  size_t src_id_limit = 500;    // exported src_id values (agent.export_top_k)
  size_t provider_limit = 500;  // exported provider values
  size_t max_sources = 200000;  // exact state kept (agent.max_signal_keys)
};

class IcsMetrics {
 public:
  explicit IcsMetrics(IcsMetricsOptions options);
  ~IcsMetrics();
  // Consumes one accepted event; ignores everything but cal.ics.poll.*.
  void OnEvent(const Event& e);
  // Writes the families above (backlog/limit are the scheduler's for "ics").
  void Render(MetricsWriter* w, double backlog, double limit) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Creates an IcsMetrics fed by `pipeline` and rendered by `metrics`, reading
// backlog and limit of probe type "ics" from `scheduler`. All three must
// outlive the registry's collectors (they do in the agent).
void InstallIcsMetrics(MetricsRegistry& metrics, EventPipeline& pipeline,
                       const Scheduler& scheduler, IcsMetricsOptions options);

}  // namespace calprobe::core
