#include "probes/feasibility/response_map.h"

#include <array>
#include <nlohmann/json.hpp>

#include "core/event.h"

namespace calprobe::probes::feasibility {
namespace {

using nlohmann::json;

std::string Excerpt(const json& j) {
  std::string s = j.is_string() ? j.get<std::string>() : j.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

const json* At(const json& doc, const std::string& pointer) {
  json::json_pointer p(pointer);
  if (!doc.contains(p)) return nullptr;
  return &doc.at(p);
}

core::Result<core::TimePoint> TimeAt(const json& slot, const std::string& pointer,
                                     const std::string& where) {
  const json* v = At(slot, pointer);
  if (v == nullptr) return core::Status::Error(where + pointer + " is missing");
  if (!v->is_string()) {
    return core::Status::Error(where + pointer + ": " + Excerpt(*v) + " is not a string");
  }
  auto t = core::ParseRfc3339(v->get_ref<const std::string&>());
  if (!t) {
    return core::Status::Error(where + pointer + ": \"" + Excerpt(*v) +
                               "\" is not an RFC 3339 time (e.g. 2027-03-15T09:00:00-04:00)");
  }
  return *t;
}

}  // namespace

bool ValidPointer(std::string_view pointer) {
  if (pointer.empty()) return true;
  try {
    json::json_pointer p{std::string(pointer)};
    (void)p;
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

core::Result<MappedResponse> MapResponse(std::string_view body, const ResponseMapping& m,
                                         std::chrono::minutes slot_length) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) return core::Status::Error("body is not valid JSON");
  try {
    if (!m.errors.empty()) {
      if (const json* e = At(doc, m.errors); e != nullptr && !e->is_null() && !e->empty()) {
        const json& first = e->is_array() ? e->front() : *e;
        std::string msg = first.is_object() && first.contains("message") ? Excerpt(first["message"])
                                                                         : Excerpt(first);
        return core::Status::Error(m.errors + ": " + msg);
      }
    }
    MappedResponse out;
    const json* list = At(doc, m.slots);
    if (list == nullptr || list->is_null()) {
      return core::Status::Error(m.slots + " is missing");
    }
    if (!list->is_array()) return core::Status::Error(m.slots + " is not an array");
    out.slots.reserve(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string where = m.slots + "/" + std::to_string(i);
      auto start = TimeAt((*list)[i], m.start, where);
      if (!start.ok()) return start.status();
      core::TimePoint end = *start + slot_length;
      if (m.has_end) {
        auto e = TimeAt((*list)[i], m.end, where);
        if (!e.ok()) return e.status();
        end = *e;
      }
      out.slots.push_back({*start, end});
    }
    const json* t = m.truncated.empty() ? nullptr : At(doc, m.truncated);
    if (t != nullptr && !t->is_null()) {
      if (!t->is_boolean()) {
        return core::Status::Error(m.truncated + ": " + Excerpt(*t) + " is not true/false");
      }
      out.truncated = t->get<bool>();
    } else if (m.truncated_required) {
      return core::Status::Error(m.truncated + " is missing");
    }
    const json* c = m.candidate_windows.empty() ? nullptr : At(doc, m.candidate_windows);
    if (c != nullptr && !c->is_null()) {
      if (!c->is_number_integer()) {
        return core::Status::Error(m.candidate_windows + ": " + Excerpt(*c) + " is not an integer");
      }
      out.candidate_windows = c->get<int64_t>();
    } else if (m.candidate_windows_required) {
      return core::Status::Error(m.candidate_windows + " is missing");
    }
    return out;
  } catch (const json::exception& e) {
    return core::Status::Error(std::string("cannot read the response: ") + e.what());
  }
}

std::optional<core::TimePoint> ParseHttpDate(std::string_view s) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s[25] != ' ' || s.substr(26) != "GMT") {
    return std::nullopt;
  }
  auto num = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
  };
  int day, year, h, mi, se;
  if (!num(5, 2, &day) || !num(12, 4, &year) || !num(17, 2, &h) || !num(20, 2, &mi) ||
      !num(23, 2, &se)) {
    return std::nullopt;
  }
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  using namespace std::chrono;
  const year_month_day ymd{std::chrono::year{year},
                           std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (month == 0 || !ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{mi} + seconds{se};
}

}  // namespace calprobe::probes::feasibility
