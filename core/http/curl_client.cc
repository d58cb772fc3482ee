// libcurl multi-socket driven by Boost.Asio. The only translation unit that
// includes both curl and Asio.

#include "core/http/curl_client.h"

#include <curl/curl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <unordered_map>
#include <vector>

namespace calprobe::core {

namespace asio = boost::asio;

void GlobalHttpInit() {
  static bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

namespace {

struct Transfer {
  CURL* easy = nullptr;
  HttpRequest request;
  HttpResponse response;
  HttpClient::Callback done;
  curl_slist* header_list = nullptr;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  bool too_large = false;
  bool decompression_limit = false;
  bool compressed = false;  // the current response has a Content-Encoding
  int block_status = 0;     // status of the header block being read
};

struct WatchedSocket {
  explicit WatchedSocket(asio::io_context& io) : descriptor(io) {}
  asio::posix::stream_descriptor descriptor;
  int what = 0;
  bool reading = false;
  bool writing = false;
  bool gone = false;  // released: pending handlers must do nothing
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  uint64_t after = t->response.body.size() + len;
  if (t->compressed ? after > t->request.max_decompressed_bytes
                    : after > t->request.max_body_bytes) {
    (t->compressed ? t->decompression_limit : t->too_large) = true;
    return 0;  // CURLE_WRITE_ERROR
  }
  t->response.body.append(data, len);
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (static_cast<uint64_t>(dlnow) > t->request.max_body_bytes) {
    t->too_large = true;
    return 1;  // abort
  }
  return 0;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a redirect or 100-continue): start over.
    t->response.headers.clear();
    t->compressed = false;
    size_t sp = line.find(' ');
    t->block_status = sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  std::string name(Trim(line.substr(0, colon)));
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value(Trim(line.substr(colon + 1)));
  if (name == "content-encoding" && !value.empty() && value != "identity") t->compressed = true;
  if (name == "location" && t->block_status >= 300 && t->block_status < 400 &&
      t->request.max_redirects > 0) {
    t->response.redirect_chain.push_back(value);
  }
  t->response.headers.emplace_back(std::move(name), std::move(value));
  return len;
}

TimePoint ParseCertDate(std::string_view s) {
  // OpenSSL's ASN1_TIME_print: "Nov 28 20:51:18 2027 GMT"
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char mon[4] = {0};
  int day, h, m, sec, year;
  std::string str(Trim(s));
  if (sscanf(str.c_str(), "%3s %d %d:%d:%d %d", mon, &day, &h, &m, &sec, &year) != 6) return {};
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (strcmp(mon, kMonths[i]) == 0) month = i;
  }
  if (month < 0) return {};
  struct tm tm = {};
  tm.tm_year = year - 1900;
  tm.tm_mon = month;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

void CaptureCertificates(CURL* easy, HttpResponse* r) {
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &info) != CURLE_OK || !info) return;
  for (int i = 0; i < info->num_of_certs; ++i) {
    CertificateInfo c;
    for (curl_slist* s = info->certinfo[i]; s; s = s->next) {
      std::string_view kv(s->data);
      size_t colon = kv.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view k = kv.substr(0, colon), v = kv.substr(colon + 1);
      if (k == "Subject") c.subject = std::string(Trim(v));
      else if (k == "Issuer") c.issuer = std::string(Trim(v));
      else if (k == "Expire date") c.not_after = ParseCertDate(v);
      else if (k == "Start date") c.not_before = ParseCertDate(v);
      else if (k == "Cert") c.pem = std::string(v);
    }
    r->certificates.push_back(std::move(c));
  }
}

TransportError Classify(CURLcode code, Transfer* t) {
  long os_errno = 0;
  switch (code) {
    case CURLE_OK: return TransportError::kNone;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TransportError::kUnreachable;
    case CURLE_COULDNT_CONNECT:
      curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
      return os_errno == ECONNREFUSED ? TransportError::kConnectionRefused
                                      : TransportError::kUnreachable;
    case CURLE_GOT_NOTHING: return TransportError::kConnectionClosed;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
      return t->response.body.empty() && t->block_status == 0 ? TransportError::kConnectionClosed
                                                              : TransportError::kTruncated;
    case CURLE_PARTIAL_FILE: return TransportError::kTruncated;
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t first_byte = 0;
      curl_easy_getinfo(t->easy, CURLINFO_STARTTRANSFER_TIME_T, &first_byte);
      return first_byte > 0 ? TransportError::kSlowBody : TransportError::kTimeout;
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS: return TransportError::kTls;
    case CURLE_TOO_MANY_REDIRECTS: return TransportError::kRedirectLimit;
    case CURLE_UNSUPPORTED_PROTOCOL: {
      char* redirect = nullptr;
      curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &redirect);
      if (redirect && strncmp(redirect, "http:", 5) == 0) return TransportError::kRedirectInsecure;
      if (!t->response.redirect_chain.empty() &&
          t->response.redirect_chain.back().rfind("http:", 0) == 0) {
        return TransportError::kRedirectInsecure;
      }
      return TransportError::kOther;
    }
    case CURLE_BAD_CONTENT_ENCODING: return TransportError::kBadEncoding;
    case CURLE_FILESIZE_EXCEEDED: return TransportError::kTooLarge;
    case CURLE_WRITE_ERROR:
    case CURLE_ABORTED_BY_CALLBACK:
      if (t->decompression_limit) return TransportError::kDecompressionLimit;
      if (t->too_large) return TransportError::kTooLarge;
      return TransportError::kOther;
    default: return TransportError::kOther;
  }
}

}  // namespace

// Easy handles kept for reuse. Each keeps its 16 KiB receive buffer and
// ~4 KiB of state through curl_easy_reset, so the pool is small: reuse saves
// an allocation per transfer, not enough CPU to be worth megabytes idle.
constexpr size_t kMaxPooledHandles = 16;

struct CurlHttpClient::Impl {
  explicit Impl(asio::io_context& io_context) : io(io_context), timer(io_context) {
    GlobalHttpInit();
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
    // Idle connections kept for reuse. Each costs buffers in curl and a socket;
    // beyond this the least recently used is closed.
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 512L);
  }

  ~Impl() {
    timer.cancel();
    for (auto& [fd, s] : sockets) {
      s->gone = true;
      s->descriptor.release();
    }
    sockets.clear();
    for (auto& [easy, t] : transfers) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(t->header_list);
    }
    for (CURL* e : pool) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }

  static int OnSocket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
    auto* self = static_cast<Impl*>(userp);
    if (what == CURL_POLL_REMOVE) {
      self->Forget(fd);
      return 0;
    }
    auto it = self->sockets.find(fd);
    std::shared_ptr<WatchedSocket> s;
    if (it == self->sockets.end()) {
      s = std::make_shared<WatchedSocket>(self->io);
      boost::system::error_code ec;
      s->descriptor.assign(fd, ec);
      if (ec) return -1;
      self->sockets.emplace(fd, s);
    } else {
      s = it->second;
    }
    s->what = what;
    self->Arm(fd, s);
    return 0;
  }

  static int OnTimer(CURLM*, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    self->timer.cancel();
    if (timeout_ms < 0) return 0;
    self->timer.expires_after(std::chrono::milliseconds(timeout_ms));
    self->timer.async_wait([self](const boost::system::error_code& ec) {
      if (ec) return;
      self->Action(CURL_SOCKET_TIMEOUT, 0);
    });
    return 0;
  }

  static int OnCloseSocket(void* userp, curl_socket_t fd) {
    static_cast<Impl*>(userp)->Forget(fd);
    return close(fd);
  }

  // Stops watching fd (curl is done with it or about to close it).
  void Forget(curl_socket_t fd) {
    auto it = sockets.find(fd);
    if (it == sockets.end()) return;
    it->second->gone = true;
    it->second->descriptor.release();  // deregisters; curl owns the fd
    sockets.erase(it);
  }

  void Arm(curl_socket_t fd, const std::shared_ptr<WatchedSocket>& s) {
    if ((s->what & CURL_POLL_IN) && !s->reading) {
      s->reading = true;
      s->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [this, fd, s](const boost::system::error_code& ec) {
                                 s->reading = false;
                                 if (ec || s->gone) return;
                                 Action(fd, CURL_CSELECT_IN);
                                 if (!s->gone) Arm(fd, s);
                               });
    }
    if ((s->what & CURL_POLL_OUT) && !s->writing) {
      s->writing = true;
      s->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [this, fd, s](const boost::system::error_code& ec) {
                                 s->writing = false;
                                 if (ec || s->gone) return;
                                 Action(fd, CURL_CSELECT_OUT);
                                 if (!s->gone) Arm(fd, s);
                               });
    }
  }

  void Action(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(multi, fd, events, &running);
    CollectFinished();
  }

  void CollectFinished() {
    CURLMsg* msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      auto it = transfers.find(easy);
      if (it == transfers.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      transfers.erase(it);
      curl_multi_remove_handle(multi, easy);
      Finish(t.get(), code);
      curl_slist_free_all(t->header_list);
      t->header_list = nullptr;
      Recycle(easy);
      HttpClient::Callback done = std::move(t->done);
      done(std::move(t->response));
    }
  }

  void Finish(Transfer* t, CURLcode code) {
    HttpResponse& r = t->response;
    r.error = Classify(code, t);
    if (r.error != TransportError::kNone) {
      r.error_message = t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code);
      if (r.error == TransportError::kTooLarge) {
        r.error_message = "body larger than " + std::to_string(t->request.max_body_bytes) + " bytes";
      } else if (r.error == TransportError::kDecompressionLimit) {
        r.error_message = "decompressed body larger than " +
                          std::to_string(t->request.max_decompressed_bytes) + " bytes";
      }
    }
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
    curl_off_t dns = 0, connect = 0, app = 0, first = 0, total = 0, size = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect);
    curl_easy_getinfo(t->easy, CURLINFO_APPCONNECT_TIME_T, &app);
    curl_easy_getinfo(t->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
    curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(t->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    auto sec = [](curl_off_t us) { return static_cast<double>(us) / 1e6; };
    r.timings.dns = sec(dns);
    r.timings.connect = connect > dns ? sec(connect - dns) : 0;
    r.timings.tls = app > connect ? sec(app - connect) : 0;
    curl_off_t ready = app > 0 ? app : connect;
    r.timings.first_byte = first > ready ? sec(first - ready) : 0;
    r.timings.total = sec(total);
    r.wire_bytes = static_cast<uint64_t>(size);
    long redirects = 0;
    curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_COUNT, &redirects);
    r.redirect_count = static_cast<int>(redirects);
    char* url = nullptr;
    curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &url);
    if (url) r.effective_url = url;
    if (t->request.capture_certificates) CaptureCertificates(t->easy, &r);
    long verify = 1;
    curl_easy_getinfo(t->easy, CURLINFO_SSL_VERIFYRESULT, &verify);
    r.tls_verified = r.effective_url.rfind("https:", 0) == 0 && verify == 0 &&
                     t->request.verify_tls && r.error != TransportError::kTls;
  }

  void Recycle(CURL* easy) {
    if (pool.size() < kMaxPooledHandles) {
      curl_easy_reset(easy);
      pool.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  void Start(HttpRequest request, HttpClient::Callback done) {
    auto t = std::make_unique<Transfer>();
    t->request = std::move(request);
    t->done = std::move(done);
    CURL* e;
    if (!pool.empty()) {
      e = pool.back();
      pool.pop_back();
    } else {
      e = curl_easy_init();
    }
    t->easy = e;
    const HttpRequest& q = t->request;
    bool https = q.url.rfind("https://", 0) == 0;
    curl_easy_setopt(e, CURLOPT_URL, q.url.c_str());
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OnBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OnHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(q.timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, "calprobe/0.1");
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::OnCloseSocket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
    if (q.accept_compressed) {
      curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
      curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &OnProgress);
      curl_easy_setopt(e, CURLOPT_XFERINFODATA, t.get());
    }
    if (q.max_redirects > 0) {
      curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
      curl_easy_setopt(e, CURLOPT_MAXREDIRS, static_cast<long>(q.max_redirects));
    }
    if (!q.verify_tls) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!q.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, q.ca_file.c_str());
    if (q.capture_certificates && https) curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
    if (q.fresh_connection) {
      curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
      curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (q.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (q.method != "GET") {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
    }
    if (!q.body.empty() || q.method == "POST" || q.method == "PUT" || q.method == "PATCH") {
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, q.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(q.body.size()));
      if (q.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
    }
    for (const auto& [k, v] : q.headers) {
      std::string line = k + ": " + v;
      t->header_list = curl_slist_append(t->header_list, line.c_str());
    }
    if (t->header_list) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);
    Transfer* raw = t.get();
    transfers.emplace(e, std::move(t));
    CURLMcode mc = curl_multi_add_handle(multi, e);
    if (mc != CURLM_OK) {
      auto node = transfers.extract(e);
      raw->response.error = TransportError::kOther;
      raw->response.error_message = curl_multi_strerror(mc);
      curl_slist_free_all(raw->header_list);
      Recycle(e);
      auto cb = std::move(raw->done);
      HttpResponse resp = std::move(raw->response);
      asio::post(io, [cb = std::move(cb), resp = std::move(resp)]() mutable { cb(std::move(resp)); });
    }
  }

  asio::io_context& io;
  asio::steady_timer timer;
  CURLM* multi = nullptr;
  std::unordered_map<curl_socket_t, std::shared_ptr<WatchedSocket>> sockets;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<CURL*> pool;
};

CurlHttpClient::CurlHttpClient(asio::io_context& io) : impl_(std::make_unique<Impl>(io)) {}
CurlHttpClient::~CurlHttpClient() = default;

void CurlHttpClient::Fetch(HttpRequest request, Callback done) {
  impl_->Start(std::move(request), std::move(done));
}

size_t CurlHttpClient::InFlight() const { return impl_->transfers.size(); }

}  // namespace calprobe::core
