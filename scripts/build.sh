#!/usr/bin/env bash
# Configures and builds calprobe into ./build (or $CALPROBE_BUILD_DIR).
# Installs missing Debian packages first (idempotent). Extra args go to cmake.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$here/scripts/install-deps.sh"
build="${CALPROBE_BUILD_DIR:-$here/build}"
jobs="${CALPROBE_JOBS:-$(nproc)}"
cmake -S "$here" -B "$build" -G Ninja "$@" >/dev/null
ninja -C "$build" -j"$jobs" ${CALPROBE_NINJA_TARGETS:-}
