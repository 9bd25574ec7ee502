#!/usr/bin/env bash
# Slow clients (slowloris) cannot hold every connection: [http]
# max_connections_per_ip caps one address, and a connection that has not
# sent a whole request within idle_timeout (request line) and
# request_timeout (headers and body) is closed by the watchdog, although it
# keeps sending a byte now and then (libmicrohttpd's own timeout restarts
# on every byte).  Slow sockets come from 127.0.0.2, /health probes from
# 127.0.0.1.  Cost: about 15 s.
. "$(dirname "$0")/../harness/lib.sh"

SLOW="python3 $(dirname "$0")/slowloris.py"
sb_start_redis

# 1. per-address limit: 20 slow sockets from one address, 5 allowed
sb_write_config "$SB_TMP/a.ini" "[http]" "max_connections = 20" \
    "max_connections_per_ip = 5" "idle_timeout = 5" "request_timeout = 3"
sb_start_daemon "$SB_TMP/a.ini"
out=$($SLOW "$SB_PORT" 20 6 5)
check "per-ip: /health answered while 20 slow sockets try (5 probes)" \
    answered=5 "$(echo "$out" | grep answered)"
closed=$(echo "$out" | sed -n 's/closed=//p')
check "per-ip: the 15 sockets over the limit are refused" yes \
    "$([ "${closed:-0}" -ge 15 ] && echo yes || echo "no ($closed)")"
sb_stop_daemon >/dev/null

# 2. whole-request deadline: 20 slow sockets fill max_connections; each
# sends a header line every 0.5 s (30 times at most) and must be closed
sb_write_config "$SB_TMP/b.ini" "[http]" "max_connections = 20" \
    "max_connections_per_ip = 0" "idle_timeout = 5" "request_timeout = 2"
sb_start_daemon "$SB_TMP/b.ini"
out=$($SLOW "$SB_PORT" 20 30 0)
check "deadline: every trickling socket is closed before its last header" \
    closed=20 "$(echo "$out" | grep closed)"
check "deadline: /health answers afterwards" 200 "$(sb_http_status GET /health)"
check_match "deadline: counted in /metrics" \
    'sessionbridge_http_slow_clients_closed_total [1-9]' \
    "$(curl -s "$SB_URL/metrics")"
check_match "deadline: logged" 'closed connections that did not send a whole request in time' \
    "$(cat "$SB_TMP/daemon.log")"

# 3. the keys are checked like every other
sb_write_config "$SB_TMP/c.ini" "[http]" "request_timeout = 0"
check_match "request_timeout = 0 is refused" \
    "request_timeout: '0' is not a whole number from 1 to 3600" \
    "$("$SB_BIN" --check-config -c "$SB_TMP/c.ini" 2>&1)"
sb_finish
