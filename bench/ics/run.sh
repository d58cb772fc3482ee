#!/usr/bin/env bash
# ICS benchmark: calprobe parse + lint + delta side by side with raw libical,
# ical.js (npm) and python3-icalendar (apt), plus a bare single pass (floor),
# on the same generated feeds, one tool after another in one run.
#
#   bench/ics/run.sh [--events "10000 50000"] [--runs 3] [--iterations 5]
#                    [--build-dir DIR] [--docs FILE] [--no-install] [--no-docs]
#                    [--quick]
#
# Every measurement is a fresh process; tools are interleaved per round
# (floor, calprobe, analyze, libical, ical.js, python) so a load spike hits
# all of them alike. Inside a process the input is read before timing; the
# C++ tools and ical.js time --iterations runs (the first is the warm-up);
# python-icalendar times one run per process (--py-iterations to change).
# Reported: best MB/s over all runs; peak RSS = max over runs.
# The table is printed and written into the "## ICS parse + lint + delta"
# section of docs/benchmarks.md (other sections are left untouched).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="$ROOT/build-bench"
EVENTS="10000 50000"
RUNS=3
ITER=5
PY_ITER=1
INSTALL=1
DOCS=1
DOCS_FILE="$ROOT/docs/benchmarks.md"
CMDLINE="bench/ics/run.sh${*:+ $*}"

while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --iterations) ITER="$2"; shift 2 ;;
    --py-iterations) PY_ITER="$2"; shift 2 ;;
    --build-dir) BUILD="$(realpath -m "$2")"; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --docs) DOCS_FILE="$(realpath -m "$2")"; shift 2 ;;
    --no-docs) DOCS=0; shift ;;
    --quick) EVENTS="2000"; RUNS=1; ITER=2; DOCS=0; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

PY=/usr/bin/python3
log() { echo "== $*" >&2; }

# ---- 1. dependencies (idempotent) -------------------------------------------
if [ "$INSTALL" = 1 ]; then
  extra="python3-icalendar"
  # Debian 12's nodejs/npm. Only when absent: a NodeSource nodejs (which
  # bundles npm) conflicts with Debian's npm package.
  command -v node >/dev/null || extra="$extra nodejs"
  command -v npm >/dev/null || extra="$extra npm"
  CALPROBE_EXTRA_PACKAGES="$extra" "$ROOT/scripts/install-deps.sh"
  want="$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["packages"]["node_modules/ical.js"]["version"])' "$HERE/package-lock.json")"
  have="$(node -p 'require(process.argv[1]).version' "$HERE/node_modules/ical.js/package.json" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    log "npm ci (ical.js $want)"
    (cd "$HERE" && npm ci --no-audit --no-fund)
  fi
fi
"$PY" -c 'import icalendar' 2>/dev/null || { echo "run.sh: python3-icalendar missing (drop --no-install)" >&2; exit 2; }
[ -f "$HERE/node_modules/ical.js/package.json" ] || { echo "run.sh: ical.js missing: run 'npm ci' in bench/ics" >&2; exit 2; }

# ---- 2. build (never more than -j2 on this shared machine) -----------------
log "build bench_ics in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCALPROBE_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" -j2 bench_ics
BENCH="$BUILD/bench/ics/bench_ics"
BUILD_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
CXX_ID="$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$BUILD/CMakeCache.txt")"
CXX_VER="$("$CXX_ID" --version | head -1)"

# ---- 3. feeds (deterministic; regenerated when the generator changes) ------
FEEDS="$BUILD/ics-feeds"
mkdir -p "$FEEDS"
gen_sum="$(sha256sum "$HERE/gen_feed.py" | cut -c1-16)"
for n in $EVENTS; do
  stamp="$FEEDS/feed-$n.stamp"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$gen_sum" ]; then
    log "generate $n-event feed + next poll"
    "$PY" "$HERE/gen_feed.py" --events "$n" --seed "$n" --out "$FEEDS/feed-$n.ics" \
      --next "$FEEDS/feed-$n.next.ics" --expect "$FEEDS/feed-$n.expect.json" >/dev/null
    echo "$gen_sum" >"$stamp"
  fi
done

# ---- 4. measure ------------------------------------------------------------
OUT="$BUILD/ics-bench"
mkdir -p "$OUT"
RES="$OUT/results.jsonl"
: >"$RES"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average before: $LOAD_BEFORE"
if awk -v l="${LOAD_BEFORE%% *}" 'BEGIN{exit !(l > 0.7)}'; then
  log "WARNING: the machine is busy (load $LOAD_BEFORE); numbers will be noisy"
fi

record() {  # record TOOL FEED_EVENTS ROUND command...  (a failure is recorded, not fatal)
  local tool="$1" n="$2" round="$3"; shift 3
  local line
  if ! line="$("$@" 2>"$OUT/last.err")"; then
    echo "run.sh: FAILED ($tool, $n events): $* :: $(tail -3 "$OUT/last.err")" >&2
    line="{\"tool\":\"$tool\",\"error\":true}"
  fi
  echo "$line" | "$PY" -c 'import json,sys; d=json.loads(sys.stdin.read()); d["events"]=int(sys.argv[1]); d["round"]=int(sys.argv[2]); print(json.dumps(d))' "$n" "$round" >>"$RES"
  echo "   $(echo "$line" | cut -c1-150)" >&2
}

CALPROBE_OK=1
if ! "$BENCH" analyze "$FEEDS/feed-$(echo $EVENTS | cut -d' ' -f1).ics" --iterations 1 >/dev/null 2>"$OUT/calprobe-probe.err"; then
  CALPROBE_OK=0
  log "calprobe modes unavailable: $(cat "$OUT/calprobe-probe.err")"
fi

for n in $EVENTS; do
  f="$FEEDS/feed-$n.ics"; g="$FEEDS/feed-$n.next.ics"
  for r in $(seq 1 "$RUNS"); do
    log "feed $n events, round $r/$RUNS"
    record floor "$n" "$r" "$BENCH" floor "$f" --iterations "$ITER"
    if [ "$CALPROBE_OK" = 1 ]; then
      record calprobe "$n" "$r" "$BENCH" calprobe "$f" "$g" --iterations "$ITER"
      record analyze "$n" "$r" "$BENCH" analyze "$f" --iterations "$ITER"
    fi
    record libical "$n" "$r" "$BENCH" libical "$f" --iterations "$ITER"
    record icaljs "$n" "$r" node --expose-gc "$HERE/icaljs_parse.mjs" "$f" "$ITER"
    record pyical "$n" "$r" "$PY" "$HERE/pyical_parse.py" "$f" "$PY_ITER"
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"
log "load average after: $LOAD_AFTER"

# ---- 5. report -------------------------------------------------------------
export BENCH_CMD="$CMDLINE" BENCH_LOAD_BEFORE="$LOAD_BEFORE" BENCH_LOAD_AFTER="$LOAD_AFTER"
export BENCH_BUILD_TYPE="$BUILD_TYPE" BENCH_CXX="$CXX_VER" BENCH_RUNS="$RUNS" BENCH_ITER="$ITER"
export BENCH_PY_ITER="$PY_ITER" BENCH_FEEDS="$FEEDS"
args=("$RES")
[ "$DOCS" = 1 ] && args+=(--docs "$DOCS_FILE")
"$PY" "$HERE/report.py" "${args[@]}"
