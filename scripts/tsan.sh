#!/usr/bin/env bash
# ThreadSanitizer over every CTest suite, end-to-end included
# (tests/README.md, "Sanitizers"). Usage: scripts/tsan.sh [ctest args...]
#
# TSan sees a hand-over between threads only when both sides of it are
# instrumented, and every message in Herald crosses CAF's lock-free mailbox.
# Against Debian's libcaf_core every report is about that hand-over, so this
# first builds CAF 0.17.6 itself with -fsanitize=thread, once, into
# build-tsan/caf: from Debian's own source package of the libcaf-dev the
# normal build links (apt-get source actor-framework), its upstream tarball
# checked against the SHA-256 in Debian's signed .dsc. Then Herald with
# -DHERALD_SANITIZE=tsan against that CAF, then CTest with
# tests/tsan.supp. Costs about 25 minutes on 2 cores the first time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="${HERALD_TSAN_DIR:-$here/build-tsan}"
caf="$out/caf"
sudo=""
[[ $(id -u) -ne 0 ]] && sudo="sudo"
"$here/scripts/deps.sh" --test

fetch_caf_source() {
  mkdir -p "$caf/src"
  cd "$caf/src"
  if ! apt-cache showsrc actor-framework 2>/dev/null | grep -q '^Package:'; then
    echo "tsan: adding Debian's source index (deb-src) to apt"
    $sudo tee /etc/apt/sources.list.d/herald-debian-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    $sudo apt-get update -qq
  fi
  # Only the upstream tarball is built (not Debian's packaging), so a
  # mirror that lacks the .debian.tar.xz is no reason to stop.
  apt-get source --download-only actor-framework >apt-source.log 2>&1 || true
  local dsc tarball
  dsc=$(ls actor-framework_0.17.6-*.dsc | head -1)
  tarball=actor-framework_0.17.6.orig.tar.gz
  grep -q " $(sha256sum "$tarball" | cut -d' ' -f1) " "$dsc" \
    || { echo "tsan: $tarball does not match $dsc"; exit 1; }
  rm -rf actor-framework-0.17.6
  tar xzf "$tarball"
}

if [[ ! -f "$caf/prefix/lib/libcaf_core.so" ]]; then
  echo "tsan: building CAF 0.17.6 with -fsanitize=thread into $caf/prefix"
  (fetch_caf_source)
  # CAF's own default flags, plus TSan; no examples, tools, tests, OpenSSL.
  # -include limits stands for the one change Debian's installed headers
  # show against the tarball's (receive_buffer.hpp uses std::numeric_limits
  # without <limits>, which g++ 12 no longer pulls in by the way), so the
  # tarball stays untouched.
  cmake -S "$caf/src/actor-framework-0.17.6" -B "$caf/build" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX="$caf/prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_CXX_FLAGS="-std=c++11 -Wall -Wextra -fsanitize=thread -include limits" \
    -DCMAKE_SHARED_LINKER_FLAGS=-fsanitize=thread \
    -DCAF_NO_EXAMPLES=yes -DCAF_NO_TOOLS=yes -DCAF_NO_UNIT_TESTS=yes \
    -DCAF_NO_OPENSSL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes \
    -DCAF_NO_SUMMARY=yes >"$caf/configure.log"
  cmake --build "$caf/build" -j"$(nproc)"
  cmake --install "$caf/build" >/dev/null
fi

# CMAKE_PREFIX_PATH comes before the system's paths, so the find_path and
# find_library calls of CMakeLists.txt pick the instrumented CAF, and the
# binaries' RPATH points at it.
cmake -S "$here" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHERALD_SANITIZE=tsan -DCMAKE_PREFIX_PATH="$caf/prefix" >/dev/null
cmake --build "$out" -j"$(nproc)"

pg_dir=$(mktemp -d /tmp/herald-pg.XXXXXX)
trap 'bash "$here/scripts/pg_test_server.sh" stop "$pg_dir"' EXIT
if url=$(bash "$here/scripts/pg_test_server.sh" start "$pg_dir" 55440 2>"$pg_dir.err"); then
  export HERALD_TEST_POSTGRES_URL="$url"
fi
# halt_on_error=0 so that one report does not hide the next; the
# reports go to $out/tsan-reports/<binary>.<pid> and the run fails when
# any was written (a report is a failure even where the test passed).
rm -rf "$out/tsan-reports" && mkdir -p "$out/tsan-reports"
export TSAN_OPTIONS="halt_on_error=0 second_deadlock_stack=1 suppressions=$here/tests/tsan.supp log_path=$out/tsan-reports/report"
cd "$out"
status=0
ctest --output-on-failure --timeout 1200 "$@" || status=$?
reports=$(find "$out/tsan-reports" -type f | wc -l)
echo "tsan: $reports report file(s) in $out/tsan-reports"
((reports == 0)) || status=1
exit "$status"
