#pragma once
// The one value that crosses module boundaries (DESIGN.md "everything is an
// event"). Probes emit Events; platform services POST them as NDJSON; the
// core turns them into signals, metrics and alert states.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace calprobe::core {

// The closed set of labels signals may group by. Anything else an event
// carries is a field.
enum class Label : uint8_t { kProvider, kRole, kRegion, kSrcId, kTarget, kProbe, kOrigin };
inline constexpr size_t kLabelCount = 7;
inline constexpr std::array<std::string_view, kLabelCount> kLabelNames = {
    "provider", "role", "region", "src_id", "target", "probe", "origin"};

inline constexpr std::string_view kOriginPlatform = "platform";
inline constexpr std::string_view kOriginSynthetic = "synthetic";

// Returns the label named `name`, or nullopt when it is not one of kLabelNames.
std::optional<Label> LabelFromName(std::string_view name);

class Labels {
 public:
  const std::string& Get(Label l) const { return values_[static_cast<size_t>(l)]; }
  void Set(Label l, std::string v) { values_[static_cast<size_t>(l)] = std::move(v); }
  bool operator==(const Labels&) const = default;
  // Stable hash over all values (for maps keyed by label set).
  size_t Hash() const;

 private:
  std::array<std::string, kLabelCount> values_;
};

using FieldValue = std::variant<bool, int64_t, double, std::string>;

struct Field {
  std::string name;
  FieldValue value;
};

struct Event {
  std::string name;
  TimePoint time;
  Labels labels;
  std::vector<Field> fields;

  // Returns the field named `name`, or nullptr.
  const FieldValue* Find(std::string_view name) const;
  // Numeric view of an int or double field; nullopt if absent or not numeric.
  std::optional<double> Number(std::string_view name) const;
  // String field value; nullopt if absent or not a string.
  std::optional<std::string_view> String(std::string_view name) const;
  // Bool field value; nullopt if absent or not a bool.
  std::optional<bool> Bool(std::string_view name) const;

  Event& With(std::string field, FieldValue v) {
    fields.push_back({std::move(field), std::move(v)});
    return *this;
  }
  Event& WithLabel(Label l, std::string v) {
    labels.Set(l, std::move(v));
    return *this;
  }
};

// Parses one NDJSON line (the wire format in docs/events.md). Checks shape
// only: object with "name" (string), "time" (RFC 3339), optional "labels"
// (known label names, string values) and "fields" (scalars). Catalog
// validation is separate (core/catalog.h).
Result<Event> ParseEventJson(std::string_view line);

// Serialises to the wire format (one line, no trailing newline).
std::string EventToJson(const Event& event);

// RFC 3339 ("2027-03-15T09:00:00Z", "…09:00:00.250+01:00"). Returns nullopt on
// anything else.
std::optional<TimePoint> ParseRfc3339(std::string_view s);
// Formats as UTC with millisecond precision: "2027-03-15T09:00:00.000Z".
std::string FormatRfc3339(TimePoint t);

}  // namespace calprobe::core
