#!/usr/bin/env bash
# Runs one libFuzzer target for N seconds (default 600):
#   tql  fuzz/tql_parser_fuzz.cc  the TQL parser and its JSON form
#   api  fuzz/api_fuzz.cc         the HTTP API (server::Api) over a live database
# Configures and builds build-fuzz with clang-14 (from scripts/install-deps.sh:
# clang-14, libclang-rt-14-dev, libfuzzer-14-dev), seeds from
# fuzz/corpus/<target>/ (and fuzz/<target>.dict when there is one) and keeps
# what it learns in build-fuzz/corpus/<target> (so repeated runs continue
# where they stopped). The log is build-fuzz/fuzz-<target>.log. A crash
# leaves its input in build-fuzz/crashes/ and fails the script.
#
#   scripts/fuzz.sh api          # 10 minutes
#   scripts/fuzz.sh tql 20       # the short run `make test` does
set -euo pipefail

TARGET="${1:-}"
SECONDS_TO_RUN="${2:-600}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${TIDAL_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${JOBS:-$(nproc)}"

# Per target: the executable, and the libFuzzer flags that bound one input.
#   tql: the parser is bounded by kMaxQueryBytes; more memory is a bug.
#   api: bodies up to 4 KiB keep every request quick; the database the
#        target writes to lives in /tmp and is renewed every 20,000 inputs.
#        A checkpoint flushes RocksDB, which can take seconds on a busy
#        machine: hence the longer timeout.
case "$TARGET" in
  tql) BINARY=tql_parser_fuzz; LIMITS=(-max_len=4096 -timeout=10 -rss_limit_mb=2048) ;;
  api) BINARY=api_fuzz; LIMITS=(-max_len=4096 -timeout=30 -rss_limit_mb=4096) ;;
  *)
    echo "usage: scripts/fuzz.sh tql|api [seconds]" >&2
    exit 2
    ;;
esac

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz-$TARGET: clang++-14 not found; run scripts/install-deps.sh" >&2
  exit 1
fi

CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DTIDAL_FUZZ=ON -DTIDAL_BUILD_TESTS=OFF -DTIDAL_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target "$BINARY" -j "$JOBS"

CORPUS="$BUILD/corpus/$TARGET"
CRASHES="$BUILD/crashes"
LOG="$BUILD/fuzz-$TARGET.log"
mkdir -p "$CORPUS" "$CRASHES"
DICT=()
if [[ -f "$ROOT/fuzz/$TARGET.dict" ]]; then DICT=(-dict="$ROOT/fuzz/$TARGET.dict"); fi

echo "fuzz-$TARGET: running for ${SECONDS_TO_RUN}s"
start=$(date +%s)
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$BUILD/fuzz/$BINARY" "$CORPUS" "$ROOT/fuzz/corpus/$TARGET" "${DICT[@]}" \
  -max_total_time="$SECONDS_TO_RUN" "${LIMITS[@]}" \
  -artifact_prefix="$CRASHES/" -print_final_stats=1 2>"$LOG" || {
  tail -50 "$LOG" >&2
  echo "fuzz-$TARGET: FAILED after $(($(date +%s) - start))s; inputs in $CRASHES" >&2
  exit 1
}
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$LOG" || true
echo "fuzz-$TARGET: $(($(date +%s) - start))s crash-free; corpus $(ls "$CORPUS" | wc -l) inputs"
