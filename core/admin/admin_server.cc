// The only translation unit that includes Boost.Beast.

#include "core/admin/admin_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <optional>

#include "core/log.h"

namespace calprobe::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string AdminRequest::Param(std::string_view name) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      std::string_view raw = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
      std::string out;
      for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '+') {
          out.push_back(' ');
        } else if (raw[i] == '%' && i + 2 < raw.size() && std::isxdigit(static_cast<unsigned char>(raw[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(raw[i + 2]))) {
          out.push_back(static_cast<char>(std::stoi(std::string(raw.substr(i + 1, 2)), nullptr, 16)));
          i += 2;
        } else {
          out.push_back(raw[i]);
        }
      }
      return out;
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return "";
}

struct AdminServer::Impl : std::enable_shared_from_this<AdminServer::Impl> {
  Impl(asio::io_context& io_context, uint64_t limit)
      : io(io_context), acceptor(io_context), max_body(limit) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  uint64_t max_body;
  std::map<std::pair<std::string, std::string>, Handler> exact;
  std::vector<std::tuple<std::string, std::string, Handler>> prefix;
  bool stopped = false;

  AdminResponse Dispatch(const AdminRequest& r) {
    auto it = exact.find({r.method, r.path});
    if (it != exact.end()) return it->second(r);
    for (auto& [m, p, h] : prefix) {
      if (m == r.method && r.path.rfind(p, 0) == 0) return h(r);
    }
    bool other_method = false;
    for (auto& [k, h] : exact) {
      if (k.second == r.path) other_method = true;
    }
    if (other_method) return AdminResponse::Text(405, "method not allowed\n");
    return AdminResponse::Text(404, "not found: " + r.path + "\n");
  }

  void Accept() {
    auto self = shared_from_this();
    acceptor.async_accept([self](beast::error_code ec, tcp::socket socket) {
      if (self->stopped) return;
      if (!ec) std::make_shared<Session>(self, std::move(socket))->Read();
      self->Accept();
    });
  }

  struct Session : std::enable_shared_from_this<Session> {
    Session(std::shared_ptr<Impl> server, tcp::socket s)
        : impl(std::move(server)), stream(std::move(s)) {}

    void Read() {
      parser.emplace();
      parser->body_limit(impl->max_body);
      parser->header_limit(64 * 1024);
      stream.expires_after(std::chrono::seconds(30));
      auto self = shared_from_this();
      http::async_read(stream, buffer, *parser, [self](beast::error_code ec, size_t) {
        self->OnRead(ec);
      });
    }

    void OnRead(beast::error_code ec) {
      if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
          ec == asio::error::connection_reset || ec == asio::error::eof) {
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        return;
      }
      if (ec == http::error::body_limit) {
        Reply(AdminResponse::Text(413, "request body larger than " + std::to_string(impl->max_body) +
                                           " bytes (agent.ingest_max_body); send smaller batches\n"),
              11, false);
        return;
      }
      if (ec) return;
      auto& req = parser->get();
      AdminRequest r;
      r.method = std::string(req.method_string());
      std::string target(req.target());
      size_t q = target.find('?');
      r.path = target.substr(0, q);
      if (q != std::string::npos) r.query = target.substr(q + 1);
      r.body = std::move(req.body());
      r.authorization = std::string(req[http::field::authorization]);
      r.content_type = std::string(req[http::field::content_type]);
      AdminResponse resp;
      try {
        resp = impl->Dispatch(r);
      } catch (const std::exception& e) {
        Log(LogLevel::kError, "admin handler failed").Kv("path", r.path).Kv("error", e.what());
        resp = AdminResponse::Text(500, "internal error\n");
      }
      Reply(std::move(resp), req.version(), req.keep_alive());
    }

    void Reply(AdminResponse r, unsigned version, bool keep_alive) {
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(r.status), version);
      res->set(http::field::server, "calprobe");
      res->set(http::field::content_type, r.content_type);
      for (auto& [k, v] : r.headers) res->set(k, v);
      res->keep_alive(keep_alive);
      res->body() = std::move(r.body);
      res->prepare_payload();
      auto self = shared_from_this();
      http::async_write(stream, *res, [self, res](beast::error_code ec, size_t) {
        if (ec || !res->keep_alive()) {
          beast::error_code ignored;
          self->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
          return;
        }
        self->Read();
      });
    }

    std::shared_ptr<Impl> impl;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
  };
};

AdminServer::AdminServer(asio::io_context& io, uint64_t max_body_bytes)
    : impl_(std::make_shared<Impl>(io, max_body_bytes)) {}
AdminServer::~AdminServer() { Stop(); }

Status AdminServer::Listen(const std::string& host_port) {
  size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return Status::Error("listen address needs HOST:PORT");
  std::string host = host_port.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Status::Error("listen address \"" + host + "\" is not an IP address");
  int port = std::atoi(host_port.c_str() + colon + 1);
  tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::Error("cannot listen on " + host_port + ": " + ec.message() +
                         " (is another calprobe running? change agent.listen or pass --listen)");
  }
  impl_->Accept();
  return Status::Ok();
}

uint16_t AdminServer::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void AdminServer::Route(std::string method, std::string path, Handler handler) {
  if (path.size() >= 2 && path.substr(path.size() - 2) == "/*") {
    impl_->prefix.emplace_back(std::move(method), path.substr(0, path.size() - 1), std::move(handler));
  } else {
    impl_->exact[{std::move(method), std::move(path)}] = std::move(handler);
  }
}

void AdminServer::Stop() {
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace calprobe::core
