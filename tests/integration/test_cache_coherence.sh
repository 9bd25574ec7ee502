#!/usr/bin/env bash
# The verdict cache (issue 12), two bridges on one real redis-server:
#  - at steady state a cached credential costs no Redis command (the
#    EVALSHA count stands still while hits grow);
#  - a revocation through every path on bridge A (DELETE session, DELETE
#    user, POST /v1/revoke, PATCH, sessionbridgectl purge --user/--session
#    and revoke) is refused by bridge B once B has applied the
#    invalidation (waited for as an event, B's invalidation counter);
#  - the subscriber's connection killed (CLIENT KILL TYPE pubsub): B stops
#    serving from its cache, a revocation during the gap is refused, and B
#    subscribes again by itself;
#  - Redis paused (DEBUG SLEEP) and Redis restarted: B answers 503 while it
#    cannot ask, never 200 from a stale entry, and recovers by itself.
# Costs about 25 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_prepare
sb_start_redis --enable-debug-command local   # DEBUG SLEEP pauses it below
sb_write_config "$SB_TMP/a.ini" "$SB_API_PROFILES" "[cache]
entries = 1000
ttl = 30"
sed "s|port_file = $SB_TMP/port|port_file = $SB_TMP/port_b|" "$SB_TMP/a.ini" >"$SB_TMP/b.ini"
sb_start_daemon "$SB_TMP/a.ini"
URL_A=$SB_URL
"$SB_BIN" -c "$SB_TMP/b.ini" 2>>"$SB_TMP/daemon_b.log" &
PID_B=$!
sb_track "$PID_B"
sb_wait_for test -s "$SB_TMP/port_b" || { echo "bridge B did not start"; exit 1; }
URL_B=http://127.0.0.1:$(cat "$SB_TMP/port_b")
ctl() { "$SB_CTL" -c "$SB_TMP/a.ini" "$@"; }

# metric URL NAME: a metric's value
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }
subscribed() { [ "$(metric "$1" sessionbridge_cache_subscribed)" = "$2" ]; }
# on URL TOKEN PROFILE: validate on one bridge, "STATUS subject-or-error"
on() { SB_URL=$1 validate "$2" "$3"; }
# after_invalidation CMD...: runs CMD and waits until B applied an
# invalidation (its counter moved), so B's answer after it is the test.
invalidated_since() { [ "$(metric "$URL_B" sessionbridge_cache_invalidations_total)" -gt "$1" ]; }
after_invalidation() {
    local before
    before=$(metric "$URL_B" sessionbridge_cache_invalidations_total)
    "$@" >/dev/null
    SB_WAIT=300 sb_wait_for invalidated_since "$before"
}
# refused_on_b TOKEN PROFILE: B refuses the credential
refused_on_b() { [ "$(on "$URL_B" "$1" "$2")" = "401 revoked" ]; }
evalsha_calls() { sb_redis info commandstats | tr -d '\r' | sed -n 's/^cmdstat_evalsha:calls=\([0-9]*\),.*/\1/p'; }

check "A subscribes" 0 "$(SB_WAIT=100 sb_wait_for subscribed "$URL_A" 1; echo $?)"
check "B subscribes" 0 "$(SB_WAIT=100 sb_wait_for subscribed "$URL_B" 1; echo $?)"
check "the cache's size is reported" 1024 "$(metric "$URL_B" sessionbridge_cache_capacity)"

# -- steady state: no Redis command for a cached credential
SB_URL=$URL_A login steady '{}' 3600
tok=$(cred legacy)
check "first sight on B" "200 steady" "$(on "$URL_B" "$tok" legacy)"
# steady CMD...: runs CMD 10 times and prints how many scripts Redis ran
# meanwhile; a round is measured again (3 at most) when B re-subscribed
# during it (a busy machine may starve its heartbeat: the cache then
# empties, rightly, and the round proves nothing).
steady() {
    local calls subs
    for _ in 1 2 3; do
        subs=$(metric "$URL_B" sessionbridge_cache_subscriptions_total)
        calls=$(evalsha_calls)
        for _ in $(seq 10); do "$@" >/dev/null; done
        calls=$(( $(evalsha_calls) - calls ))
        [ "$(metric "$URL_B" sessionbridge_cache_subscriptions_total)" = "$subs" ] && break
    done
    echo "$calls"
}
hits=$(metric "$URL_B" sessionbridge_cache_hits_total)
check "10 more validations send no script to Redis" 0 "$(steady on "$URL_B" "$tok" legacy)"
check "...they were cache hits" 1 "$([ $(( $(metric "$URL_B" sessionbridge_cache_hits_total) - hits )) -ge 10 ] && echo 1)"
fa=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(cookie legacy); $(cookie new)" "$URL_B/v1/auth")
check "forward-auth with both cookies" 200 "$fa"
check "...at steady state sends no script to Redis" 0 \
    "$(steady curl -s -o /dev/null -H "Cookie: $(cookie legacy); $(cookie new)" "$URL_B/v1/auth")"
check "entries are counted" 1 "$([ "$(metric "$URL_B" sessionbridge_cache_entries)" -ge 2 ] && echo 1)"

# -- every revocation path on A reaches B
# revoke_by PATH USER SID
revoke_by() {
    case $1 in
    delete-session) SB_URL=$URL_A api DELETE "/v1/sessions/$3" ;;
    delete-user) SB_URL=$URL_A api DELETE "/v1/users/$2/sessions" ;;
    rfc7009) SB_URL=$URL_A api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred api)" ;;
    purge-user) ctl purge --user "$2" --yes ;;
    purge-session) ctl purge --session "$3" --yes ;;
    cli-revoke) printf '%s' "$(cred new)" | ctl revoke ;;
    esac
}
n=0
for path in delete-session delete-user rfc7009 purge-user purge-session cli-revoke; do
    n=$((n + 1))
    SB_URL=$URL_A login "c$n" '{}' 3600
    for p in legacy new api; do on "$URL_B" "$(cred $p)" $p >/dev/null; on "$URL_B" "$(cred $p)" $p >/dev/null; done
    check "$path: B serves the session from its cache" "200 c$n" "$(on "$URL_B" "$(cred legacy)" legacy)"
    after_invalidation revoke_by "$path" "c$n" "$LOGIN_SID"
    for p in legacy new api; do
        check "$path: B refuses the $p credential" "401 revoked" "$(on "$URL_B" "$(cred $p)" $p)"
    done
done
SB_URL=$URL_A login patched '{"plan":"free"}' 3600
on "$URL_B" "$(cred api)" api >/dev/null
after_invalidation env SB_URL="$URL_A" bash -c "curl -s -X PATCH -H 'X-Bridge-Token: $BTOK' -d '{\"data\":{\"plan\":\"pro\"}}' $URL_A/v1/sessions/$LOGIN_SID"
misses=$(metric "$URL_B" sessionbridge_cache_misses_total)
check "PATCH on A: B still validates the session" "200 patched" "$(on "$URL_B" "$(cred api)" api)"
check "...from Redis, not from the entry the PATCH dropped" 1 "$(( $(metric "$URL_B" sessionbridge_cache_misses_total) - misses ))"

# -- the subscriber's connection cut: a revocation during the gap
SB_URL=$URL_A login gap '{}' 3600
gap=$(cred legacy)
on "$URL_B" "$gap" legacy >/dev/null
check "B holds the session" "200 gap" "$(on "$URL_B" "$gap" legacy)"
sb_redis client kill type pubsub >/dev/null
SB_URL=$URL_A api DELETE "/v1/sessions/$LOGIN_SID"
check "revoked during the gap: B refuses it (at the latest after the backstop ttl)" 0 \
    "$(SB_WAIT=320 sb_wait_for refused_on_b "$gap" legacy; echo $?)"
check "B subscribes again by itself" 0 "$(SB_WAIT=100 sb_wait_for subscribed "$URL_B" 1; echo $?)"
check "...and still refuses it" "401 revoked" "$(on "$URL_B" "$gap" legacy)"

# -- Redis paused: what B answers meanwhile is never stale (nothing can be
# revoked while Redis sleeps), and a revocation after it reaches B
SB_URL=$URL_A login paused '{}' 3600
pz=$(cred legacy)
on "$URL_B" "$pz" legacy >/dev/null
sb_redis debug sleep 2 >"$SB_TMP/pause" 2>&1 &
pause_pid=$!
sleep 0.3
check_match "during the pause B answers 200 (cached, not stale) or 503" '^(200 paused|503 store_unavailable)$' "$(on "$URL_B" "$pz" legacy)"
wait "$pause_pid"
check "Redis was paused (DEBUG SLEEP answered)" OK "$(cat "$SB_TMP/pause")"
check "B subscribed again after the pause" 0 "$(SB_WAIT=100 sb_wait_for subscribed "$URL_B" 1; echo $?)"
after_invalidation env SB_URL="$URL_A" bash -c "curl -s -X DELETE -H 'X-Bridge-Token: $BTOK' $URL_A/v1/sessions/$LOGIN_SID"
check "a revocation after the pause reaches B" "401 revoked" "$(on "$URL_B" "$pz" legacy)"

# -- Redis restarted: 503 while down (fail closed), never from the cache
SB_URL=$URL_A login restart '{}' 3600
rs=$(cred legacy)
on "$URL_B" "$rs" legacy >/dev/null
sb_stop_redis
check "B notices Redis is gone" 0 "$(SB_WAIT=100 sb_wait_for subscribed "$URL_B" 0; echo $?)"
check "B answers 503 while Redis is down, not from its cache" 503 \
    "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(cookie legacy)" "$URL_B/v1/auth")"
sb_start_redis --enable-debug-command local
check "B subscribes again after the restart" 0 "$(SB_WAIT=200 sb_wait_for subscribed "$URL_B" 1; echo $?)"
# (a worker whose connection died with the old Redis answers one 503 first)
answers_200() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(cookie legacy)" "$URL_B/v1/auth")" = 200 ]; }
check "B answers again" 0 "$(SB_WAIT=100 sb_wait_for answers_200; echo $?)"

kill -TERM "$PID_B"; wait "$PID_B"
check "bridge B exits 0" 0 "$?"
check "no sanitizer report from B" "" "$(grep -E -m3 'AddressSanitizer|LeakSanitizer|runtime error' "$SB_TMP/daemon_b.log")"
sb_api_finish
