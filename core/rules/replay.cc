#include "core/rules/replay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/signals/signal_store.h"

namespace calprobe::core::rules {

Result<ReplayStats> Replay(std::vector<Rule> rules, std::istream& in, const std::string& file,
                           const ReplayOptions& options,
                           const std::function<void(const AlertTransition&)>& emit) {
  std::vector<Event> events;
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#') continue;
    auto e = ParseEventJson(line);
    if (!e.ok()) return Status::Error(file + ":" + std::to_string(line_no) + ": " + e.error());
    events.push_back(std::move(*e));
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Event& a, const Event& b) { return a.time < b.time; });
  ReplayStats stats;
  stats.events = events.size();
  if (events.empty() && !(options.start && options.until)) return stats;
  const TimePoint start = options.start.value_or(events.front().time);
  const TimePoint until = options.until.value_or(events.empty() ? start : events.back().time);
  const Duration step = options.step > Duration::zero() ? options.step : std::chrono::seconds(10);

  ManualClock clock(start);
  signals::SignalStore store(clock);
  auto engine = RuleEngine::Create(std::move(rules), &store);
  if (!engine.ok()) return engine.status();
  auto eval = [&] {
    ++stats.evaluations;
    for (const auto& t : (*engine)->Evaluate()) {
      ++stats.transitions;
      emit(t);
    }
  };
  TimePoint next = start;                   // next grid point
  auto run_grid_until = [&](TimePoint t) {  // grid points strictly before t
    while (next < t) {
      clock.Set(next);
      eval();
      next += step;
    }
  };
  size_t i = 0;
  while (i < events.size()) {
    const TimePoint t = std::max(events[i].time, start);
    run_grid_until(t);
    clock.Set(t);
    for (; i < events.size() && std::max(events[i].time, start) == t; ++i) {
      if (!store.Record(events[i]).ok()) ++stats.rejected;
    }
    eval();
    if (next == t) next += step;
  }
  run_grid_until(until);
  if (clock.Now() < until || stats.evaluations == 0) {
    clock.Set(until);
    eval();
  }
  return stats;
}

namespace {

std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

std::string TransitionText(const AlertTransition& t) {
  std::string s = FormatRfc3339(t.at) + " " + t.rule + "{";
  bool first = true;
  for (const auto& [k, v] : t.labels) {
    s += (first ? "" : ",") + k + "=\"" + v + "\"";
    first = false;
  }
  s += "} ";
  s += StateName(t.from);
  s += " -> ";
  s += StateName(t.to);
  s += " value=" + Num(t.value) + " severity=" + t.severity;
  return s;
}

std::string TransitionJson(const AlertTransition& t) {
  nlohmann::json j;
  j["at"] = FormatRfc3339(t.at);
  j["rule"] = t.rule;
  j["labels"] = t.labels;
  j["from"] = StateName(t.from);
  j["to"] = StateName(t.to);
  j["value"] = std::isnan(t.value) ? nlohmann::json(nullptr) : nlohmann::json(t.value);
  j["severity"] = t.severity;
  j["annotations"] = t.annotations;
  return j.dump();
}

}  // namespace calprobe::core::rules
