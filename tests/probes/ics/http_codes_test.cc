#include "probes/ics/http_codes.h"

#include <gtest/gtest.h>

namespace calprobe::probes::ics {
namespace {

TEST(IcsHttpCodes, StatusCodesMapToTheDocumentedVocabulary) {
  const std::pair<int, std::string_view> cases[] = {
      {200, ""},
      {304, ""},
      {401, "http.auth_required"},
      {403, "http.forbidden"},
      {404, "http.not_found"},
      {410, "http.gone"},
      {429, "http.rate_limited"},
      {500, "http.server_error"},
      {503, "http.server_error"},
      {302, "http.redirect_limit"},
      {400, "http.client_error"},
  };
  for (const auto& [status, code] : cases) EXPECT_EQ(StatusCode(status), code) << status;
}

TEST(IcsHttpCodes, FetchFindingUsesTransportCodes) {
  core::HttpResponse r;
  r.error = core::TransportError::kTimeout;
  r.error_message = "Operation timed out";
  auto f = FetchFinding(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->code, "http.timeout");
  EXPECT_EQ(f->severity, calendar::Severity::kError);
  EXPECT_FALSE(f->fix.empty());

  core::HttpResponse ok;
  ok.status = 200;
  EXPECT_FALSE(FetchFinding(ok));

  core::HttpResponse limited;
  limited.status = 429;
  limited.headers.emplace_back("retry-after", "120");
  auto g = FetchFinding(limited);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->code, "http.rate_limited");
  EXPECT_NE(g->message.find("Retry-After: 120"), std::string::npos);
}

TEST(IcsHttpCodes, RetryAfterSecondsAndHttpDate) {
  core::TimePoint now = std::chrono::system_clock::from_time_t(1'800'000'000);
  EXPECT_EQ(ParseRetryAfter("120", now), std::chrono::seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 7 ", now), std::chrono::seconds(7));
  EXPECT_FALSE(ParseRetryAfter("", now));
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_FALSE(ParseRetryAfter("-5", now));
  // 1800000000 = Fri, 15 Jan 2027 08:00:00 GMT
  EXPECT_EQ(ParseRetryAfter("Fri, 15 Jan 2027 08:01:00 GMT", now), std::chrono::seconds(60));
  EXPECT_EQ(ParseRetryAfter("Fri, 15 Jan 2027 07:00:00 GMT", now), std::chrono::seconds(0));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now), std::chrono::seconds(365LL * 86400));
}

TEST(IcsHttpCodes, ContentTypeAndWebcal) {
  EXPECT_TRUE(IsCalendarContentType("text/calendar"));
  EXPECT_TRUE(IsCalendarContentType("Text/Calendar; charset=UTF-8"));
  EXPECT_FALSE(IsCalendarContentType("text/html; charset=utf-8"));
  EXPECT_FALSE(IsCalendarContentType(""));
  EXPECT_EQ(NormalizeFeedUrl("webcal://example.com/a.ics"), "https://example.com/a.ics");
  EXPECT_EQ(NormalizeFeedUrl("WEBCALS://example.com/a.ics"), "https://example.com/a.ics");
  EXPECT_EQ(NormalizeFeedUrl("http://example.com/a.ics"), "http://example.com/a.ics");
}

}  // namespace
}  // namespace calprobe::probes::ics
