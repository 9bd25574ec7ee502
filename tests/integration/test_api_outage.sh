#!/usr/bin/env bash
# HTTP API, fail closed: with Redis killed mid-test every endpoint that
# needs the store answers 503 store_unavailable (never a 200 that skipped
# the revocation check, never a Set-Cookie), then recovers by itself once
# Redis is back, with no restart.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

login alice '{"k":"v"}' 3600
sid=$LOGIN_SID
legacy=$(cred legacy)
leg_cookie=$(cookie legacy)
curl -s -o /dev/null -D "$SB_TMP/h0" -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"
check "forward-auth works before the outage" "200 OK" "$(head -1 "$SB_TMP/h0" | tr -d '\r' | cut -d' ' -f2-)"

sb_stop_redis

# every store-backed endpoint, a few times (each worker thread meets it)
for i in 1 2 3 4; do
    curl -s -o "$SB_TMP/b" -D "$SB_TMP/h" -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"
    tr -d '\r' <"$SB_TMP/h" >"$SB_TMP/h2"
    check "auth #$i: 503" 503 "$(head -1 "$SB_TMP/h2" | cut -d' ' -f2)"
    check "auth #$i: store_unavailable" store_unavailable "$(json_get "$(cat "$SB_TMP/b")" '["error"]')"
    check "auth #$i: no Set-Cookie" 0 "$(grep -c '^Set-Cookie' "$SB_TMP/h2")"
    check "auth #$i: no identity headers" 0 "$(grep -c '^X-Session-Id' "$SB_TMP/h2")"
done
for i in 1 2 3; do
    check "validate #$i" "503 store_unavailable" "$(validate "$legacy" legacy)"
done
api POST /v1/validate "{\"token\":\"$legacy\"}"
check "validate says inactive, not active" false "$(jget '["active"]')"
api POST /v1/translate "{\"token\":\"$legacy\",\"to\":\"new\"}"
check "translate" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
check "translate mints nothing" "" "$(jget '["token"]')"
api POST /v1/sessions '{"subject":"bob"}'
check "login" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
check "login hands out no credential" "" "$(jget '["credentials"]')"
api GET "/v1/sessions/$sid"
check "get session" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api PATCH "/v1/sessions/$sid" '{"data":{"a":1}}'
check "patch session" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api DELETE "/v1/sessions/$sid"
check "delete session" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api GET /v1/users/alice/sessions
check "list user" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api DELETE /v1/users/alice/sessions
check "log out everywhere" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$legacy"
check "introspect" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$legacy"
check "revoke" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
api POST /v1/apikeys/validate '{"key":"0123456789abcdef0123"}'
check "API key" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
check "invalid credentials still get 401 (no store needed)" "401 malformed" "$(validate garbage legacy)"
check "JWKS needs no store" 200 "$(sb_http_status GET /.well-known/jwks.json)"

# Redis back (empty: it kept nothing): recovery without a restart
sb_start_redis
status=000
for _ in $(seq 50); do
    status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $leg_cookie" "$SB_URL/v1/auth")
    [ "$status" = 200 ] && break
    sleep 0.1
done
check "forward-auth recovers by itself" 200 "$status"
# each worker reconnects on its own, after at most one backoff period (1 s)
ok=0
for _ in $(seq 60); do
    if [ "$(validate "$legacy" legacy)" = "200 alice" ]; then ok=$((ok + 1)); else ok=0; sleep 0.1; fi
    [ "$ok" = 8 ] && break
done
check "every worker thread recovered (8 in a row)" 8 "$ok"
check "the session was recorded again on first sight" 1 "$(sb_redis exists "sb:{u:alice}:sess:$sid")"
login bob '{}' 60
check "logins work again" 201 "$API_STATUS"
check_match "the outage is counted" 'sessionbridge_credentials_total\{op="auth",profile="legacy",result="store_unavailable"\} [1-9]' \
    "$(sb_http_body GET /metrics)"

# Redis killed in the middle of a stream of requests: only 200 or 503.
# The stream runs until told to stop; each step waits for what the stream
# shows (served, then 503s, then served again), not for a guessed time.
( while [ ! -e "$SB_TMP/stream.stop" ]; do
      curl -s -o /dev/null -w '%{http_code}\n' -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"
  done >"$SB_TMP/stream" ) &
streamer=$!
sb_track "$streamer"
SB_WAIT=600 sb_wait_for grep -q '^200$' "$SB_TMP/stream"
kill -KILL "$SB_REDIS_PID"; wait "$SB_REDIS_PID" 2>/dev/null
SB_WAIT=600 sb_wait_for grep -q '^503$' "$SB_TMP/stream"
sb_start_redis
# served_again: after the outage, the last 20 answers were all 200 (every
# worker thread has reconnected; each does so on its own).
served_again() {
    grep -q '^503$' "$SB_TMP/stream" &&
        [ "$(tail -n 20 "$SB_TMP/stream" | grep -c '^200$')" = 20 ]
}
SB_WAIT=600 sb_wait_for served_again
touch "$SB_TMP/stream.stop"
wait "$streamer"
check "mid-stream kill: every answer is 200 or 503" "" "$(grep -v -E '^(200|503)$' "$SB_TMP/stream" | sort -u | tr '\n' ' ')"
check "mid-stream kill: some 503" yes "$(grep -q '^503$' "$SB_TMP/stream" && echo yes)"
check "mid-stream kill: served again at the end (20 in a row)" 20 "$(tail -n 20 "$SB_TMP/stream" | grep -c '^200$')"

sb_api_finish
