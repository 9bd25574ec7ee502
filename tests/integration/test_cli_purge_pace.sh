#!/bin/bash
# test_cli_purge_pace.sh - a purge keeps each step it sends to Redis short
# and paces itself: pipelines of at most 16 scripts (at --rate N, about
# N/20), one session per delete script, SCAN COUNT as asked; --rate N
# sets the rate mode and its chunk, --rate max none; bad --rate values
# are usage errors that change nothing; the adaptive pace backs off when
# Redis's latency rises (another client runs DEBUG SLEEP).  What the
# purge sent is seen through a counting proxy (pipeline_proxy.py), what
# it decided in its --json summary; nothing here measures elapsed time.
# The store stays consistent throughout.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/cli.sh"
here=$(cd "$(dirname "$0")" && pwd)

sb_start_redis --enable-debug-command local   # the back-off case makes it sleep
sb_cli_config

# proxy_start: a fresh counting proxy in front of the private Redis;
# sets PROXY_URL and PROXY_STATS.
proxy_start() {
    rm -f "$SB_TMP/proxy.port"
    PROXY_STATS=$SB_TMP/proxy.$RANDOM.json
    "$SB_PY" "$here/pipeline_proxy.py" "$SB_REDIS_PORT" "$SB_TMP/proxy.port" "$PROXY_STATS" &
    PROXY_PID=$!
    sb_track "$PROXY_PID"
    sb_wait_for test -s "$SB_TMP/proxy.port" || { echo "proxy did not start"; exit 1; }
    PROXY_URL=redis://127.0.0.1:$(cat "$SB_TMP/proxy.port")/0
}
proxy_stop() { kill "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; }
stat() { json_get "$(cat "$PROXY_STATS")" "[\"$1\"]"; }
pace() { json_get "$(cat "$SB_TMP/out")" "[\"pace\"][\"$1\"]"; }

populate --sessions 2000 --users 200 --profiles legacy,new
check "populated: 2000 sessions" 2000 "$(key_count 'sb:{*}:sess:*')"

# -- bad --rate values: exit 2, named, nothing changed
snapshot >"$SB_TMP/before.snap"
for v in 1.5 -3 fast 10000001 00 1e3 MAX; do
    ctl purge --all --yes --rate "$v" >/dev/null 2>"$SB_TMP/err"
    check "--rate $v: exit 2" 2 $?
    check_match "--rate $v: says what --rate takes" "^.*--rate: '$v' is not a number of sessions per second from 1 to 10000000, or max" "$(cat "$SB_TMP/err")"
done
ctl purge --all --yes --rate >/dev/null 2>"$SB_TMP/err"
check "--rate without a value: exit 2" 2 $?
check_match "--rate without a value: named" "--rate" "$(cat "$SB_TMP/err")"
ctl purge --all --yes --batch 1001 >/dev/null 2>"$SB_TMP/err"
check "--batch over 1000: exit 2" 2 $?
check_match "--batch over 1000: says the range" "--batch: '1001' is not a number from 1 to 1000" "$(cat "$SB_TMP/err")"
check "bad --rate / --batch: store unchanged" "$(cat "$SB_TMP/before.snap")" "$(snapshot)"

# -- --rate 200: the rate mode, pipelines of 200/20 = 10 scripts
proxy_start
"$SB_CTL" -c "$SB_TMP/sb.ini" --redis "$PROXY_URL" purge --profile legacy --rate 200 --batch 50 --yes --json >"$SB_TMP/out"
check "--rate 200: exit 0" 0 $?
check "--rate 200: purged the 1000 legacy sessions" 1000 "$(json_get "$(cat "$SB_TMP/out")" '["sessions"]')"
check "--rate 200: the summary says the rate" "rate 200.0" "$(pace mode) $(pace rate)"
check "--rate 200: pipelines of 10 sessions" 10 "$(pace least_chunk)"
check "--rate 200: no pipeline carried more than 10 scripts" yes "$([ "$(stat max_scripts_per_read)" -le 10 ] && [ "$(stat max_scripts_per_read)" -ge 1 ] && echo yes || echo "no ($(stat max_scripts_per_read))")"
check "--rate 200: one delete script call per session removed" 1000 "$(stat deletes)"
check "--rate 200: each delete names one session" 0 "$(stat delete_keys_bad)"
check "--rate 200: SCAN COUNT as given by --batch" 50 "$(stat max_scan_count)"
proxy_stop
check "--rate 200: store consistent" ok "$(consistency)"
check "--rate 200: a marker per purged session" 1000 "$(key_count 'sb:{*}:rev:*')"

# -- the default (adaptive) pace: it measured the idle latency; pipelines
# of at most 16 scripts; SCAN COUNT 100
proxy_start
"$SB_CTL" -c "$SB_TMP/sb.ini" --redis "$PROXY_URL" purge --all --yes --json >"$SB_TMP/out"
check "adaptive --all: exit 0" 0 $?
# (user i%200 has the sessions i of profile i%2: the legacy purge emptied
# the even users' indexes, 100 users are left)
check "adaptive --all: the 1000 others went, 100 users logged out" "1000 100" "$(json_get "$(cat "$SB_TMP/out")" '["sessions"]') $(json_get "$(cat "$SB_TMP/out")" '["users"]')"
check "adaptive: the summary says adaptive" adaptive "$(pace mode)"
check "adaptive: an idle latency was measured" yes "$("$SB_PY" -c 'import sys; print("yes" if float(sys.argv[1]) > 0 else "no")' "$(pace baseline_ms)")"
check "adaptive: no pipeline carried more than 16 scripts" yes "$([ "$(stat max_scripts_per_read)" -le 16 ] && [ "$(stat max_scripts_per_read)" -ge 1 ] && echo yes || echo "no ($(stat max_scripts_per_read))")"
check "adaptive: SCAN COUNT 100 by default" 100 "$(stat max_scan_count)"
proxy_stop
check "adaptive --all: no session left" 0 "$(key_count 'sb:{*}:sess:*')"
check "adaptive --all: a not-before per user left" 100 "$(key_count 'sb:{u:*}:nbf')"
check "adaptive --all: store consistent" ok "$(consistency)"

# -- --rate max: unpaced, still pipelines of at most 16
sb_redis flushall >/dev/null
populate --sessions 2000 --users 200 --profiles legacy,new
proxy_start
"$SB_CTL" -c "$SB_TMP/sb.ini" --redis "$PROXY_URL" purge --profile new --rate max --yes --json >"$SB_TMP/out"
rc=$?
check "--rate max: exit 0, 1000 purged" "0 1000" "$rc $(json_get "$(cat "$SB_TMP/out")" '["sessions"]')"
check "--rate max: unpaced, never paused" "off 0.0" "$(pace mode) $(pace paused_seconds)"
check "--rate max: pipelines of at most 16 scripts" yes "$([ "$(stat max_scripts_per_read)" -le 16 ] && echo yes || echo "no ($(stat max_scripts_per_read))")"
check "--rate max: one delete call per session" 1000 "$(stat deletes)"
proxy_stop
out=$(ctl purge --profile legacy --rate 0 --dry-run)
check_match "--rate 0 is unpaced too (text summary)" "pace: +unpaced \(--rate max\)" "$out"
check "--rate max: store consistent" ok "$(consistency)"

# -- adaptive back-off: while another client keeps Redis asleep (DEBUG
# SLEEP 0.05 back to back on one connection, for 3 s from the purge's
# first write, far less than the purge can finish in meanwhile), the purge
# sees its latency rise and slows down (less of the time, smaller
# pipelines), as its summary reports.  A few sleeps launched one redis-cli
# at a time were not enough: on a busy machine the purge's probes fell in
# the gaps between them.
sb_redis flushall >/dev/null
populate --sessions 20000 --users 2000 --profiles legacy,new
writes() { sb_redis info persistence | sed -n 's/^rdb_changes_since_last_save:\([0-9]*\).*/\1/p'; }
written_since() { [ "$(writes)" -gt "$1" ]; }
before=$(writes)
"$SB_CTL" -c "$SB_TMP/sb.ini" purge --profile legacy --yes --json >"$SB_TMP/out" 2>"$SB_TMP/err" &
pid=$!
SB_WAIT=1200 sb_wait_for written_since "$before"
"$SB_PY" - "$SB_REDIS_PORT" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
end = time.monotonic() + 3
while time.monotonic() < end:
    s.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$4\r\n0.05\r\n")
    if s.recv(64) != b"+OK\r\n":
        sys.exit("DEBUG SLEEP refused")
PY
sleeper=$!
wait "$pid"; status=$?
wait "$sleeper"
check "back-off: Redis was kept asleep" 0 $?
check "back-off: the purge finished (exit 0)" 0 "$status"
check "back-off: all 10000 legacy sessions went" 10000 "$(json_get "$(cat "$SB_TMP/out")" '["sessions"]')"
check "back-off: it backed off" yes "$([ "$(pace backoffs)" -ge 1 ] && echo yes || echo "no ($(cat "$SB_TMP/out"))")"
check "back-off: down from half the time" yes "$("$SB_PY" -c 'import sys; print("yes" if float(sys.argv[1]) < 0.5 else "no")' "$(pace least_share)")"
check "back-off: and to smaller pipelines" yes "$([ "$(pace least_chunk)" -lt 16 ] && echo yes || echo no)"
check "back-off: store consistent" ok "$(consistency)"

sb_finish
