// Scenario text templates: placeholders, instant offsets, filters, typing
// and the errors for bad placeholders.

#include "probes/scenario/template.h"

#include <gtest/gtest.h>

#include "core/event.h"

namespace calprobe::probes::scenario {
namespace {

const core::TimePoint kNow = *core::ParseRfc3339("2027-03-15T09:00:00Z");

std::string Render(const std::string& text, const Vars& vars) {
  auto t = TextTemplate::Parse(text);
  EXPECT_TRUE(t.ok()) << t.error();
  auto r = t->Render(vars, kNow);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : "";
}

TEST(ScenarioTemplate, SubstitutesVariablesAndLiterals) {
  EXPECT_EQ(Render("{{base_url}}/api/holds/{{ hold_id }}",
                   {{"base_url", "http://h:1"}, {"hold_id", "h7"}}),
            "http://h:1/api/holds/h7");
  EXPECT_EQ(Render("no placeholders", {}), "no placeholders");
}

TEST(ScenarioTemplate, NowAndOffsetsAreUtcInstants) {
  EXPECT_EQ(Render("{{now}}", {}), "2027-03-15T09:00:00Z");
  EXPECT_EQ(Render("{{now+2d}}", {}), "2027-03-17T09:00:00Z");
  EXPECT_EQ(Render("{{now-90m}}", {}), "2027-03-15T07:30:00Z");
  // A captured local-offset instant is shifted and written in UTC.
  EXPECT_EQ(Render("{{slot_start+30m}}", {{"slot_start", "2027-03-15T09:00:00-04:00"}}),
            "2027-03-15T13:30:00Z");
}

TEST(ScenarioTemplate, Filters) {
  EXPECT_EQ(Render("?token={{t|url}}", {{"t", "a b&c=d/é"}}), "?token=a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(Render("{{s|ics}}", {{"s", "2027-03-15T09:00:00-04:00"}}), "20270315T130000Z");
  EXPECT_EQ(Render("{{ttl|minutes}}", {{"ttl", "120"}}), "2");
  EXPECT_EQ(Render("{{ttl|minutes}}", {{"ttl", "90"}}), "1.5");
}

TEST(ScenarioTemplate, MissingValueIsAnErrorNamingTheVariable) {
  auto t = TextTemplate::Parse("{{base_url}}/x/{{hold_id}}");
  ASSERT_TRUE(t.ok());
  auto r = t->Render({{"base_url", "u"}}, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "variable \"hold_id\" has no value");
  auto offset = TextTemplate::Parse("{{x+1h}}")->Render({{"x", "soon"}}, kNow);
  ASSERT_FALSE(offset.ok());
  EXPECT_EQ(offset.error(), "{{x±…}} needs an RFC 3339 instant, \"x\" is \"soon\"");
}

TEST(ScenarioTemplate, ParseErrors) {
  EXPECT_EQ(TextTemplate::Parse("{{a").error(),
            "unclosed \"{{\" at offset 0; placeholders look like {{hold_id}}");
  EXPECT_EQ(TextTemplate::Parse("{{a|upper}}").error(),
            "unknown filter \"|upper\" in {{a}} (filters: url, string, ics, minutes)");
  EXPECT_EQ(TextTemplate::Parse("{{now+2x}}").error(),
            "bad offset \"2x\" in {{now+2x}}; expected a duration such as 30m or 2d");
  EXPECT_EQ(TextTemplate::Parse("{{9lives}}").error(),
            "bad variable name \"9lives\" in a placeholder; names use letters, digits and _");
}

TEST(ScenarioTemplate, VariablesAndTyping) {
  auto t = TextTemplate::Parse("{{a}}-{{now+1h}}-{{b|url}}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Variables(), (std::vector<std::string>{"a", "now", "b"}));
  EXPECT_FALSE(t->IsSolePlaceholder());
  EXPECT_TRUE(TextTemplate::Parse("{{a}}")->IsSolePlaceholder());
  EXPECT_TRUE(TextTemplate::Parse("{{a|string}}")->ForcedString());
  EXPECT_EQ(TypedValue("120"), nlohmann::json(120));
  EXPECT_EQ(TypedValue("1.5"), nlohmann::json(1.5));
  EXPECT_EQ(TypedValue("true"), nlohmann::json(true));
  EXPECT_EQ(TypedValue("h12"), nlohmann::json("h12"));
  EXPECT_EQ(TypedValue(""), nlohmann::json(""));
}

TEST(ScenarioTemplate, JsonBodiesTypeSolePlaceholders) {
  auto t = JsonTemplate::Parse(nlohmann::json::parse(
      R"({"provider_id":"{{p}}","ttl_seconds":"{{ttl}}","note":"ttl {{ttl}}","id":"{{ttl|string}}","n":[1,"{{flag}}"]})"));
  ASSERT_TRUE(t.ok()) << t.error();
  auto r = t->Render({{"p", "synthetic-test"}, {"ttl", "120"}, {"flag", "false"}}, kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(
      *r,
      nlohmann::json::parse(
          R"({"provider_id":"synthetic-test","ttl_seconds":120,"note":"ttl 120","id":"120","n":[1,false]})"));
  auto bad = JsonTemplate::Parse(nlohmann::json::parse(R"({"a":{"b":["{{x"]}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "/a/b/0: unclosed \"{{\" at offset 0; placeholders look like {{hold_id}}");
}

}  // namespace
}  // namespace calprobe::probes::scenario
