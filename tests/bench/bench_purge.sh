#!/bin/bash
# bench_purge.sh - how a 1,000,000-session purge treats Redis: loads N
# sessions (default 1,000,000; 100,000 users; two profiles) into a private
# redis-server with bench_populate, then runs `sessionbridgectl purge` while
# another client PINGs Redis in a loop, and reports the purge's duration
# and rate and the PING latency seen meanwhile (worst, p99.9, p99, p50),
# against an idle baseline.  Two runs: --profile (SCAN, read each session,
# delete the matching half one script each) and --all (log every user out).
#
#   tests/bench/bench_purge.sh [BUILD_DIR] [SESSIONS]
#
# Not a test: it prints figures (the README quotes them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SB_BUILD_DIR=$(cd "${1:-$here/../../build}" && pwd)
N=${2:-1000000}
USERS=$((N / 10))
export SB_BUILD_DIR
. "$here/../harness/lib.sh"
. "$here/../harness/cli.sh"

for bin in "$SB_CTL" "$SB_POPULATE"; do
    [ -x "$bin" ] || { echo "missing $bin: build first (cmake --build $SB_BUILD_DIR)"; exit 1; }
done
sb_start_redis
sb_cli_config

# probe SECONDS_OR_STOPFILE OUT: PINGs in a loop on its own connection until
# the stop file exists (or for SECONDS), then writes the latency figures.
probe() {
    "$SB_PY" - "$SB_REDIS_PORT" "$1" "$2" <<'EOF'
import os, redis, sys, time
r = redis.Redis(port=int(sys.argv[1]))
stop, out = sys.argv[2], sys.argv[3]
lat = []
end = time.time() + float(stop) if stop.replace('.', '').isdigit() else None
while (time.time() < end) if end else not os.path.exists(stop):
    t = time.perf_counter()
    r.ping()
    lat.append(time.perf_counter() - t)
lat.sort()
q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
with open(out, 'w') as f:
    f.write('%d PINGs: worst %.2f ms, p99.9 %.2f ms, p99 %.2f ms, p50 %.3f ms\n'
            % (len(lat), lat[-1] * 1000, q(0.999), q(0.99), q(0.5)))
EOF
}

load() {
    sb_redis flushall >/dev/null
    echo "loading $N sessions ($USERS users)..."
    "$SB_POPULATE" --redis "$SB_REDIS_URL" --prefix sb: --sessions "$N" --users "$USERS" \
        --profiles legacy,new --spread 2592000
    echo "  $(sb_redis info memory | tr -d '\r' | sed -n 's/^used_memory_human:/Redis memory: /p'), $(sb_redis dbsize) keys"
}

# server_side: the longest stall Redis itself saw (LATENCY LATEST, events
# over 1 ms) and the slowest single command (SLOWLOG, over 1 ms), which
# tell a blocked Redis from a probe that the OS did not schedule.
server_side() {
    "$SB_PY" - "$SB_REDIS_PORT" <<'EOF'
import redis, sys
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
ev = r.execute_command('LATENCY', 'LATEST')
slow = r.slowlog_get(1000)
top = max(slow, key=lambda e: e['duration'], default=None)
print('Redis itself: events over 1 ms: %s; %d commands over 1 ms, slowest %.2f ms%s' % (
    ', '.join('%s worst %s ms' % (e[0], e[3]) for e in ev) or 'none', len(slow),
    top['duration'] / 1000 if top else 0, ' (%s)' % bytes(top['command']).split(b' ')[0].decode() if top else ''))
EOF
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
    "$SB_PY" - "$label" "$t0" "$t1" "$SB_TMP/purge.json" <<'EOF'
import json, sys
label, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
j = json.load(open(sys.argv[4]))
print('%s: purged %d sessions (%d users logged out) in %.1f s, %d sessions/s'
      % (label, j['sessions'], j['users'], t1 - t0, j['sessions'] / (t1 - t0)))
EOF
    echo "  during the purge: $(cat "$SB_TMP/probe")"
    echo "  $(server_side)"
}

echo "redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p'), $(nproc) cores"
load
probe 5 "$SB_TMP/idle"
echo "idle baseline (5 s): $(cat "$SB_TMP/idle"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
run "purge --profile legacy" --profile legacy
load
run "purge --all" --all
check "no session left after --all" 0 "$(key_count 'sb:{*}:sess:*')" >/dev/null
echo "  left: $(key_count 'sb:{*}:sess:*') sessions; $(sb_redis info memory | tr -d '\r' | sed -n 's/^used_memory_human:/Redis memory: /p') (revocation markers, sid pointers and not-before keys remain until they expire)"
sb_finish >/dev/null
