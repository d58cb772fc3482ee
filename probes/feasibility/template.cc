#include "probes/feasibility/template.h"
#include "core/http/http_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace calprobe::probes::feasibility {

const std::vector<std::string>& TemplateVariableNames() {
  static const std::vector<std::string> kNames = {"provider_id", "from", "to", "duration_minutes",
                                                  "now"};
  return kNames;
}

core::Result<Template> Template::Parse(std::string_view text) {
  Template t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) t.pieces_.push_back({false, std::string(text.substr(pos, open - pos))});
    size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return core::Status::Error("unclosed \"{{\" at offset " + std::to_string(open) +
                                 "; placeholders look like {{from}}");
    }
    std::string name(text.substr(open + 2, close - open - 2));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    const auto& known = TemplateVariableNames();
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return core::Status::Error("unknown template variable \"{{" + name + "}}\" (known: " + list +
                                 ")");
    }
    t.pieces_.push_back({true, std::move(name)});
    pos = close + 2;
  }
  return t;
}

std::string Template::Render(const TemplateVars& vars, Escape escape) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.is_variable) {
      out += p.text;
      continue;
    }
    auto it = vars.find(p.text);
    if (it == vars.end()) continue;
    out += escape == Escape::kUrl ? UrlEncode(it->second) : it->second;
  }
  return out;
}

std::string_view Template::SoleVariable() const {
  if (pieces_.size() == 1 && pieces_[0].is_variable) return pieces_[0].text;
  return {};
}

std::string UrlEncode(std::string_view s) { return core::PercentEncode(s); }

namespace {

core::Status CheckStrings(const nlohmann::json& j, const std::string& pointer) {
  if (j.is_string()) {
    auto t = Template::Parse(j.get_ref<const std::string&>());
    if (!t.ok()) return core::Status::Error((pointer.empty() ? "/" : pointer) + ": " + t.error());
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      auto s = CheckStrings(*it, pointer + "/" + it.key());
      if (!s.ok()) return s;
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      auto s = CheckStrings(j[i], pointer + "/" + std::to_string(i));
      if (!s.ok()) return s;
    }
  }
  return core::Status::Ok();
}

void RenderInPlace(nlohmann::json& j, const TemplateVars& vars) {
  if (j.is_string()) {
    auto t = Template::Parse(j.get_ref<const std::string&>());
    if (!t.ok()) return;  // checked by Parse
    if (t->SoleVariable() == "duration_minutes") {
      auto it = vars.find("duration_minutes");
      int64_t n = 0;
      if (it != vars.end()) {
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
      }
      j = n;
      return;
    }
    j = t->Render(vars);
  } else if (j.is_structured()) {
    for (auto& child : j) RenderInPlace(child, vars);
  }
}

}  // namespace

core::Result<JsonTemplate> JsonTemplate::Parse(nlohmann::json doc) {
  if (auto s = CheckStrings(doc, ""); !s.ok()) return s;
  JsonTemplate t;
  t.doc_ = std::move(doc);
  return t;
}

nlohmann::json JsonTemplate::Render(const TemplateVars& vars) const {
  nlohmann::json out = doc_;
  RenderInPlace(out, vars);
  return out;
}

}  // namespace calprobe::probes::feasibility
