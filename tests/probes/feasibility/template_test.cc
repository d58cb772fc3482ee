#include "probes/feasibility/template.h"

#include <gtest/gtest.h>

#include "probes/feasibility/options.h"

namespace calprobe::probes::feasibility {
namespace {

const TemplateVars kVars = {{"provider_id", "p 1"},
                            {"from", "2027-03-15T00:00:00+01:00"},
                            {"to", "2027-03-22T00:00:00Z"},
                            {"duration_minutes", "30"},
                            {"now", "2027-03-14T12:00:00Z"}};

TEST(FeasibilityTemplateTest, RendersVariablesAndLiterals) {
  auto t = Template::Parse("/p/{{provider_id}}?from={{from}}&d={{ duration_minutes }}");
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(t->Render(kVars), "/p/p 1?from=2027-03-15T00:00:00+01:00&d=30");
  EXPECT_EQ(t->Render(kVars, Escape::kUrl), "/p/p%201?from=2027-03-15T00%3A00%3A00%2B01%3A00&d=30");
}

TEST(FeasibilityTemplateTest, UnknownVariableIsAnErrorNamingIt) {
  auto t = Template::Parse("x={{start}}");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(),
            "unknown template variable \"{{start}}\" (known: provider_id, from, to, "
            "duration_minutes, now)");
}

TEST(FeasibilityTemplateTest, UnclosedPlaceholderIsAnError) {
  auto t = Template::Parse("x={{from");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("unclosed \"{{\" at offset 2"), std::string::npos);
}

TEST(FeasibilityTemplateTest, EnvSyntaxIsLeftAlone) {
  // ${ENV} was expanded by the config loader; a lone "$" or "{" is literal.
  auto t = Template::Parse("a{b}$c");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->Render(kVars), "a{b}$c");
}

TEST(FeasibilityJsonTemplateTest, GraphQlBodyWithNumericDuration) {
  nlohmann::json body = {{"query", "query($p: ID!) { availability(provider: $p) { begins } }"},
                         {"variables",
                          {{"p", "{{provider_id}}"},
                           {"range", {"{{from}}", "{{to}}"}},
                           {"minutes", "{{duration_minutes}}"},
                           {"note", "at {{now}}"}}}};
  auto t = JsonTemplate::Parse(body);
  ASSERT_TRUE(t.ok()) << t.error();
  nlohmann::json out = t->Render(kVars);
  EXPECT_EQ(out["variables"]["p"], "p 1");
  EXPECT_EQ(out["variables"]["range"][1], "2027-03-22T00:00:00Z");
  EXPECT_EQ(out["variables"]["minutes"], 30);
  EXPECT_EQ(out["variables"]["note"], "at 2027-03-14T12:00:00Z");
}

TEST(FeasibilityJsonTemplateTest, ErrorNamesThePointer) {
  auto t = JsonTemplate::Parse({{"variables", {{"x", {"ok", "{{bogus}}"}}}}});
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().rfind("/variables/x/1: unknown template variable", 0), 0u) << t.error();
}

TEST(FeasibilityBuildRequestTest, JsonBodyGetsContentType) {
  RequestSpec spec;
  spec.method = "POST";
  spec.url = *Template::Parse("http://127.0.0.1:1/graphql");
  spec.headers.emplace_back("Authorization", *Template::Parse("Bearer abc"));
  spec.body_json = *JsonTemplate::Parse({{"p", "{{provider_id}}"}});
  core::HttpRequest r = BuildRequest(spec, kVars);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.body, R"({"p":"p 1"})");
  ASSERT_EQ(r.headers.size(), 2u);
  EXPECT_EQ(r.headers[1].first, "Content-Type");
  EXPECT_EQ(r.headers[1].second, "application/json");
}

}  // namespace
}  // namespace calprobe::probes::feasibility
