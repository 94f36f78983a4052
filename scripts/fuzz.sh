#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang in build-fuzz and
# runs each for a while on a copy of its corpus, one at a time.
#
#   scripts/fuzz.sh [--seconds N] [--jobs N] [--build-only | --no-build]
#                   [TARGET...]
#
# --seconds N   how long each target runs (default 10)
# --jobs N      build parallelism (default HERALD_FUZZ_JOBS, else 1)
# --build-only  configure and build, run nothing (CTest's fuzz.build)
# --no-build    run what build-fuzz holds (CTest's fuzz.<target>)
# TARGET        tests/fuzz/<TARGET>.cpp; default: every target
#
# HERALD_FUZZ_BUILD_DIR overrides build-fuzz. Prints the executions and the
# findings of each target; a finding (crash, leak, timeout, out of memory)
# is saved under <build>/crashes/ and makes the script exit non-zero.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="${HERALD_FUZZ_BUILD_DIR:-$here/build-fuzz}"
seconds=10
jobs="${HERALD_FUZZ_JOBS:-1}"
do_build=1
do_run=1
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --build-only) do_run=0; shift ;;
    --no-build) do_build=0; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ((${#targets[@]} == 0)); then
  for src in "$here"/tests/fuzz/*.cpp; do
    targets+=("$(basename "$src" .cpp)")
  done
fi
for t in "${targets[@]}"; do
  [[ -f "$here/tests/fuzz/$t.cpp" ]] || { echo "fuzz: no target $t (tests/fuzz/$t.cpp)" >&2; exit 2; }
done

if ((do_build)); then
  cxx="${HERALD_FUZZ_CXX:-clang++-14}"
  command -v "$cxx" >/dev/null || { echo "fuzz: $cxx not found (scripts/deps.sh --test installs it)" >&2; exit 1; }
  start=$SECONDS
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$cxx" -DHERALD_FUZZ=ON >/dev/null
  nice -n 10 cmake --build "$build" -j"$jobs" \
    --target "${targets[@]/#/herald_fuzz_}"
  echo "fuzz: built ${#targets[@]} targets in $((SECONDS - start)) s"
fi
((do_run)) || exit 0

mkdir -p "$build/crashes" "$build/logs"
# UBSan is built recoverable (tests/ubsan.supp passes over RapidJSON's
# own); everything else it finds stops the run as a finding.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/tests/ubsan.supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/herald_fuzz_$t"
  [[ -x "$bin" ]] || { echo "fuzz: $t: not built ($bin); run without --no-build" >&2; failed+=("$t"); continue; }
  seeds="$here/tests/fuzz/corpus/$t"
  work="$build/corpus/$t" # grows while fuzzing; the repository's stays as is
  rm -rf "$work"
  mkdir -p "$work"
  [[ -d "$seeds" ]] && cp -r "$seeds"/. "$work"/
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
    -max_len=8192 -print_final_stats=1 -artifact_prefix="$build/crashes/$t-")
  [[ -f "$here/tests/fuzz/$t.dict" ]] && args+=(-dict="$here/tests/fuzz/$t.dict")
  log="$build/logs/$t.log"
  before=$(ls "$build/crashes" | wc -l)
  rc=0
  "$bin" "${args[@]}" "$work" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  seeded=0
  [[ -d "$seeds" ]] && seeded=$(find "$seeds" -type f | wc -l)
  grown=$(find "$work" -type f | wc -l)
  cov=$(grep -o "cov: [0-9]*" "$log" | tail -1 | cut -d" " -f2 || true)
  found=$(ls "$build/crashes" | wc -l)
  if ((rc != 0 || found > before)); then
    echo "fuzz: $t: FINDING after ${execs:-?} executions (exit $rc); see $log"
    ls -t "$build/crashes" | head -$((found - before > 0 ? found - before : 1)) \
      | sed "s|^|fuzz: $t:   saved $build/crashes/|"
    grep -m1 -E '^==[0-9]+==ERROR|runtime error|property failed|ERROR: libFuzzer' "$log" \
      | sed "s|^|fuzz: $t:   |" || true
    failed+=("$t")
  else
    echo "fuzz: $t: ${execs:-?} executions in $seconds s, coverage ${cov:-?}, corpus $seeded -> $grown, no findings"
  fi
done
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}"
  exit 1
fi
