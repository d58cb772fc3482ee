#!/usr/bin/env bash
# Platform traffic for the demo (scripts/demo.sh starts it in the background).
# It uses the sandbox's public API the way bookers and providers would, and
# injects the faults that make seed alerts fire within two minutes:
#   FeedTokenLeakage   4 feed-token regenerations for p-berlin (> 3 in 24 h:
#                      the seed's real threshold)
#   HoldExpirySpike    holds on p-nyc with 2 s TTLs, only every other one
#                      confirmed (expired/created ~ 0.5 > 0.2)
#   FeasibilityLatency the `latency` fault (2.5 s) on p-berlin while its
#                      feasibility is requested with new windows (cache misses)
#   IcsPollErrors      a busy source of p-nyc that points at a closed port
# The windows and `for:` of the time-based alerts are shortened for the demo
# in config/alerts-demo.yaml (clearly labelled there).
# Usage: scripts/demo-traffic.sh [SANDBOX_URL]   (default http://127.0.0.1:8090)
set -uo pipefail
sandbox="${1:-http://127.0.0.1:8090}"
dead_port="${CALPROBE_DEMO_DEAD_PORT:-9}"  # discard port: nothing listens on loopback

post() { curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' "$sandbox$1" -d "$2"; }

for _ in $(seq 100); do
  curl -fsS "$sandbox/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done

for _ in 1 2 3 4; do post /api/providers/p-berlin/feed-token/regenerate '{}'; done
post /admin/faults '{"fault":"latency","provider_id":"p-berlin","params":{"ms":2500}}'
post /api/providers/p-nyc/busy-sources \
  "{\"id\":\"demo-broken-gcal\",\"url\":\"http://127.0.0.1:${dead_port}/calendar.ics\",\"poll_interval\":\"5s\"}"

# Hold slots far enough ahead that they never collide with real ones:
# 30-minute slots from 60 days out, a new one each time.
base=$(( $(date +%s) / 86400 * 86400 + 60 * 86400 ))
i=0
while true; do
  start=$(date -u -d "@$(( base + i * 1800 ))" +%Y-%m-%dT%H:%M:%SZ)
  end=$(date -u -d "@$(( base + i * 1800 + 1800 ))" +%Y-%m-%dT%H:%M:%SZ)
  hold=$(curl -fsS -X POST -H 'Content-Type: application/json' "$sandbox/api/holds" \
    -d "{\"provider_id\":\"p-nyc\",\"start\":\"$start\",\"end\":\"$end\",\"ttl_seconds\":2,\"source\":\"web\"}" \
    2>/dev/null | sed -n 's/.*"hold_id":"\([^"]*\)".*/\1/p')
  if [ -n "$hold" ] && [ $(( i % 2 )) -eq 0 ]; then
    post "/api/holds/$hold/confirm" '{}' || true
  fi
  # A feasibility window that was not asked before: a cache miss, computed
  # (slowly, under the latency fault) and reported as cal.feasible.generated.
  from=$(date -u -d "@$(( base + i * 86400 ))" +%Y-%m-%dT00:00:00Z)
  to=$(date -u -d "@$(( base + i * 86400 + 86400 ))" +%Y-%m-%dT00:00:00Z)
  curl -fsS -o /dev/null "$sandbox/api/providers/p-berlin/feasibility?from=$from&to=$to" || true
  curl -fsS -o /dev/null "$sandbox/api/providers/p-nyc/feasibility?from=$from&to=$to" || true
  i=$(( i + 1 ))
  sleep 2
done
