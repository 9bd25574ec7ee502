#!/usr/bin/env bash
# bench_auth.sh - the forward-auth hot path side by side with what a team
# would run instead, in one run on the same cores (issue 12's benchmark):
#   bare     libmicrohttpd answering 200, set up as the daemon sets it up
#            (tests/bench/peers/bare_mhd.c): the floor
#   go       Go net/http + gorilla/securecookie (JSON serializer) checking
#            the same cookie with the same key, stateless
#            (tests/bench/peers/go_securecookie.go)
#   bridge   sessionbridge GET /v1/auth with that gorilla cookie, and with
#            a Flask cookie (Redis on a unix socket, [cache] defaults)
# and the same behind nginx auth_request (upstream keepalive 64).  Rounds
# alternate between the servers (wrk -t2 -cCONNECTIONS -dDURATION each);
# each server's best round counts.  Then the ratios against the targets
# (of the best rounds, and the median over rounds of each round's pair),
# the daemon's peak RSS, and how fast a revocation made on one bridge is
# refused by a second bridge serving load (REVOCATIONS of them, and again
# with the second bridge's invalidation connection killed first).
# Two more bridges run without the cache ([cache] ttl = 0), with THREADS
# and 4 x THREADS workers: the miss path, one blocking Redis round trip.
# Not a test: it prints figures and whether each target was met.
#
#   tests/bench/bench_auth.sh [BUILD_DIR]
#   ROUNDS=3 DURATION=8 CONNECTIONS=64 THREADS=2 REVOCATIONS=1000 tests/bench/bench_auth.sh build
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-${SB_BUILD_DIR:-$SRC/build}}" && pwd) || exit 2
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
REVOCATIONS=${REVOCATIONS:-1000}
TMP=$(mktemp -d /tmp/sbauth.XXXXXX)
PIDS=()

cleanup() {
    local p
    [ -f "$TMP/nginx.pid" ] && kill -QUIT "$(cat "$TMP/nginx.pid")" 2>/dev/null
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk redis-server redis-cli curl python3 go nginx; do
    command -v "$tool" >/dev/null || { echo "bench_auth: $tool is needed (make test-deps)" >&2; exit 2; }
done
for b in sessionbridge bare_mhd; do
    [ -x "$BUILD/$b" ] || { echo "bench_auth: no $BUILD/$b (build first)" >&2; exit 2; }
done

wait_for() { local _; for _ in $(seq 200); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done; return 1; }
rnd_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# The Go peer, built against Debian's gorilla/securecookie (GOPATH mode).
(cd "$SRC/tests/bench/peers" && GO111MODULE=off GOPATH=/usr/share/gocode \
    GOCACHE="$BUILD/go-cache" go build -o "$TMP/go_securecookie" go_securecookie.go) ||
    { echo "bench_auth: cannot build the Go peer" >&2; exit 1; }

redis-server --port 0 --unixsocket "$TMP/redis.sock" --unixsocketperm 700 \
    --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
wait_for redis-cli -s "$TMP/redis.sock" ping || { echo "redis did not start" >&2; exit 1; }

echo "hex:$(rnd_hex)" >"$TMP/gorilla.key"
echo "hex:$(rnd_hex)" >"$TMP/flask.key"
printf 'backend bench-backend-token-0123456789\n' >"$TMP/tokens"
chmod 600 "$TMP/gorilla.key" "$TMP/flask.key" "$TMP/tokens"

# write_config NAME: the bridge's config for instance NAME.
write_config() {
    cat >"$TMP/$1.ini" <<INI
[http]
listen = 127.0.0.1:0
port_file = $TMP/$1.port
threads = $THREADS
max_connections = 1024
[redis]
url = unix://$TMP/redis.sock
[log]
level = warn
[api]
tokens_file = $TMP/tokens
open_on_loopback = auth,validate
[profile.flask]
format = flask
cookie_name = session
secrets_file = $TMP/flask.key
subject_field = _user_id
[profile.gorilla]
format = gorilla
cookie_name = gsess
hash_keys_file = $TMP/gorilla.key
serializer = json
subject_field = user_id
INI
}

# start NAME COMMAND...: starts a server writing its port to $TMP/NAME.port;
# sets PORT and LASTPID.
start() {
    local name=$1
    shift
    "$@" 2>>"$TMP/$name.log" &
    LASTPID=$!
    PIDS+=("$LASTPID")
    wait_for test -s "$TMP/$name.port" || { echo "$name did not start" >&2; cat "$TMP/$name.log" >&2; exit 1; }
    PORT=$(cat "$TMP/$name.port")
}

write_config a
write_config b
# c and d: no cache, so every request is a miss (the Redis round trip a
# first sight or a request after an invalidation pays), with THREADS and
# with 4 x THREADS workers: is a worker idling on Redis what caps it?
write_config c
write_config d
printf '[cache]\nttl = 0\n' >>"$TMP/c.ini"
printf '[cache]\nttl = 0\n' >>"$TMP/d.ini"
sed -i "s/^threads = $THREADS\$/threads = $((THREADS * 4))/" "$TMP/d.ini"
start bare "$BUILD/bare_mhd" "$TMP/bare.port" "$THREADS"; BARE=$PORT
start go "$TMP/go_securecookie" -key "$TMP/gorilla.key" -cookie gsess -subject user_id -port-file "$TMP/go.port"; GOP=$PORT
start a "$BUILD/sessionbridge" -c "$TMP/a.ini"; A=$PORT APID=$LASTPID
start b "$BUILD/sessionbridge" -c "$TMP/b.ini"; B=$PORT
start c "$BUILD/sessionbridge" -c "$TMP/c.ini"; C=$PORT
start d "$BUILD/sessionbridge" -c "$TMP/d.ini"; D=$PORT

curl -s -X POST -H 'X-Bridge-Token: bench-backend-token-0123456789' \
    --data '{"subject":"42","data":{"name":"alice","role":"user"},"ttl":86400}' \
    "http://127.0.0.1:$A/v1/sessions" >"$TMP/login.json"
tok() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"][sys.argv[2]]["token"])' "$TMP/login.json" "$1"; }
GORILLA=$(tok gorilla) FLASK=$(tok flask)
[ -n "$GORILLA" ] && [ -n "$FLASK" ] || { echo "login failed" >&2; cat "$TMP/login.json" >&2; exit 1; }

# Each server must give the right answer before it is timed.
expect() {
    local what=$1 want=$2 got
    shift 2
    got=$(curl -s -o /dev/null -w '%{http_code}' "$@")
    [ "$got" = "$want" ] || { echo "bench_auth: $what answered $got, not $want" >&2; exit 1; }
}
expect "go peer, valid cookie" 200 -H "Cookie: gsess=$GORILLA" "http://127.0.0.1:$GOP/"
expect "go peer, forged cookie" 401 -H "Cookie: gsess=${GORILLA}x" "http://127.0.0.1:$GOP/"
expect "bridge, gorilla cookie" 200 -H "Cookie: gsess=$GORILLA" "http://127.0.0.1:$A/v1/auth"
expect "bridge, flask cookie" 200 -H "Cookie: session=$FLASK" "http://127.0.0.1:$A/v1/auth"
expect "bridge without cache, gorilla cookie" 200 -H "Cookie: gsess=$GORILLA" "http://127.0.0.1:$C/v1/auth"
expect "bridge, forged cookie" 401 -H "Cookie: gsess=${GORILLA}x" "http://127.0.0.1:$A/v1/auth"

# nginx in front: auth_request to each of the three, a static file behind.
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$TMP/nginx" "$TMP/www"
chmod 755 "$TMP" "$TMP/www"
echo ok >"$TMP/www/ok.txt"
auth_location() { # NAME UPSTREAM PATH
    cat <<NGX
        location = /_auth_$1 {
            internal;
            proxy_pass http://$2$3;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
        }
        location /$1/ { auth_request /_auth_$1; alias $TMP/www/; }
NGX
}
cat >"$TMP/nginx.conf" <<NGX
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx;
    fastcgi_temp_path $TMP/nginx; uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
    upstream bridge { server 127.0.0.1:$A; keepalive 64; }
    upstream gopeer { server 127.0.0.1:$GOP; keepalive 64; }
    upstream bare { server 127.0.0.1:$BARE; keepalive 64; }
    server {
        listen 127.0.0.1:$NPORT;
$(auth_location bridge bridge /v1/auth)
$(auth_location go gopeer /)
$(auth_location bare bare /)
        location /plain/ { alias $TMP/www/; }
    }
}
NGX
nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" -g 'daemon on;' 2>"$TMP/nginx/start.log" ||
    { echo "nginx failed to start" >&2; cat "$TMP/nginx/start.log" >&2; exit 1; }
wait_for test -s "$TMP/nginx.pid" || { echo "nginx did not start" >&2; exit 1; }
N=http://127.0.0.1:$NPORT
expect "nginx -> bridge, valid" 200 -H "Cookie: gsess=$GORILLA" "$N/bridge/ok.txt"
expect "nginx -> bridge, forged" 401 -H "Cookie: gsess=${GORILLA}x" "$N/bridge/ok.txt"
expect "nginx -> go, valid" 200 -H "Cookie: gsess=$GORILLA" "$N/go/ok.txt"
expect "nginx -> go, forged" 401 -H "Cookie: gsess=${GORILLA}x" "$N/go/ok.txt"

# The servers timed, in the order of every round: name|url|cookie.
CASES=(
    "bare libmicrohttpd, 200|http://127.0.0.1:$BARE/|gsess=$GORILLA"
    "Go net/http + gorilla/securecookie|http://127.0.0.1:$GOP/|gsess=$GORILLA"
    "bridge /v1/auth, gorilla cookie|http://127.0.0.1:$A/v1/auth|gsess=$GORILLA"
    "bridge /v1/auth, Flask cookie|http://127.0.0.1:$A/v1/auth|session=$FLASK"
    "bridge, gorilla, no cache, threads=$THREADS|http://127.0.0.1:$C/v1/auth|gsess=$GORILLA"
    "bridge, gorilla, no cache, threads=$((THREADS * 4))|http://127.0.0.1:$D/v1/auth|gsess=$GORILLA"
    "nginx static file, no auth|$N/plain/ok.txt|gsess=$GORILLA"
    "nginx auth_request -> bare|$N/bare/ok.txt|gsess=$GORILLA"
    "nginx auth_request -> Go peer|$N/go/ok.txt|gsess=$GORILLA"
    "nginx auth_request -> bridge, gorilla|$N/bridge/ok.txt|gsess=$GORILLA"
)
declare -A BEST_RPS BEST_P99 BEST_P50 ROUND_RPS ROUND_P99
# to_ms "4.50ms" -> 4.5
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.3f", n }'; }

echo "sessionbridge forward-auth benchmark: $(nproc) cores, $(date -u +%FT%TZ)"
echo "daemon threads=$THREADS, wrk -t2 -c$CONNECTIONS -d${DURATION}s, $ROUNDS alternating rounds, best round counts"
for r in $(seq "$ROUNDS"); do
    for i in "${!CASES[@]}"; do
        IFS='|' read -r name url cookie <<<"${CASES[$i]}"
        out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Cookie: $cookie" "$url" 2>&1)
        rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {printf "%d", $2}')
        p50=$(to_ms "$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')")
        p99=$(to_ms "$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')")
        bad=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
        [ -n "$bad" ] && echo "  $name: $bad non-2xx answers in round $r" >&2
        echo "  round $r: $name: $rps req/s, p50 $p50 ms, p99 $p99 ms"
        ROUND_RPS[$i,$r]=${rps:-0} ROUND_P99[$i,$r]=${p99:-0}
        if [ "${rps:-0}" -gt "${BEST_RPS[$i]:-0}" ]; then
            BEST_RPS[$i]=$rps BEST_P50[$i]=$p50 BEST_P99[$i]=$p99
        fi
    done
done

echo
printf '| %-40s | %9s | %8s | %8s |\n' server 'req/s' 'p50 ms' 'p99 ms'
printf '|%s|%s|%s|%s|\n' ------------------------------------------ ----------: ---------: ---------:
for i in "${!CASES[@]}"; do
    printf '| %-40s | %9s | %8s | %8s |\n' "${CASES[$i]%%|*}" "${BEST_RPS[$i]}" "${BEST_P50[$i]}" "${BEST_P99[$i]}"
done

# ratio NAME A B MIN: prints A/B and whether it reaches MIN (or, with
# MIN starting with '<', stays at or below it).
ratio() {
    awk -v n="$1" -v a="$2" -v b="$3" -v t="$4" 'BEGIN {
        r = b > 0 ? a / b : 0
        if (substr(t, 1, 1) == "<") { lim = substr(t, 2) + 0; ok = r <= lim; want = "<= " lim }
        else { lim = t + 0; ok = r >= lim; want = ">= " lim }
        printf "  %-52s %6.2f  (target %s: %s)\n", n, r, want, ok ? "met" : "MISSED" }'
}
echo
echo "ratios (best rounds):"
ratio "bridge gorilla / Go peer" "${BEST_RPS[2]}" "${BEST_RPS[1]}" 2.0
ratio "bridge Flask / Go peer" "${BEST_RPS[3]}" "${BEST_RPS[1]}" 2.0
ratio "bridge gorilla / bare libmicrohttpd" "${BEST_RPS[2]}" "${BEST_RPS[0]}" 0.8
ratio "bridge Flask / bare libmicrohttpd" "${BEST_RPS[3]}" "${BEST_RPS[0]}" 0.8
ratio "bridge gorilla p99 / bare p99" "${BEST_P99[2]}" "${BEST_P99[0]}" "<1.5"
ratio "bridge Flask p99 / bare p99" "${BEST_P99[3]}" "${BEST_P99[0]}" "<1.5"
ratio "behind nginx: bridge / Go peer" "${BEST_RPS[9]}" "${BEST_RPS[8]}" 1.2

# median_ratio A B rps|p99: the median over rounds of case A's figure over
# case B's in the same round.  Rounds alternate, so the two of a pair ran
# seconds apart on the same machine; a best round can be one lucky
# outlier of one server alone.
median_ratio() {
    local r
    for r in $(seq "$ROUNDS"); do
        if [ "$3" = rps ]; then
            echo "${ROUND_RPS[$1,$r]} ${ROUND_RPS[$2,$r]}"
        else
            echo "${ROUND_P99[$1,$r]} ${ROUND_P99[$2,$r]}"
        fi
    done | awk '$2 > 0 { print $1 / $2 }' | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
echo "ratios (median over the rounds of each round's pair):"
ratio "bridge gorilla / Go peer" "$(median_ratio 2 1 rps)" 1 2.0
ratio "bridge Flask / Go peer" "$(median_ratio 3 1 rps)" 1 2.0
ratio "bridge gorilla / bare libmicrohttpd" "$(median_ratio 2 0 rps)" 1 0.8
ratio "bridge Flask / bare libmicrohttpd" "$(median_ratio 3 0 rps)" 1 0.8
ratio "bridge gorilla p99 / bare p99" "$(median_ratio 2 0 p99)" 1 "<1.5"
ratio "bridge Flask p99 / bare p99" "$(median_ratio 3 0 p99)" 1 "<1.5"
ratio "behind nginx: bridge / Go peer" "$(median_ratio 9 8 rps)" 1 1.2

entries=$(curl -s "http://127.0.0.1:$A/metrics" | awk '$1 == "sessionbridge_cache_entries" {print $2}')
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$APID/status")
echo
echo "bridge peak RSS: $((hwm_kb / 1024)) MB ($hwm_kb kB; target < 16 MB), cache: $entries entries of [cache] entries = 100000"

# Revocation: A revokes, B (serving load meanwhile) must refuse.
echo
echo "revocation seen by a second bridge ($REVOCATIONS revocations, both bridges under wrk load):"
wrk -t1 -c16 -d3600s -H "Cookie: gsess=$GORILLA" "http://127.0.0.1:$A/v1/auth" >/dev/null 2>&1 &
PIDS+=($!)
wrk -t1 -c16 -d3600s -H "Cookie: gsess=$GORILLA" "http://127.0.0.1:$B/v1/auth" >/dev/null 2>&1 &
PIDS+=($!)
python3 "$SRC/tests/bench/revocation_lag.py" --a "127.0.0.1:$A" --b "127.0.0.1:$B" \
    --token bench-backend-token-0123456789 --count "$REVOCATIONS" \
    --redis-socket "$TMP/redis.sock" --kill-count 20
rc=$?
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$APID/status")
echo "bridge peak RSS after the revocation run: $((hwm_kb / 1024)) MB"
exit $rc
