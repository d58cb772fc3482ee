#include "probes/ics/credential_class.h"

#include <cctype>

#include "core/secrets.h"

namespace calprobe::probes::ics {
namespace {

// A path segment that is a secret rather than a word: long, with both
// letters and digits (hex ids, base64url tokens).
bool RandomLooking(std::string_view seg) {
  if (seg.size() < 20) return false;
  size_t digits = 0, letters = 0;
  for (char c : seg) {
    if (std::isdigit(static_cast<unsigned char>(c)))
      ++digits;
    else if (std::isalpha(static_cast<unsigned char>(c)))
      ++letters;
  }
  return digits >= 3 && letters >= 3;
}

}  // namespace

bool LooksLikeSecretUrl(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
  size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  size_t slash = path.find('/');
  path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  while (!path.empty()) {
    path.remove_prefix(1);
    size_t next = path.find('/');
    std::string_view seg = path.substr(0, next);
    // "private-0123abcd…" style: judge the part after the last '-' too.
    size_t dash = seg.rfind('-');
    if (RandomLooking(seg) ||
        (dash != std::string_view::npos && RandomLooking(seg.substr(dash + 1)))) {
      return true;
    }
    if (next == std::string_view::npos) break;
    path = path.substr(next);
  }
  if (q == std::string_view::npos) return false;
  std::string_view query = rest.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    std::string_view name = kv.substr(0, kv.find('='));
    if (core::Secrets::LooksSecret(name) || name == "sig" || name == "s") return true;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

bool IsCredentialStatus(int status, bool secret_url) {
  return status == 401 || status == 403 || (secret_url && (status == 404 || status == 410));
}

std::string_view CredentialCode(int status, bool secret_url) {
  if (status == 401) return "credential.expired";
  if (status == 403) return "credential.revoked";
  if (secret_url && (status == 404 || status == 410)) return "credential.secret_url_revoked";
  return {};
}

calendar::Finding CredentialFinding(std::string_view code, int status, int streak) {
  calendar::Finding f;
  f.code = std::string(code);
  f.severity = calendar::Severity::kError;
  std::string seen = streak > 1 ? std::to_string(streak) + " polls in a row" : "this poll";
  std::string http = "HTTP " + std::to_string(status);
  if (code == "credential.expired") {
    f.message = "the feed worked before and now answers " + http + " (" + seen +
                "): the credential it was shared with has expired";
    f.fix =
        "The calendar's owner must renew access: sign in to the calendar provider, "
        "re-authorise the connection (or issue a new access token / password) and update "
        "the subscription with it.";
  } else if (code == "credential.revoked") {
    f.message = "the feed worked before and now answers " + http + " (" + seen +
                "): access was revoked or sharing was turned off";
    f.fix =
        "The calendar's owner must turn sharing back on (or grant access again) in the "
        "calendar provider's settings, then confirm the subscription works.";
  } else {
    f.message = "the secret address worked before and now answers " + http + " (" + seen +
                "): it was reset or revoked, usually with \"reset private URL\" or by "
                "unpublishing the calendar";
    f.fix =
        "The calendar's owner must copy the new secret address (iCal / ICS link) from the "
        "provider's calendar settings and replace the old one in the subscription; the old "
        "address will not work again.";
  }
  return f;
}

}  // namespace calprobe::probes::ics
