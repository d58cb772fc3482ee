#include "probes/ics/diagnose.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "probes/ics/fake_context.h"

namespace calprobe::probes::ics {
namespace {

using testing::FakeHttpClient;
using testing::Feed;
using testing::Status;

std::string ReadCorpus(const std::string& name) {
  const char* env = std::getenv("CALPROBE_SOURCE_DIR");
  std::string dir = env ? env : CALPROBE_SOURCE_DIR_DEFAULT;
  std::ifstream f(dir + "/tests/data/ics/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Report RunUrl(FakeHttpClient& http, const DiagnoseOptions& o = {}) {
  Report out;
  bool called = false;
  DiagnoseUrl(http, "webcal://cal.example/feed.ics?token=s3cr3tvalue", o, [&](Report r) {
    out = std::move(r);
    called = true;
  });
  EXPECT_TRUE(called);
  return out;
}

bool Has(const Report& r, const std::string& code) { return r.finding_counts.count(code) > 0; }

TEST(IcsDiagnose, CleanFileHasNoErrors) {
  Report r = DiagnoseBody("clean_google.ics", ReadCorpus("clean_google.ics"), {});
  EXPECT_FALSE(r.has_error()) << RenderText(r, false);
  EXPECT_TRUE(r.usable);
  EXPECT_GT(r.event_count, 0u);
}

TEST(IcsDiagnose, DefectiveFileReportsCodeLineAndFix) {
  Report r = DiagnoseBody("tz_unknown_tzid.ics", ReadCorpus("tz_unknown_tzid.ics"), {});
  ASSERT_TRUE(Has(r, "tz.unknown_tzid")) << RenderText(r, false);
  std::string text = RenderText(r, false);
  EXPECT_NE(text.find("tz.unknown_tzid"), std::string::npos);
  EXPECT_NE(text.find("fix: "), std::string::npos);
  EXPECT_EQ(text.find("\033["), std::string::npos);  // no colour unless asked
  EXPECT_NE(RenderText(r, true).find("\033["), std::string::npos);
}

TEST(IcsDiagnose, UrlStoryConditionalHonoured) {
  FakeHttpClient http;
  core::HttpResponse first = Feed(3, "1", "\"e1\"");
  first.headers.emplace_back("cache-control", "max-age=300");
  http.responses.push_back(first);
  http.responses.push_back(Status(304));
  Report r = RunUrl(http);
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_EQ(http.requests[0].url, "https://cal.example/feed.ics?token=s3cr3tvalue");
  EXPECT_EQ(r.conditional_honoured, true);
  EXPECT_FALSE(r.has_error());
  EXPECT_FALSE(Has(r, "http.no_conditional_get"));
  EXPECT_EQ(r.source.find("s3cr3tvalue"), std::string::npos);  // redacted in the report
  std::string md = RenderMarkdown(r);
  EXPECT_NE(md.find("honoured"), std::string::npos) << md;
  auto j = nlohmann::json::parse(RenderJson(r));
  EXPECT_EQ(j["conditional_get_honoured"], true);
  EXPECT_EQ(j["http"]["cache_control"], "max-age=300");
}

TEST(IcsDiagnose, ValidatorsIgnored) {
  FakeHttpClient http;
  http.responses.push_back(Feed(3, "1", "\"e1\""));
  http.responses.push_back(Feed(3, "1", "\"e1\""));
  Report r = RunUrl(http);
  EXPECT_EQ(r.conditional_honoured, false);
  EXPECT_TRUE(Has(r, "http.no_conditional_get"));
  EXPECT_FALSE(r.has_error());  // info
}

TEST(IcsDiagnose, NoValidatorsAtAll) {
  FakeHttpClient http;
  http.responses.push_back(Feed(3));
  Report r = RunUrl(http);
  EXPECT_EQ(http.requests.size(), 1u);
  EXPECT_TRUE(Has(r, "http.no_conditional_get"));
}

TEST(IcsDiagnose, TwiceReportsDelta) {
  FakeHttpClient http;
  http.responses.push_back(Feed(3, "1"));
  http.responses.push_back(Feed(4, "2"));
  DiagnoseOptions o;
  o.twice = true;
  Report r = RunUrl(http, o);
  ASSERT_TRUE(r.delta);
  EXPECT_EQ(r.delta->added, 1);
  EXPECT_EQ(r.delta->changed, 1);
}

TEST(IcsDiagnose, StatusesBecomeErrorFindings) {
  const std::pair<int, std::string> cases[] = {
      {401, "http.auth_required"}, {403, "http.forbidden"},    {404, "http.not_found"},
      {410, "http.gone"},          {429, "http.rate_limited"}, {502, "http.server_error"}};
  for (const auto& [status, code] : cases) {
    FakeHttpClient http;
    http.responses.push_back(Status(status));
    Report r = RunUrl(http);
    EXPECT_TRUE(Has(r, code)) << status;
    EXPECT_TRUE(r.has_error()) << status;
    EXPECT_FALSE(r.body_read);
  }
}

TEST(IcsDiagnose, HtmlLoginPage) {
  FakeHttpClient http;
  core::HttpResponse html;
  html.status = 200;
  html.headers.emplace_back("content-type", "text/html; charset=utf-8");
  html.body = "<!DOCTYPE html><html><body>Sign in</body></html>";
  http.responses.push_back(html);
  Report r = RunUrl(http);
  EXPECT_TRUE(Has(r, "http.content_type"));
  EXPECT_TRUE(Has(r, "content.not_ics"));
  EXPECT_TRUE(r.has_error());
  EXPECT_EQ(r.findings.front().code.rfind("http.", 0), 0u);  // transport first
}

}  // namespace
}  // namespace calprobe::probes::ics
