#!/usr/bin/env bash
# bench/soak.sh [--minutes N] [--connections N] [--rate N] [--out PREFIX]
#               [--heraldd PATH]: holds one heraldd on loopback under mixed
# load (connect and subscribe churn, single and batch publishes, SSE
# streams, stalled readers) for N minutes, samples its RSS, descriptors,
# actors and counters, and checks that it neither leaks nor loses events.
# Writes PREFIX.json and PREFIX.md (default bench/results/soak) and exits
# non-zero when a check fails. See bench/README.md, "Soak".
#
#   --minutes N      load time, 0.5..120 (default 3)
#   --connections N  WebSocket clients open at a time, 8..2000 (default 120)
#   --rate N         events/s over the publish lanes, 1..5000 (default 200)
#   --bulk-rate N    events/s of 3 KB broadcast events (SSE too; default 40)
#   --out PREFIX     where to write PREFIX.json and PREFIX.md
#   --heraldd PATH   the node (default $HERALDD, else build/apps/heraldd)
#   SOAK_KEEP=1      keep the working directory (config, node logs)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=3 CONNECTIONS=120 RATE=200 BULK_RATE=40
OUT=$ROOT/bench/results/soak
HERALDD=${HERALDD:-$ROOT/build/apps/heraldd}
while (($#)); do
  case $1 in
    --minutes) MINUTES=$2; shift ;;
    --connections) CONNECTIONS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --bulk-rate) BULK_RATE=$2; shift ;;
    --out) OUT=$2; shift ;;
    --heraldd) HERALDD=$2; shift ;;
    -h|--help) sed -n "2,16p" "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
num_in() { # num_in NAME VALUE MIN MAX
  awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v >= lo && v <= hi) }' \
    || { echo "soak.sh: $1 must be a number in $3..$4, got '$2'" >&2; exit 2; }
}
num_in --minutes "$MINUTES" 0.5 120
num_in --connections "$CONNECTIONS" 8 2000
num_in --rate "$RATE" 1 5000
num_in --bulk-rate "$BULK_RATE" 1 1000
[[ $OUT = /* ]] || OUT=$PWD/$OUT
SECONDS_OF_LOAD=$(awk -v m="$MINUTES" 'BEGIN { printf "%d", m * 60 }')

log() { echo "soak: $*" >&2; }
[[ -x $HERALDD ]] || { log "heraldd not found at $HERALDD (build it, or --heraldd PATH)"; exit 2; }
command -v node >/dev/null || { log "node is required"; exit 2; }
if [[ ! -d $ROOT/tests/e2e/node_modules/ws && ! -d $ROOT/bench/soak/node_modules/ws ]]; then
  log "installing the e2e packages (ws) with npm ci"
  (cd "$ROOT/tests/e2e" && npm ci --no-audit --no-fund >/dev/null 2>&1) \
    || { log "npm ci in tests/e2e failed"; exit 2; }
fi
# Room for the clients (each one a descriptor here and one in the node).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

WORK=$(mktemp -d /tmp/herald-soak.XXXXXX)
SECRET="soak-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
API_KEY="soak-key-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
IO=${HERALD_SOAK_THREADS_IO:-1}
ACTORS=${HERALD_SOAK_THREADS_ACTORS:-2}
# The stall bound (max_backlog_bytes 256 KiB) is well above the largest
# burst a keeping-up reader is sent (a batch of 8 x 3 KB, or one 16 KB
# event); the history and the dedup window are bounded small so that they
# are full, and RSS on its plateau, within the warm-up (by default the
# history holds 10,000 events for 5 min and the dedup window 100,000 ids
# for 5 min, which would read as growth).
cat >"$WORK/herald.jsonc" <<EOF
{
  "node": {"name": "soak"},
  "listen": {"address": "127.0.0.1", "port": 0},
  "admin": {"port": 0},
  "threads": {"io": $IO, "actors": $ACTORS},
  "auth": {"jwt": {"hs256_secret": "$SECRET", "leeway_seconds": 10}, "api_keys": ["$API_KEY"]},
  "limits": {"max_backlog_bytes": 262144},
  "ws": {"close_timeout_ms": 5000},
  "history": {"max_events": 5000, "max_age_seconds": 60, "max_bytes": 16777216},
  "dedup": {"window_seconds": 30, "max_entries": 20000},
  "plugins": {"load": []},
  "log": {"level": "warn"}
}
EOF

NODE_PID= DRIVER_PID=
stop_pid() { # stop_pid PID: TERM, up to 8 s, then KILL
  [[ -n $1 ]] || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 80); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
  return 0
}
cleanup() {
  stop_pid "$DRIVER_PID"; DRIVER_PID=
  stop_pid "$NODE_PID"; NODE_PID=
  if [[ -n ${SOAK_KEEP:-} ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$HERALDD" --config "$WORK/herald.jsonc" >"$WORK/heraldd.out" 2>"$WORK/heraldd.err" &
NODE_PID=$!
PORT= ADMIN=
for _ in $(seq 100); do
  PORT=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$WORK/heraldd.out" | head -1)
  ADMIN=$(sed -n 's|.*admin console on \(http://[0-9.]*:[0-9]*\).*|\1|p' "$WORK/heraldd.out" | head -1)
  [[ -n $PORT && -n $ADMIN ]] && break
  kill -0 "$NODE_PID" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $PORT || -z $ADMIN ]]; then
  log "heraldd did not start: $(tail -3 "$WORK/heraldd.err" | tr '\n' ' ')"
  exit 2
fi
log "heraldd $NODE_PID on 127.0.0.1:$PORT (admin $ADMIN); $MINUTES min, $CONNECTIONS connections, $RATE ev/s"

# The driver bounds itself (load time + 3 min); timeout is the backstop.
timeout -k 10 $((SECONDS_OF_LOAD + 240)) node "$ROOT/bench/soak/driver.mjs" \
  --url "http://127.0.0.1:$PORT" --admin "$ADMIN" --pid "$NODE_PID" \
  --secret "$SECRET" --api-key "$API_KEY" --seconds "$SECONDS_OF_LOAD" \
  --connections "$CONNECTIONS" --rate "$RATE" --bulk-rate "$BULK_RATE" \
  --threads "threads.io $IO, threads.actors $ACTORS" --out "$OUT" &
DRIVER_PID=$!
wait "$DRIVER_PID"
RC=$?
DRIVER_PID=
if ! kill -0 "$NODE_PID" 2>/dev/null; then
  log "heraldd exited during the soak: $(tail -5 "$WORK/heraldd.err" | tr '\n' ' ')"
  RC=1
fi
n=$(grep -ciE '\b(warn|error|critical)\b' "$WORK/heraldd.err" 2>/dev/null)
((n > 0)) && log "heraldd logged $n warning/error lines, first: $(grep -iE -m3 '\b(warn|error|critical)\b' "$WORK/heraldd.err" | cut -c1-200 | tr '\n' ' ')"
exit "$RC"
