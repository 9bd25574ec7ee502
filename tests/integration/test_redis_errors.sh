#!/usr/bin/env bash
# Redis error replies fail closed: NOAUTH, READONLY, OOM from a real
# redis-server, and LOADING, MASTERDOWN, BUSY, MISCONF, TRYAGAIN from a
# stand-in that answers every command with that error, each make the API
# answer 503 store_unavailable (no Set-Cookie, no identity) and log the
# reply's first word; a Redis that restarted empty gets the layout key
# back without restarting the bridge.  Costs about 25 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start "[cache]
ttl = 0"  # every request asks Redis: its replies are the test

login alice '{"k":"v"}' 3600
leg_cookie=$(cookie legacy)
auth_status() { curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"; }
# until_status WANT: retries /v1/auth for up to 5 s (workers back off up
# to 1 s each); prints the last status.
until_status() {
    local s=000
    for _ in $(seq 50); do
        s=$(auth_status); [ "$s" = "$1" ] && break; sleep 0.1
    done
    echo "$s"
}
# expect_closed LABEL WORD: four requests (each worker meets it), all 503
# store_unavailable, no Set-Cookie, and WORD in the log.
expect_closed() {
    local i
    for i in 1 2 3 4; do
        curl -s -o "$SB_TMP/b" -D "$SB_TMP/h" -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"
        tr -d '\r' <"$SB_TMP/h" >"$SB_TMP/h2"
        check "$1 #$i: 503 store_unavailable" "503 store_unavailable" \
            "$(head -1 "$SB_TMP/h2" | cut -d' ' -f2) $(json_get "$(cat "$SB_TMP/b")" '["error"]')"
        check "$1 #$i: no Set-Cookie, no identity" 0 "$(grep -c -E '^(Set-Cookie|X-Session-Id)' "$SB_TMP/h2")"
    done
    check_match "$1: the log names the reply" "\"reply\":\"$2\"" "$(cat "$SB_TMP/daemon.log")"
}

check "auth works at first" 200 "$(auth_status)"
check "the layout key is written" 1 "$(sb_redis get sb:layout)"

# NOAUTH: a password set on the server, connections dropped
sb_redis config set requirepass s3cret-pw >/dev/null
redis-cli -p "$SB_REDIS_PORT" -a s3cret-pw --no-auth-warning client kill type normal >/dev/null
expect_closed NOAUTH NOAUTH
check "/ready says not ready" 503 "$(sb_http_status GET /ready)"
check "the password never reaches the log" 0 "$(grep -c s3cret-pw "$SB_TMP/daemon.log")"
redis-cli -p "$SB_REDIS_PORT" -a s3cret-pw --no-auth-warning config set requirepass '' >/dev/null
check "NOAUTH: recovers without a restart" 200 "$(until_status 200)"

# OOM: no memory left for writes (a login writes)
sb_redis config set maxmemory 1 >/dev/null
# a worker may still be backing off from the NOAUTH episode (503 too)
for i in 1 2 3 4; do
    api POST /v1/sessions '{"subject":"bob"}'
    check "OOM #$i: login 503" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
    check "OOM #$i: no credential handed out" "" "$(jget '["credentials"]')"
    sleep 0.3
done
check_match "OOM: the log names the reply" '"reply":"OOM"' "$(cat "$SB_TMP/daemon.log")"
sb_redis config set maxmemory 0 >/dev/null
api POST /v1/sessions '{"subject":"bob"}'
[ "$API_STATUS" = 201 ] || { sleep 1.1; api POST /v1/sessions '{"subject":"bob"}'; }
check "OOM: logins work again" 201 "$API_STATUS"

# READONLY: the server became a replica (of an empty primary)
SB_REDIS_PORT_KEEP=$SB_REDIS_PORT
other=$(sb_free_port)
redis-server --port "$other" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$SB_TMP" >"$SB_TMP/redis2.log" 2>&1 &
sb_track $!
sb_wait_for redis-cli -p "$other" ping || { echo "second redis did not start"; exit 1; }
sb_redis replicaof 127.0.0.1 "$other" >/dev/null
sb_wait_for sh -c "redis-cli -p $SB_REDIS_PORT info replication | grep -q master_link_status:up"
redis-cli -p "$SB_REDIS_PORT" client kill type normal >/dev/null
# the first request of each worker meets the closed connection, the next
# ones reconnect and meet READONLY
for i in 1 2 3 4; do
    api POST /v1/sessions '{"subject":"carol"}'
    check "READONLY #$i: login 503" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
    check "READONLY #$i: no credential handed out" "" "$(jget '["credentials"]')"
    sleep 0.3
done
check_match "READONLY: the log names the reply" '"reply":"READONLY"' "$(cat "$SB_TMP/daemon.log")"
sb_redis replicaof no one >/dev/null
SB_REDIS_PORT=$SB_REDIS_PORT_KEEP
for _ in $(seq 20); do
    api POST /v1/sessions '{"subject":"dora"}'
    [ "$API_STATUS" = 201 ] && break
    sleep 0.2
done
check "a primary again: logins work" 201 "$API_STATUS"
check_match "a session is stored before the restart" '^[1-9]' "$(sb_redis --scan --pattern 'sb:*:sess:*' | wc -l)"

# restarted empty: the layout key comes back with the first reconnect
sb_stop_redis
sb_start_redis
# (the progress flusher may have reconnected already and written the layout
# key and its own keys: what must be gone is every session)
check "the restarted Redis holds no session" 0 "$(sb_redis --scan --pattern 'sb:*:sess:*' | wc -l)"
until_status 200 >/dev/null
check "the layout key is written again" 1 "$(sb_redis get sb:layout)"

# A stand-in server on a port of its own that answers every command with
# one error reply; the bridge's config points at it.
fake_port=$(sb_free_port)
cat >"$SB_TMP/fake.py" <<'PY'
import socket, sys, threading
port, reply = int(sys.argv[1]), sys.argv[2].encode()
def commands(buf):
    # counts the complete RESP arrays at the start of buf; returns (n, rest)
    n = 0
    while buf.startswith(b"*"):
        end = buf.find(b"\r\n")
        if end < 0: break
        argc, p, ok = int(buf[1:end]), end + 2, True
        for _ in range(argc):
            e = buf.find(b"\r\n", p)
            if e < 0: ok = False; break
            p = e + 2 + int(buf[p + 1:e]) + 2
            if p > len(buf): ok = False; break
        if not ok: break
        n, buf = n + 1, buf[p:]
    return n, buf
def serve(c):
    buf = b""
    while True:
        d = c.recv(65536)
        if not d: return
        n, buf = commands(buf + d)
        c.sendall((b"-" + reply + b"\r\n") * n)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(64)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
for reply in "LOADING Redis is loading the dataset in memory" \
             "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." \
             "BUSY Redis is busy running a script." \
             "MISCONF Errors writing to disk" \
             "TRYAGAIN Multiple keys request during rehashing of slot"; do
    word=${reply%% *}
    python3 "$SB_TMP/fake.py" "$fake_port" "$reply" &
    fake=$!
    sb_track $fake
    sb_wait_for python3 -c "import socket; socket.create_connection(('127.0.0.1', $fake_port))"
    sed -i "s|^url = .*|url = redis://127.0.0.1:$fake_port/0|" "$SB_TMP/sb.ini"
    kill -HUP "$SB_DAEMON_PID"
    sleep 0.5
    expect_closed "$word" "$word"
    check "$word: no value of the reply in the log" 0 "$(grep -c "${reply#* }" "$SB_TMP/daemon.log")"
    kill "$fake"; wait "$fake" 2>/dev/null
done
check_match "the replies are counted" 'sessionbridge_redis_unavailable_replies_total [1-9]' "$(sb_http_body GET /metrics)"

sb_api_finish
