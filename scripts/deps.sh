#!/usr/bin/env bash
# Installs what building and testing Herald needs, from Debian's packages
# (and, with --test, the npm packages of the end-to-end suite). Does
# nothing it need not do, so it is cheap to run every time.
set -euo pipefail

build_packages=(g++ cmake ninja-build libcaf-dev libboost-dev rapidjson-dev
  libspdlog-dev libssl-dev libbenchmark-dev libjemalloc-dev
  libsqlite3-dev libpq-dev # the stores (docs/stores.md)
  libreadline-dev) # herald-ctl's console
test_packages=(chromium tmux curl iproute2 # iproute2: the cluster partition suite (ip netns)
  postgresql # the PostgreSQL store tests start a throwaway server
  clang-14 libclang-rt-14-dev) # the fuzz smoke (scripts/fuzz.sh): libFuzzer

want=("${build_packages[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_packages[@]}")
command -v node >/dev/null 2>&1 || want+=(nodejs npm)

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  lock="$here/tests/e2e/package-lock.json"
  stamp="$here/tests/e2e/node_modules/.herald-lock"
  if [[ ! -f "$stamp" ]] || ! cmp -s "$lock" "$stamp"; then
    echo "deps: installing the end-to-end suite's npm packages"
    (cd "$here/tests/e2e" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$lock" "$stamp"
  fi
fi
