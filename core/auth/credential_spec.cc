#include "core/auth/credential_spec.h"

#include <set>

#include "core/event.h"
#include "core/secrets.h"

namespace calprobe::core::auth {
namespace {

// A secret field: required, written as ${ENV} or ${file:…}, registered as secret.
std::string SecretField(const ConfigNode& c, std::string_view key) {
  ConfigNode n = c[key];
  if (!n.defined()) {
    c.Error("missing required key \"" + std::string(key) + "\"");
    return "";
  }
  if (n.IsScalar() && n.raw().Scalar().find("${") == std::string::npos) {
    n.Error("secrets come from the environment or a file: write ${MY_" +
            std::string(key == "key"             ? "API_KEY"
                        : key == "client_secret" ? "CLIENT_SECRET"
                                                 : "TOKEN") +
            "} or ${file:/run/secrets/name}, not the value itself");
    return "";
  }
  size_t before = n.errors()->size();
  std::string v = n.AsString().value_or("");
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();  // files end in \n
  if (v.empty() && n.errors()->size() == before) n.Error("the secret is empty");
  Secrets::Register(v);
  return v;
}

}  // namespace

std::string_view KindName(CredentialKind k) {
  switch (k) {
    case CredentialKind::kBearer:
      return "bearer";
    case CredentialKind::kApiKey:
      return "api_key";
    case CredentialKind::kBasic:
      return "basic";
    case CredentialKind::kOAuth2:
      return "oauth2";
  }
  return "bearer";
}

std::vector<CredentialSpec> ReadCredentials(const ConfigNode& list) {
  std::vector<CredentialSpec> out;
  if (!list.defined()) return out;
  if (!list.IsSequence()) {
    list.Error("expected a list of credentials (each starting with \"- name: …\")");
    return out;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) {
    ConfigNode c = list.At(i);
    if (!c.ExpectMap()) continue;
    size_t before = c.errors()->size();
    CredentialSpec s;
    s.name = c.RequiredString("name");
    if (!s.name.empty() && !names.insert(s.name).second) {
      c["name"].Error("duplicate credential name \"" + s.name + "\"");
    }
    std::string type = c.RequiredString("type");
    if (type == "bearer") {
      s.kind = CredentialKind::kBearer;
      s.token = SecretField(c, "token");
    } else if (type == "api_key") {
      s.kind = CredentialKind::kApiKey;
      s.token = SecretField(c, "key");
      s.header = c.String("header", s.header);
    } else if (type == "basic") {
      s.kind = CredentialKind::kBasic;
      s.username = c.RequiredString("username");
      s.password = SecretField(c, "password");
    } else if (type == "oauth2_client_credentials") {
      s.kind = CredentialKind::kOAuth2;
      s.token_url = c.RequiredString("token_url");
      if (!s.token_url.empty() && s.token_url.rfind("https://", 0) != 0 &&
          s.token_url.rfind("http://", 0) != 0) {
        c["token_url"].Error("expected an http:// or https:// URL");
      }
      s.client_id = c.RequiredString("client_id");
      s.client_secret = SecretField(c, "client_secret");
      s.scope = c.String("scope", "");
      s.audience = c.String("audience", "");
      std::string method = c.String("client_auth", "basic");
      if (method != "basic" && method != "post") {
        c["client_auth"].Error("expected basic (client_secret_basic) or post (client_secret_post)");
      }
      s.client_secret_basic = method == "basic";
      s.refresh_before =
          c.Duration("refresh_before",
                     std::chrono::duration_cast<std::chrono::milliseconds>(s.refresh_before));
      ConfigNode tls = c["tls"];
      if (tls.ExpectMap()) {
        s.verify_tls = !tls.Bool("insecure_skip_verify", false);
        s.ca_file = tls.String("ca_file", "");
        tls.RejectUnknownKeys();
      }
    } else if (!type.empty()) {
      c["type"].Error("unknown credential type \"" + type +
                      "\" (known: bearer, api_key, basic, oauth2_client_credentials)");
      // The type's own keys are not further problems.
      for (const char* k :
           {"token", "key", "header", "username", "password", "token_url", "client_id",
            "client_secret", "scope", "audience", "client_auth", "refresh_before", "tls"}) {
        (void)c[k];
      }
    }
    if (c.Has("expires")) {
      std::string e = c.String("expires", "");
      s.declared_expiry = ParseRfc3339(e);
      if (!s.declared_expiry) {
        c["expires"].Error("expected an RFC 3339 time such as 2027-06-30T00:00:00Z");
      }
    }
    s.warn_before = c.Duration("warn_before", std::chrono::hours(72));
    c.RejectUnknownKeys();
    if (c.errors()->size() == before) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace calprobe::core::auth
