#!/usr/bin/env bash
# Soak variant of the crash tests: thousands of SIGKILLs instead of CI's few
# dozen, for every kind of write — raw WAL records (WalCrashTest), entity
# upserts, patches, deletes and follows with their indexes (EntitiesCrashTest),
# events with idempotency keys, profiles and switches of the present
# (RecordsCrashTest).
#   scripts/crash-soak.sh [iterations] [build-dir] [gtest filter]
# TIDAL_CRASH_SEED picks another random sequence of kill times.
set -euo pipefail
iterations="${1:-5000}"
build="${2:-build}"
filter="${3:-WalCrashTest.*:EntitiesCrashTest.*:RecordsCrashTest.*}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ ! -x "$build/tests/tidal_crash_tests" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target tidal_crash_tests
fi
TIDAL_CRASH_ITERATIONS="$iterations" exec "$build/tests/tidal_crash_tests" \
  --gtest_filter="$filter"
