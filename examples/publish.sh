#!/usr/bin/env bash
# Publishes one event to a Herald node through its publish API
# (POST /api/v1/publish, PROTOCOL.md §6).
#
#   examples/publish.sh [-u URL] [-k APIKEY] TOPIC EVENT_TYPE [DATA_JSON]
#
#   -u URL      the node's HTTP address   (default $HERALD_URL or http://127.0.0.1:8080)
#   -k APIKEY   a publish API key         (default $HERALD_API_KEY or dev-api-key)
#   TOPIC       a concrete topic, e.g. customer_id:c1:call:x1 (no wildcards)
#   EVENT_TYPE  a dotted name, e.g. call.status
#   DATA_JSON   the payload, a JSON object (default {})
#
# Prints the node's answer ({"id":..,"topic":..} on success) and exits
# non-zero when the node refuses the event or cannot be reached.
#
#   examples/publish.sh customer_id:c1:call:x1 call.status '{"status":"answered"}'
set -euo pipefail

url="${HERALD_URL:-http://127.0.0.1:8080}"
key="${HERALD_API_KEY:-dev-api-key}"

usage() {
  sed -n '5,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

while getopts ":u:k:h" opt; do
  case "$opt" in
    u) url="$OPTARG" ;;
    k) key="$OPTARG" ;;
    h) usage ;;
    :) echo "publish.sh: -$OPTARG needs a value" >&2; usage ;;
    *) echo "publish.sh: unknown option -$OPTARG" >&2; usage ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] && [ $# -le 3 ] || usage

topic="$1"
event_type="$2"
data="${3:-{\}}"

command -v curl >/dev/null || { echo "publish.sh: curl is required" >&2; exit 2; }

# JSON string escaping for the two names (the node validates them anyway).
json_string() {
  local s="$1"
  s="${s//\\/\\\\}"
  s="${s//\"/\\\"}"
  s="${s//$'\n'/\\n}"
  s="${s//$'\r'/\\r}"
  s="${s//$'\t'/\\t}"
  printf '"%s"' "$s"
}

body="{\"topic\":$(json_string "$topic"),\"event_type\":$(json_string "$event_type"),\"data\":$data}"

# The API key goes through a header file descriptor, not the command line,
# so that it does not show in `ps`.
set +e
answer=$(curl -sS --max-time 10 -X POST "${url%/}/api/v1/publish" \
  -H @<(printf 'Authorization: Bearer %s\n' "$key") \
  -H 'Content-Type: application/json' \
  --data-binary "$body" \
  -w '\n%{http_code}')
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "publish.sh: could not reach ${url} (curl exit $rc)" >&2
  exit 1
fi

status="${answer##*$'\n'}"
reply="${answer%$'\n'*}"
if [ "$status" = "202" ]; then
  printf '%s\n' "$reply"
else
  printf 'HTTP %s %s\n' "$status" "$reply" >&2
  exit 1
fi
