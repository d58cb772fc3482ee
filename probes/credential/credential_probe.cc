#include "probes/credential/credential_probe.h"

#include <algorithm>

#include "core/auth/credentials.h"

namespace calprobe::probes::credential {
namespace {

using core::ProbeOutcome;
using core::auth::AuthResult;
using core::auth::CredentialKind;
using core::auth::Observation;

struct Options {
  std::string name;
  std::string check_url;
  std::vector<int> expect_status;  // empty: any 2xx
  std::string ca_file;
  bool verify_tls = true;
};

class CredentialProbe final : public core::Probe {
 public:
  explicit CredentialProbe(Options o) : o_(std::move(o)) {}

  void Run(core::ProbeContext& ctx, std::function<void(ProbeOutcome)> done) override {
    core::auth::CredentialSet* creds = ctx.credentials();
    if (!creds) {
      ProbeOutcome out;
      out.reason = "credential.unavailable";
      out.message = "no credentials are configured in this process";
      done(std::move(out));
      return;
    }
    creds->Check(o_.name, &ctx.target(), [this, &ctx, creds, done = std::move(done)](AuthResult r) {
      if (!r.ok || o_.check_url.empty()) {
        done(Judge(ctx, r, std::nullopt));
        return;
      }
      core::HttpRequest q;
      q.url = o_.check_url;
      q.headers = r.headers;
      q.max_body_bytes = 1024 * 1024;
      q.ca_file = o_.ca_file;
      q.verify_tls = o_.verify_tls;
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() - ctx.clock().Now());
      q.timeout = std::max(left, std::chrono::milliseconds(1));
      ctx.http().Fetch(std::move(q), [this, &ctx, creds, r, done](core::HttpResponse resp) {
        Observation obs = FromCheck(ctx, r, resp);
        const auto* spec = creds->Find(o_.name);
        if (spec) creds->Record(o_.name, core::auth::KindName(spec->kind), obs, &ctx.target());
        done(Judge(ctx, r, obs));
      });
    });
  }

 private:
  // What the check URL's answer says about the credential.
  Observation FromCheck(core::ProbeContext& ctx, const AuthResult& r,
                        const core::HttpResponse& resp) const {
    Observation o;
    o.expiry = r.expiry;
    if (!resp.ok()) {
      o.reason = std::string(core::TransportErrorCode(resp.error));
      o.message = "check_url: " + resp.error_message;
      return o;
    }
    bool ok = o_.expect_status.empty()
                  ? resp.status >= 200 && resp.status < 300
                  : std::count(o_.expect_status.begin(), o_.expect_status.end(), resp.status) > 0;
    if (ok) {
      o.state = Observation::State::kValid;
      return o;
    }
    o.message = "check_url answered HTTP " + std::to_string(resp.status);
    if (resp.status == 401) {
      bool past = r.expiry && *r.expiry <= ctx.clock().Now();
      o.state = past ? Observation::State::kExpired : Observation::State::kRevoked;
      o.reason = past ? "credential.expired" : "credential.revoked";
      o.message += " (" + std::string(resp.Header("www-authenticate").substr(0, 120)) + ")";
    } else if (resp.status == 403) {
      o.state = Observation::State::kRevoked;
      o.reason = "credential.revoked";
    } else {
      o.reason = "credential.check_failed";  // 5xx, 404, …: not a verdict on the credential
    }
    return o;
  }

  ProbeOutcome Judge(core::ProbeContext& ctx, const AuthResult& r,
                     const std::optional<Observation>& check) const {
    ProbeOutcome out;
    core::auth::CredentialSet* creds = ctx.credentials();
    const core::auth::CredentialSpec* spec = creds ? creds->Find(o_.name) : nullptr;
    core::TimePoint now = ctx.clock().Now();
    out.details = {{"credential", o_.name}};
    if (spec) out.details["kind"] = core::auth::KindName(spec->kind);
    if (r.expiry) {
      out.details["expires_at"] = core::FormatRfc3339(*r.expiry);
      out.details["hours_left"] = core::ToSeconds(*r.expiry - now) / 3600.0;
    }
    if (!r.ok) {
      out.reason = r.reason;
      out.message = r.message;
      return out;
    }
    if (check) {
      out.http_status = 0;
      out.details["check"] = check->state == Observation::State::kValid ? "accepted" : "rejected";
      if (check->state != Observation::State::kValid) {
        out.reason = check->reason;
        out.message = check->message;
        return out;
      }
    }
    // OAuth access tokens are short-lived by design; their lead time is the
    // token endpoint answering, which the check above proved.
    if (spec && spec->kind != CredentialKind::kOAuth2 && r.expiry &&
        *r.expiry - now <= spec->warn_before) {
      out.reason = "credential.expiring";
      out.message = "credential \"" + o_.name + "\" expires at " + core::FormatRfc3339(*r.expiry) +
                    ", within its warn_before lead time (" +
                    core::FormatDuration(
                        std::chrono::duration_cast<std::chrono::milliseconds>(spec->warn_before)) +
                    ")";
      return out;
    }
    out.success = true;
    return out;
  }

  Options o_;
};

class Factory final : public core::ProbeFactory {
 public:
  std::string_view type() const override { return "credential"; }
  std::unique_ptr<core::Probe> Create(const core::ConfigNode& n,
                                      const core::TargetInfo&) const override {
    if (!n.defined()) {
      n.Error("the credential probe needs options (at least name: of a credential)");
      return nullptr;
    }
    if (!n.ExpectMap()) return nullptr;
    size_t before = n.errors()->size();
    Options o;
    o.name = n.RequiredString("name");
    o.check_url = n.String("check_url", "");
    if (!o.check_url.empty() && o.check_url.rfind("http://", 0) != 0 &&
        o.check_url.rfind("https://", 0) != 0) {
      n["check_url"].Error("expected an http:// or https:// URL");
    }
    core::ConfigNode status = n["expect_status"];
    if (status.defined()) {
      if (status.IsScalar()) {
        if (auto v = status.AsInt(100, 599)) o.expect_status.push_back(static_cast<int>(*v));
      } else if (status.IsSequence()) {
        for (size_t i = 0; i < status.size(); ++i) {
          if (auto v = status.At(i).AsInt(100, 599))
            o.expect_status.push_back(static_cast<int>(*v));
        }
      } else {
        status.Error("expected a status code or a list of status codes");
      }
    }
    core::ConfigNode tls = n["tls"];
    if (tls.ExpectMap()) {
      o.verify_tls = !tls.Bool("insecure_skip_verify", false);
      o.ca_file = tls.String("ca_file", "");
      tls.RejectUnknownKeys();
    }
    n.RejectUnknownKeys();
    if (n.errors()->size() != before) return nullptr;
    return std::make_unique<CredentialProbe>(std::move(o));
  }
  int default_concurrency() const override { return 16; }
};

}  // namespace

std::unique_ptr<core::ProbeFactory> NewFactory() { return std::make_unique<Factory>(); }

}  // namespace calprobe::probes::credential
