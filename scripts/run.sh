#!/usr/bin/env bash
# Builds heraldd and herald-ctl and starts a node. With no arguments the
# node runs on its built-in development configuration and prints the page
# to open, an API key and how to mint a token. Any arguments go to heraldd
# (e.g. --config config/herald.example.jsonc).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/deps.sh"
cmake -S "$here" -B "$here/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$here/build" --target heraldd herald-ctl -j"$(nproc)"
exec "$here/build/apps/heraldd" "$@"
