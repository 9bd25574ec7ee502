# lib.sh - shared harness for the script tests: a private redis-server and
# the real daemon on free loopback ports in a temp directory, cleaned up by
# a trap (nothing is left running), plus small assertion helpers.
#
# Usage in a test:
#   . "$(dirname "$0")/../harness/lib.sh"
#   sb_start_redis; sb_write_config "$SB_TMP/sb.ini"; sb_start_daemon "$SB_TMP/sb.ini"
#   check "health answers" 200 "$(sb_http_status GET /health)"
#   sb_finish          # prints "N passed, N failed"; non-zero on a failure or no check

set -u

SB_BUILD_DIR=${SB_BUILD_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build}
SB_SOURCE_DIR=${SB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SB_BIN=$SB_BUILD_DIR/sessionbridge
SB_CTL=$SB_BUILD_DIR/sessionbridgectl
SB_VECTORS=$SB_SOURCE_DIR/tests/vectors
SB_TMP=$(mktemp -d /tmp/sbtest.XXXXXX)
SB_PASSED=0
SB_FAILED=0
SB_PIDS=()

sb_cleanup() {
    local pid
    for pid in "${SB_PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${SB_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$SB_TMP"
}
trap sb_cleanup EXIT
trap 'exit 130' INT TERM

# Remembers a background process so the trap stops it.
sb_track() { SB_PIDS+=("$1"); }

# A free TCP port on 127.0.0.1 (bound and released by python3).
sb_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Waits until "$@" succeeds, for at most $SB_WAIT tenths of a second.
sb_wait_for() {
    local i
    for i in $(seq "${SB_WAIT:-100}"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# Starts a private redis-server (no persistence) on a free port; sets
# SB_REDIS_PORT, SB_REDIS_PID and SB_REDIS_URL.  Extra args go to redis.
sb_start_redis() {
    SB_REDIS_PORT=${SB_REDIS_PORT:-$(sb_free_port)}
    redis-server --port "$SB_REDIS_PORT" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$SB_TMP" "$@" >"$SB_TMP/redis.log" 2>&1 &
    SB_REDIS_PID=$!
    sb_track "$SB_REDIS_PID"
    SB_REDIS_URL=redis://127.0.0.1:$SB_REDIS_PORT/0
    sb_wait_for redis-cli -p "$SB_REDIS_PORT" ping || { echo "redis did not start"; cat "$SB_TMP/redis.log"; exit 1; }
}

sb_stop_redis() {
    kill -TERM "$SB_REDIS_PID" 2>/dev/null
    wait "$SB_REDIS_PID" 2>/dev/null
}

sb_redis() { redis-cli -p "$SB_REDIS_PORT" "$@"; }

# The keys of the private Redis less the progress figure's HyperLogLogs
# (sb:{progress}:*), which a daemon writes within a second of serving
# forward-auth: what a "bad input wrote nothing" check compares.
sb_data_keys() { sb_redis --scan | grep -vc '^sb:{progress}:'; }

# Writes a config with a random port_file-reported port and the private
# Redis.  Everything after the file name is appended verbatim (profiles,
# [api], [route] ...).
sb_write_config() {
    local file=$1; shift
    {
        printf '[http]\nlisten = 127.0.0.1:0\nport_file = %s/port\nthreads = 2\ndrain_timeout = 10\n' "$SB_TMP"
        printf '[redis]\nurl = %s\nprefix = sb:\ncommand_timeout_ms = 500\nconnect_timeout_ms = 500\n' "$SB_REDIS_URL"
        printf '[log]\nlevel = info\n'
        printf '%s\n' "$@"
    } >"$file"
}

# Writes one random secret per argument file (hex, 64 chars).
sb_secret_file() {
    local f=$1
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$f"
    echo >>"$f"
    chmod 600 "$f"
}

# Starts the daemon on config $1; sets SB_PORT, SB_DAEMON_PID, SB_URL.
sb_start_daemon() {
    rm -f "$SB_TMP/port"
    "$SB_BIN" -c "$1" 2>>"$SB_TMP/daemon.log" &
    SB_DAEMON_PID=$!
    sb_track "$SB_DAEMON_PID"
    sb_wait_for test -s "$SB_TMP/port" || { echo "daemon did not start"; cat "$SB_TMP/daemon.log"; exit 1; }
    SB_PORT=$(cat "$SB_TMP/port")
    SB_URL=http://127.0.0.1:$SB_PORT
}

# Stops the daemon with SIGTERM and returns its exit status.
sb_stop_daemon() {
    kill -TERM "$SB_DAEMON_PID" 2>/dev/null
    wait "$SB_DAEMON_PID"
}

# HTTP helpers: status only, or body only.  Extra curl args follow.
sb_http_status() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$SB_URL$p"; }
sb_http_body() { local m=$1 p=$2; shift 2; curl -s -X "$m" "$@" "$SB_URL$p"; }

# check NAME EXPECTED ACTUAL: exact comparison.
check() {
    if [ "$2" = "$3" ]; then
        SB_PASSED=$((SB_PASSED + 1)); echo "ok   - $1"
    else
        SB_FAILED=$((SB_FAILED + 1)); echo "FAIL - $1: expected [$2], got [$3]"
    fi
}

# check_match NAME REGEX ACTUAL: extended-regex match.
check_match() {
    if printf '%s' "$3" | grep -Eq -- "$2"; then
        SB_PASSED=$((SB_PASSED + 1)); echo "ok   - $1"
    else
        SB_FAILED=$((SB_FAILED + 1)); echo "FAIL - $1: [$3] does not match /$2/"
    fi
}

# json_get JSON PATH: prints a value by a python expression path, e.g.
#   json_get "$body" '["session"]["subject"]'
json_get() { python3 -c 'import json,sys; v=eval("json.loads(sys.argv[1])"+sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2" 2>/dev/null; }

# sb_finish: prints the totals; the script fails if a check failed or if
# it ran no check at all (a test that checked nothing proved nothing).
sb_finish() {
    echo "$SB_PASSED passed, $SB_FAILED failed"
    if [ $((SB_PASSED + SB_FAILED)) = 0 ]; then
        echo "FAIL - no check ran"
        return 1
    fi
    [ "$SB_FAILED" = 0 ]
}
