#!/usr/bin/env bash
# Fuzz the ICS reader/linter (calendar/ics) with libFuzzer + ASan + UBSan.
#
#   tests/fuzz/run.sh [SECONDS]        default 300; exits non-zero on a crash
#
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), FUZZ_NO_INSTALL=1
# (skip the package check), FUZZ_ARGS (extra libFuzzer flags), FUZZ_CC /
# FUZZ_CXX (default clang / clang++, i.e. Debian 12's clang 14).
# Configures its own build dir with clang, builds only ics_fuzz (-j2), seeds
# from tests/data/ics/ (recursively, regressions included) plus small feeds
# from bench/ics/gen_feed.py, keeps the growing corpus in the build dir and
# writes crash reproducers to $FUZZ_BUILD_DIR/fuzz/artifacts/. See docs/fuzzing.md.
set -euo pipefail

SECONDS_TO_RUN="${1:-300}"
case "$SECONDS_TO_RUN" in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BUILD="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
WORK="$BUILD/fuzz"

if [ "${FUZZ_NO_INSTALL:-0}" != 1 ]; then
  # clang 14 + compiler-rt (libFuzzer, ASan/UBSan runtimes) on Debian 12.
  CALPROBE_EXTRA_PACKAGES="clang libclang-rt-14-dev" "$ROOT/scripts/install-deps.sh"
fi

echo "== configure $BUILD (${FUZZ_CXX:-clang++}, CALPROBE_FUZZ=ON)"
CC="${FUZZ_CC:-clang}" CXX="${FUZZ_CXX:-clang++}" cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCALPROBE_FUZZ=ON \
  -DCALPROBE_BUILD_TESTS=OFF -DCALPROBE_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" -j2 ics_fuzz
FUZZER="$BUILD/tests/fuzz/ics_fuzz"

mkdir -p "$WORK/corpus" "$WORK/seeds-gen" "$WORK/artifacts"
# Small generated feeds (deterministic), under libFuzzer's -max_len.
for spec in "1 11" "3 12" "8 13" "20 14" "40 15"; do
  set -- $spec
  f="$WORK/seeds-gen/gen-$1.ics"
  [ -s "$f" ] || /usr/bin/python3 "$ROOT/bench/ics/gen_feed.py" --events "$1" --seed "$2" \
    --out "$f" --next "$WORK/seeds-gen/gen-$1.next.ics" >/dev/null
done
SEEDS=("$WORK/seeds-gen")
[ -d "$ROOT/tests/data/ics" ] && SEEDS+=("$ROOT/tests/data/ics")

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
LOG="$WORK/fuzz-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "== fuzzing for ${SECONDS_TO_RUN}s (load: $(cut -d' ' -f1-3 /proc/loadavg)); log: $LOG"
set +e
# shellcheck disable=SC2086
"$FUZZER" -max_len=65536 -timeout=5 -rss_limit_mb=2048 -max_total_time="$SECONDS_TO_RUN" \
  -dict="$HERE/ics.dict" -artifact_prefix="$WORK/artifacts/" -print_final_stats=1 \
  ${FUZZ_ARGS:-} "$WORK/corpus" "${SEEDS[@]}" >"$LOG" 2>&1
rc=$?
set -e
tail -n 25 "$LOG"
if [ $rc -ne 0 ]; then
  echo
  echo "== FUZZ FAILURE (exit $rc). Reproducers:"
  grep -E "Test unit written to|^==[0-9]+==ERROR|^SUMMARY|invariant broken|runtime error" "$LOG" | head -20
  echo "Reproduce: $FUZZER <artifact>   (keep it under tests/data/ics/fuzz-regressions/)"
  exit 1
fi
echo "== clean: no crash in ${SECONDS_TO_RUN}s"
