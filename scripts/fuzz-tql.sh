#!/usr/bin/env bash
# Fuzzes the TQL parser (fuzz/tql_parser_fuzz.cc) with libFuzzer for N seconds
# (default 600). Configures and builds build-fuzz with clang-14 (from
# scripts/install-deps.sh: clang-14, libclang-rt-14-dev, libfuzzer-14-dev),
# seeds from fuzz/corpus/tql/ and keeps what it learns in
# build-fuzz/corpus/tql (so repeated runs continue where they stopped).
# A crash leaves its input in build-fuzz/crashes/ and fails the script.
#
#   scripts/fuzz-tql.sh          # 10 minutes
#   scripts/fuzz-tql.sh 20       # the short run `make test` does
set -euo pipefail

SECONDS_TO_RUN="${1:-600}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${TIDAL_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
JOBS="${JOBS:-$(nproc)}"

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz-tql: clang++-14 not found; run scripts/install-deps.sh" >&2
  exit 1
fi

CC=clang-14 CXX=clang++-14 cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
  -DTIDAL_FUZZ=ON -DTIDAL_BUILD_TESTS=OFF -DTIDAL_BUILD_BENCH=OFF >/dev/null
cmake --build "$BUILD" --target tql_parser_fuzz -j "$JOBS"

CORPUS="$BUILD/corpus/tql"
CRASHES="$BUILD/crashes"
mkdir -p "$CORPUS" "$CRASHES"

echo "fuzz-tql: running for ${SECONDS_TO_RUN}s"
start=$(date +%s)
# -rss_limit_mb: the parser is bounded by kMaxQueryBytes; more memory is a bug.
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$BUILD/fuzz/tql_parser_fuzz" "$CORPUS" "$ROOT/fuzz/corpus/tql" \
  -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$CRASHES/" -print_final_stats=1 2>"$BUILD/fuzz-tql.log" || {
  tail -50 "$BUILD/fuzz-tql.log" >&2
  echo "fuzz-tql: FAILED after $(($(date +%s) - start))s; inputs in $CRASHES" >&2
  exit 1
}
grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$BUILD/fuzz-tql.log" || true
echo "fuzz-tql: $(($(date +%s) - start))s crash-free; corpus $(ls "$CORPUS" | wc -l) inputs"
