#!/usr/bin/env bash
# Builds calprobe and runs the demo on 127.0.0.1: a local endpoint to probe
# and the agent with config/demo.yaml. Ctrl-C stops everything it started.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALPROBE_NINJA_TARGETS=calprobe "$here/scripts/build.sh" -DCALPROBE_BUILD_TESTS=OFF -DCALPROBE_BUILD_BENCH=OFF
bin="${CALPROBE_BUILD_DIR:-$here/build}/app/calprobe"
state="${CALPROBE_STATE_DIR:-${TMPDIR:-/tmp}/calprobe-demo}"
mkdir -p "$state"
export CALPROBE_STATE_DIR="$state"
export CALPROBE_INGEST_TOKEN="${CALPROBE_INGEST_TOKEN:-demo-ingest-token}"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

# The demo's own endpoint to probe: a private nginx on 127.0.0.1:18080.
mkdir -p "$state/nginx"
cat > "$state/nginx/nginx.conf" <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $state/nginx/body;
  proxy_temp_path $state/nginx/proxy;
  fastcgi_temp_path $state/nginx/fastcgi;
  uwsgi_temp_path $state/nginx/uwsgi;
  scgi_temp_path $state/nginx/scgi;
  server {
    listen 127.0.0.1:18080;
    location = /health { default_type text/plain; return 200 "ok\n"; }
    location = /json { default_type application/json; return 200 '{"status":"ok"}'; }
    location = /fail { return 503; }
  }
}
CONF
nginx -c "$state/nginx/nginx.conf" -p "$state/nginx" &
pids+=($!)

"$bin" run --config "$here/config/demo.yaml" &
pids+=($!)

for _ in $(seq 50); do
  curl -fsS http://127.0.0.1:9464/readyz >/dev/null 2>&1 && break
  sleep 0.2
done
cat <<MSG

  calprobe demo is running (state in $state)
    dashboard   http://127.0.0.1:9464/
    metrics     http://127.0.0.1:9464/metrics
    targets     http://127.0.0.1:9464/api/v1/targets
    ingest      curl -H "Authorization: Bearer \$CALPROBE_INGEST_TOKEN" --data-binary @events.ndjson http://127.0.0.1:9464/api/v1/events
  Ctrl-C to stop.

MSG
wait -n "${pids[@]}"
