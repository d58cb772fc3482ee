#include "probes/feasibility/truth_config.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/event.h"
#include "probes/feasibility/response_map.h"

namespace calprobe::probes::feasibility {
namespace {

using calendar::oracle::Span;
using core::ConfigNode;

constexpr std::string_view kDays[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::optional<int> DayIndex(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() < 3) return std::nullopt;
  for (int i = 0; i < 7; ++i) {
    static constexpr std::string_view kFull[7] = {"monday", "tuesday",  "wednesday", "thursday",
                                                  "friday", "saturday", "sunday"};
    if (s == kDays[i] || s == kFull[i]) return i;
  }
  return std::nullopt;
}

// "mon", "mon-fri", "weekdays", "weekends", "every day" (one term of a list).
std::optional<uint8_t> ParseDayTerm(std::string term) {
  while (!term.empty() && std::isspace(static_cast<unsigned char>(term.back()))) term.pop_back();
  while (!term.empty() && std::isspace(static_cast<unsigned char>(term.front()))) term.erase(0, 1);
  for (char& c : term) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (term == "weekdays") return calendar::oracle::kWeekdays;
  if (term == "weekends") return calendar::oracle::kSaturday | calendar::oracle::kSunday;
  if (term == "every day" || term == "everyday" || term == "daily") {
    return calendar::oracle::kEveryDay;
  }
  size_t dash = term.find('-');
  if (dash == std::string::npos) {
    auto d = DayIndex(term);
    if (!d) return std::nullopt;
    return static_cast<uint8_t>(1u << *d);
  }
  auto a = DayIndex(term.substr(0, dash)), b = DayIndex(term.substr(dash + 1));
  if (!a || !b) return std::nullopt;
  uint8_t mask = 0;
  for (int d = *a;; d = (d + 1) % 7) {  // "fri-mon" wraps around the week
    mask |= static_cast<uint8_t>(1u << d);
    if (d == *b) break;
  }
  return mask;
}

std::string ResolvePath(const std::string& config_file, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute() || config_file.empty()) return path;
  return (std::filesystem::path(config_file).parent_path() / p).string();
}

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<core::TimePoint> ReadInstant(const ConfigNode& n) {
  auto s = n.AsString();
  if (!s) return std::nullopt;
  auto t = core::ParseRfc3339(*s);
  if (!t) n.Error("expected an RFC 3339 time with an offset, e.g. 2027-03-15T12:00:00-04:00");
  return t;
}

void ReadSpans(const ConfigNode& list, std::vector<Span>* out, std::set<std::string>* bad) {
  if (!list.defined()) return;
  if (!list.IsSequence()) {
    list.Error("expected a list of {start, end} spans (RFC 3339 times)");
    bad->insert(list.path());
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    ConfigNode s = list.At(i);
    if (!s.ExpectMap()) {
      bad->insert(s.path());
      continue;
    }
    auto start = ReadInstant(s["start"]), end = ReadInstant(s["end"]);
    if (!s.Has("start")) s.Error("missing required key \"start\"");
    if (!s.Has("end")) s.Error("missing required key \"end\"");
    s.RejectUnknownKeys();
    if (!start || !end) bad->insert(s.path());
    out->push_back({start.value_or(core::TimePoint{}), end.value_or(core::TimePoint{})});
  }
}

void ReadBusyIcs(const ConfigNode& n, TruthConfig* tc) {
  if (!n.ExpectMap()) return;
  BusyIcsSource& src = tc->busy_ics;
  src.file = n.String("file", "");
  src.url = n.String("url", "");
  if (src.file.empty() == src.url.empty()) {
    n.Error("give exactly one of file: (read at load) or url: (fetched before each run)");
  }
  if (!src.url.empty() && src.url.rfind("http://", 0) != 0 && src.url.rfind("https://", 0) != 0) {
    n["url"].Error("expected an http:// or https:// URL");
  }
  ConfigNode headers = n["headers"];
  if (headers.ExpectMap()) {
    for (const auto& k : headers.Keys()) {
      src.headers.emplace_back(k, headers[k].AsString().value_or(""));
    }
  }
  src.refresh = n.Duration("refresh", src.refresh);
  n.RejectUnknownKeys();
  if (src.file.empty()) return;
  const std::string path = ResolvePath(n.file(), src.file);
  auto text = ReadFile(path);
  if (!text) {
    n["file"].Error("cannot read ICS file " + path);
    return;
  }
  std::string error;
  tc->truth.busy = calendar::oracle::BusyCalendar::FromIcs(*text, path, &error);
  if (!error.empty()) n["file"].Error("cannot parse ICS file " + path + ": " + error);
}

void ReadLiveSpans(const ConfigNode& list, TruthConfig* tc) {
  if (!list.IsSequence()) {
    list.Error("expected a list of {url, headers?, list?, start?, end?}");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    ConfigNode n = list.At(i);
    if (!n.ExpectMap()) continue;
    LiveSpanSource src;
    src.url = n.RequiredString("url");
    if (!src.url.empty() && src.url.rfind("http://", 0) != 0 && src.url.rfind("https://", 0) != 0) {
      n["url"].Error("expected an http:// or https:// URL");
    }
    ConfigNode headers = n["headers"];
    if (headers.ExpectMap()) {
      for (const auto& k : headers.Keys()) {
        src.headers.emplace_back(k, headers[k].AsString().value_or(""));
      }
    }
    for (auto [key, field] : {std::pair{"list", &src.list}, std::pair{"start", &src.start},
                              std::pair{"end", &src.end}}) {
      ConfigNode p = n[key];
      if (!p.defined()) continue;
      auto v = p.AsString();
      if (v && !ValidPointer(*v)) p.Error("\"" + *v + "\" is not a JSON pointer (RFC 6901)");
      if (v) *field = *v;
    }
    n.RejectUnknownKeys();
    tc->live_spans.push_back(std::move(src));
  }
}

// Records one ValidateTruth finding on the deepest config node its path
// ("rules[1].end", relative to `node`) reaches.
void RecordTruthError(const ConfigNode& node, std::string_view rel, const std::string& message) {
  // ConfigNode is never assigned: YAML::Node assignment writes through.
  std::vector<ConfigNode> chain{node};
  size_t pos = 0;
  while (pos < rel.size()) {
    size_t dot = rel.find('.', pos);
    std::string_view seg = rel.substr(pos, dot == std::string_view::npos ? rel.npos : dot - pos);
    pos = dot == std::string_view::npos ? rel.size() : dot + 1;
    size_t bracket = seg.find('[');
    chain.push_back(chain.back()[seg.substr(0, bracket)]);
    if (bracket != std::string_view::npos) {
      chain.push_back(
          chain.back().At(static_cast<size_t>(std::stoul(std::string(seg.substr(bracket + 1))))));
    }
  }
  const ConfigNode* deepest = &chain.front();
  for (const auto& c : chain) {
    if (c.defined()) deepest = &c;
  }
  core::ConfigError e;
  e.file = node.file();
  YAML::Mark m = deepest->raw().Mark();
  if (m.line >= 0) {
    e.line = m.line + 1;
    e.column = m.column + 1;
  }
  e.path = node.path() + (rel.empty() ? "" : "." + std::string(rel));
  e.message = message;
  node.errors()->Add(std::move(e));
}

}  // namespace

std::optional<uint8_t> ParseWeekdays(const ConfigNode& node) {
  std::vector<std::string> terms;
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) terms.push_back(node.At(i).AsString().value_or(""));
  } else if (auto s = node.AsString()) {
    std::stringstream ss(*s);
    for (std::string t; std::getline(ss, t, ',');) terms.push_back(t);
  } else {
    return std::nullopt;
  }
  uint8_t mask = 0;
  for (const auto& t : terms) {
    auto m = ParseDayTerm(t);
    if (!m) {
      node.Error("unknown weekday \"" + t +
                 "\" (use mon..sun, ranges like mon-fri, weekdays, weekends or every day)");
      return std::nullopt;
    }
    mask |= *m;
  }
  return mask;
}

std::optional<TruthConfig> ReadTruth(const ConfigNode& node) {
  if (!node.ExpectMap()) {
    if (!node.defined()) node.Error("missing the provider's truth (timezone, rules, ...)");
    return std::nullopt;
  }
  const size_t before = node.errors()->size();
  std::set<std::string> bad;  // paths with a reading error: no duplicate findings
  TruthConfig tc;
  auto& t = tc.truth;
  t.timezone = node.String("timezone", "");
  t.slot_minutes = static_cast<int>(node.Int("slot_minutes", 30, -100000, 100000));
  // Default: the slot length (30 when that is invalid: reported once, on slot_minutes).
  t.granularity_minutes = static_cast<int>(
      node.Int("granularity_minutes", t.slot_minutes > 0 ? t.slot_minutes : 30, -100000, 100000));
  t.lead_time_hours = static_cast<int>(node.Int("lead_time_hours", 0, -100000, 100000));
  ConfigNode rules = node["rules"];
  if (!rules.defined()) {
    node.Error(
        "missing required key \"rules\" (weekly availability, e.g. "
        "[{weekdays: mon-fri, start: \"09:00\", end: \"17:00\"}])");
  } else if (!rules.IsSequence()) {
    rules.Error("expected a list of {weekdays, start, end}");
  }
  for (size_t i = 0; rules.IsSequence() && i < rules.size(); ++i) {
    ConfigNode r = rules.At(i);
    calendar::oracle::WeeklyRule rule;
    if (!r.ExpectMap()) {
      bad.insert(r.path());
      t.rules.push_back(rule);
      continue;
    }
    for (const char* key : {"weekdays", "start", "end"}) {
      if (!r.Has(key)) {
        r.Error(std::string("missing required key \"") + key + "\"");
        bad.insert(r[key].path());
      }
    }
    if (r.Has("weekdays")) {
      auto mask = ParseWeekdays(r["weekdays"]);
      if (!mask) bad.insert(r["weekdays"].path());
      rule.weekday_mask = mask.value_or(0);
    }
    for (const char* key : {"start", "end"}) {
      if (!r.Has(key)) continue;
      auto s = r[key].AsString();
      auto m = s ? core::ParseClockTime(*s) : std::nullopt;
      if (!m) {
        if (s) r[key].Error("expected a local time like 09:00 (24:00 for the end of the day)");
        bad.insert(r[key].path());
      }
      (std::string_view(key) == "start" ? rule.start_minute : rule.end_minute) = m.value_or(0);
    }
    r.RejectUnknownKeys();
    t.rules.push_back(rule);
  }
  ReadSpans(node["blocked"], &t.blocked, &bad);
  ReadSpans(node["extra"], &t.extra, &bad);
  ReadSpans(node["holds"], &t.holds, &bad);
  ReadSpans(node["bookings"], &t.bookings, &bad);
  if (ConfigNode busy = node["busy_ics"]; busy.defined()) ReadBusyIcs(busy, &tc);
  if (ConfigNode live = node["live_spans"]; live.defined()) ReadLiveSpans(live, &tc);
  node.RejectUnknownKeys();

  const std::string& prefix = node.path();  // messages name full config paths
  for (const auto& e : calendar::oracle::ValidateTruth(t, prefix)) {
    std::string_view rel = std::string_view(e.path).substr(prefix.size());
    if (!rel.empty() && rel[0] == '.') rel.remove_prefix(1);
    const std::string full = node.path() + (rel.empty() ? "" : "." + std::string(rel));
    bool shadowed = false;
    for (const auto& b : bad) {
      if (full.rfind(b, 0) == 0 || b.rfind(full + ".", 0) == 0) shadowed = true;
    }
    if (!shadowed) RecordTruthError(node, rel, e.message);
  }
  if (node.errors()->size() != before) return std::nullopt;
  return tc;
}

std::optional<TruthConfig> ReadTruthConfig(const ConfigNode& options) {
  const bool inline_truth = options.Has("truth"), file_truth = options.Has("truth_file");
  if (inline_truth && file_truth) {
    options["truth_file"].Error("give either truth: or truth_file:, not both");
    return std::nullopt;
  }
  if (!file_truth) {
    if (!inline_truth) {
      options.Error(
          "missing the provider's truth: declare it inline (truth:) or in a YAML file "
          "(truth_file:)");
      return std::nullopt;
    }
    return ReadTruth(options["truth"]);
  }
  ConfigNode ref = options["truth_file"];
  auto name = ref.AsString();
  if (!name) return std::nullopt;
  const std::string path = ResolvePath(options.file(), *name);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    ref.Error("cannot read truth file " + path + ": " + e.what());
    return std::nullopt;
  }
  ConfigNode file_node(root, std::make_shared<const std::string>(path), ref.path(),
                       options.errors());
  return ReadTruth(file_node);
}

}  // namespace calprobe::probes::feasibility
