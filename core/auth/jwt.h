#pragma once
// Reads the time claims of a JSON Web Token (RFC 7519) without checking its
// signature: calprobe only needs to know when a bearer token stops working,
// not whether to trust it. Pure; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace calprobe::core::auth {

struct JwtTimes {
  std::optional<TimePoint> exp, nbf, iat;
};

// Returns the exp/nbf/iat claims of `token` (header.payload.signature,
// base64url), or nullopt when `token` is not a JWT with a JSON object payload.
std::optional<JwtTimes> DecodeJwtTimes(std::string_view token);

// base64url (RFC 4648 §5, padding optional) to bytes; nullopt on bad input.
std::optional<std::string> Base64UrlDecode(std::string_view in);

}  // namespace calprobe::core::auth
