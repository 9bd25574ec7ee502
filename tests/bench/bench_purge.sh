#!/bin/bash
# bench_purge.sh - how a large purge treats Redis's other clients: loads N
# sessions (default 1,000,000; N/10 users; two profiles) into a private
# redis-server with bench_populate, then runs `sessionbridgectl purge`
# while another client PINGs Redis in a loop on its own connection, and
# reports the purge's duration and rate, that client's PING latency
# (worst, p99.9, p99, p50) against an idle baseline taken just before each
# purge (5 s, same store: on a shared machine the load changes from one
# minute to the next), the p99 as a multiple of that idle p99, and Redis's
# own view: LATENCY LATEST (events over 1 ms) and the slowest command in
# the SLOWLOG (over 1 ms).
#
# Runs `purge --profile legacy` (SCAN, read each session, delete the
# matching half) and `purge --all` (log every user out), each with every
# pace in PACES (default "adaptive max": the default pace, and unpaced
# with --rate max; "200000" would be --rate 200000), the store reloaded
# before each run.
#
#   SESSIONS=N PACES="adaptive max" tests/bench/bench_purge.sh [BUILD_DIR] [SESSIONS]
#
# Not a test: it prints figures (the README quotes them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SB_BUILD_DIR=$(cd "${1:-$here/../../build}" && pwd)
N=${2:-${SESSIONS:-1000000}}
PACES=${PACES:-adaptive max}
USERS=$((N / 10))
export SB_BUILD_DIR
. "$here/../harness/lib.sh"
. "$here/../harness/cli.sh"

for bin in "$SB_CTL" "$SB_POPULATE"; do
    [ -x "$bin" ] || { echo "missing $bin: build first (cmake --build $SB_BUILD_DIR)"; exit 1; }
done
sb_start_redis
sb_cli_config

# probe SECONDS_OR_STOPFILE OUT: PINGs in a loop on its own connection
# (a raw socket: no client library between the clock and the wire) until
# the stop file exists (or for SECONDS), then writes the latency figures
# and the p99 in microseconds.
probe() {
    "$SB_PY" - "$SB_REDIS_PORT" "$1" "$2" <<'PY'
import os, socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
stop, out = sys.argv[2], sys.argv[3]
lat = []
end = time.time() + float(stop) if stop.replace('.', '').isdigit() else None
clock = time.perf_counter
n = 0
while True:
    n += 1
    if n % 256 == 0 and ((time.time() >= end) if end else os.path.exists(stop)):
        break
    t = clock()
    s.sendall(b'PING\r\n')
    buf = b''
    while not buf.endswith(b'\r\n'):
        buf += s.recv(64)
    lat.append(clock() - t)
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
with open(out, 'w') as f:
    f.write('%d PINGs: worst %.2f ms, p99.9 %.2f ms, p99 %.3f ms, p50 %.3f ms\n'
            % (len(lat), lat[-1] * 1000, q(0.999), q(0.99), q(0.5)))
with open(out + '.p99', 'w') as f:
    f.write('%.1f\n' % (q(0.99) * 1000))
PY
}

load() {
    sb_redis flushall >/dev/null
    echo "loading $N sessions ($USERS users)..."
    "$SB_POPULATE" --redis "$SB_REDIS_URL" --prefix sb: --sessions "$N" --users "$USERS" \
        --profiles legacy,new --spread 2592000 | sed 's/^/  /'
    echo "  $(sb_redis info memory | tr -d '\r' | sed -n 's/^used_memory_human:/Redis memory: /p'), $(sb_redis dbsize) keys"
}

# server_side: the longest stall Redis itself saw (LATENCY LATEST, events
# over 1 ms) and the slowest single command (SLOWLOG, over 1 ms), which
# tell a blocked Redis from a probe that the OS did not schedule.
server_side() {
    "$SB_PY" - "$SB_REDIS_PORT" <<'PY'
import redis, sys
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
ev = r.execute_command('LATENCY', 'LATEST')
slow = r.slowlog_get(1000)
top = max(slow, key=lambda e: e['duration'], default=None)
print('Redis itself: events over 1 ms: %s; %d commands over 1 ms, slowest %.2f ms%s' % (
    ', '.join('%s worst %s ms' % (e[0], e[3]) for e in ev) or 'none', len(slow),
    top['duration'] / 1000 if top else 0, ' (%s)' % bytes(top['command']).split(b' ')[0].decode() if top else ''))
PY
}

# run LABEL ARGS...: purge ARGS while probing.
run() {
    local label=$1 t0 t1 stop=$SB_TMP/stop
    shift
    sb_redis config set latency-monitor-threshold 1 >/dev/null
    sb_redis config set slowlog-log-slower-than 1000 >/dev/null
    sb_redis config set slowlog-max-len 1000 >/dev/null
    sb_redis latency reset >/dev/null
    sb_redis slowlog reset >/dev/null
    rm -f "$stop"
    probe "$stop" "$SB_TMP/probe" &
    local probe_pid=$!
    sleep 0.5
    t0=$(date +%s.%N)
    "$SB_CTL" -c "$SB_TMP/sb.ini" purge "$@" --yes --json >"$SB_TMP/purge.json"
    t1=$(date +%s.%N)
    touch "$stop"
    wait "$probe_pid"
    "$SB_PY" - "$label" "$t0" "$t1" "$SB_TMP/purge.json" <<'PY'
import json, sys
label, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
j = json.load(open(sys.argv[4]))
p = j['pace']
print('%s: purged %d sessions (%d users logged out) in %.1f s, %d sessions/s' % (
    label, j['sessions'], j['users'], t1 - t0, j['sessions'] / (t1 - t0)))
print('  pace %s: idle PING %.3f ms, %d steps, %d back-offs, least share %.3f, pipelines %d-%d, paused %.1f s' % (
    p['mode'], p['baseline_ms'], p['steps'], p['backoffs'], p['least_share'],
    p['least_chunk'], p['chunk_max'], p['paused_seconds']))
PY
    echo "  during the purge: $(cat "$SB_TMP/probe") = $(awk -v a="$(cat "$SB_TMP/probe.p99")" -v b="$(cat "$SB_TMP/idle.p99")" 'BEGIN { printf "%.1fx", a / b }') the idle p99"
    echo "  $(server_side)"
}

# pace_args PACE: the purge options of a pace word.
pace_args() {
    case $1 in
        adaptive) ;;
        *) echo "--rate $1" ;;
    esac
}

echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for what in "--profile legacy" "--all"; do
    for pace in $PACES; do
        load
        probe 5 "$SB_TMP/idle"
        echo "idle just before (5 s): $(cat "$SB_TMP/idle"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
        # shellcheck disable=SC2046,SC2086
        run "purge $what ($pace)" $what $(pace_args "$pace")
        if [ "$what" = "--all" ]; then
            echo "  left: $(key_count 'sb:{*}:sess:*') sessions; $(sb_redis info memory | tr -d '\r' | sed -n 's/^used_memory_human:/Redis memory: /p') (revocation markers, sid pointers and not-before keys remain until they expire)"
        fi
    done
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
sb_finish >/dev/null
