#pragma once
// A scenario: a multi-step journey written as YAML (scenarios/*.yaml,
// docs/scenarios.md). This header is the parsed, validated model; running
// it is runner.h's job. Parsing reports every problem on the node it names
// (FILE:LINE:COL: steps[2].expect.json[0].pointer: …): unknown keys (with a
// did-you-mean), variables used before any step captures them or never
// declared, bad JSON pointers, bad regexes, bad durations.

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config_node.h"
#include "core/event.h"
#include "core/probe.h"
#include "probes/scenario/template.h"

namespace calprobe::probes::scenario {

enum class StepKind {
  kRequest,      // request: an HTTP call
  kWait,         // wait: 2s, or wait_until: "{{expires_at}}"
  kFeasibility,  // feasibility_check: the feasibility probe's options, judged by the oracle
  kIcsFetch,     // ics_fetch: GET a feed, lint it (errors fail the step)
  kIcsContains,  // ics_contains: the feed has an event with this UID and/or start
  kIcsLacks,     // ics_lacks: the feed has no such event
};
std::string_view StepKindName(StepKind k);

struct RequestTemplate {
  std::string method = "GET";
  TextTemplate url;
  std::vector<std::pair<std::string, TextTemplate>> headers;
  std::optional<TextTemplate> body_text;
  std::optional<JsonTemplate> body_json;  // sent as JSON (Content-Type added unless set)
  std::chrono::milliseconds timeout{10000};
};

struct JsonCheck {
  enum class Kind { kEquals, kExists, kMissing, kMatches, kContains, kLacks };
  std::string pointer;
  Kind kind = Kind::kEquals;
  nlohmann::json literal;             // equals/contains/lacks without templates
  std::optional<JsonTemplate> templ;  // equals/contains/lacks with templates
  std::optional<std::regex> regex;    // matches
  std::string regex_text;
};

struct Expect {
  std::vector<int> status;  // empty: any 2xx (request, ics_*)
  std::vector<JsonCheck> json;
  std::optional<std::chrono::milliseconds> latency;
  std::optional<std::regex> body_matches;
  std::string body_matches_text;
  std::vector<std::pair<std::string, std::regex>> headers;  // lower-case name, pattern
  std::vector<std::string> header_texts;
};

struct Capture {
  std::string var;
  std::string json_pointer;  // one of json_pointer / header
  std::string header;        // lower-case
  bool secret = false;
  bool optional = false;  // absent: no error (the variable stays unset)
};

struct Poll {
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds deadline{10000};
};

struct EmitSpec {
  std::string event;
  // Field name -> template; a literal YAML scalar keeps its own type.
  std::vector<std::pair<std::string, TextTemplate>> fields;
  std::vector<std::pair<std::string, nlohmann::json>> literal_fields;
  std::vector<std::pair<core::Label, TextTemplate>> labels;
};

struct IcsMatch {
  std::optional<TextTemplate> uid;    // exact UID
  std::optional<TextTemplate> start;  // RFC 3339 instant equal to DTSTART
};

struct Step {
  std::string name;
  StepKind kind = StepKind::kRequest;
  int line = 0;
  RequestTemplate request;  // request, ics_*
  std::chrono::milliseconds wait{0};
  std::optional<TextTemplate> wait_until;
  IcsMatch match;
  Expect expect;
  std::vector<Capture> captures;
  std::optional<Poll> poll;
  std::vector<EmitSpec> emit;
  std::optional<TextTemplate> when;          // skipped when it renders "", "false" or "0"
  std::string measure;                       // names the duration in events and metrics
  std::shared_ptr<core::Probe> feasibility;  // kFeasibility, bound with the journey's vars
  std::set<std::string> uses;                // every variable the step's templates use
};

struct Scenario {
  std::string name;
  std::string description;
  std::string file;
  Vars vars;  // declared defaults (overrides applied)
  std::set<std::string> secret_vars;
  std::vector<Step> steps;
  std::vector<Step> cleanup;
  std::chrono::milliseconds cleanup_timeout{15000};
  std::string lock;  // rendered `lock:`: journeys with the same lock never run at once in `check`
};

// Parses and validates the scenario at `root` (a scenario file's top level),
// with `overrides` replacing declared vars (target `vars:`, --set). Values of
// secret vars are registered with core::Secrets. `target` names the run's
// target (feasibility_check steps create a feasibility probe for it).
// Errors are recorded on `root` and nullopt returned.
std::optional<Scenario> ParseScenario(const core::ConfigNode& root, const Vars& overrides,
                                      const core::TargetInfo& target);

// True iff a `when:` value means "skip".
bool IsFalsy(std::string_view rendered);

}  // namespace calprobe::probes::scenario
