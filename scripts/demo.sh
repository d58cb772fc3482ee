#!/usr/bin/env bash
# Builds calprobe and runs the demo on 127.0.0.1: the sandbox calendar
# service (config/sandbox.yaml) and the agent probing it (config/demo.yaml). Ctrl-C stops everything it started.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALPROBE_NINJA_TARGETS=calprobe "$here/scripts/build.sh" -DCALPROBE_BUILD_TESTS=OFF -DCALPROBE_BUILD_BENCH=OFF
bin="${CALPROBE_BUILD_DIR:-$here/build}/app/calprobe"
state="${CALPROBE_STATE_DIR:-${TMPDIR:-/tmp}/calprobe-demo}"
mkdir -p "$state"
# Each demo starts from an empty store, so its alerts fire and are delivered
# again (an agent restored from a store keeps firing alerts without
# announcing them twice). CALPROBE_DEMO_KEEP_STATE=1 keeps the last run's.
if [ "${CALPROBE_DEMO_KEEP_STATE:-0}" != 1 ]; then
  rm -f "$state"/calprobe-demo.db "$state"/calprobe-demo.db-wal "$state"/calprobe-demo.db-shm
fi
export CALPROBE_STATE_DIR="$state"
export CALPROBE_INGEST_TOKEN="${CALPROBE_INGEST_TOKEN:-demo-ingest-token}"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# The sandbox calendar service: the platform the demo monitors. It sends its
# cal.* events to the agent's ingest endpoint.
export SANDBOX_SYNTHETIC_FEED_TOKEN="${SANDBOX_SYNTHETIC_FEED_TOKEN:-demo-feed-token-0001}"
# Simulated buyers and providers (sandbox/traffic.h) fill the dashboard's six panels within a minute.
export SANDBOX_TRAFFIC_INTERVAL="${SANDBOX_TRAFFIC_INTERVAL:-1s}"
# A local webhook sink stands in for PagerDuty, Slack and Alertmanager: it
# prints every notification the agent delivers (config/demo.yaml receivers).
"$bin" webhook-sink --listen 127.0.0.1:9099 &
pids+=($!)

CALPROBE_EVENTS_URL=http://127.0.0.1:9464/api/v1/events \
  "$bin" sandbox --config "$here/config/sandbox.yaml" --listen 127.0.0.1:8090 &
pids+=($!)

"$bin" run --config "$here/config/demo.yaml" &
pids+=($!)

for _ in $(seq 50); do
  curl -fsS http://127.0.0.1:9464/readyz >/dev/null 2>&1 && break
  sleep 0.2
done

# Platform traffic and faults that make seed alerts fire (see the script).
"$here/scripts/demo-traffic.sh" http://127.0.0.1:8090 &
pids+=($!)
dashboard=http://127.0.0.1:9464/
cat <<MSG

  ================================================================
    calprobe dashboard:  $dashboard
    (the six panels fill within a minute)
  ================================================================

  calprobe demo is running (state in $state)
    dashboard   $dashboard
    metrics     http://127.0.0.1:9464/metrics
    targets     http://127.0.0.1:9464/api/v1/targets
    alerts      http://127.0.0.1:9464/api/v1/alerts   (FeedTokenLeakage, HoldExpirySpike,
                FeasibilityLatency and IcsPollErrors fire within two minutes: demo traffic;
                their PagerDuty/Slack/Alertmanager deliveries are printed below by the webhook sink)
    ingest      curl -H "Authorization: Bearer \$CALPROBE_INGEST_TOKEN" --data-binary @events.ndjson http://127.0.0.1:9464/api/v1/events
    sandbox     http://127.0.0.1:8090/api/providers   (faults: curl -XPOST 127.0.0.1:8090/admin/faults -d '{"fault":"slots_missing"}')
  Ctrl-C to stop.

MSG
# Open the dashboard in the desktop's browser when there is one.
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && command -v xdg-open >/dev/null; then
  xdg-open "$dashboard" >/dev/null 2>&1 || true
fi
wait -n "${pids[@]}"
