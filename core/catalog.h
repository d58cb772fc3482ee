#pragma once
// The catalog of known events (config/events.yaml plus user extensions):
// each event's fields, their types and which are required. Validate() is
// what makes "unknown events or fields and wrong types are rejected with a
// message naming them" true for every event source.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace calprobe::core {

enum class FieldType { kInt, kNumber, kBool, kString };
std::string_view FieldTypeName(FieldType t);

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  bool required = false;
};

struct EventSpec {
  std::string name;
  std::string description;
  std::vector<FieldSpec> fields;
};

class Catalog {
 public:
  // Adds the events declared in a catalog YAML file. Errors name file, line
  // and path; a name declared twice is an error.
  Status LoadFile(const std::string& path);
  Status LoadString(const std::string& yaml, const std::string& name);

  // Returns the spec for `name`, or null.
  const EventSpec* Find(std::string_view name) const;
  // Returns Ok iff the event is known and its fields match the spec.
  Status Validate(const Event& event) const;
  const std::map<std::string, EventSpec, std::less<>>& events() const { return events_; }

 private:
  std::map<std::string, EventSpec, std::less<>> events_;
};

}  // namespace calprobe::core
