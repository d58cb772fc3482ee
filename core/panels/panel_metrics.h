#pragma once
// Prometheus series for the panels' signals that calprobe_events_total does
// not already carry (durations, field-derived counts, the platform poller's
// queue, configured/stale providers), so Grafana
// (docker/grafana/calprobe-dashboard.json) can draw the same six panels:
//   calprobe_feasible_duration_seconds{region,origin}       histogram
//   calprobe_feasible_truncated_total{region,origin}
//   calprobe_hold_overlaps_total{region,origin}
//   calprobe_slots_surfaced_total{region,origin}
//   calprobe_instant_bookings_total{region,origin,accepted}
//   calprobe_rebook_latency_seconds{region,origin}           histogram
//   calprobe_support_tickets_total{region,origin,tag}        (tag bounded)
//   calprobe_feed_requests_total{region,origin,result}       result=success|failure
//   calprobe_platform_ics_backlog{region}, calprobe_platform_ics_queue_size{region}
//   calprobe_providers_configured{region}, calprobe_providers_stale{region}
// region is bounded like calprobe_events_total; an event without one counts
// under the agent's region. Not thread-safe: the agent's io_context thread.

#include <cstddef>
#include <string>

namespace calprobe::core {

class EventPipeline;
class MetricsRegistry;

namespace panels {

class Rollups;

// Subscribes to `pipeline` and registers the families above in `metrics`;
// the providers gauges read `rollups` at scrape time. All must outlive the
// registry's collectors.
void InstallPanelMetrics(MetricsRegistry& metrics, EventPipeline& pipeline, const Rollups& rollups,
                         const std::string& agent_region, size_t label_limit);

}  // namespace panels
}  // namespace calprobe::core
