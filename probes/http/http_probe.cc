#include "probes/http/http_probe.h"

#include <optional>
#include <regex>

#include "core/auth/credentials.h"

namespace calprobe::probes::http {
namespace {

using core::ConfigNode;
using core::HttpRequest;
using core::HttpResponse;
using core::ProbeOutcome;

struct JsonAssertion {
  std::string pointer;
  std::optional<nlohmann::json> equals;
  std::optional<bool> exists;
  std::optional<std::regex> matches;
  std::string matches_text;
};

struct HeaderAssertion {
  std::string name;  // lower-case
  std::regex pattern;
  std::string pattern_text;
};

struct Options {
  HttpRequest request;
  std::vector<int> expect_status;  // empty: any 2xx
  std::optional<std::regex> body_regex, body_not_regex;
  std::string body_regex_text, body_not_regex_text;
  std::vector<JsonAssertion> json;
  std::vector<HeaderAssertion> headers;
  std::string auth;  // name of a credential under `credentials:`; empty: none
};

std::optional<std::regex> CompileRegex(const ConfigNode& node, std::string* text) {
  if (!node.defined()) return std::nullopt;
  auto s = node.AsString();
  if (!s) return std::nullopt;
  try {
    *text = *s;
    return std::regex(*s, std::regex::ECMAScript | std::regex::optimize);
  } catch (const std::regex_error& e) {
    node.Error("invalid regular expression: " + std::string(e.what()));
    return std::nullopt;
  }
}

class HttpProbe final : public core::Probe {
 public:
  explicit HttpProbe(Options o) : o_(std::move(o)) {}

  void Run(core::ProbeContext& ctx, std::function<void(ProbeOutcome)> done) override {
    HttpRequest req = o_.request;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() -
                                                                      ctx.clock().Now());
    if (left < req.timeout) req.timeout = std::max(left, std::chrono::milliseconds(1));
    if (o_.auth.empty()) {
      ctx.http().Fetch(std::move(req), [this, done = std::move(done)](HttpResponse r) {
        done(Judge(r));
      });
      return;
    }
    core::auth::CredentialSet* creds = ctx.credentials();
    if (!creds) {
      ProbeOutcome out;
      out.reason = "credential.unavailable";
      out.message = "no credentials are configured in this process";
      done(std::move(out));
      return;
    }
    creds->Authorize(o_.auth, &ctx.target(),
                     [this, &ctx, req = std::move(req), done = std::move(done)](
                         core::auth::AuthResult a) mutable {
                       if (!a.ok) {
                         ProbeOutcome out;
                         out.reason = a.reason;
                         out.message = a.message;
                         out.details = {{"credential", o_.auth}};
                         done(std::move(out));
                         return;
                       }
                       for (auto& h : a.headers) req.headers.push_back(std::move(h));
                       ctx.http().Fetch(std::move(req), [this, done = std::move(done)](HttpResponse r) {
                         ProbeOutcome out = Judge(r);
                         if (!out.success && (r.status == 401 || r.status == 403)) {
                           out.reason = "credential.rejected";  // the server refused our credential
                           out.message = "credential \"" + o_.auth + "\": " + out.message;
                         }
                         done(std::move(out));
                       });
                     });
  }

 private:
  ProbeOutcome Judge(const HttpResponse& r) const {
    ProbeOutcome out;
    out.http_status = r.status;
    out.details = {{"status", r.status},
                   {"bytes", r.body.size()},
                   {"redirects", r.redirect_count},
                   {"timings",
                    {{"dns", r.timings.dns},
                     {"connect", r.timings.connect},
                     {"tls", r.timings.tls},
                     {"first_byte", r.timings.first_byte},
                     {"total", r.timings.total}}}};
    if (!r.ok()) {
      out.reason = core::TransportErrorCode(r.error);
      out.message = r.error_message;
      return out;
    }
    auto fail = [&](std::string msg) {
      out.reason = "assertion";
      out.message = std::move(msg);
      return out;
    };
    bool status_ok = o_.expect_status.empty()
                         ? (r.status >= 200 && r.status < 300)
                         : std::find(o_.expect_status.begin(), o_.expect_status.end(), r.status) !=
                               o_.expect_status.end();
    if (!status_ok) {
      std::string want;
      for (int s : o_.expect_status) want += (want.empty() ? "" : ",") + std::to_string(s);
      return fail("status " + std::to_string(r.status) + ", expected " +
                  (want.empty() ? "2xx" : want));
    }
    for (const auto& h : o_.headers) {
      std::string_view v = r.Header(h.name);
      if (!std::regex_search(v.begin(), v.end(), h.pattern)) {
        return fail("header " + h.name + ": \"" + std::string(v.substr(0, 80)) +
                    "\" does not match /" + h.pattern_text + "/");
      }
    }
    if (o_.body_regex && !std::regex_search(r.body, *o_.body_regex)) {
      return fail("body does not match /" + o_.body_regex_text + "/");
    }
    if (o_.body_not_regex && std::regex_search(r.body, *o_.body_not_regex)) {
      return fail("body matches forbidden /" + o_.body_not_regex_text + "/");
    }
    if (!o_.json.empty()) {
      nlohmann::json doc = nlohmann::json::parse(r.body, nullptr, false);
      if (doc.is_discarded()) return fail("body is not valid JSON");
      for (const auto& a : o_.json) {
        nlohmann::json::json_pointer ptr(a.pointer);
        bool present = doc.contains(ptr);
        if (a.exists && *a.exists != present) {
          return fail("JSON " + a.pointer + (present ? " exists" : " is missing"));
        }
        if (a.equals) {
          if (!present) return fail("JSON " + a.pointer + " is missing");
          if (doc.at(ptr) != *a.equals) {
            return fail("JSON " + a.pointer + " = " + doc.at(ptr).dump().substr(0, 80) +
                        ", expected " + a.equals->dump());
          }
        }
        if (a.matches) {
          if (!present) return fail("JSON " + a.pointer + " is missing");
          const auto& v = doc.at(ptr);
          std::string s = v.is_string() ? v.get<std::string>() : v.dump();
          if (!std::regex_search(s, *a.matches)) {
            return fail("JSON " + a.pointer + " = \"" + s.substr(0, 80) + "\" does not match /" +
                        a.matches_text + "/");
          }
        }
      }
    }
    out.success = true;
    return out;
  }

  Options o_;
};

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "http"; }

  std::unique_ptr<core::Probe> Create(const ConfigNode& n,
                                      const core::TargetInfo&) const override {
    if (!n.defined()) {
      n.Error("the http probe needs options (at least url:)");
      return nullptr;
    }
    if (!n.ExpectMap()) return nullptr;
    size_t errors_before = n.errors()->size();
    Options o;
    o.request.url = n.RequiredString("url");
    if (!o.request.url.empty() && o.request.url.rfind("http://", 0) != 0 &&
        o.request.url.rfind("https://", 0) != 0) {
      n["url"].Error("expected an http:// or https:// URL");
    }
    o.request.method = n.String("method", "GET");
    static const char* kMethods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
    if (std::none_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return o.request.method == m; })) {
      n["method"].Error("unsupported method \"" + o.request.method +
                        "\" (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS)");
    }
    o.request.body = n.String("body", "");
    ConfigNode headers = n["headers"];
    if (headers.ExpectMap()) {
      for (const auto& k : headers.Keys()) {
        o.request.headers.emplace_back(k, headers[k].AsString().value_or(""));
      }
    }
    ConfigNode status = n["expect_status"];
    if (status.defined()) {
      if (status.IsScalar()) {
        if (auto v = status.AsInt(100, 599)) o.expect_status.push_back(static_cast<int>(*v));
      } else if (status.IsSequence()) {
        for (size_t i = 0; i < status.size(); ++i) {
          if (auto v = status.At(i).AsInt(100, 599)) o.expect_status.push_back(static_cast<int>(*v));
        }
      } else {
        status.Error("expected a status code or a list of status codes");
      }
    }
    o.body_regex = CompileRegex(n["body_regex"], &o.body_regex_text);
    o.body_not_regex = CompileRegex(n["body_not_regex"], &o.body_not_regex_text);
    ConfigNode json = n["json"];
    if (json.defined() && !json.IsSequence()) json.Error("expected a list of {pointer, equals|exists|matches}");
    for (size_t i = 0; i < json.size() && json.IsSequence(); ++i) {
      ConfigNode a = json.At(i);
      if (!a.ExpectMap()) continue;
      JsonAssertion ja;
      ja.pointer = a.RequiredString("pointer");
      if (!ja.pointer.empty() && ja.pointer[0] != '/') {
        a["pointer"].Error("a JSON pointer starts with / (RFC 6901), e.g. /status");
      }
      if (a.Has("equals")) {
        ConfigNode eq = a["equals"];
        try {
          ja.equals = nlohmann::json::parse(YAML::Dump(eq.raw()));
        } catch (...) {
          ja.equals = eq.AsString().value_or("");
        }
      }
      if (a.Has("exists")) ja.exists = a["exists"].AsBool();
      ja.matches = CompileRegex(a["matches"], &ja.matches_text);
      if (!ja.equals && !ja.exists && !ja.matches) a.Error("give one of equals, exists, matches");
      a.RejectUnknownKeys();
      o.json.push_back(std::move(ja));
    }
    ConfigNode eh = n["expect_headers"];
    if (eh.ExpectMap()) {
      for (const auto& k : eh.Keys()) {
        HeaderAssertion h;
        h.name = k;
        for (char& c : h.name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto re = CompileRegex(eh[k], &h.pattern_text);
        if (re) {
          h.pattern = std::move(*re);
          o.headers.push_back(std::move(h));
        }
      }
    }
    o.request.max_redirects = static_cast<int>(n.Int("follow_redirects", 0, 0, 20));
    o.request.max_body_bytes = n.Bytes("max_body", 1024 * 1024);
    o.request.max_decompressed_bytes = n.Bytes("max_decompressed", 16 * 1024 * 1024);
    o.request.fresh_connection = n.Bool("fresh_connection", false);
    ConfigNode tls = n["tls"];
    if (tls.ExpectMap()) {
      o.request.verify_tls = !tls.Bool("insecure_skip_verify", false);
      o.request.ca_file = tls.String("ca_file", "");
      tls.RejectUnknownKeys();
    }
    o.request.capture_certificates = o.request.url.rfind("https://", 0) == 0;
    o.auth = n.String("auth", "");
    n.RejectUnknownKeys();
    if (n.errors()->size() != errors_before) return nullptr;
    return std::make_unique<HttpProbe>(std::move(o));
  }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace calprobe::probes::http
