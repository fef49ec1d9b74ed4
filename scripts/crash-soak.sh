#!/usr/bin/env bash
# Soak variant of the WAL crash test: thousands of SIGKILLs instead of CI's 50.
#   scripts/crash-soak.sh [iterations] [build-dir]
# TIDAL_CRASH_SEED picks another random sequence of kill times.
set -euo pipefail
iterations="${1:-5000}"
build="${2:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [[ ! -x "$build/tests/tidal_crash_tests" ]]; then
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j"$(nproc)" --target tidal_crash_tests
fi
TIDAL_CRASH_ITERATIONS="$iterations" exec "$build/tests/tidal_crash_tests" \
  --gtest_filter='WalCrashTest.*'
