#!/usr/bin/env bash
# Installs the Debian 12 packages calprobe needs to build, test and run its demo.
# Idempotent: packages already installed are skipped, and apt is not touched
# at all when everything is present. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  # libraries (DESIGN.md: the chosen set)
  libcurl4-openssl-dev libboost-dev nlohmann-json3-dev libyaml-cpp-dev
  libpugixml-dev libical-dev libsqlite3-dev libssl-dev libcli11-dev
  libhowardhinnant-date-dev tzdata
  # tests
  libgtest-dev libgmock-dev
  # real peers for integration tests, demo and benchmarks
  nginx-light prometheus prometheus-alertmanager prometheus-blackbox-exporter
  chromium  # dashboard browser test (headless)
  procps python3 python3-yaml
)

if [ "${CALPROBE_EXTRA_PACKAGES:-}" != "" ]; then
  # shellcheck disable=SC2206
  PACKAGES+=(${CALPROBE_EXTRA_PACKAGES})
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
    exit 2
  fi
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services from these packages must not start on install (tests start their own
# copies on loopback with their own ports); policy-rc.d 101 forbids starting.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
