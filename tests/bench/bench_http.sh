#!/usr/bin/env bash
# bench_http.sh - one command to measure the HTTP hot path: starts a
# private redis-server and the daemon, logs a user in, then runs
#   wrk -t2 -c64 -d${DURATION}s --latency
# against /v1/auth (cookie / bearer) and /v1/validate (JSON body) for a
# valid Flask cookie, HS256 JWT and gorilla cookie, and once more through
# nginx auth_request (upstream keepalive); prints req/s, p50, p99 and the
# daemon's RSS.  The cache is on ([cache] defaults): after the first
# request of each credential, answers come from the verdict cache with no
# Redis round trip (bench_auth.sh measures the cacheless miss path too).
# Not a test: numbers depend on the machine.
#
#   tests/bench/bench_http.sh [BUILD_DIR]
#   THREADS=4 DURATION=10 CONNECTIONS=64 tests/bench/bench_http.sh build
set -u

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-${SB_BUILD_DIR:-$SRC/build}}
BUILD=$(cd "$BUILD" && pwd)
THREADS=${THREADS:-2}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
TMP=$(mktemp -d /tmp/sbbench.XXXXXX)
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -f "$TMP/nginx.pid" ] && kill -QUIT "$(cat "$TMP/nginx.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in wrk redis-server curl python3; do
    command -v "$tool" >/dev/null || { echo "bench_http: $tool is needed" >&2; exit 2; }
done
[ -x "$BUILD/sessionbridge" ] || { echo "bench_http: no $BUILD/sessionbridge (build first)" >&2; exit 2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"; echo >>"$1"; chmod 600 "$1"; }
wait_for() { local _; for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }

RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" >"$TMP/redis.log" 2>&1 &
PIDS+=($!)
wait_for redis-cli -p "$RPORT" ping || { echo "redis did not start" >&2; exit 1; }

for f in flask jwt gorilla; do secret "$TMP/$f.sec"; done
printf 'backend bench-backend-token-0123456789\n' >"$TMP/tokens"; chmod 600 "$TMP/tokens"
cat >"$TMP/sb.ini" <<INI
[http]
listen = 127.0.0.1:0
port_file = $TMP/port
threads = $THREADS
max_connections = 1024
[redis]
url = redis://127.0.0.1:$RPORT/0
[log]
level = warn
[api]
tokens_file = $TMP/tokens
open_on_loopback = auth,validate
[profile.flask]
format = flask
cookie_name = session
secrets_file = $TMP/flask.sec
subject_field = _user_id
[profile.jwt]
format = jwt
alg = HS256
cookie_name = token
secrets_file = $TMP/jwt.sec
max_age = 3600
[profile.gorilla]
format = gorilla
cookie_name = gsess
hash_keys_file = $TMP/gorilla.sec
subject_field = user_id
INI
# The same profiles with a migration route: forward-auth mints gorilla.
sed -e "s|port_file = $TMP/port|port_file = $TMP/port2|" "$TMP/sb.ini" >"$TMP/route.ini"
printf '[route]\nlegacy = flask\nnew = gorilla\nmint = gorilla\n' >>"$TMP/route.ini"

# start_daemon CONFIG PORTFILE: starts a daemon; sets DPID and URL.
start_daemon() {
    "$BUILD/sessionbridge" -c "$1" 2>>"$TMP/daemon.log" &
    DPID=$!
    PIDS+=("$DPID")
    wait_for test -s "$2" || { echo "daemon did not start" >&2; cat "$TMP/daemon.log" >&2; exit 1; }
    URL=http://127.0.0.1:$(cat "$2")
}
start_daemon "$TMP/route.ini" "$TMP/port2"
RPID=$DPID RURL=$URL
start_daemon "$TMP/sb.ini" "$TMP/port"

curl -s -X POST -H 'X-Bridge-Token: bench-backend-token-0123456789' -H 'Content-Type: application/json' \
    --data '{"subject":"42","data":{"name":"alice","role":"user"},"ttl":86400}' "$URL/v1/sessions" >"$TMP/login.json"
tok() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["credentials"][sys.argv[2]]["token"])' "$TMP/login.json" "$1"; }
FLASK=$(tok flask); JWT=$(tok jwt); GORILLA=$(tok gorilla)
[ -n "$FLASK" ] && [ -n "$JWT" ] && [ -n "$GORILLA" ] || { echo "login failed" >&2; cat "$TMP/login.json" >&2; exit 1; }

# run NAME URL [wrk args]: one wrk run; prints a table row.
run() {
    local name=$1 url=$2 out rps p50 p99 non2xx
    shift 2
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" 2>&1)
    rps=$(printf '%s\n' "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(printf '%s\n' "$out" | awk '$1 == "50%" {print $2}')
    p99=$(printf '%s\n' "$out" | awk '$1 == "99%" {print $2}')
    non2xx=$(printf '%s\n' "$out" | awk '/Non-2xx/ {print $NF}')
    printf '| %-48s | %10s | %8s | %8s | %s\n' "$name" "$rps" "$p50" "$p99" "${non2xx:+non-2xx: $non2xx}"
}

# a wrk script posting a JSON body
post_lua() {
    printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
        "$(python3 -c 'import json,sys; print(json.dumps(json.dumps({"token": sys.argv[1], "profile": sys.argv[2]})))' "$1" "$2")" >"$TMP/$3.lua"
    echo "$TMP/$3.lua"
}

echo "sessionbridge HTTP benchmark: $(nproc) cores, daemon threads=$THREADS, wrk -t2 -c$CONNECTIONS -d${DURATION}s"
echo
printf '| %-48s | %10s | %8s | %8s |\n' "endpoint / credential" "req/s" "p50" "p99"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 50))" "------------" "----------" "----------"
run "GET /v1/auth, Flask cookie" "$URL/v1/auth" -H "Cookie: session=$FLASK"
run "GET /v1/auth, HS256 JWT (Authorization)" "$URL/v1/auth" -H "Authorization: Bearer $JWT"
run "GET /v1/auth, gorilla cookie" "$URL/v1/auth" -H "Cookie: gsess=$GORILLA"
run "POST /v1/validate, Flask cookie" "$URL/v1/validate" -s "$(post_lua "$FLASK" flask vf)"
run "POST /v1/validate, HS256 JWT" "$URL/v1/validate" -s "$(post_lua "$JWT" jwt vj)"
run "POST /v1/validate, gorilla cookie" "$URL/v1/validate" -s "$(post_lua "$GORILLA" gorilla vg)"
echo "| with [route] legacy = flask, new = gorilla, mint = gorilla:"
run "GET /v1/auth, Flask + gorilla cookies (steady)" "$RURL/v1/auth" -H "Cookie: session=$FLASK; gsess=$GORILLA"
run "GET /v1/auth, Flask only (mints gorilla)" "$RURL/v1/auth" -H "Cookie: session=$FLASK"

if command -v nginx >/dev/null; then
    NPORT=$(free_port)
    mkdir -p "$TMP/nginx" "$TMP/www"
    chmod 755 "$TMP" "$TMP/www"
    echo ok >"$TMP/www/ok.txt"
    cat >"$TMP/nginx.conf" <<NGX
worker_processes 2;
pid $TMP/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx; proxy_temp_path $TMP/nginx;
    fastcgi_temp_path $TMP/nginx; uwsgi_temp_path $TMP/nginx; scgi_temp_path $TMP/nginx;
    upstream sessionbridge { server $(echo "$RURL" | sed 's|http://||'); keepalive 64; }
    server {
        listen 127.0.0.1:$NPORT;
        location = /_auth {
            internal;
            proxy_pass http://sessionbridge/v1/auth;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI \$request_uri;
        }
        location /app/ {
            # a static file: "return" would answer before auth_request runs
            auth_request /_auth;
            auth_request_set \$sb_subject \$upstream_http_x_session_subject;
            add_header X-User \$sb_subject;
            alias $TMP/www/;
        }
        location /plain/ { alias $TMP/www/; }
    }
}
NGX
    nginx -c "$TMP/nginx.conf" -p "$TMP/nginx" -g 'daemon on;' 2>"$TMP/nginx/start.log" || { echo "nginx failed to start"; cat "$TMP/nginx/start.log"; }
    if wait_for test -s "$TMP/nginx.pid"; then
        st=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: session=$FLASK" "http://127.0.0.1:$NPORT/app/ok.txt")
        st2=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NPORT/app/ok.txt")
        echo "| (nginx check: with cookie $st, without $st2)"
        run "nginx static file (no auth, reference)" "http://127.0.0.1:$NPORT/plain/ok.txt"
        run "nginx auth_request -> /v1/auth, Flask + gorilla" "http://127.0.0.1:$NPORT/app/ok.txt" -H "Cookie: session=$FLASK; gsess=$GORILLA"
        run "nginx auth_request -> /v1/auth, Flask only" "http://127.0.0.1:$NPORT/app/ok.txt" -H "Cookie: session=$FLASK"
        run "nginx auth_request -> /v1/auth, HS256 JWT" "http://127.0.0.1:$NPORT/app/ok.txt" -H "Authorization: Bearer $JWT"
        run "nginx auth_request -> /v1/auth, gorilla" "http://127.0.0.1:$NPORT/app/ok.txt" -H "Cookie: gsess=$GORILLA"
    fi
fi

echo
echo "daemon RSS: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$DPID/status), peak $(awk '/VmHWM/ {print $2 " " $3}' /proc/$DPID/status)"
echo "daemon with [route] RSS: $(awk '/VmRSS/ {print $2 " " $3}' /proc/$RPID/status), peak $(awk '/VmHWM/ {print $2 " " $3}' /proc/$RPID/status)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Redis: $(redis-cli -p "$RPORT" info stats | awk -F: '/total_commands_processed/ {print $2}' | tr -d '\r') commands"
