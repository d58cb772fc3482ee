#include "core/auth/jwt.h"

#include <nlohmann/json.hpp>

namespace calprobe::core::auth {

std::optional<std::string> Base64UrlDecode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '-' || ch == '+')
      v = 62;
    else if (ch == '_' || ch == '/')
      v = 63;
    else
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone trailing character
  return out;
}

std::optional<JwtTimes> DecodeJwtTimes(std::string_view token) {
  size_t a = token.find('.');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = token.find('.', a + 1);
  if (b == std::string_view::npos || token.find('.', b + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  auto payload = Base64UrlDecode(token.substr(a + 1, b - a - 1));
  if (!payload) return std::nullopt;
  auto j = nlohmann::json::parse(*payload, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  auto claim = [&](const char* name) -> std::optional<TimePoint> {
    auto it = j.find(name);
    if (it == j.end() || !it->is_number()) return std::nullopt;
    double s = it->get<double>();
    return TimePoint(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s)));
  };
  return JwtTimes{claim("exp"), claim("nbf"), claim("iat")};
}

}  // namespace calprobe::core::auth
