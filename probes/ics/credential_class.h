#pragma once
// Auth failures of external ICS sources, told apart from transient errors
// (docs/credentials.md, docs/diagnosis-codes.md "Credentials"):
//   401 after earlier successes          -> credential.expired
//   403 after earlier successes          -> credential.revoked
//   404/410 on a formerly working secret -> credential.secret_url_revoked
// 5xx, 429 and timeouts never count. Pure; thread-safe.

#include <string>
#include <string_view>

#include "calendar/ics/ics.h"

namespace calprobe::probes::ics {

// Returns true iff `url` carries a secret: a query parameter whose name
// looks secret (token, key, sig, …) or a long random-looking path segment
// (Google's private-…/basic.ics, Outlook's published-calendar ids).
bool LooksLikeSecretUrl(std::string_view url);

// Returns true iff `status` counts towards the credential-failure streak of
// a source (401, 403; 404 and 410 only when `secret_url`).
bool IsCredentialStatus(int status, bool secret_url);

// The credential.* code for `status` once the streak is reached, or empty.
std::string_view CredentialCode(int status, bool secret_url);

// A finding for `code` with provider-facing wording: what happened to the
// subscription and what the calendar's owner must do.
calendar::Finding CredentialFinding(std::string_view code, int status, int streak);

}  // namespace calprobe::probes::ics
