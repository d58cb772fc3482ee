#!/usr/bin/env bash
# Builds everything and runs every test (GoogleTest unit tests and the
# integration tests that run the real binary against real local servers:
# nginx, promtool, …). Prints the ctest summary; exits non-zero on failure.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/build.sh" -DCALPROBE_BUILD_TESTS=ON
build="${CALPROBE_BUILD_DIR:-$here/build}"
cd "$build"
# Unit tests in parallel; integration tests one at a time (they start servers
# and measure time).
ctest --output-on-failure --timeout 900 -j"$(nproc)" -LE integration "$@" || unit_failed=1
ctest --output-on-failure --timeout 900 -L integration "$@" || integration_failed=1
if [ -n "${unit_failed:-}${integration_failed:-}" ]; then
  echo "FAILED: ${unit_failed:+unit tests }${integration_failed:+integration tests}" >&2
  exit 1
fi
