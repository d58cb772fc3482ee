#include "core/secrets.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <set>

namespace calprobe::core {
namespace {

std::mutex& Mu() {
  static std::mutex mu;
  return mu;
}
// Longest first, so a secret that contains another is replaced whole.
struct LongerFirst {
  bool operator()(const std::string& a, const std::string& b) const {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  }
};
std::set<std::string, LongerFirst>& Values() {
  static std::set<std::string, LongerFirst> values;
  return values;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool SecretParam(std::string_view name) {
  std::string n = Lower(name);
  static const char* kNames[] = {"sig", "signature", "code", "access_token", "apikey", "api_key"};
  for (const char* k : kNames) {
    if (n == k) return true;
  }
  return Secrets::LooksSecret(name);
}

constexpr std::string_view kSealPrefix = "{{calprobe-secret:";
constexpr std::string_view kSealSuffix = "}}";
constexpr size_t kSealDigits = 16;

// "{{calprobe-secret:0123456789abcdef}}" for a secret value.
std::string SealRef(std::string_view value) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(value.data(), value.size(), md, &len, EVP_sha256(), nullptr);
  char hex[kSealDigits + 1];
  for (size_t i = 0; i < kSealDigits / 2; ++i) std::snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return std::string(kSealPrefix) + std::string(hex, kSealDigits) + std::string(kSealSuffix);
}

}  // namespace

std::string Secrets::Seal(std::string_view text) {
  // One left-to-right pass over the original text (longest secret first at
  // each position), so a reference just written is never matched again.
  std::string out;
  out.reserve(text.size());
  std::lock_guard lock(Mu());
  size_t i = 0;
  while (i < text.size()) {
    const std::string* hit = nullptr;
    for (const auto& v : Values()) {
      if (text.compare(i, v.size(), v) == 0) {
        hit = &v;
        break;
      }
    }
    if (hit) {
      out += SealRef(*hit);
      i += hit->size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::optional<std::string> Secrets::Unseal(std::string_view text) {
  std::string out;
  size_t pos = 0;
  std::lock_guard lock(Mu());
  while (true) {
    size_t ref = text.find(kSealPrefix, pos);
    if (ref == std::string_view::npos) break;
    out.append(text, pos, ref - pos);
    const size_t end = ref + kSealPrefix.size() + kSealDigits;
    if (end + kSealSuffix.size() > text.size() || text.substr(end, kSealSuffix.size()) != kSealSuffix) {
      out.append(kSealPrefix);  // not a reference: kept as text
      pos = ref + kSealPrefix.size();
      continue;
    }
    const std::string_view whole = text.substr(ref, end + kSealSuffix.size() - ref);
    const std::string* value = nullptr;
    for (const auto& v : Values()) {
      if (SealRef(v) == whole) {
        value = &v;
        break;
      }
    }
    if (value == nullptr) return std::nullopt;
    out += *value;
    pos = end + kSealSuffix.size();
  }
  out.append(text, pos, std::string_view::npos);
  return out;
}

void Secrets::Register(std::string_view value) {
  if (value.size() < 4) return;
  std::lock_guard lock(Mu());
  Values().emplace(value);
}

bool Secrets::LooksSecret(std::string_view name) {
  std::string n = Lower(name);
  static const char* kWords[] = {"token", "secret", "key", "password", "pass", "auth", "credential"};
  for (const char* w : kWords) {
    if (n.find(w) != std::string::npos) return true;
  }
  return false;
}

void Secrets::ClearForTest() {
  std::lock_guard lock(Mu());
  Values().clear();
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t host_start = scheme + 3;
    size_t path = out.find_first_of("/?#", host_start);
    size_t at = out.rfind('@', path == std::string::npos ? out.size() : path);
    if (at != std::string::npos && at > host_start) {
      size_t colon = out.find(':', host_start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, kRedacted);
      }
    }
  }
  size_t q = out.find('?');
  while (q != std::string::npos && q < out.size()) {
    size_t start = q + 1;
    size_t end = out.find_first_of("&#", start);
    if (end == std::string::npos) end = out.size();
    size_t eq = out.find('=', start);
    if (eq != std::string::npos && eq < end &&
        SecretParam(std::string_view(out).substr(start, eq - start)) && end > eq + 1) {
      out.replace(eq + 1, end - eq - 1, kRedacted);
      end = eq + 1 + kRedacted.size();
    }
    if (end >= out.size() || out[end] == '#') break;
    q = end;
  }
  return out;
}

std::string Secrets::Redact(std::string_view text) {
  std::string out(text);
  {
    std::lock_guard lock(Mu());
    for (const auto& v : Values()) {
      size_t pos = 0;
      while ((pos = out.find(v, pos)) != std::string::npos) {
        out.replace(pos, v.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
  }
  // URLs embedded in free text: mask their credentials too.
  size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    size_t start = pos;
    while (start > 0 && (std::isalnum(static_cast<unsigned char>(out[start - 1])) ||
                         out[start - 1] == '+' || out[start - 1] == '.' || out[start - 1] == '-')) {
      --start;
    }
    size_t end = out.find_first_of(" \t\r\n\"'<>", pos);
    if (end == std::string::npos) end = out.size();
    std::string red = RedactUrl(std::string_view(out).substr(start, end - start));
    out.replace(start, end - start, red);
    pos = start + red.size();
  }
  return out;
}

}  // namespace calprobe::core
