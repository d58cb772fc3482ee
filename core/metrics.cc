#include "core/metrics.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

namespace calprobe::core {
namespace {

std::string Key(const LabelValues& values) {
  std::string k;
  for (const auto& v : values) {
    k += v;
    k.push_back('\xff');
  }
  return k;
}

void AppendEscaped(std::string* out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') *out += "\\\\";
    else if (c == '"') *out += "\\\"";
    else if (c == '\n') *out += "\\n";
    else out->push_back(c);
  }
}

}  // namespace

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

void MetricsWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  *out_ += "# HELP ";
  *out_ += name;
  *out_ += ' ';
  for (char c : help) {
    if (c == '\\') *out_ += "\\\\";
    else if (c == '\n') *out_ += "\\n";
    else out_->push_back(c);
  }
  *out_ += "\n# TYPE ";
  *out_ += name;
  *out_ += ' ';
  *out_ += type;
  *out_ += '\n';
}

void MetricsWriter::Sample(std::string_view name, const std::vector<std::string_view>& names,
                           const std::vector<std::string_view>& values, double value) {
  *out_ += name;
  if (!names.empty()) {
    out_->push_back('{');
    for (size_t i = 0; i < names.size(); ++i) {
      if (i) out_->push_back(',');
      *out_ += names[i];
      *out_ += "=\"";
      AppendEscaped(out_, values[i]);
      out_->push_back('"');
    }
    out_->push_back('}');
  }
  out_->push_back(' ');
  *out_ += FormatMetricValue(value);
  out_->push_back('\n');
}

void MetricsWriter::Histogram(std::string_view name, const std::vector<std::string_view>& names,
                              const std::vector<std::string_view>& values,
                              std::span<const double> bounds, std::span<const uint64_t> buckets,
                              uint64_t count, double sum) {
  auto bnames = names;
  bnames.push_back("le");
  auto bvalues = values;
  bvalues.push_back("");
  const std::string base(name);
  const std::string bucket_name = base + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets[i];
    const std::string le = FormatMetricValue(bounds[i]);
    bvalues.back() = le;
    Sample(bucket_name, bnames, bvalues, static_cast<double>(cumulative));
  }
  bvalues.back() = "+Inf";
  Sample(bucket_name, bnames, bvalues, static_cast<double>(count));
  Sample(base + "_sum", names, values, sum);
  Sample(base + "_count", names, values, static_cast<double>(count));
}

MetricFamily::MetricFamily(std::string name, std::string help, MetricType type,
                           std::vector<std::string> label_names, std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)),
      bounds_(std::move(buckets)) {
  std::sort(bounds_.begin(), bounds_.end());
}

MetricFamily::Series& MetricFamily::Get(const LabelValues& values) {
  assert(values.size() == label_names_.size());
  auto [it, inserted] = series_.try_emplace(Key(values));
  if (inserted && type_ == MetricType::kHistogram) it->second.buckets.assign(bounds_.size(), 0);
  return it->second;
}

void MetricFamily::Inc(const LabelValues& values, double by) { Get(values).value += by; }
void MetricFamily::Set(const LabelValues& values, double v) { Get(values).value = v; }

void MetricFamily::Observe(const LabelValues& values, double v) {
  Series& s = Get(values);
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  if (it != bounds_.end()) ++s.buckets[it - bounds_.begin()];
  s.sum += v;
  ++s.count;
}

double MetricFamily::Value(const LabelValues& values) const {
  auto it = series_.find(Key(values));
  return it == series_.end() ? 0 : it->second.value;
}

void MetricFamily::Remove(const LabelValues& values) { series_.erase(Key(values)); }

void MetricFamily::Render(MetricsWriter* w) const {
  static constexpr std::string_view kTypes[] = {"counter", "gauge", "histogram"};
  w->Family(name_, kTypes[static_cast<int>(type_)], help_);
  std::vector<std::string_view> names(label_names_.begin(), label_names_.end());
  std::vector<std::string_view> values;
  for (const auto& [key, s] : series_) {
    values.clear();
    std::string_view rest = key;
    while (!rest.empty()) {
      size_t sep = rest.find('\xff');
      values.push_back(rest.substr(0, sep));
      rest.remove_prefix(sep + 1);
    }
    if (type_ != MetricType::kHistogram) {
      w->Sample(name_, names, values, s.value);
      continue;
    }
    w->Histogram(name_, names, values, bounds_, s.buckets, s.count, s.sum);
  }
}

MetricFamily& MetricsRegistry::GetOrCreate(const std::string& name, const std::string& help,
                                           MetricType type, std::vector<std::string> labels,
                                           std::vector<double> buckets) {
  auto it = by_name_.find(name);
  if (it != by_name_.end()) return *it->second;
  families_.push_back(std::make_unique<MetricFamily>(name, help, type, std::move(labels),
                                                     std::move(buckets)));
  by_name_[name] = families_.back().get();
  return *families_.back();
}

MetricFamily& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                       std::vector<std::string> labels) {
  return GetOrCreate(name, help, MetricType::kCounter, std::move(labels), {});
}
MetricFamily& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                     std::vector<std::string> labels) {
  return GetOrCreate(name, help, MetricType::kGauge, std::move(labels), {});
}
MetricFamily& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                         std::vector<std::string> labels,
                                         std::vector<double> buckets) {
  return GetOrCreate(name, help, MetricType::kHistogram, std::move(labels), std::move(buckets));
}

void MetricsRegistry::AddCollector(std::function<void(MetricsWriter*)> collector) {
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  out.reserve(last_render_size_ + last_render_size_ / 16 + 4096);
  MetricsWriter w(&out);
  for (const auto& f : families_) f->Render(&w);
  for (const auto& c : collectors_) c(&w);
  last_render_size_ = out.size();
  return out;
}

}  // namespace calprobe::core
