#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every suite
# registered with CTest (unit, actor and end-to-end). Exits non-zero when
# anything fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="${HERALD_BUILD_DIR:-$here/build}"
"$here/scripts/deps.sh" --test
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
