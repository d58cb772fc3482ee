#pragma once
// Secret values known to this process (tokens from ${ENV}, keys read from
// files). Everything that prints — logs, /api/v1/*, reports, JUnit — passes
// its text through Redact(), so a secret never leaves the process even when
// it hides inside a URL or an error message from a library.
// Thread-safe.

#include <optional>
#include <string>
#include <string_view>

namespace calprobe::core {

inline constexpr std::string_view kRedacted = "<redacted>";

class Secrets {
 public:
  // Remembers `value` as secret. Values shorter than 4 bytes are ignored (they
  // would redact ordinary words).
  static void Register(std::string_view value);
  // Returns `text` with every registered secret replaced by <redacted>, and
  // credentials in URLs (user:password@, token-like query parameters) masked.
  static std::string Redact(std::string_view text);
  // Returns true iff `name` looks like it holds a secret (TOKEN, SECRET, KEY,
  // PASSWORD, PASS, AUTH, CREDENTIAL, in any case).
  static bool LooksSecret(std::string_view name);
  static void ClearForTest();

  // For text kept at rest (a journaled cleanup request in the store): Seal
  // replaces every registered secret with a reference
  // "{{calprobe-secret:<first 16 hex digits of its SHA-256>}}" — never the
  // value. Unseal puts the values back from the secrets this process knows
  // (a config's ${ENV} values are registered again when the config loads
  // after a restart); nullopt when a reference names a secret it does not
  // know (e.g. one a journey captured before the restart).
  static std::string Seal(std::string_view text);
  static std::optional<std::string> Unseal(std::string_view text);
};

// Masks credentials in one URL: userinfo password and values of query
// parameters whose name LooksSecret() ("token", "key", "sig", …).
std::string RedactUrl(std::string_view url);

}  // namespace calprobe::core
