#include "core/event.h"

#include <charconv>
#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>

namespace calprobe::core {

std::optional<Label> LabelFromName(std::string_view name) {
  for (size_t i = 0; i < kLabelCount; ++i) {
    if (kLabelNames[i] == name) return static_cast<Label>(i);
  }
  return std::nullopt;
}

size_t Labels::Hash() const {
  size_t h = 1469598103934665603ull;
  for (const auto& v : values_) {
    h ^= std::hash<std::string>{}(v) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
  }
  return h;
}

const FieldValue* Event::Find(std::string_view n) const {
  for (const auto& f : fields) {
    if (f.name == n) return &f.value;
  }
  return nullptr;
}

std::optional<double> Event::Number(std::string_view n) const {
  const FieldValue* v = Find(n);
  if (!v) return std::nullopt;
  if (auto* i = std::get_if<int64_t>(v)) return static_cast<double>(*i);
  if (auto* d = std::get_if<double>(v)) return *d;
  return std::nullopt;
}

std::optional<std::string_view> Event::String(std::string_view n) const {
  const FieldValue* v = Find(n);
  if (!v) return std::nullopt;
  if (auto* s = std::get_if<std::string>(v)) return std::string_view(*s);
  return std::nullopt;
}

std::optional<bool> Event::Bool(std::string_view n) const {
  const FieldValue* v = Find(n);
  if (!v) return std::nullopt;
  if (auto* b = std::get_if<bool>(v)) return *b;
  return std::nullopt;
}

namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, se;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &se)) {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t pos = 19;
  nanoseconds frac{0};
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000, n = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) n += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
    frac = nanoseconds{n};
  }
  if (pos >= s.size()) return std::nullopt;
  minutes offset{0};
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = minutes{oh * 60 + om};
    if (s[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} + frac - offset;
  return time_point_cast<system_clock::duration>(tp);
}

std::string FormatRfc3339(TimePoint t) {
  using namespace std::chrono;
  auto ms = time_point_cast<milliseconds>(t);
  auto day = floor<days>(ms);
  year_month_day ymd{day};
  hh_mm_ss tod{ms - day};
  char buf[32];
  snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ", int(ymd.year()),
           unsigned(ymd.month()), unsigned(ymd.day()), long(tod.hours().count()),
           long(tod.minutes().count()), long(tod.seconds().count()),
           long(tod.subseconds().count()));
  return buf;
}

Result<Event> ParseEventJson(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Error("not valid JSON");
  if (!j.is_object()) return Status::Error("expected a JSON object");
  Event e;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "name") {
      if (!it->is_string() || it->get_ref<const std::string&>().empty())
        return Status::Error("\"name\" must be a non-empty string");
      e.name = it->get<std::string>();
    } else if (key == "time") {
      if (!it->is_string()) return Status::Error("\"time\" must be an RFC 3339 string");
      auto t = ParseRfc3339(it->get_ref<const std::string&>());
      if (!t) {
        return Status::Error("\"time\": '" + it->get<std::string>() +
                             "' is not RFC 3339 (e.g. 2027-03-15T09:00:00Z)");
      }
      e.time = *t;
    } else if (key == "labels") {
      if (!it->is_object()) return Status::Error("\"labels\" must be an object");
      for (auto l = it->begin(); l != it->end(); ++l) {
        auto label = LabelFromName(l.key());
        if (!label) {
          return Status::Error("unknown label \"" + l.key() +
                               "\" (labels are provider, role, region, src_id, target, probe, "
                               "origin; put other values in \"fields\")");
        }
        if (!l->is_string()) return Status::Error("label \"" + l.key() + "\" must be a string");
        e.labels.Set(*label, l->get<std::string>());
      }
    } else if (key == "fields") {
      if (!it->is_object()) return Status::Error("\"fields\" must be an object");
      for (auto f = it->begin(); f != it->end(); ++f) {
        if (f->is_boolean()) {
          e.fields.push_back({f.key(), f->get<bool>()});
        } else if (f->is_number_integer()) {
          e.fields.push_back({f.key(), f->get<int64_t>()});
        } else if (f->is_number_float()) {
          e.fields.push_back({f.key(), f->get<double>()});
        } else if (f->is_string()) {
          e.fields.push_back({f.key(), f->get<std::string>()});
        } else {
          return Status::Error("field \"" + f.key() + "\" must be a string, number or boolean");
        }
      }
    } else {
      return Status::Error("unknown key \"" + key + "\" (expected name, time, labels, fields)");
    }
  }
  if (e.name.empty()) return Status::Error("missing \"name\"");
  if (e.time == TimePoint{}) return Status::Error("missing \"time\"");
  return e;
}

std::string EventToJson(const Event& e) {
  nlohmann::json j;
  j["name"] = e.name;
  j["time"] = FormatRfc3339(e.time);
  nlohmann::json labels = nlohmann::json::object();
  for (size_t i = 0; i < kLabelCount; ++i) {
    const auto& v = e.labels.Get(static_cast<Label>(i));
    if (!v.empty()) labels[std::string(kLabelNames[i])] = v;
  }
  j["labels"] = std::move(labels);
  nlohmann::json fields = nlohmann::json::object();
  for (const auto& f : e.fields) {
    std::visit([&](const auto& v) { fields[f.name] = v; }, f.value);
  }
  j["fields"] = std::move(fields);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace calprobe::core
