#pragma once
// HttpClient over libcurl's multi-socket API driven by a Boost.Asio
// io_context (the "asiohiper" pattern): curl tells us which sockets to
// watch and when to wake it; Asio waits on them. No thread per transfer,
// no blocking curl_easy_perform. Easy handles are pooled and reused.
// All methods and callbacks run on the io_context's thread.

#include <memory>

#include "core/http/http_client.h"

namespace boost::asio {
class io_context;
}

namespace calprobe::core {

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(boost::asio::io_context& io);
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  void Fetch(HttpRequest request, Callback done) override;
  size_t InFlight() const override;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Must be called once before any thread starts (curl_global_init).
void GlobalHttpInit();

}  // namespace calprobe::core
