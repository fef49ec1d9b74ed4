#!/usr/bin/env bash
# Runs a client's MovieLens example (clients/*/examples) against a fresh
# historical `tidal serve` and checks what it prints: every movie and rating
# accepted, a trending list and Star Wars films for the search.
# usage: run_movielens_example.sh TIDAL_BIN DATA_DIR COMMAND...
set -euo pipefail
tidal="$1"; data="$2"; shift 2
scratch="$(mktemp -d)"
"$tidal" serve --data "$scratch/db" --historical --port 0 >"$scratch/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$scratch"' EXIT
url=""
for _ in $(seq 1 300); do
  url="$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$scratch/server.log" | head -1 | cut -d' ' -f3 || true)"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$scratch/server.log"; exit 1; }
out="$("$@" "$data" "$url")"
echo "$out"
grep -q "movies: 9742 accepted, 0 rejected" <<<"$out"
grep -q "ratings: 100836 accepted (0 already there), 0 rejected" <<<"$out"
grep -q "Star Wars" <<<"$out"
grep -q "Dramas: [1-9]" <<<"$out"
