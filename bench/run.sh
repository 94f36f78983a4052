#!/usr/bin/env bash
# bench/run.sh [--quick] [--only LIST]: builds what the benchmarks need, runs
# the scenarios of issue 3 against Herald, the ceiling and the ws peer on
# loopback, and writes bench/results/latest.json and bench/results/report.md
# (charts in bench/results/*.png). See bench/README.md.
#
#   --quick       every scenario at reduced scale (seconds, not minutes)
#   --only LIST   comma-separated subset of: idle,fanout,topics,latency,
#                 publish,counters,cluster,index
#   BUILD_DIR     build directory (default build-bench, relative to the repo)
#   BENCH_KEEP=1  keep the working directory (configs, raw runs, logs)
#   BENCH_RESULTS where to write latest.json, report.md and the charts
#                 (default bench/results)
#   BENCH_RETRIES runs repeated when other processes took over 10% of the
#                 CPU during the window (default 2; the quietest is kept)
#   BENCH_CLUSTER_PAIRS  single/cluster pairs of the cluster scenario
#                 (default 3; 1 with --quick)
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-build-bench}
[[ $BUILD_DIR = /* ]] || BUILD_DIR=$ROOT/$BUILD_DIR
QUICK=0
ONLY=idle,fanout,topics,latency,publish,counters,cluster,index
while (($#)); do
  case $1 in
    --quick) QUICK=1 ;;
    --only) ONLY=$2; shift ;;
    --only=*) ONLY=${1#--only=} ;;
    -h|--help) sed -n "2,17p" "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
wanted() { [[ ",$ONLY," == *",$1,"* ]]; }

RESULTS=${BENCH_RESULTS:-$ROOT/bench/results}
WORK=$(mktemp -d /tmp/herald-bench.XXXXXX)
mkdir -p "$RESULTS"
note() { echo "bench: $*" >&2; echo "$*" >>"$WORK/notes.txt"; }
log() { echo "bench: $*" >&2; }

# -- tools -------------------------------------------------------------------
need_pkgs=()
command -v jq >/dev/null || need_pkgs+=(jq)
command -v gnuplot >/dev/null || need_pkgs+=(gnuplot-nox)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  SUDO=; ((EUID)) && SUDO=sudo
  $SUDO apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update >/dev/null 2>&1 \
         && $SUDO apt-get install -y "${need_pkgs[@]}" >/dev/null 2>&1; } \
    || log "could not install ${need_pkgs[*]}"
fi
command -v jq >/dev/null || { echo "bench: jq is required" >&2; exit 1; }

# -- build -------------------------------------------------------------------
if [[ ! -f $BUILD_DIR/build.ninja && ! -f $BUILD_DIR/Makefile ]]; then
  gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
  cmake -S "$ROOT" -B "$BUILD_DIR" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
    >"$WORK/cmake.log" 2>&1 || { cat "$WORK/cmake.log"; exit 1; }
fi
targets=$(cmake --build "$BUILD_DIR" --target help 2>/dev/null)
declare -A HAVE
build_targets=(heraldd herald-loadgen)
# The references and the index benchmark only for the scenarios that use them.
for sc in idle fanout latency publish; do
  wanted "$sc" && { build_targets+=(herald-ceiling); break; }
done
wanted index && build_targets+=(herald-bench-index)
for t in "${build_targets[@]}"; do
  if grep -qE "(^|[ /])$t(:| )" <<<"$targets"; then
    log "building $t"
    if cmake --build "$BUILD_DIR" --target "$t" -j"$(nproc)" \
         >"$WORK/build-$t.log" 2>&1; then
      HAVE[$t]=1
    else
      tail -20 "$WORK/build-$t.log" >&2
      note "$t: build failed; its parts are skipped"
    fi
  else
    note "$t: no such target yet; its parts are skipped"
  fi
done
[[ ${HAVE[heraldd]:-} && ${HAVE[herald-loadgen]:-} ]] \
  || { echo "bench: heraldd and herald-loadgen are required" >&2; exit 1; }
bin() { find "$BUILD_DIR" -type f -name "$1" -perm -u+x | head -1; }
HERALDD=$(bin heraldd)
LOADGEN=$(bin herald-loadgen)
CEILING=$([[ ${HAVE[herald-ceiling]:-} ]] && bin herald-ceiling)
INDEX=$([[ ${HAVE[herald-bench-index]:-} ]] && bin herald-bench-index)
PEER_JS=
for f in "$ROOT"/bench/peer/ws-peer.mjs "$ROOT"/bench/peer/server.{mjs,js}; do
  [[ -f $f ]] && PEER_JS=$f && break
done
if [[ -n $PEER_JS && ! -d $ROOT/bench/peer/node_modules/ws ]]; then
  (cd "$ROOT/bench/peer" && npm ci --no-audit --no-fund >"$WORK/npm.log" 2>&1) \
    || note "peer: npm install failed"
fi
[[ -n $PEER_JS ]] || note "peer: bench/peer/ws-peer.mjs missing; peer runs skipped"

# -- the machine ---------------------------------------------------------------
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
PORT_RANGE_FILE=/proc/sys/net/ipv4/ip_local_port_range
OLD_RANGE=$(tr '\t' ' ' <"$PORT_RANGE_FILE" 2>/dev/null)
if echo "1024 65535" >"$PORT_RANGE_FILE" 2>/dev/null; then
  log "ip_local_port_range 1024 65535 (was $OLD_RANGE)"
else
  OLD_RANGE=
  note "ip_local_port_range not writable; left at $(tr '\t' ' ' <$PORT_RANGE_FILE)"
fi
# Connections a server and the generator can each hold on this machine.
MAX_CONNS=$((NOFILE - 100))
CORES=$(nproc)
RETRIES=${BENCH_RETRIES:-2}
NOISE_SHARE=0.1 # of the machine's CPU taken by other processes

# -- servers -------------------------------------------------------------------
SERVER_PID=
SERVER_PORT=
LOADGEN_PID=
CL_PIDS=()     # the cluster's nodes while one runs (scenario 8)
SAMPLER_PID=
HERALD_ENV=() # extra environment for heraldd (a variant of its config)
SECRET="bench-secret-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
API_KEY="bench-key-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
HERALD_IO=${HERALD_BENCH_THREADS_IO:-1}
HERALD_ACTORS=${HERALD_BENCH_THREADS_ACTORS:-2}
cat >"$WORK/herald.jsonc" <<EOF
{
  "node": {"name": "bench"},
  "listen": {"address": "127.0.0.1", "port": 0},
  "admin": {"port": 0},
  "threads": {"io": $HERALD_IO, "actors": $HERALD_ACTORS},
  "auth": {"jwt": {"hs256_secret": "$SECRET"}, "api_keys": ["$API_KEY"]},
  "limits": {
    "rate_per_second": 100000, "rate_burst": 100000,
    "max_backlog_bytes": 67108864, "max_publish_queue": 1000000,
    "max_batch_events": 1000, "max_body_bytes": 1048576
  },
  "store": {"sqlite": {"path": "$WORK/herald.db"}},
  "log": {"level": "warn"}
}
EOF

stop_server() {
  ((${#CL_PIDS[@]})) && stop_cluster
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
cleanup() {
  [[ -n $LOADGEN_PID ]] && kill "$LOADGEN_PID" 2>/dev/null
  stop_sampler
  stop_server
  [[ -n $OLD_RANGE ]] && echo "$OLD_RANGE" >"$PORT_RANGE_FILE" 2>/dev/null
  if [[ -n ${BENCH_KEEP:-} ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_server herald|ceiling|peer|cluster: starts it on a free port, waits
# for its `listening on http://HOST:PORT` line; sets SERVER_PID and
# SERVER_PORT (for the cluster: node b's, where the subscribers go).
start_server() {
  local name=$1 out=$WORK/$1.out
  [[ $name == cluster ]] && { start_cluster; return; }
  : >"$out"
  case $name in
    herald) env "${HERALD_ENV[@]}" "$HERALDD" --config "$WORK/herald.jsonc" \
      >"$out" 2>"$WORK/$name.err" & ;;
    ceiling) "$CEILING" --port 0 >"$out" 2>"$WORK/$name.err" & ;;
    peer) node "$PEER_JS" --port 0 >"$out" 2>"$WORK/$name.err" & ;;
  esac
  SERVER_PID=$!
  SERVER_PORT=
  for _ in $(seq 200); do
    SERVER_PORT=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$out" | head -1)
    [[ -n $SERVER_PORT ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  note "$name did not start: $(tail -3 "$WORK/$name.err" | tr '\n' ' ')"
  stop_server
  return 1
}
available() {
  case $1 in
    herald|cluster) return 0 ;;
    ceiling) [[ -n $CEILING ]] ;;
    peer) [[ -n $PEER_JS ]] ;;
  esac
}

# -- the cluster (scenario 8) ---------------------------------------------------
# Three nodes a, b, c on loopback, each on the bench configuration with the
# same threads as the single node. The subscribers connect to b, the
# publisher to a, and the topic is one that c owns: publish -> a, a hands
# it to its owner c, c sends it once to b, b delivers (two hops).
CL_NAMES=(a b c)
CL_PORTS=()         # HTTP ports of the running nodes (pids: CL_PIDS)
PUBLISH_PORT=       # where the publisher goes (node a); empty: SERVER_PORT
CL_PREFIX=          # --topic-prefix of the c-owned topic (picked once)
CL_PROBE=           # what the topic probe saw: topic=owner ...
CL_READY_TIMEOUT=20 # seconds for the cluster to form
CL_LAUNCH=          # EPOCHREALTIME at the generator's launch
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null \
    || node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })' 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# metric PORT NAME: a counter or gauge of the node's /metrics (empty if none).
metric() {
  curl -s -m 2 "http://127.0.0.1:$1/metrics" 2>/dev/null \
    | awk -v n="herald_$2" '$1 == n { print $2; exit }'
}

stop_cluster() {
  local pid
  for pid in "${CL_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    local any=0
    for pid in "${CL_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && any=1; done
    ((any)) || break
    sleep 0.1
  done
  for pid in "${CL_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  CL_PIDS=() CL_PORTS=() SERVER_PID= PUBLISH_PORT=
}

# start_cluster: a first (it founds the cluster on a free cluster port), then
# b and c seeded with a; waits until every /readyz lists three members and
# picks the topic. Sets SERVER_PID/SERVER_PORT to b, PUBLISH_PORT to a.
start_cluster() {
  local cport i name out seeds port deadline body
  cport=$(free_port)
  CL_PIDS=() CL_PORTS=()
  for i in "${!CL_NAMES[@]}"; do
    name=${CL_NAMES[$i]}
    out=$WORK/cluster-$name.out
    : >"$out"
    if ((i == 0)); then
      seeds='[]' port=$cport
    else
      seeds="[\"127.0.0.1:$cport\"]" port=0
    fi
    env "${HERALD_ENV[@]}" "$HERALDD" --config "$WORK/herald.jsonc" \
      --node.name="$name" --cluster.enabled=true \
      --cluster.listen_address=127.0.0.1 --cluster.port="$port" \
      --cluster.seeds="$seeds" --store.sqlite.path="$WORK/cluster-$name.db" \
      >"$out" 2>"$WORK/cluster-$name.err" &
    CL_PIDS+=($!)
  done
  deadline=$((SECONDS + CL_READY_TIMEOUT))
  for i in "${!CL_NAMES[@]}"; do
    name=${CL_NAMES[$i]}
    port=
    while [[ -z $port ]]; do
      port=$(sed -n 's|.*listening on http://[^ ]*:\([0-9][0-9]*\).*|\1|p' "$WORK/cluster-$name.out" | head -1)
      [[ -n $port ]] && break
      if ! kill -0 "${CL_PIDS[$i]}" 2>/dev/null || ((SECONDS >= deadline)); then
        note "cluster: node $name did not start: $(tail -3 "$WORK/cluster-$name.err" | tr '\n' ' ')"
        stop_cluster
        return 1
      fi
      sleep 0.1
    done
    CL_PORTS+=("$port")
  done
  for i in "${!CL_NAMES[@]}"; do
    while :; do
      body=$(curl -s -m 1 "http://127.0.0.1:${CL_PORTS[$i]}/readyz" 2>/dev/null)
      jq -e '.status == "ready" and (.cluster.members | length) == 3' <<<"$body" \
        >/dev/null 2>&1 && break
      if ((SECONDS >= deadline)); then
        note "cluster: not formed within $CL_READY_TIMEOUT s (${CL_NAMES[$i]}: ${body:-no answer})"
        stop_cluster
        return 1
      fi
      sleep 0.1
    done
  done
  SERVER_PID=${CL_PIDS[1]} SERVER_PORT=${CL_PORTS[1]} PUBLISH_PORT=${CL_PORTS[0]}
  [[ -n $CL_PREFIX ]] || cluster_pick_topic
}

# probe_owner TOPIC: publishes one event for TOPIC to a and prints the node
# whose history took it (the owner keeps the history; a's
# cluster_owner_hops_total moves when the owner is another node).
probe_owner() {
  local topic=$1 i before=() now hops0 hops1
  for i in "${!CL_NAMES[@]}"; do before[i]=$(metric "${CL_PORTS[$i]}" history_events); done
  hops0=$(metric "${CL_PORTS[0]}" cluster_owner_hops_total)
  curl -s -m 3 -o /dev/null -X POST "http://127.0.0.1:${CL_PORTS[0]}/api/v1/publish" \
    -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    -d "{\"topic\":\"$topic\",\"event_type\":\"bench.probe\",\"data\":{}}"
  for _ in $(seq 30); do
    for i in "${!CL_NAMES[@]}"; do
      now=$(metric "${CL_PORTS[$i]}" history_events)
      if [[ -n $now && -n ${before[i]} ]] && ((now > before[i])); then
        hops1=$(metric "${CL_PORTS[0]}" cluster_owner_hops_total)
        # Owner a: no hop; owner b or c: one hand-over from a.
        if [[ -n $hops0 && -n $hops1 ]] && { ((i == 0 && hops1 != hops0)) || ((i > 0 && hops1 == hops0)); }; then
          echo "${CL_NAMES[$i]}?"
        else
          echo "${CL_NAMES[$i]}"
        fi
        return
      fi
    done
    sleep 0.1
  done
  echo "?"
}

cluster_pick_topic() {
  local j topic owner tried=()
  for ((j = 0; j < 24; j++)); do
    topic="customer_id:bench:call:r$j-0"
    owner=$(probe_owner "$topic")
    tried+=("$topic=$owner")
    if [[ $owner == c ]]; then
      CL_PREFIX="customer_id:bench:call:r$j-"
      break
    fi
  done
  CL_PROBE="${tried[*]}"
  log "cluster: topic probe (publish to a, owner = the node whose history_events moved): $CL_PROBE"
  if [[ -z $CL_PREFIX ]]; then
    CL_PREFIX="customer_id:bench:call:r0-"
    note "cluster: no candidate topic was seen owned by c ($CL_PROBE); measured on ${CL_PREFIX}0 anyway"
  fi
}

# running PID: alive and not exited (an exited child stays a zombie, which
# kill -0 still reaches, until it is waited for).
running() {
  local st
  { read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
  st=${st##*) }
  [[ ${st:0:1} != Z ]]
}

# cluster_log_notes LABEL: keeps each node's log of the run and notes the
# warnings and errors they hold (the bench logs at warn).
cluster_log_notes() {
  local name n
  for name in "${CL_NAMES[@]}"; do
    cp "$WORK/cluster-$name.err" "$WORK/cluster-$1-$name.err" 2>/dev/null
    n=$(grep -ciE 'warn|error|critical' "$WORK/cluster-$name.err" 2>/dev/null)
    ((n > 0)) && note "cluster/$1: node $name logged $n warning/error lines, first: $(grep -iE -m2 'warn|error|critical' "$WORK/cluster-$name.err" | cut -c1-240 | tr '\n' ' ')"
  done
  return 0
}

# sampler FILE PID...: every 0.1 s one line "EPOCHREALTIME ticks..." with each
# process's utime + stime (clock ticks), for CPU per node over the
# generator's window.
sampler() {
  local f=$1 p line out fields
  shift
  while :; do
    out=${EPOCHREALTIME/,/.}
    for p in "$@"; do
      if read -r line <"/proc/$p/stat" 2>/dev/null; then
        line=${line##*) }
        read -r -a fields <<<"$line"
        out+=" $((fields[11] + fields[12]))"
      else
        out+=" -"
      fi
    done
    echo "$out" >>"$f"
    sleep 0.1
  done
}
start_sampler() { # start_sampler FILE PID...
  : >"$1"
  sampler "$@" &
  SAMPLER_PID=$!
}
stop_sampler() {
  [[ -n $SAMPLER_PID ]] || return 0
  kill "$SAMPLER_PID" 2>/dev/null
  wait "$SAMPLER_PID" 2>/dev/null
  SAMPLER_PID=
}

# node_stats NAMES PORTS SAMPLES: JSON with each node's counters (from its
# /metrics, read after the run) and CPU; the CPU over the generator's window
# is interpolated from the samples by jq later (cluster_fixup).
node_stats() {
  local names=($1) ports=($2) samples=$3 i obj='{}' m k v
  for i in "${!names[@]}"; do
    m=$(curl -s -m 3 "http://127.0.0.1:${ports[$i]}/metrics" 2>/dev/null)
    local entry='{}'
    for k in publishes_total deliveries_total drops_total slow_consumer_closes_total \
             publish_shed_total history_events cluster_owner_hops_total \
             cluster_events_forwarded_total cluster_events_received_total \
             cluster_rerouted_total cluster_departures_total; do
      v=$(awk -v n="herald_$k" '$1 == n { print $2; exit }' <<<"$m")
      [[ -n $v ]] && entry=$(jq -c --arg k "$k" --argjson v "$v" '. + {($k): $v}' <<<"$entry")
    done
    obj=$(jq -c --arg n "${names[$i]}" --argjson e "$entry" '. + {($n): {metrics: $e}}' <<<"$obj")
  done
  jq -c -n --argjson nodes "$obj" --arg names "$1" --argjson tck "$CLK_TCK" \
    --argjson launch "${CL_LAUNCH:-0}" --rawfile samples "$samples" '
    {names: ($names | split(" ")), nodes: $nodes, clk_tck: $tck, launch: $launch,
     samples: [$samples | split("\n")[] | select(length > 0) | split(" ")
               | map(if . == "-" then null else tonumber end)]}'
}

# loadgen SCENARIO SERVER LABEL [loadgen flags...]: runs the generator against
# a fresh server and appends its result, tagged, to $WORK/runs.jsonl. A run
# during which other processes took more than NOISE_SHARE of the machine's
# CPU is repeated (up to BENCH_RETRIES times); the quietest run is kept.
loadgen() {
  local scenario=$1 server=$2 label=$3; shift 3
  available "$server" || return 0
  local out=$WORK/$scenario-$server-$label.json best= best_other= attempt
  for ((attempt = 0; attempt <= RETRIES; attempt++)); do
    start_server "$server" || return 0
    # The cluster scenario: the publisher to node a (--publish-port), and
    # the CPU of every node sampled through the run.
    local extra=() names= ports= pids=() pid
    if [[ $scenario == cluster ]]; then
      if [[ $server == cluster ]]; then
        names="${CL_NAMES[*]}" ports="${CL_PORTS[*]}" pids=("${CL_PIDS[@]}")
        extra=(--publish-port "$PUBLISH_PORT")
      else
        names=single ports=$SERVER_PORT pids=("$SERVER_PID")
      fi
      start_sampler "$out.samples" "${pids[@]}"
    fi
    log "$scenario/$server/$label: $*"
    CL_LAUNCH=${EPOCHREALTIME/,/.} # (a locale may write a decimal comma)
    "$LOADGEN" --port "$SERVER_PORT" --secret "$SECRET" --api-key "$API_KEY" \
      --server-pid "$SERVER_PID" --settle 0.5 "${extra[@]}" "$@" >"$out.try" 2>"$WORK/loadgen.err" &
    LOADGEN_PID=$!
    wait "$LOADGEN_PID"
    local rc=$? alive=true
    LOADGEN_PID=
    kill -0 "$SERVER_PID" 2>/dev/null || alive=false
    if [[ $scenario == cluster ]]; then
      stop_sampler
      for pid in "${pids[@]}"; do running "$pid" || alive=false; done
      node_stats "$names" "$ports" "$out.samples" >"$out.nodes"
      [[ $server == cluster ]] && cluster_log_notes "$label"
    fi
    stop_server
    if [[ $rc -ne 0 || ! -s $out.try ]]; then
      note "$scenario/$server/$label: loadgen failed (rc $rc): $(tail -2 "$WORK/loadgen.err" | tr '\n' ' ')"
      return 0
    fi
    if [[ $scenario == cluster ]]; then
      jq -c --slurpfile n "$out.nodes" --arg topic "${CL_PREFIX}0" \
        --arg probe "$CL_PROBE" --arg via "$server:publish-port" \
        -f "$ROOT/bench/cluster/fixup.jq" "$out.try" >"$out.fixed" \
        && mv "$out.fixed" "$out.try"
    fi
    jq -c --arg s "$scenario" --arg v "$server" --arg l "$label" \
      --argjson alive "$alive" --argjson attempt "$attempt" \
      '{scenario:$s, server:$v, label:$l, server_survived:$alive,
        attempt:$attempt} + .' "$out.try" >"$out.tagged"
    jq -r '"bench:   subscribed \(.subscribed)/\(.conditions.connections), deliveries/s \(.deliveries_per_s|floor), accepted/s \(.accepted_per_s|floor), p99 \(.latency_us.p99) us, gen cpu \(.generator_cpu_s) s, other cpu \(.machine_window.other_cpu_s // "-") s, errors \(.errors|tostring)"' "$out.try" >&2
    local other noisy
    other=$(jq '.machine_window.other_cpu_s // 0' "$out.try")
    noisy=$(jq --argjson share "$NOISE_SHARE" --argjson cores "$CORES" \
      '(.machine_window.other_cpu_s // 0) > $share * $cores * (.window_s // 0)' "$out.try")
    if [[ -z $best ]] || jq -e --argjson a "$other" --argjson b "$best_other" -n '$a < $b' >/dev/null; then
      mv "$out.tagged" "$out"; best=1; best_other=$other
    fi
    [[ $noisy == true ]] || break
    ((attempt < RETRIES)) && log "  other processes took $other CPU-s during the window: again"
  done
  [[ $noisy == true ]] && note "$scenario/$server/$label: other processes took $best_other CPU-s during the measured window (noisy)"
  cat "$out" >>"$WORK/runs.jsonl"
}

if ((QUICK)); then
  IDLE_SIZES="2000"; DUR=3; WARM=0.5; FAN_SUBS=1000; TOPICS=1000; TPC=10
  LAT_SUBS=1000
else
  IDLE_SIZES="10000 100000"; DUR=10; WARM=1; FAN_SUBS=1000; TOPICS=10000
  TPC=10; LAT_SUBS=1000
fi
: >"$WORK/runs.jsonl"

# 1. Idle memory: server RSS above its empty baseline, per connection.
if wanted idle; then
  for n in $IDLE_SIZES; do
    m=$n
    if ((n > MAX_CONNS)); then
      m=$MAX_CONNS
      note "idle $n: open-files hard limit $NOFILE (no CAP_SYS_RESOURCE to raise it); measured at $m connections"
    fi
    for s in herald ceiling peer; do
      loadgen idle "$s" "$n" --connections "$m" --topics 1 --settle 3 \
        --connect-timeout 300 --connect-concurrency 512
    done
  done
fi

# 2. Fan-out: 1,000 subscribers on one topic, 100-byte payloads, as fast as
# the server delivers (a window of deliveries owed keeps queues bounded).
FAN_FLAGS=(--connections "$FAN_SUBS" --topics 1 --payload 100
  --publish-conns 4 --pipeline 16 --max-outstanding $((FAN_SUBS * 256))
  --warmup "$WARM" --duration "$DUR")
if wanted fanout; then
  for s in herald ceiling peer; do
    loadgen fanout "$s" window "${FAN_FLAGS[@]}"
  done
  # Herald alone, open loop: publishing exactly as fast as it accepts.
  loadgen fanout herald open --connections "$FAN_SUBS" --topics 1 \
    --payload 100 --publish-conns 4 --pipeline 16 --warmup "$WARM" \
    --duration "$DUR"
fi

# 3. Many topics: 10 subscribers per topic, publishes spread round-robin.
if wanted topics; then
  conns=$((TOPICS * 10 / TPC))
  for s in herald peer; do
    loadgen topics "$s" "$TOPICS" --connections "$conns" \
      --topics "$TOPICS" --topics-per-conn "$TPC" --payload 100 \
      --publish-conns 4 --pipeline 8 --batch 20 --max-outstanding 20000 \
      --warmup "$WARM" --duration "$DUR" --connect-timeout 300
  done
fi

# 4. Latency: 1,000 subscribers, 200 publishes/s.
if wanted latency; then
  for s in herald ceiling peer; do
    loadgen latency "$s" rate200 --connections "$LAT_SUBS" --topics 1 \
      --payload 100 --publish-conns 1 --rate 200 --warmup "$WARM" \
      --duration "$DUR"
  done
fi

# 5. Publish API: one topic, one subscriber, single and batched publishes.
if wanted publish; then
  for s in herald ceiling peer; do
    loadgen publish "$s" single --connections 1 --topics 1 --payload 100 \
      --publish-conns 4 --pipeline 32 --warmup "$WARM" --duration "$DUR"
    loadgen publish "$s" batch100 --connections 1 --topics 1 --payload 100 \
      --publish-conns 2 --pipeline 8 --batch 100 --warmup "$WARM" \
      --duration "$DUR"
  done
fi

# 7. The cost of the per-actor counters (metrics.actor_counters): fan-out
# with and without them, in interleaved pairs so that drift on this shared
# VM hits both alike; the report compares the medians.
if wanted counters; then
  pairs=3; ((QUICK)) && pairs=1
  for ((i = 1; i <= pairs; i++)); do
    HERALD_ENV=()
    loadgen counters herald "on-$i" "${FAN_FLAGS[@]}"
    HERALD_ENV=(HERALD_METRICS_ACTOR_COUNTERS=false)
    loadgen counters herald "off-$i" "${FAN_FLAGS[@]}"
  done
  HERALD_ENV=()
fi

# 8. The cluster: fan-out and latency through two hops (publish on a, topic
# owned by c, subscribers on b) against one node, in interleaved pairs, with
# the flags of scenarios 2 (window run) and 4; the report compares medians.
if wanted cluster; then
  pairs=${BENCH_CLUSTER_PAIRS:-3}; ((QUICK)) && pairs=${BENCH_CLUSTER_PAIRS:-1}
  for ((i = 1; i <= pairs; i++)); do
    for kind in fanout latency; do
      if [[ $kind == fanout ]]; then
        flags=("${FAN_FLAGS[@]}")
      else
        flags=(--connections "$LAT_SUBS" --topics 1 --payload 100
               --publish-conns 1 --rate 200 --warmup "$WARM" --duration "$DUR")
      fi
      for s in herald cluster; do
        # The topic is picked when the cluster first starts: run it first.
        [[ -z $CL_PREFIX && $s == herald ]] && { start_cluster && stop_server; }
        loadgen cluster "$s" "$kind-$i" "${flags[@]}" \
          --topic-prefix "${CL_PREFIX:-customer_id:bench:call:r0-}" --source-base 2
      done
    done
  done
fi

# 6. The pattern index on its own (Google Benchmark).
INDEX_JSON=$WORK/index.json
echo '{}' >"$INDEX_JSON"
if wanted index; then
  if [[ -n $INDEX ]]; then
    log "index: $INDEX"
    flags=(--benchmark_format=json --benchmark_out="$INDEX_JSON.tmp" --benchmark_out_format=json)
    ((QUICK)) && flags+=(--benchmark_min_time=0.05)
    if "$INDEX" "${flags[@]}" >/dev/null 2>"$WORK/index.err" && [[ -s $INDEX_JSON.tmp ]]; then
      mv "$INDEX_JSON.tmp" "$INDEX_JSON"
    else
      note "index: herald-bench-index failed: $(tail -2 "$WORK/index.err" | tr '\n' ' ')"
    fi
  else
    note "index: herald-bench-index not built; skipped"
  fi
fi

# -- results -------------------------------------------------------------------
touch "$WORK/notes.txt"
jq -n --slurpfile runs "$WORK/runs.jsonl" --slurpfile index "$INDEX_JSON" \
  --rawfile notes "$WORK/notes.txt" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
  --arg commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)" \
  --arg cpu "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
  --arg kernel "$(uname -r)" --argjson cores "$CORES" \
  --argjson nofile "$NOFILE" --argjson quick "$QUICK" \
  --argjson io "$HERALD_IO" --argjson actors "$HERALD_ACTORS" \
  -f "$ROOT/bench/loadgen/assemble.jq" >"$RESULTS/latest.json" \
  || { echo "bench: assembling latest.json failed" >&2; exit 1; }
"$ROOT/bench/loadgen/report.sh" "$RESULTS/latest.json" "$RESULTS"
log "wrote $RESULTS/latest.json and $RESULTS/report.md"
