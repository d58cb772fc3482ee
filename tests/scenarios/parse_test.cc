// Scenario file validation: every problem is reported like the agent
// config's (FILE:LINE:COL: PATH: message), with a did-you-mean where a typo
// is likely. Also: every shipped scenario is valid.

#include <gtest/gtest.h>

#include "core/config/config_node.h"
#include "probes/scenario/scenario.h"
#include "probes/scenario/scenario_probe.h"

namespace calprobe::probes::scenario {
namespace {

struct Parsed {
  std::optional<Scenario> scenario;
  std::string errors;
};

Parsed Parse(const std::string& yaml, const Vars& overrides = {}) {
  core::ConfigErrors errors;
  core::ConfigNode root(YAML::Load(yaml), std::make_shared<const std::string>("j.yaml"), "",
                        &errors);
  core::TargetInfo target;
  target.name = "t";
  Parsed p;
  p.scenario = ParseScenario(root, overrides, target);
  p.errors = errors.ToString();
  return p;
}

const char kGood[] = R"(scenario: demo
vars:
  base_url: http://127.0.0.1:1
  api_token: secret-token-value
steps:
  - name: create
    request:
      method: POST
      url: "{{base_url}}/api/holds"
      headers: {Authorization: "Bearer {{api_token}}"}
      body: {ttl_seconds: "{{ttl}}"}
    expect: {status: 201, json: [{pointer: /hold_id, exists: true}]}
    capture: {hold_id: /hold_id}
  - name: check
    request: {url: "{{base_url}}/api/holds/{{hold_id}}"}
    poll_until: {interval: 100ms, deadline: 2s}
cleanup:
  - name: release
    request: {method: DELETE, url: "{{base_url}}/api/holds/{{hold_id}}"}
)";

TEST(ScenarioParse, ValidScenarioWithOverrides) {
  std::string yaml = kGood;
  yaml.replace(yaml.find("{{ttl}}"), 7, "60");
  auto p = Parse(yaml, {{"base_url", "http://override:2"}, {"not_declared", "x"}});
  ASSERT_TRUE(p.scenario) << p.errors;
  EXPECT_EQ(p.scenario->name, "demo");
  EXPECT_EQ(p.scenario->vars.at("base_url"), "http://override:2");
  EXPECT_EQ(p.scenario->vars.count("not_declared"), 0u);  // --set applies where declared
  ASSERT_EQ(p.scenario->steps.size(), 2u);
  EXPECT_EQ(p.scenario->steps[0].request.method, "POST");
  EXPECT_EQ(p.scenario->steps[0].expect.status, std::vector<int>{201});
  ASSERT_TRUE(p.scenario->steps[1].poll);
  EXPECT_EQ(p.scenario->steps[1].poll->deadline, std::chrono::milliseconds(2000));
  EXPECT_EQ(p.scenario->cleanup.size(), 1u);
  EXPECT_TRUE(p.scenario->cleanup[0].uses.count("hold_id"));
}

TEST(ScenarioParse, UndefinedVariableWithSuggestion) {
  auto p = Parse(kGood);
  EXPECT_FALSE(p.scenario);
  EXPECT_EQ(p.errors,
            "j.yaml:11:13: steps[0].request.body: undefined variable \"{{ttl}}\" (declare it under "
            "vars: or capture it in an earlier step)\n");
  std::string typo = kGood;
  typo.replace(typo.find("{{ttl}}"), 7, "1");
  typo.replace(typo.find("holds/{{hold_id}}\"}\n    poll"), 17, "holds/{{hold_idd}}");
  p = Parse(typo);
  EXPECT_NE(
      p.errors.find("j.yaml:15:20: steps[1].request.url: undefined variable \"{{hold_idd}}\"; "
                    "did you mean \"hold_id\"?"),
      std::string::npos)
      << p.errors;
}

TEST(ScenarioParse, CaptureIsNotUsableBeforeItsStep) {
  auto p = Parse(R"(scenario: s
vars: {u: "http://x"}
steps:
  - name: a
    request: {url: "{{u}}/{{id}}"}
  - name: b
    request: {url: "{{u}}"}
    capture: {id: /id}
)");
  EXPECT_EQ(
      p.errors,
      "j.yaml:5:20: steps[0].request.url: undefined variable \"{{id}}\" (declare it under vars: or "
      "capture it in an earlier step)\n");
}

TEST(ScenarioParse, UnknownKeysBadPointersRegexesAndKinds) {
  auto p = Parse(R"(scenario: s
vars: {u: "http://x"}
steps:
  - name: a
    request: {url: "{{u}}"}
    expekt: {status: 200}
  - name: b
    request: {url: "{{u}}"}
    expect: {json: [{pointer: slots/0, exists: true}, {pointer: /a, matches: "("}]}
    capture: {x: "no-slash"}
  - name: c
    wait: 1s
    request: {url: "{{u}}"}
  - name: c
    ics_contains: {url: "{{u}}"}
)");
  EXPECT_FALSE(p.scenario);
  const std::string& e = p.errors;
  EXPECT_NE(e.find("j.yaml:6:5: steps[0].expekt: unknown key \"expekt\"; did you mean \"expect\"?"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("j.yaml:9:31: steps[1].expect.json[0].pointer: bad JSON pointer \"slots/0\"; a "
                   "pointer starts with / (RFC 6901), e.g. /slots/0/start"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("steps[1].expect.json[1].matches: invalid regular expression"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("steps[1].capture.x: bad JSON pointer \"no-slash\""), std::string::npos) << e;
  EXPECT_NE(e.find("j.yaml:11:5: steps[2]: a step has exactly one of request, wait, wait_until, "
                   "feasibility_check, ics_fetch, ics_contains, ics_lacks"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("steps[3].name: duplicate step name \"c\""), std::string::npos) << e;
  EXPECT_NE(e.find("steps[3].ics_contains: give uid:, start: or both to identify the event"),
            std::string::npos)
      << e;
}

TEST(ScenarioParse, NeedsSteps) {
  auto p = Parse("scenario: s\nsteps: []\n");
  EXPECT_EQ(p.errors, "j.yaml:2:8: steps: a scenario needs a non-empty steps: list\n");
}

// The probe factory: shipped scenarios by name, target vars checked.
std::string Create(const std::string& yaml) {
  core::ConfigErrors errors;
  core::ConfigNode n(YAML::Load(yaml), std::make_shared<const std::string>("agent.yaml"),
                     "targets[0].scenario", &errors);
  core::TargetInfo target;
  target.name = "t";
  auto probe = NewFactory()->Create(n, target);
  EXPECT_EQ(probe == nullptr, !errors.empty());
  return errors.ToString();
}

TEST(ScenarioProbeFactory, EveryShippedScenarioIsValid) {
  ASSERT_EQ(ShippedScenarioNames(),
            (std::vector<std::string>{"hold-to-confirm", "hold-expiry", "feed-security",
                                      "calendar-connect"}));
  for (const auto& name : ShippedScenarioNames()) {
    EXPECT_EQ(Create("name: " + name + "\nvars: {base_url: 'http://127.0.0.1:9'}\n"), "") << name;
  }
}

TEST(ScenarioProbeFactory, UnknownNameAndUndeclaredVar) {
  EXPECT_EQ(
      Create("name: hold-to-confrim\n"),
      "agent.yaml:1:7: targets[0].scenario.name: unknown scenario \"hold-to-confrim\" (shipped: "
      "hold-to-confirm, hold-expiry, feed-security, calendar-connect; use file: for your own)\n");
  EXPECT_EQ(
      Create("name: hold-expiry\nvars: {provider: x}\n"),
      "agent.yaml:2:18: targets[0].scenario.vars.provider: scenario \"hold-expiry\" declares no "
      "variable \"provider\" (declared: base_url, duration_minutes, hold_ttl_seconds, "
      "provider_id)\n");
  EXPECT_NE(
      Create("file: /nonexistent/j.yaml\n").find("cannot read scenario file /nonexistent/j.yaml"),
      std::string::npos);
}

}  // namespace
}  // namespace calprobe::probes::scenario
