#include "core/tls/cert_check.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace calprobe::core::tls {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParsePem(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return nullptr;
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return X509Ptr(x);
}

std::string NameText(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

TimePoint ToTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

bool IsIpLiteral(std::string_view host) {
  return !host.empty() && (host.find(':') != std::string_view::npos ||
                           host.find_first_not_of("0123456789.") == std::string_view::npos);
}

Verdict FromVerifyError(int err, int depth) {
  switch (err) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return Verdict::kExpired;
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return Verdict::kNotYetValid;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return Verdict::kSelfSigned;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return Verdict::kUntrustedRoot;
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      return Verdict::kIncompleteChain;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      // The leaf's own issuer missing means the server left out its
      // intermediate; an issuer missing higher up is a CA we do not trust.
      return depth == 0 ? Verdict::kIncompleteChain : Verdict::kUntrustedRoot;
    default:
      return Verdict::kInvalid;
  }
}

}  // namespace

std::string_view VerdictCode(Verdict v) {
  switch (v) {
    case Verdict::kOk:
      return "ok";
    case Verdict::kExpired:
      return "expired";
    case Verdict::kNotYetValid:
      return "not_yet_valid";
    case Verdict::kSelfSigned:
      return "self_signed";
    case Verdict::kIncompleteChain:
      return "incomplete_chain";
    case Verdict::kUntrustedRoot:
      return "untrusted_root";
    case Verdict::kHostnameMismatch:
      return "hostname_mismatch";
    case Verdict::kInvalid:
      return "invalid";
  }
  return "invalid";
}

std::string_view ExpiryLevelName(ExpiryLevel l) {
  switch (l) {
    case ExpiryLevel::kOk:
      return "ok";
    case ExpiryLevel::kWarn:
      return "warn";
    case ExpiryLevel::kCritical:
      return "critical";
    case ExpiryLevel::kExpired:
      return "expired";
  }
  return "ok";
}

ExpiryLevel LevelFor(TimePoint expiry, TimePoint now, Duration warn, Duration critical) {
  if (expiry <= now) return ExpiryLevel::kExpired;
  if (expiry - now <= critical) return ExpiryLevel::kCritical;
  if (expiry - now <= warn) return ExpiryLevel::kWarn;
  return ExpiryLevel::kOk;
}

ChainCheck CheckChain(const std::vector<std::string>& pem_chain, std::string_view host,
                      const std::string& ca_file, TimePoint now) {
  ChainCheck c;
  std::vector<X509Ptr> certs;
  for (const auto& pem : pem_chain) {
    if (auto x = ParsePem(pem)) certs.push_back(std::move(x));
  }
  if (certs.empty()) {
    c.error = pem_chain.empty() ? "the server presented no certificate" : "unparsable certificate";
    return c;
  }
  c.has_chain = true;
  c.chain_length = certs.size();
  X509* leaf = certs.front().get();
  c.leaf_subject = NameText(X509_get_subject_name(leaf));
  c.issuer = NameText(X509_get_issuer_name(leaf));
  for (const auto& x : certs) {
    TimePoint t = ToTimePoint(X509_get0_notAfter(x.get()));
    if (c.expiring_subject.empty() || t < c.earliest_expiry) {
      c.earliest_expiry = t;
      c.expiring_subject = NameText(X509_get_subject_name(x.get()));
    }
  }
  c.days_left = ToSeconds(c.earliest_expiry - now) / 86400.0;

  std::string h(host);
  c.hostname_match = IsIpLiteral(h) ? X509_check_ip_asc(leaf, h.c_str(), 0) == 1
                                    : X509_check_host(leaf, h.data(), h.size(), 0, nullptr) == 1;

  X509_STORE* store = X509_STORE_new();
  bool loaded = ca_file.empty() ? X509_STORE_set_default_paths(store) == 1
                                : X509_STORE_load_file(store, ca_file.c_str()) == 1;
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted, certs[i].get());
  // Verifies at `now`; with `ignore_time` the validity dates are skipped
  // (is an expired chain otherwise sound?).
  auto verify = [&](bool ignore_time, int* err, int* depth) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    bool ok = false;
    *err = X509_V_ERR_UNSPECIFIED;
    *depth = 0;
    if (ctx && X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1) {
      X509_VERIFY_PARAM* p = X509_STORE_CTX_get0_param(ctx);
      // An explicit check time takes precedence over NO_CHECK_TIME in
      // OpenSSL, so set one or the other.
      if (ignore_time) {
        X509_VERIFY_PARAM_set_flags(p, X509_V_FLAG_NO_CHECK_TIME);
      } else {
        X509_VERIFY_PARAM_set_time(p, std::chrono::system_clock::to_time_t(now));
      }
      ok = X509_verify_cert(ctx) == 1;
      *err = X509_STORE_CTX_get_error(ctx);
      *depth = X509_STORE_CTX_get_error_depth(ctx);
    }
    X509_STORE_CTX_free(ctx);
    return ok;
  };
  int err = 0, depth = 0, err2 = 0, depth2 = 0;
  c.chain_verified = verify(false, &err, &depth);
  bool sound = c.chain_verified || verify(true, &err2, &depth2);
  if (!c.chain_verified) {
    c.verify_error = X509_verify_cert_error_string(err);
    if (!loaded) c.verify_error += " (cannot load CA bundle \"" + ca_file + "\")";
  }
  sk_X509_free(untrusted);  // the certificates stay owned by `certs`
  X509_STORE_free(store);

  if (c.earliest_expiry <= now) {
    c.verdict = Verdict::kExpired;
  } else if (!c.chain_verified) {
    c.verdict = FromVerifyError(err, depth);
  } else if (!c.hostname_match) {
    c.verdict = Verdict::kHostnameMismatch;
  } else {
    c.verdict = Verdict::kOk;
  }
  c.usable = sound && c.hostname_match;
  return c;
}

}  // namespace calprobe::core::tls
