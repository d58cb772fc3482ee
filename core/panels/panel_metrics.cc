#include "core/panels/panel_metrics.h"

#include <map>
#include <memory>

#include "core/metrics.h"
#include "core/panels/rollup.h"
#include "core/pipeline.h"

namespace calprobe::core::panels {

void InstallPanelMetrics(MetricsRegistry& metrics, EventPipeline& pipeline, const Rollups& rollups,
                         const std::string& agent_region, size_t label_limit) {
  const std::vector<std::string> ro = {"region", "origin"};
  MetricFamily& duration =
      metrics.Histogram("calprobe_feasible_duration_seconds",
                        "Feasibility compute duration (cal.feasible.generated).", ro,
                        {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10});
  MetricFamily& truncated =
      metrics.Counter("calprobe_feasible_truncated_total",
                      "Feasibility answers whose candidate windows were truncated.", ro);
  MetricFamily& overlaps =
      metrics.Counter("calprobe_hold_overlaps_total",
                      "Hold attempts rejected because they overlapped (overlap_detected).", ro);
  MetricFamily& surfaced =
      metrics.Counter("calprobe_slots_surfaced_total",
                      "Slots surfaced to buyers' searches (cal.search.slots_surfaced count).", ro);
  MetricFamily& instant = metrics.Counter("calprobe_instant_bookings_total",
                                          "Instant Book attempts by outcome (cal.booking.instant).",
                                          {"region", "origin", "accepted"});
  MetricFamily& rebook = metrics.Histogram("calprobe_rebook_latency_seconds",
                                           "Reschedule rebooking latency (cal.booking.rebooked).",
                                           ro, {1, 5, 15, 30, 60, 120, 300, 900, 3600});
  MetricFamily& tickets = metrics.Counter(
      "calprobe_support_tickets_total", "Support tickets by tag (cal.support.ticket; tag bounded).",
      {"region", "origin", "tag"});
  MetricFamily& feed = metrics.Counter(
      "calprobe_feed_requests_total",
      "Outbound ICS feed generations by result (cal.ics.feed.requested; no status = success).",
      {"region", "origin", "result"});
  MetricFamily& backlog =
      metrics.Gauge("calprobe_platform_ics_backlog",
                    "The platform poller's backlog (cal.ics.backlog size).", {"region"});
  MetricFamily& queue =
      metrics.Gauge("calprobe_platform_ics_queue_size",
                    "The platform poller's queue size (cal.ics.backlog queue_size).", {"region"});
  auto regions = std::make_shared<LabelLimiter>(label_limit);
  auto tags = std::make_shared<LabelLimiter>(20);
  pipeline.Subscribe([=, &duration, &truncated, &overlaps, &surfaced, &instant, &rebook, &tickets,
                      &feed, &backlog, &queue](const Event& e) {
    if (e.name.rfind("cal.", 0) != 0) return;
    const std::string& r = e.labels.Get(Label::kRegion);
    LabelValues l = {std::string(regions->Map(r.empty() ? agent_region : r)),
                     e.labels.Get(Label::kOrigin)};
    const std::string& n = e.name;
    if (n == "cal.feasible.generated") {
      if (auto d = e.Number("duration_ms")) duration.Observe(l, *d / 1000.0);
      if (e.Bool("truncated").value_or(false)) truncated.Inc(l);
    } else if (n == "cal.hold.created") {
      if (e.Bool("overlap_detected").value_or(false)) overlaps.Inc(l);
    } else if (n == "cal.search.slots_surfaced") {
      surfaced.Inc(l, e.Number("count").value_or(0));
    } else if (n == "cal.booking.instant") {
      instant.Inc({l[0], l[1], e.Bool("accepted").value_or(false) ? "true" : "false"});
    } else if (n == "cal.booking.rebooked") {
      if (auto d = e.Number("latency_ms")) rebook.Observe(l, *d / 1000.0);
    } else if (n == "cal.support.ticket") {
      std::string tag(e.String("tag").value_or(""));
      tickets.Inc({l[0], l[1], std::string(tags->Map(tag))});
    } else if (n == "cal.ics.feed.requested") {
      auto status = e.Number("status");
      bool ok = !status || (*status >= 200 && *status < 400);
      feed.Inc({l[0], l[1], ok ? "success" : "failure"});
    } else if (n == "cal.ics.backlog") {
      backlog.Set({l[0]}, e.Number("size").value_or(0));
      queue.Set({l[0]}, e.Number("queue_size").value_or(0));
    }
  });
  metrics.AddCollector([&rollups](MetricsWriter* w) {
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::map<std::string, std::pair<double, double>> by_region;  // configured, stale
    for (const auto& [k, last] : rollups.providers()) {
      auto& v = by_region[std::get<2>(k)];
      v.first += 1;
      if (now_ms - last > 7LL * 86'400'000) v.second += 1;
    }
    w->Family("calprobe_providers_configured", "gauge",
              "Providers that ever sent cal.rule.updated (kept in the store).");
    for (const auto& [r, v] : by_region)
      w->Sample("calprobe_providers_configured", {"region"}, {r}, v.first);
    w->Family("calprobe_providers_stale", "gauge",
              "Providers whose last cal.rule.updated is older than 7 days.");
    for (const auto& [r, v] : by_region)
      w->Sample("calprobe_providers_stale", {"region"}, {r}, v.second);
  });
}

}  // namespace calprobe::core::panels
