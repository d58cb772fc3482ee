// CurlHttpClient against a real server on 127.0.0.1:0 (the AdminServer) in the
// same io_context: status, headers, limits, redirects and transport errors.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include "core/admin/admin_server.h"
#include "core/http/curl_client.h"

namespace calprobe::core {
namespace {

class HttpClientTest : public testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<AdminServer>(io_, 1 << 20);
    server_->Route("GET", "/ok", [](const AdminRequest&) {
      AdminResponse r = AdminResponse::Text(200, "hello");
      r.headers.emplace_back("ETag", "\"v1\"");
      return r;
    });
    server_->Route("GET", "/big", [](const AdminRequest&) {
      return AdminResponse::Text(200, std::string(100000, 'x'));
    });
    server_->Route("GET", "/loop", [](const AdminRequest&) {
      AdminResponse r = AdminResponse::Text(302, "");
      r.headers.emplace_back("Location", "/loop");
      return r;
    });
    server_->Route("GET", "/hop", [](const AdminRequest&) {
      AdminResponse r = AdminResponse::Text(301, "");
      r.headers.emplace_back("Location", "/ok");
      return r;
    });
    server_->Route("POST", "/echo", [](const AdminRequest& q) {
      return AdminResponse::Text(200, q.body + "|" + q.authorization);
    });
    ASSERT_TRUE(server_->Listen("127.0.0.1:0").ok());
    client_ = std::make_unique<CurlHttpClient>(io_);
  }

  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + path;
  }

  HttpResponse Fetch(HttpRequest req) {
    HttpResponse out;
    bool done = false;
    client_->Fetch(std::move(req), [&](HttpResponse r) {
      out = std::move(r);
      done = true;
    });
    io_.restart();
    while (!done && io_.run_one()) {
    }
    return out;
  }

  boost::asio::io_context io_;
  std::unique_ptr<AdminServer> server_;
  std::unique_ptr<CurlHttpClient> client_;
};

TEST_F(HttpClientTest, FetchesStatusHeadersBodyAndTimings) {
  HttpRequest req;
  req.url = Url("/ok");
  HttpResponse r = Fetch(req);
  ASSERT_TRUE(r.ok()) << r.error_message;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.Header("etag"), "\"v1\"");
  EXPECT_GT(r.timings.total, 0);
  EXPECT_GE(r.timings.total, r.timings.first_byte);
  EXPECT_EQ(client_->InFlight(), 0u);
}

TEST_F(HttpClientTest, PostsBodyAndHeaders) {
  HttpRequest req;
  req.method = "POST";
  req.url = Url("/echo");
  req.body = "payload";
  req.headers = {{"Authorization", "Bearer t"}};
  HttpResponse r = Fetch(req);
  EXPECT_EQ(r.body, "payload|Bearer t");
}

TEST_F(HttpClientTest, BodyLimit) {
  HttpRequest req;
  req.url = Url("/big");
  req.max_body_bytes = 1000;
  HttpResponse r = Fetch(req);
  EXPECT_EQ(r.error, TransportError::kTooLarge);
  EXPECT_EQ(TransportErrorCode(r.error), "http.too_large");
}

TEST_F(HttpClientTest, RedirectsFollowedAndLimited) {
  HttpRequest req;
  req.url = Url("/hop");
  req.max_redirects = 3;
  HttpResponse r = Fetch(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.redirect_count, 1);
  ASSERT_EQ(r.redirect_chain.size(), 1u);
  EXPECT_EQ(r.redirect_chain[0], "/ok");
  req.url = Url("/loop");
  r = Fetch(req);
  EXPECT_EQ(r.error, TransportError::kRedirectLimit);
  req.max_redirects = 0;
  r = Fetch(req);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.status, 302);
}

TEST_F(HttpClientTest, ConnectionRefused) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);  // bound then closed: nothing listens there
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  HttpResponse r = Fetch(req);
  EXPECT_EQ(r.error, TransportError::kConnectionRefused) << r.error_message;
}

TEST_F(HttpClientTest, TimeoutWhenNoResponse) {
  // A listener that never accepts: the kernel completes the handshake, no reply.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  req.timeout = std::chrono::milliseconds(200);
  HttpResponse r = Fetch(req);
  close(fd);
  EXPECT_EQ(r.error, TransportError::kTimeout) << r.error_message;
}

TEST_F(HttpClientTest, ManyConcurrentTransfersOnOneThread) {
  int done = 0, ok = 0;
  for (int i = 0; i < 200; ++i) {
    HttpRequest req;
    req.url = Url("/ok");
    client_->Fetch(req, [&](HttpResponse r) {
      ++done;
      ok += r.ok() && r.body == "hello";
    });
  }
  EXPECT_EQ(client_->InFlight(), 200u);
  io_.restart();
  while (done < 200 && io_.run_one()) {
  }
  EXPECT_EQ(ok, 200);
}

}  // namespace
}  // namespace calprobe::core
