#!/usr/bin/env bash
# ASan+UBSan over every CTest suite, end-to-end included (tests/README.md,
# "Sanitizers"). Usage: scripts/asan.sh [ctest args...]
#
# Builds Herald in build-asan (Debug, -DHERALD_SANITIZE=asan; CTest points
# the end-to-end suites at that node) and runs CTest. Every ASan and
# LeakSanitizer report, of the test binaries and of each node a suite
# starts, goes to a file in build-asan/sanitizer-reports/: a node's leak
# report comes at its exit, after its suite has judged it, so only these
# files show it. The run fails when any was written, even where every test
# passed. UBSan reports cannot go there (GCC's libubsan writes to stderr
# whatever log_path says): CTest makes each one halt its process instead
# (tests/CMakeLists.txt), which fails the entry; rerun that entry with
# HERALD_E2E_VERBOSE=1 to see a node's report.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="${HERALD_ASAN_DIR:-$here/build-asan}"
"$here/scripts/deps.sh" --test
cmake -S "$here" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DHERALD_SANITIZE=asan >/dev/null
cmake --build "$out" -j"$(nproc)"

pg_dir=$(mktemp -d /tmp/herald-pg.XXXXXX)
trap 'bash "$here/scripts/pg_test_server.sh" stop "$pg_dir"' EXIT
if url=$(bash "$here/scripts/pg_test_server.sh" start "$pg_dir" 55441 2>"$pg_dir.err"); then
  export HERALD_TEST_POSTGRES_URL="$url"
fi
reports="$out/sanitizer-reports"
rm -rf "$reports" && mkdir -p "$reports"
export ASAN_OPTIONS="detect_leaks=1 log_path=$reports/asan"
cd "$out"
status=0
ctest --output-on-failure --timeout 1200 "$@" || status=$?
count=$(find "$reports" -type f | wc -l)
echo "asan: $count report file(s) in $reports"
((count == 0)) || status=1
exit "$status"
