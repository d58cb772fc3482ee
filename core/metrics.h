#pragma once
// In-process metrics with Prometheus text exposition (format 0.0.4).
// Families are created once (at start-up or on first use) and then updated by
// label values. Names follow DESIGN.md: calprobe_ prefix, base units,
// _total counters, snake_case labels.
// Not thread-safe: owned and used by the agent's io_context thread.

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace calprobe::core {

using LabelValues = std::vector<std::string>;

// Writes exposition text; used by Render() and by collectors that compute
// values at scrape time.
class MetricsWriter {
 public:
  explicit MetricsWriter(std::string* out) : out_(out) {}
  // Starts a family: "# HELP" and "# TYPE" lines. type: counter|gauge|histogram|untyped.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, const std::vector<std::string_view>& label_names,
              const std::vector<std::string_view>& label_values, double value);
  // One histogram series: NAME_bucket{…,le} (cumulative, then +Inf = count),
  // NAME_sum and NAME_count. `buckets` holds the per-bound (not cumulative)
  // counts, one per entry of `bounds` (sorted).
  void Histogram(std::string_view name, const std::vector<std::string_view>& label_names,
                 const std::vector<std::string_view>& label_values, std::span<const double> bounds,
                 std::span<const uint64_t> buckets, uint64_t count, double sum);

 private:
  std::string* out_;
};

std::string FormatMetricValue(double v);

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, std::vector<double> buckets = {});

  // Counter/gauge operations on the series with these label values (created
  // on first use). The number of values must match the label names.
  void Inc(const LabelValues& values, double by = 1);
  void Set(const LabelValues& values, double v);
  // Histogram observation.
  void Observe(const LabelValues& values, double v);
  // Returns the current value of a counter/gauge series, or 0.
  double Value(const LabelValues& values) const;
  // Removes one series / all series (e.g. when a target is deleted on reload).
  void Remove(const LabelValues& values);
  void Clear() { series_.clear(); }
  size_t size() const { return series_.size(); }

  void Render(MetricsWriter* w) const;
  const std::string& name() const { return name_; }

 private:
  // The label values live only in the map key (joined by '\xff'): one
  // allocation per series instead of one per value (thousands of targets).
  struct Series {
    double value = 0;                 // counter/gauge
    std::vector<uint64_t> buckets;    // histogram: cumulative at render
    double sum = 0;
    uint64_t count = 0;
  };
  Series& Get(const LabelValues& values);

  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  std::map<std::string, Series> series_;  // key: values joined by '\xff'; sorted output
};

class MetricsRegistry {
 public:
  // Returns the family, creating it on first call. Later calls with the same
  // name return the existing family (type and labels must match).
  MetricFamily& Counter(const std::string& name, const std::string& help,
                        std::vector<std::string> labels);
  MetricFamily& Gauge(const std::string& name, const std::string& help,
                      std::vector<std::string> labels);
  MetricFamily& Histogram(const std::string& name, const std::string& help,
                          std::vector<std::string> labels, std::vector<double> buckets);
  // Adds a function called at each Render() to emit computed families.
  void AddCollector(std::function<void(MetricsWriter*)> collector);

  std::string Render() const;

 private:
  // Size of the previous exposition: the next one reserves it up front, so
  // a big scrape (megabytes with thousands of targets) is one allocation,
  // not a chain of doublings that leaves freed copies in the heap.
  mutable size_t last_render_size_ = 64 * 1024;
  MetricFamily& GetOrCreate(const std::string& name, const std::string& help, MetricType type,
                            std::vector<std::string> labels, std::vector<double> buckets);
  std::vector<std::unique_ptr<MetricFamily>> families_;
  std::unordered_map<std::string, MetricFamily*> by_name_;
  std::vector<std::function<void(MetricsWriter*)>> collectors_;
};

}  // namespace calprobe::core
