#include "core/pipeline.h"

#include "core/config/config_node.h"
#include "core/signals/topk.h"

namespace calprobe::core {

LabelLimiter::LabelLimiter(size_t k)
    : k_(k), top_(std::make_unique<signals::TopK>(signals::TopK::Options{k, 0, "other"})) {}
LabelLimiter::~LabelLimiter() = default;

std::string_view LabelLimiter::Map(const std::string& value) {
  if (value.empty()) return value;
  top_->Observe(value);
  if (admitted_.count(value)) return value;
  // Until K values exist there is nothing to rank: admit directly.
  if (admitted_.size() < k_ || (admitted_.size() < 2 * k_ && top_->Contains(value))) {
    admitted_.insert(value);
    return value;
  }
  return top_->other();
}

EventPipeline::EventPipeline(const Catalog& catalog, const Clock& clock, MetricsRegistry& metrics,
                             PipelineOptions options)
    : catalog_(catalog),
      clock_(clock),
      options_(options),
      events_total_(metrics.Counter("calprobe_events_total",
                                    "Events accepted, by event name and labels (provider, role and "
                                    "region bounded; excess values counted as \"other\").",
                                    {"event", "provider", "role", "region", "origin"})),
      rejected_total_(metrics.Counter("calprobe_events_rejected_total",
                                      "Events rejected before processing, by reason.", {"reason"})),
      providers_(options.label_value_limit),
      regions_(options.label_value_limit),
      roles_(options.label_value_limit) {}

Status EventPipeline::Reject(const std::string& reason, Status why) {
  rejected_total_.Inc({reason});
  return why;
}

Status EventPipeline::Emit(Event e) {
  if (Status s = catalog_.Validate(e); !s.ok()) {
    return Reject(catalog_.Find(e.name) ? "invalid_field" : "unknown_event", s);
  }
  TimePoint now = clock_.Now();
  if (e.time < now - options_.max_lateness) {
    return Reject("too_late",
                  Status::Error("event time " + FormatRfc3339(e.time) + " is older than the " +
                                FormatDuration(std::chrono::duration_cast<milliseconds>(
                                    options_.max_lateness)) +
                                " lateness limit (agent.max_event_lateness); send events sooner "
                                "or use `calprobe replay` for history"));
  }
  if (e.time > now + options_.max_future_skew) {
    return Reject("too_far_in_future",
                  Status::Error("event time " + FormatRfc3339(e.time) + " is more than " +
                                FormatDuration(std::chrono::duration_cast<milliseconds>(
                                    options_.max_future_skew)) +
                                " ahead of the agent's clock (agent.max_event_future_skew); check "
                                "the sender's clock"));
  }
  if (e.labels.Get(Label::kOrigin).empty()) e.labels.Set(Label::kOrigin, std::string(kOriginPlatform));
  const std::string& origin = e.labels.Get(Label::kOrigin);
  if (origin != kOriginPlatform && origin != kOriginSynthetic) {
    return Reject("invalid_label",
                  Status::Error("label origin must be \"platform\" or \"synthetic\", got \"" +
                                origin + "\""));
  }
  ++accepted_;
  events_total_.Inc({e.name, std::string(providers_.Map(e.labels.Get(Label::kProvider))),
                     std::string(roles_.Map(e.labels.Get(Label::kRole))),
                     std::string(regions_.Map(e.labels.Get(Label::kRegion))), origin});
  for (auto& fn : subscribers_) fn(e);
  return Status::Ok();
}

}  // namespace calprobe::core
