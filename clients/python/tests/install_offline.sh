#!/usr/bin/env bash
# `pip install` of the client with no network: a fresh venv over Debian's
# python3 (its setuptools and wheel), no index, then an import.
set -euo pipefail
python="$1"
src="$2"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
venv="$scratch/venv"
# A copy: building writes build/ and *.egg-info beside the sources.
cp -r "$src" "$scratch/src"
"$python" -m venv --system-site-packages "$venv"
"$venv/bin/pip" install --quiet --no-index --no-build-isolation "$scratch/src"
"$venv/bin/python" -c 'import tidaldb, sys; assert tidaldb.Client("http://x").url == "http://x"; print("tidaldb", tidaldb.__version__)'
