#include <gtest/gtest.h>

#include "core/auth/credential_spec.h"
#include "core/auth/credentials.h"
#include "core/auth/jwt.h"
#include "core/tls/cert_check.h"
#include "core/tls/tls_monitor.h"

namespace calprobe::core {
namespace {

std::string B64Url(const std::string& s) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : s) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 63]);
  return out;
}

TEST(JwtTest, DecodesTimeClaimsWithoutCheckingTheSignature) {
  std::string token = B64Url(R"({"alg":"RS256"})") + "." +
                      B64Url(R"({"sub":"x","exp":1800000000,"nbf":1799990000.5})") +
                      ".bm90LWNoZWNrZWQ";
  auto t = auth::DecodeJwtTimes(token);
  ASSERT_TRUE(t);
  EXPECT_EQ(ToUnixSeconds(*t->exp), 1800000000.0);
  EXPECT_EQ(ToUnixSeconds(*t->nbf), 1799990000.5);
  EXPECT_FALSE(t->iat);
}

TEST(JwtTest, RejectsNonJwts) {
  EXPECT_FALSE(auth::DecodeJwtTimes("opaque-token-value"));
  EXPECT_FALSE(auth::DecodeJwtTimes("a.b"));
  EXPECT_FALSE(auth::DecodeJwtTimes("a.b.c.d"));
  EXPECT_FALSE(auth::DecodeJwtTimes(B64Url("{}") + "." + B64Url("[1,2]") + ".x"));
  EXPECT_FALSE(auth::DecodeJwtTimes(B64Url("{}") + ".!!!." + "x"));
  EXPECT_EQ(*auth::Base64UrlDecode("aGk"), "hi");
  EXPECT_EQ(*auth::Base64UrlDecode("aGk="), "hi");
  EXPECT_FALSE(auth::Base64UrlDecode("a"));
}

HttpResponse Reply(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(TokenErrorTest, ClassifiesPerRfc6749) {
  using State = auth::Observation::State;
  auto o = auth::ClassifyTokenError(Reply(401, R"({"error":"invalid_client"})"));
  EXPECT_EQ(o.state, State::kRevoked);
  EXPECT_EQ(o.reason, "credential.revoked");
  o = auth::ClassifyTokenError(
      Reply(400, R"({"error":"invalid_client","error_description":"Client secret has expired"})"));
  EXPECT_EQ(o.state, State::kExpired);
  EXPECT_EQ(o.reason, "credential.expired");
  o = auth::ClassifyTokenError(Reply(400, R"({"error":"invalid_scope"})"));
  EXPECT_EQ(o.reason, "credential.invalid_scope");
  o = auth::ClassifyTokenError(Reply(400, R"({"error":"invalid_request"})"));
  EXPECT_EQ(o.state, State::kUnknown);
  EXPECT_EQ(o.reason, "credential.token_request_rejected");
  o = auth::ClassifyTokenError(Reply(503, "down"));
  EXPECT_EQ(o.state, State::kUnknown);
  EXPECT_EQ(o.reason, "credential.endpoint_error");
  HttpResponse timeout;
  timeout.error = TransportError::kTimeout;
  o = auth::ClassifyTokenError(timeout);
  EXPECT_EQ(o.state, State::kUnknown);
  EXPECT_EQ(o.reason, "credential.endpoint_unreachable");
}

TEST(TlsLevelTest, Thresholds) {
  TimePoint now = std::chrono::system_clock::from_time_t(1'800'000'000);
  auto d = [](int days) { return std::chrono::hours(24 * days); };
  EXPECT_EQ(tls::LevelFor(now + d(30), now, d(21), d(7)), tls::ExpiryLevel::kOk);
  EXPECT_EQ(tls::LevelFor(now + d(21), now, d(21), d(7)), tls::ExpiryLevel::kWarn);
  EXPECT_EQ(tls::LevelFor(now + d(3), now, d(21), d(7)), tls::ExpiryLevel::kCritical);
  EXPECT_EQ(tls::LevelFor(now, now, d(21), d(7)), tls::ExpiryLevel::kExpired);
}

TEST(TlsOriginTest, HostAndPortWithoutUserinfo) {
  std::string host;
  int port = 0;
  ASSERT_TRUE(tls::HttpsOrigin("https://user:pw@api.example:8443/x?token=y", &host, &port));
  EXPECT_EQ(host, "api.example");
  EXPECT_EQ(port, 8443);
  ASSERT_TRUE(tls::HttpsOrigin("https://[::1]/feed.ics", &host, &port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 443);
  EXPECT_FALSE(tls::HttpsOrigin("http://api.example/", &host, &port));
}

TEST(TlsChainTest, NoChainIsInvalidWithAReason) {
  auto c = tls::CheckChain({}, "localhost", "", std::chrono::system_clock::now());
  EXPECT_FALSE(c.has_chain);
  EXPECT_EQ(c.verdict, tls::Verdict::kInvalid);
  EXPECT_EQ(c.error, "the server presented no certificate");
}

}  // namespace
}  // namespace calprobe::core
