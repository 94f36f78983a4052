#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every suite
# registered with CTest (unit, actor, end-to-end and the fuzz smoke). Exits
# non-zero when anything fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="${HERALD_BUILD_DIR:-$here/build}"
"$here/scripts/deps.sh" --test
# HERALD_FUZZ_SMOKE: CTest's fuzz.build makes the clang build of the fuzz
# targets (build-fuzz, scripts/fuzz.sh) and fuzz.<target> runs each for
# HERALD_FUZZ_SMOKE_SECONDS on its corpus (tests/fuzz/README.md).
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHERALD_FUZZ_SMOKE=ON -DHERALD_FUZZ_SMOKE_SECONDS=5 >/dev/null
cmake --build "$build" -j"$(nproc)"
export HERALD_FUZZ_JOBS="${HERALD_FUZZ_JOBS:-$(nproc)}" # fuzz.build's parallelism
# A throwaway PostgreSQL for the store tests (unit.actors, e2e.stores);
# where none can start, those tests say SKIPPED and check SQLite alone.
pg_dir=$(mktemp -d /tmp/herald-pg.XXXXXX)
trap 'bash "$here/scripts/pg_test_server.sh" stop "$pg_dir"' EXIT
if url=$(bash "$here/scripts/pg_test_server.sh" start "$pg_dir" 55439 2>"$pg_dir.err"); then
  export HERALD_TEST_POSTGRES_URL="$url"
  echo "test: PostgreSQL for the store tests at $url"
else
  echo "test: SKIPPING the PostgreSQL store tests: no server ($(tail -1 "$pg_dir.err"))"
fi
cd "$build"
ctest --output-on-failure --timeout 600 "$@"
