#!/usr/bin/env bash
# bench_grpc.sh - Envoy's Check over gRPC next to GET /v1/auth on the same
# machine, daemon and request: starts a private redis-server and the daemon
# with [grpc] listen and a migration route, logs a user in, then
#   * Check: bench_grpc_client (the gRPC core C API, CONCURRENCY calls in
#     flight on one channel, for DURATION seconds), and the same with
#     tests/integration/grpc_client.py bench (Python's gRPC stack);
#   * /v1/auth: wrk -t2 -c$CONNECTIONS -d${DURATION}s, and the same wrk
#     with one connection per Python call in flight (-c$CONCURRENCY);
# with the Flask + gorilla cookies of one session (the steady state: the
# verdict cache answers, nothing is minted for a cookie the browser has).
# Client and daemon share the machine's cores, as wrk and the daemon do;
# the Python client is slower than the listener (its row is a floor).
# Not a test: numbers depend on the machine.
#
#   tests/bench/bench_grpc.sh [BUILD_DIR]
#   DURATION=10 CONCURRENCY=64 THREADS=2 tests/bench/bench_grpc.sh build
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${SB_BUILD_DIR:-$SRC/build}}
BUILD=$(cd "$BUILD" && pwd)
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
CONCURRENCY=${CONCURRENCY:-64}
PY=/usr/bin/python3 # Debian's, with python3-grpcio and python3-grpc-tools
TMP=$(mktemp -d /tmp/sbbench.XXXXXX)
PIDS=()
export PYTHONDONTWRITEBYTECODE=1

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk redis-server curl; do
    command -v "$tool" >/dev/null || { echo "bench_grpc: $tool is needed" >&2; exit 2; }
done
for b in sessionbridge bench_grpc_client; do
    [ -x "$BUILD/$b" ] || { echo "bench_grpc: no $BUILD/$b (build first)" >&2; exit 2; }
done

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"; echo >>"$1"; chmod 600 "$1"; }
wait_for() { local _; for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

RPORT=$(free_port)
GPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
wait_for redis-cli -p "$RPORT" ping || { echo "redis did not start" >&2; exit 1; }

for f in flask gorilla; do secret "$TMP/$f.sec"; done
TOKEN=bench-backend-token-0123456789
printf 'backend %s\n' "$TOKEN" >"$TMP/tokens"; chmod 600 "$TMP/tokens"
cat >"$TMP/sb.ini" <<INI
[http]
listen = 127.0.0.1:0
port_file = $TMP/port
threads = $THREADS
max_connections = 1024
[grpc]
listen = 127.0.0.1:$GPORT
threads = $THREADS
[redis]
url = redis://127.0.0.1:$RPORT/0
[log]
level = warn
[api]
tokens_file = $TMP/tokens
[route]
legacy = flask
new = gorilla
mint = gorilla
[profile.flask]
format = flask
cookie_name = session
secrets_file = $TMP/flask.sec
subject_field = _user_id
[profile.gorilla]
format = gorilla
cookie_name = gsess
hash_keys_file = $TMP/gorilla.sec
subject_field = user_id
INI
"$BUILD/sessionbridge" -c "$TMP/sb.ini" 2>>"$TMP/daemon.log" &
DPID=$!
PIDS+=("$DPID")
wait_for test -s "$TMP/port" || { echo "daemon did not start" >&2; cat "$TMP/daemon.log" >&2; exit 1; }
URL=http://127.0.0.1:$(cat "$TMP/port")

curl -s -X POST -H "X-Bridge-Token: $TOKEN" -H 'Content-Type: application/json' \
    --data '{"subject":"42","data":{"name":"alice"},"ttl":86400}' "$URL/v1/sessions" >"$TMP/login.json"
tok() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"][sys.argv[2]]["token"])' "$TMP/login.json" "$1"; }
COOKIE="session=$(tok flask); gsess=$(tok gorilla)"

mkdir "$TMP/pb"
$PY "$SRC/tests/integration/grpc_client.py" gen "$SRC/proto" "$TMP/pb" || exit 1

# wrk_row NAME CONNECTIONS: one wrk run against /v1/auth; a table row.
wrk_row() {
    local out rps p50 p99 non2xx
    out=$(wrk -t2 -c"$2" -d"${DURATION}s" --latency -H "X-Bridge-Token: $TOKEN" -H "Cookie: $COOKIE" "$URL/v1/auth" 2>&1)
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '| %-58s | %10s | %s\n' "$1" "$rps" "p50 $p50, p99 $p99${non2xx:+, non-2xx: $non2xx}"
}

echo "sessionbridge gRPC benchmark: $(nproc) cores, daemon threads=$THREADS (HTTP and gRPC each), ${DURATION}s per row"
echo
printf '| %-58s | %10s | %s\n' "call (Flask + gorilla cookies, [route] mint = gorilla)" "calls/s" "notes"
printf '|%s|%s|%s\n' "$(printf -- '-%.0s' $(seq 60))" "------------" "------"
# grpc_row NAME OUTPUT: a table row from a client's "calls N seconds S
# rate R errors E" line.
grpc_row() {
    printf '| %-58s | %10s | %s\n' "$1" "$(echo "$2" | awk '{print $6}')" "errors $(echo "$2" | awk '{print $8}')"
}
"$BUILD/bench_grpc_client" "127.0.0.1:$GPORT" 1 4 "$COOKIE" "$TOKEN" >/dev/null # first sight
grpc_row "gRPC Check, C client, $CONCURRENCY in flight, 1 channel" \
    "$("$BUILD/bench_grpc_client" "127.0.0.1:$GPORT" "$DURATION" "$CONCURRENCY" "$COOKIE" "$TOKEN")"
grpc_row "gRPC Check, Python grpcio, $CONCURRENCY in flight, 1 channel" \
    "$($PY "$SRC/tests/integration/grpc_client.py" bench "$TMP/pb" "127.0.0.1:$GPORT" \
        "$DURATION" "$CONCURRENCY" "$COOKIE" "$TOKEN")"
wrk_row "GET /v1/auth, wrk -c$CONCURRENCY (one connection per call)" "$CONCURRENCY"
[ "$CONNECTIONS" != "$CONCURRENCY" ] && wrk_row "GET /v1/auth, wrk -c$CONNECTIONS" "$CONNECTIONS"
echo
echo "daemon RSS: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$DPID/status), peak $(awk '/VmHWM/ {print $2 " " $3}' /proc/$DPID/status)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
