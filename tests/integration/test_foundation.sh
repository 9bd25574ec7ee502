#!/usr/bin/env bash
# Foundation: /health, /ready, /metrics, error shapes, Redis outage and
# recovery, SIGTERM drain of a request in flight, SIGHUP reload (good and
# bad), --check-config, against a real redis-server and the real daemon.
. "$(dirname "$0")/../harness/lib.sh"

sb_start_redis
sb_write_config "$SB_TMP/sb.ini"
sb_start_daemon "$SB_TMP/sb.ini"

# -- endpoints and error shapes
check "GET /health is 200" 200 "$(sb_http_status GET /health)"
check "/health body" '{"status":"ok"}' "$(sb_http_body GET /health)"
check "GET /ready is 200 with Redis up" 200 "$(sb_http_status GET /ready)"
check "unknown route is 404" 404 "$(sb_http_status GET /nope)"
body=$(sb_http_body GET /nope)
check "404 body has error not_found" not_found "$(json_get "$body" '["error"]')"
check_match "404 body has a message" '"message":"[^"]+' "$body"
check "wrong method is 405" 405 "$(sb_http_status DELETE /health)"
allow=$(curl -s -D - -o /dev/null -X DELETE "$SB_URL/health" | tr -d '\r' | sed -n 's/^Allow: //p')
check "405 names the allowed methods" "GET, HEAD" "$allow"
body=$(sb_http_body DELETE /health)
check "405 body has error method_not_allowed" method_not_allowed "$(json_get "$body" '["error"]')"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
check "body over max_body is 413" 413 "$(printf '%s' "$big" | curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @- "$SB_URL/health")"
metrics=$(sb_http_body GET /metrics)
check_match "metrics count requests by route and status" 'sessionbridge_http_requests_total\{route="/health",status="200"\} [1-9]' "$metrics"
check_match "metrics have a latency histogram" 'sessionbridge_http_request_duration_seconds_bucket\{route="/health",le="\+Inf"\}' "$metrics"
check_match "metrics have build info" 'sessionbridge_build_info\{version="[0-9.]+"\} 1' "$metrics"
check_match "metrics have open connections" 'sessionbridge_open_connections [0-9]+' "$metrics"
check_match "metrics have Redis errors" 'sessionbridge_redis_errors_total [0-9]+' "$metrics"

# -- keep-alive: two requests on one connection
conns=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$SB_URL/health" "$SB_URL/health" | paste -sd+ | bc)
check "keep-alive reuses the connection" 1 "$conns"

# -- Redis outage: /ready turns 503 at once, then recovers by itself
# (/ready pings Redis on every call: the first call after Redis stopped
# already fails, however long the machine took to get there).
sb_stop_redis
check "/ready is 503 on the first call with Redis down" 503 "$(sb_http_status GET /ready)"
body=$(sb_http_body GET /ready)
check "503 body names the failed check" failed "$(json_get "$body" '["checks"]["redis"]')"
check "/health still 200 with Redis down" 200 "$(sb_http_status GET /health)"
sb_start_redis
status=000
for _ in $(seq 50); do
    status=$(sb_http_status GET /ready)
    [ "$status" = 200 ] && break
    sleep 0.1
done
check "/ready back to 200 after Redis returns, no restart" 200 "$status"
check_match "the outage is counted in Redis errors" "sessionbridge_redis_errors_total [1-9]" "$(sb_http_body GET /metrics)"

# -- SIGHUP keeps open keep-alive connections: two requests on one socket
out=$(python3 - "$SB_PORT" "$SB_DAEMON_PID" <<'PY'
import http.client, os, signal, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", "/health"); r1 = c.getresponse(); r1.read()
sock = c.sock
os.kill(pid, signal.SIGHUP)
time.sleep(0.5)
c.request("GET", "/health"); r2 = c.getresponse(); r2.read()
print(r1.status, r2.status, "same-socket" if c.sock is sock else "reconnected")
PY
)
check "SIGHUP does not drop a keep-alive connection" "200 200 same-socket" "$out"

# -- SIGHUP with a broken config keeps the old one serving
cp "$SB_TMP/sb.ini" "$SB_TMP/good.ini"
printf '[http]\nbogus_key = 1\n' >>"$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
# Waits for the reload itself (its log line), not for a guessed time.
SB_WAIT=600 sb_wait_for grep -q 'reload rejected' "$SB_TMP/daemon.log"
check "daemon alive after a bad reload" yes "$(kill -0 "$SB_DAEMON_PID" 2>/dev/null && echo yes || echo no)"
check "still serving after a bad reload" 200 "$(sb_http_status GET /health)"
check_match "bad reload is logged with the reason" 'reload rejected.*unknown key' "$(cat "$SB_TMP/daemon.log")"
cp "$SB_TMP/good.ini" "$SB_TMP/sb.ini"
sed -i 's/^level = info/level = warn/' "$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
# The reload logs nothing at warn: ask until a request leaves no access
# line (at most 100 times; an access line lands well within 0.2 s).
for _ in $(seq 100); do
    lines_before=$(grep -c '"msg":"access"' "$SB_TMP/daemon.log")
    sb_http_status GET /health >/dev/null
    sleep 0.2
    lines_after=$(grep -c '"msg":"access"' "$SB_TMP/daemon.log")
    [ "$lines_before" = "$lines_after" ] && break
done
check "a good reload applies the new log level (no access lines at warn)" "$lines_before" "$lines_after"

# -- no secret in logs: the log never carries the request's cookie
curl -s -o /dev/null -H 'Cookie: session=SECRETVALUE123' "$SB_URL/health"
check "cookie values never reach the log" 0 "$(grep -c SECRETVALUE123 "$SB_TMP/daemon.log")"

# -- SIGTERM while a request is in flight: it completes, exit 0
python3 - "$SB_PORT" "$SB_DAEMON_PID" >"$SB_TMP/slow.out" 2>&1 <<'PY' &
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
s.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345")
time.sleep(0.3)
os.kill(pid, signal.SIGTERM)        # the request is in flight now
time.sleep(1.0)
s.sendall(b"67890")
data = s.recv(4096).decode()
print(data.split("\r\n")[0])
PY
slow=$!
wait "$slow"
wait "$SB_DAEMON_PID"
rc=$?
check "in-flight request answered during drain" "HTTP/1.1 405 Method Not Allowed" "$(head -1 "$SB_TMP/slow.out")"
check "daemon exits 0 after SIGTERM" 0 "$rc"

# -- --check-config
check "--check-config accepts a good file" 0 "$("$SB_BIN" -c "$SB_TMP/good.ini" --check-config >/dev/null 2>&1; echo $?)"
printf '[redis]\nurl = http://x\n' >"$SB_TMP/bad.ini"
out=$("$SB_BIN" -c "$SB_TMP/bad.ini" --check-config 2>&1); rc=$?
check "--check-config rejects a bad file with 1" 1 "$rc"
check_match "--check-config names file:line, section and key" 'bad.ini:2: \[redis\] url: ' "$out"
out=$("$SB_CTL" -c "$SB_TMP/bad.ini" config check 2>&1); rc=$?
check "sessionbridgectl config check rejects it too" 1 "$rc"
check_match "sessionbridgectl names file:line" 'bad.ini:2: \[redis\] url' "$out"

sb_finish
