#!/bin/bash
# bench_purge.sh - how a large purge treats Redis's other clients: loads N
# sessions (default 1,000,000; N/10 users; two profiles) into a private
# redis-server with bench_populate, then runs `sessionbridgectl purge`
# while another client PINGs Redis in a loop on its own connection, and
# reports the purge's duration and rate, that client's PING latency
# (worst, p99.9, p99, p50) and Redis's own view: LATENCY LATEST (events
# over 1 ms) and the slowest command in the SLOWLOG (over 1 ms).
#
# On a shared machine the load changes from one minute to the next, more
# than a purge changes latency, so the idle figures are taken two ways:
# for 5 s just before each purge, and interleaved with it: the purge is
# stopped (SIGSTOP) for 1 s in every 4 (INTERLEAVE="3 1"; "off" for
# none) and the PINGs of those pauses (after the first 50 ms, which may
# still see the purge's last pipeline) are the idle sample taken under the
# same load; the p99 while the purge runs is given as a multiple of both.
# The purge's duration excludes the pauses.
#
# Runs `purge --profile legacy` (SCAN, read each session, delete the
# matching half) and `purge --all` (log every user out), each with every
# pace in PACES (default "adaptive max": the default pace, and unpaced
# with --rate max; "200000" would be --rate 200000), the store reloaded
# before each run; PURGES="profile all" chooses the purges.
#
#   SESSIONS=N PACES="adaptive max" tests/bench/bench_purge.sh [BUILD_DIR] [SESSIONS]
#
# Not a test: it prints figures (the README quotes them).
set -u
here=$(cd "$(dirname "$0")" && pwd)
SB_BUILD_DIR=$(cd "${1:-$here/../../build}" && pwd)
N=${2:-${SESSIONS:-1000000}}
PACES=${PACES:-adaptive max}
PURGES=${PURGES:-profile all}
INTERLEAVE=${INTERLEAVE:-3 1}
USERS=$((N / 10))
export SB_BUILD_DIR
. "$here/../harness/lib.sh"
. "$here/../harness/cli.sh"

for bin in "$SB_CTL" "$SB_POPULATE"; do
    [ -x "$bin" ] || { echo "missing $bin: build first (cmake --build $SB_BUILD_DIR)"; exit 1; }
done
sb_start_redis
sb_cli_config

# probe SECONDS_OR_STOPFILE OUT [PHASES]: PINGs in a loop on its own
# connection (a raw socket: no client library between the clock and the
# wire) until the stop file exists (or for SECONDS), then writes the
# latency figures to OUT and the p99 in microseconds to OUT.p99.  With a
# PHASES file ("stop T" / "cont T" lines, epoch seconds) the PINGs inside
# the pauses go to OUT.paused (and .paused.p99) instead.
probe() {
    "$SB_PY" - "$SB_REDIS_PORT" "$1" "$2" "${3:-}" <<'PY'
import os, socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
stop, out, phases = sys.argv[2], sys.argv[3], sys.argv[4]
lat, at = [], []
end = time.time() + float(stop) if stop.replace('.', '').isdigit() else None
clock, wall = time.perf_counter, time.time
n = 0
while True:
    n += 1
    if n % 256 == 0 and ((wall() >= end) if end else os.path.exists(stop)):
        break
    t = clock()
    s.sendall(b'PING\r\n')
    buf = b''
    while not buf.endswith(b'\r\n'):
        got = s.recv(64)
        if not got:
            sys.exit('probe: Redis closed the connection')
        buf += got
    lat.append(clock() - t)
    at.append(wall())
pauses, t0 = [], None
if phases and os.path.exists(phases):
    for line in open(phases):
        word, t = line.split()
        if word == 'stop':
            t0 = float(t) + 0.05
        elif t0 is not None:
            pauses.append((t0, float(t)))
            t0 = None
def paused(t):
    return any(a <= t <= b for a, b in pauses)
def write(path, v):
    v = sorted(v)
    if not v:
        v = [0.0]
    q = lambda f: v[min(len(v) - 1, int(f * len(v)))] * 1000
    with open(path, 'w') as f:
        f.write('%d PINGs: worst %.2f ms, p99.9 %.2f ms, p99 %.3f ms, p50 %.3f ms\n'
                % (len(v), v[-1] * 1000, q(0.999), q(0.99), q(0.5)))
    with open(path + '.p99', 'w') as f:
        f.write('%.1f\n' % (q(0.99) * 1000))
flags = [paused(t) for t in at] if pauses else [False] * len(at)
write(out, [x for x, p in zip(lat, flags) if not p])
if pauses:
    write(out + '.paused', [x for x, p in zip(lat, flags) if p])
PY
}

# ratio A B: A / B as "N.Nx" (files of microseconds).
ratio() { awk -v a="$(cat "$1")" -v b="$(cat "$2")" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }'; }

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
    rm -f "$stop" "$SB_TMP/probe.paused"
    : >"$SB_TMP/phases"
    probe "$stop" "$SB_TMP/probe" "$SB_TMP/phases" &
    local probe_pid=$!
    sleep 0.5
    t0=$(date +%s.%N)
    "$SB_CTL" -c "$SB_TMP/sb.ini" purge "$@" --yes --json >"$SB_TMP/purge.json" &
    local pid=$!
    # shellcheck disable=SC2086
    set -- $INTERLEAVE
    while [ "$INTERLEAVE" != off ] && kill -0 "$pid" 2>/dev/null; do
        sleep "$1"
        kill -STOP "$pid" 2>/dev/null || break
        echo "stop $(date +%s.%N)" >>"$SB_TMP/phases"
        sleep "$2"
        echo "cont $(date +%s.%N)" >>"$SB_TMP/phases"
        kill -CONT "$pid"
    done
    wait "$pid"
    t1=$(date +%s.%N)
    touch "$stop"
    wait "$probe_pid"
    "$SB_PY" - "$label" "$t0" "$t1" "$SB_TMP/purge.json" "$SB_TMP/phases" <<'PY'
import json, sys
label, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
j = json.load(open(sys.argv[4]))
p = j['pace']
stopped, t = 0.0, None
for line in open(sys.argv[5]):
    word, v = line.split()
    if word == 'stop':
        t = float(v)
    elif t is not None:
        stopped += float(v) - t
        t = None
d = j['seconds'] - stopped
print('%s: purged %d sessions (%d users logged out) in %.1f s (without %.0f s stopped), %d sessions/s' % (
    label, j['sessions'], j['users'], d, stopped, j['sessions'] / d))
print('  pace %s: idle PING %.3f ms, %d steps, %d back-offs, least share %.3f, pipelines %d-%d, paused %.1f s' % (
    p['mode'], p['baseline_ms'], p['steps'], p['backoffs'], p['least_share'],
    p['least_chunk'], p['chunk_max'], p['paused_seconds']))
PY
    echo "  during the purge: $(cat "$SB_TMP/probe")"
    echo "    p99 = $(ratio "$SB_TMP/probe.p99" "$SB_TMP/idle.p99") the idle p99 just before"
    if [ -s "$SB_TMP/probe.paused" ]; then
        echo "  in the purge's pauses (SIGSTOP, $2 s in every $(($1 + $2))): $(cat "$SB_TMP/probe.paused")"
        echo "    p99 while running = $(ratio "$SB_TMP/probe.p99" "$SB_TMP/probe.paused.p99") the p99 in the pauses"
    fi
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
for purge in $PURGES; do
    case $purge in
        profile) what="--profile legacy" ;;
        *) what="--all" ;;
    esac
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
