#!/usr/bin/env bash
# Installs every Debian package that tidalDB's build, tests and benchmarks need.
# Idempotent: packages already present are skipped, and `apt-get update` runs at
# most once, only when something is missing. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake make pkg-config git clang-format
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  # storage, hashing, bitmaps, JSON
  librocksdb-dev libroaring-dev librust-blake3-dev libsimdjson-dev
  # text analysis: Unicode segmentation and folding, Snowball stemmers
  libicu-dev libstemmer-dev
  # vector attributes: HNSW graphs (header-only hnswlib)
  libhnswlib-dev
  # the server (Boost.Beast/Asio) and the shell (GNU readline)
  libboost-dev libreadline-dev
  # tests and benchmarks
  googletest libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  # peers the benchmarks run side by side
  redis-server libhiredis-dev libxapian-dev
  # FAISS (HNSW), measured beside hnswlib by bench/ann_eval
  libfaiss-dev
  # HTTP load generator for bench/http_bench; curl for the documented HTTP examples
  wrk curl
  # the Python client (clients/python): tested, and pip-installed offline into a venv
  python3 python3-venv python3-pip python3-setuptools python3-wheel
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
