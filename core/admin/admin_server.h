#pragma once
// The agent's HTTP server (Boost.Beast), loopback by default: /metrics,
// /healthz, /readyz, /api/v1/*, the dashboard. Handlers are plain functions
// from request to response, registered per method and path; Beast stays in
// admin_server.cc. Runs on the agent's io_context thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace boost::asio {
class io_context;
}

namespace calprobe::core {

struct AdminRequest {
  std::string method;
  std::string path;   // without the query string
  std::string query;  // after '?', undecoded
  std::string body;
  std::string authorization;
  std::string content_type;
  // Value of query parameter `name` (percent-decoded), or empty.
  std::string Param(std::string_view name) const;
};

struct AdminResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  static AdminResponse Json(int status, std::string body) {
    return {status, "application/json", std::move(body), {}};
  }
  static AdminResponse Text(int status, std::string body) {
    return {status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(boost::asio::io_context& io, uint64_t max_body_bytes);
  ~AdminServer();

  // Binds HOST:PORT (port 0 picks a free port) and starts accepting.
  Status Listen(const std::string& host_port);
  uint16_t port() const;
  // Exact-path route; a path ending in "/*" matches any path with that prefix.
  void Route(std::string method, std::string path, Handler handler);
  void Stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace calprobe::core
