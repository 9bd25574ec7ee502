#!/bin/bash
# test_cli_purge_interrupt.sh - Ctrl-C in the middle of a large purge
# (200,000 sessions) stops after the current batch, leaves the store
# consistent (no index entry without its session, no session outside its
# index), says so with exit 1, and a second run finishes the job.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/cli.sh"

sb_start_redis
sb_cli_config

# The interrupts land on what the purge has done, not after a guessed
# time (a busy machine would still be counting, a fast one done):
# writes: how many writes Redis took so far (persistence is off, so this
# only grows); written_since N: the purge has written something since N.
writes() { sb_redis info persistence | sed -n 's/^rdb_changes_since_last_save:\([0-9]*\).*/\1/p'; }
written_since() { [ "$(writes)" -gt "$1" ]; }
# scanning: a client (the purge) is walking the store with SCAN.
scanning() { sb_redis client list | grep -q 'cmd=scan'; }

# interrupt_midway ARGS...: runs purge ARGS in the background, sends SIGINT
# once it has changed the store, and leaves its exit status in $rc and its
# stdout / stderr in $SB_TMP/int.out / int.err.
interrupt_midway() {
    local pid before
    before=$(writes)
    "$SB_CTL" -c "$SB_TMP/sb.ini" purge "$@" >"$SB_TMP/int.out" 2>"$SB_TMP/int.err" &
    pid=$!
    SB_WAIT=1200 sb_wait_for written_since "$before"
    kill -INT "$pid"
    wait "$pid"
    rc=$?
}

for mode in "--all" "--profile legacy"; do
    sb_redis flushall >/dev/null
    populate --sessions 200000 --users 20000 --profiles legacy,new
    check "$mode: populated" 200000 "$(key_count 'sb:{*}:sess:*')"

    # small batches so the purge takes long enough to be caught mid-way
    interrupt_midway $mode --yes --batch 10
    check "$mode: interrupted run exits 1" 1 "$rc"
    check_match "$mode: says it was interrupted and how to finish" "interrupted: .*run the same command again" "$(cat "$SB_TMP/int.err")"
    check_match "$mode: still prints what it did" "^purged [0-9,]+ sessions" "$(cat "$SB_TMP/int.out")"
    left=$(key_count 'sb:{*}:sess:*')
    if [ "$mode" = "--all" ]; then total=200000; else total=100000; fi
    check "$mode: stopped mid-way (some removed, some left)" yes "$([ "$left" -gt $((200000 - total)) ] && [ "$left" -lt 200000 ] && echo yes || echo "no ($left left)")"
    done_n=$(sed -n 's/^purged \([0-9,]*\) sessions.*/\1/p' "$SB_TMP/int.out" | tr -d ,)
    check "$mode: the count printed is what went" "$((200000 - left))" "$done_n"
    check "$mode: store consistent after the interruption" ok "$(consistency)"

    # the re-run unpaced: that it finishes is the point here, its pace is
    # test_cli_purge_pace.sh's (paced, it would take minutes on a busy
    # machine)
    "$SB_CTL" -c "$SB_TMP/sb.ini" purge $mode --yes --rate max >"$SB_TMP/out" 2>&1
    check "$mode: second run exits 0" 0 $?
    check "$mode: second run removed the rest" "$left" "$(( $(sed -n 's/^purged \([0-9,]*\) sessions.*/\1/p' "$SB_TMP/out" | tr -d ,) + 200000 - total ))"
    check "$mode: second run finished the job" $((200000 - total)) "$(key_count 'sb:{*}:sess:*')"
    check "$mode: consistent at the end" ok "$(consistency)"
    check "$mode: a marker for every purged session" "$total" "$(key_count 'sb:{*}:rev:*')"
done
sessions_json >"$SB_TMP/left.json"
check "--profile legacy left exactly the new ones" "100000 new" "$("$SB_PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); print(len(s), " ".join(sorted(set(p for _,p,_ in s.values()))))' "$SB_TMP/left.json")"

# Ctrl-C while counting (before any change): nothing changed.
sb_redis flushall >/dev/null
populate --sessions 200000 --users 20000 --profiles legacy,new
snapshot >"$SB_TMP/before.snap"
"$SB_CTL" -c "$SB_TMP/sb.ini" purge --profile new --batch 5 </dev/null >/dev/null 2>"$SB_TMP/err" &
pid=$!
SB_WAIT=1200 sb_wait_for scanning
kill -INT "$pid"
wait "$pid"
check "Ctrl-C while counting: exit 1" 1 $?
check_match "Ctrl-C while counting: nothing changed" "interrupted while counting: nothing changed" "$(cat "$SB_TMP/err")"
check "Ctrl-C while counting: store unchanged" "$(cat "$SB_TMP/before.snap")" "$(snapshot)"

sb_finish
