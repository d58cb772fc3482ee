#pragma once
// The event pipeline: every event from probes and from /api/v1/events goes
// through Emit(): catalog validation, event-time bounds (lateness, future
// skew), the calprobe_events_total counter (with bounded label
// cardinality), then every subscriber (signals, result tracking, …).
// Single-threaded (agent io_context thread).

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/catalog.h"
#include "core/clock.h"
#include "core/event_sink.h"
#include "core/metrics.h"

namespace calprobe::core {

namespace signals {
class TopK;
}

struct PipelineOptions {
  Duration max_lateness = std::chrono::minutes(10);
  Duration max_future_skew = std::chrono::minutes(2);
  size_t label_value_limit = 500;  // distinct values per label in exported series
};

// Keeps the exported values of one label bounded (top-K + "other"): a value
// gets its own series once it is among the K heaviest (Space-Saving, see
// core/signals/topk.h) and keeps it afterwards, so every exported counter
// stays monotonic and the sum over all series stays exact; everything else
// is counted under "other". At most 2K values are ever admitted.
// (Exact per-key state lives in signals; this only protects Prometheus.)
class LabelLimiter {
 public:
  explicit LabelLimiter(size_t k);
  ~LabelLimiter();
  // Returns the value to export for `value`: itself or "other".
  std::string_view Map(const std::string& value);
  size_t admitted() const { return admitted_.size(); }

 private:
  size_t k_;
  std::unique_ptr<signals::TopK> top_;
  std::set<std::string, std::less<>> admitted_;
};

class EventPipeline final : public EventSink {
 public:
  EventPipeline(const Catalog& catalog, const Clock& clock, MetricsRegistry& metrics,
                PipelineOptions options);

  Status Emit(Event event) override;
  void Subscribe(std::function<void(const Event&)> fn) { subscribers_.push_back(std::move(fn)); }
  void SetOptions(PipelineOptions o) { options_ = o; }
  uint64_t accepted() const { return accepted_; }

 private:
  Status Reject(const std::string& reason, Status why);

  const Catalog& catalog_;
  const Clock& clock_;
  PipelineOptions options_;
  MetricFamily& events_total_;
  MetricFamily& rejected_total_;
  LabelLimiter providers_;
  LabelLimiter regions_;
  LabelLimiter roles_;
  std::vector<std::function<void(const Event&)>> subscribers_;
  uint64_t accepted_ = 0;
};

}  // namespace calprobe::core
