#pragma once
// The `credential` probe: a synthetic, low-frequency check of one named
// credential (docs/credentials.md) that runs whether or not production
// traffic uses it, so an expiring or revoked credential is seen before the
// next real request fails. OAuth credentials ask the token endpoint for a
// fresh token; any credential can also call a cheap authenticated
// `check_url`. The run fails with credential.expiring inside the
// credential's warn_before lead time, credential.expired / .revoked when it
// no longer works.

#include <memory>

#include "core/probe.h"

namespace calprobe::probes::credential {

std::unique_ptr<core::ProbeFactory> NewFactory();

}  // namespace calprobe::probes::credential
