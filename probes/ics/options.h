#pragma once
// Options of the `ics` probe (the map under a target's `ics:` key), read and
// validated with path errors. See ops/runbooks/calendar-ics-errors.md and
// docs/diagnosis-codes.md for what the probe reports.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config_node.h"
#include "core/http/http_client.h"
#include "core/probe.h"

namespace calprobe::probes::ics {

struct Options {
  // url (http/https; webcal:// means https), headers, max_body,
  // max_decompressed, max_redirects, tls.{insecure_skip_verify,ca_file}.
  core::HttpRequest request;
  std::string src_id;    // labels.src_id, else the target's name
  std::string provider;  // labels.provider (may be empty)
  // Removal share above which a poll is `sync.mass_deletion`, checked only
  // when the previous snapshot had at least `mass_deletion_min_events`.
  double mass_deletion_threshold = 0.5;
  int mass_deletion_min_events = 4;
  // Consecutive polls showing the same mass-deleted content before it is
  // accepted as the new baseline (a real clean-up, not a partial export).
  int mass_deletion_confirmations = 3;
  // Backoff ladder after consecutive errors: tier k waits retry_tiers[k-1].
  // The top tier (30m) stays below the 45-minute staleness alert.
  std::vector<std::chrono::milliseconds> retry_tiers = {
      std::chrono::minutes(1), std::chrono::minutes(5), std::chrono::minutes(15),
      std::chrono::minutes(30)};
  size_t max_components = 50000;
  // Consecutive 401/403 (and 404/410 on a secret URL) after earlier
  // successes before the source is classified credential.* (credential_class.h).
  int credential_failure_streak = 3;
  bool secret_url = false;  // the URL carries a secret (auto-detected unless set)
};

// Reads `n` (the `ics:` map). Records errors on `n` and returns false when
// the options are unusable.
bool ReadOptions(const core::ConfigNode& n, const core::TargetInfo& target, Options* out);

}  // namespace calprobe::probes::ics
