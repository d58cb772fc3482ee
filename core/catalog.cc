#include "core/catalog.h"

#include <fstream>
#include <sstream>

#include "core/config/config_node.h"

namespace calprobe::core {

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kInt: return "int";
    case FieldType::kNumber: return "number";
    case FieldType::kBool: return "bool";
    case FieldType::kString: return "string";
  }
  return "string";
}

Status Catalog::LoadFile(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::Error(path + ": cannot open event catalog");
  std::stringstream ss;
  ss << f.rdbuf();
  return LoadString(ss.str(), path);
}

Status Catalog::LoadString(const std::string& yaml, const std::string& name) {
  ConfigErrors errors;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return Status::Error(name + ":" + std::to_string(e.mark.line + 1) + ":" +
                         std::to_string(e.mark.column + 1) + ": YAML syntax error: " + e.msg);
  }
  ConfigNode top(root, std::make_shared<const std::string>(name), "", &errors);
  ConfigNode events = top["events"];
  if (!events.ExpectMap()) {
    if (!events.defined()) top.Error("missing events: mapping");
    return Status::Error(errors.ToString());
  }
  std::map<std::string, EventSpec, std::less<>> added;
  for (const auto& ev : events.Keys()) {
    ConfigNode e = events[ev];
    EventSpec spec;
    spec.name = ev;
    if (events_.count(ev) || added.count(ev)) {
      e.Error("event \"" + ev + "\" is declared twice");
      continue;
    }
    if (e.defined() && !e.ExpectMap()) continue;
    spec.description = e.String("description", "");
    ConfigNode fields = e["fields"];
    if (fields.ExpectMap()) {
      for (const auto& fname : fields.Keys()) {
        ConfigNode fn = fields[fname];
        if (!fn.ExpectMap()) continue;
        FieldSpec fs;
        fs.name = fname;
        std::string type = fn.String("type", "string");
        if (type == "int") fs.type = FieldType::kInt;
        else if (type == "number") fs.type = FieldType::kNumber;
        else if (type == "bool") fs.type = FieldType::kBool;
        else if (type == "string") fs.type = FieldType::kString;
        else fn["type"].Error("expected int, number, bool or string");
        fs.required = fn.Bool("required", false);
        if (LabelFromName(fname)) {
          fn.Error("\"" + fname + "\" is a label, not a field; do not declare it");
        }
        fn.RejectUnknownKeys();
        spec.fields.push_back(std::move(fs));
      }
    }
    e.RejectUnknownKeys();
    added.emplace(ev, std::move(spec));
  }
  top.RejectUnknownKeys();
  if (!errors.empty()) return Status::Error(errors.ToString());
  events_.merge(added);
  return Status::Ok();
}

const EventSpec* Catalog::Find(std::string_view name) const {
  auto it = events_.find(name);
  return it == events_.end() ? nullptr : &it->second;
}

Status Catalog::Validate(const Event& event) const {
  const EventSpec* spec = Find(event.name);
  if (!spec) {
    return Status::Error("unknown event \"" + event.name +
                         "\" (not in the catalog; declare it in a catalog file, see "
                         "docs/events.md)");
  }
  for (const auto& f : event.fields) {
    const FieldSpec* fs = nullptr;
    for (const auto& s : spec->fields) {
      if (s.name == f.name) fs = &s;
    }
    if (!fs) {
      std::string known;
      for (const auto& s : spec->fields) known += (known.empty() ? "" : ", ") + s.name;
      return Status::Error("unknown field \"" + f.name + "\" for " + event.name +
                           " (known: " + (known.empty() ? "none" : known) + ")");
    }
    bool ok = false;
    switch (fs->type) {
      case FieldType::kInt: ok = std::holds_alternative<int64_t>(f.value); break;
      case FieldType::kNumber:
        ok = std::holds_alternative<int64_t>(f.value) || std::holds_alternative<double>(f.value);
        break;
      case FieldType::kBool: ok = std::holds_alternative<bool>(f.value); break;
      case FieldType::kString: ok = std::holds_alternative<std::string>(f.value); break;
    }
    if (!ok) {
      return Status::Error("field \"" + f.name + "\" of " + event.name + " must be " +
                           std::string(FieldTypeName(fs->type)));
    }
  }
  for (const auto& s : spec->fields) {
    if (s.required && !event.Find(s.name)) {
      return Status::Error("missing required field \"" + s.name + "\" for " + event.name);
    }
  }
  return Status::Ok();
}

}  // namespace calprobe::core
