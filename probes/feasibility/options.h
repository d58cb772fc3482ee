#pragma once
// The feasibility probe's options (the map under a target's `feasibility:`
// key; docs/probes/feasibility.md) and building the HTTP request of one run.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config_node.h"
#include "core/http/http_client.h"
#include "probes/feasibility/judge.h"
#include "probes/feasibility/response_map.h"
#include "probes/feasibility/template.h"
#include "probes/feasibility/truth_config.h"
#include "probes/feasibility/window.h"

namespace calprobe::probes::feasibility {

struct RequestSpec {
  std::string method = "GET";
  Template url;
  std::vector<std::pair<std::string, Template>> headers;
  std::optional<Template> body_text;      // body: "a string"
  std::optional<JsonTemplate> body_json;  // body: {a: map} sent as JSON
  std::vector<int> expect_status;         // empty: any 2xx
  uint64_t max_body_bytes = 8 * 1024 * 1024;
  std::string auth;  // a credential under `credentials:` (docs/credentials.md); empty: none
};

enum class NowSource {
  kAgent,       // the agent's clock
  kDateHeader,  // the response's Date header (systems under test with simulated time)
};

struct Options {
  std::string provider_id;
  RequestSpec request;
  ResponseMapping response;
  WindowSpec window;
  TimeFormat time_format = TimeFormat::kUtc;
  NowSource now_from = NowSource::kAgent;
  JudgeOptions judge;
  std::optional<std::chrono::milliseconds> latency_budget;
  TruthConfig truth;
};

// Reads and validates the options; records errors on `n` (unknown keys
// included) and returns nullopt when anything is wrong.
std::optional<Options> ParseOptions(const core::ConfigNode& n);

// The request of one run with the variables substituted (URL values
// percent-encoded; a JSON body gets Content-Type: application/json unless set).
core::HttpRequest BuildRequest(const RequestSpec& spec, const TemplateVars& vars);

}  // namespace calprobe::probes::feasibility
