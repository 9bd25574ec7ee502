#!/usr/bin/env bash
# Sentinel: a primary, a replica and three sentinels (redis-server
# --sentinel) on loopback; the bridge finds the master through them
# ([redis] mode = sentinel).  The primary is SIGKILLed under a bounded
# load (4 client threads, two users): every answer is 200 with the right
# user or 503 (never 401, never another user), the bridge follows the
# failover to the promoted replica without a restart, counts it, and the
# measured window without service is printed.  With [redis] wait_replicas
# = 1 a revocation is acknowledged only once the replica has it (it
# survives the failover); on the promoted master, which has no replica
# left, a revocation answers 503 (kept, not acknowledged).  Costs about
# 35 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

start_redis_at() { # PORT [ARGS...]: a plain redis-server on PORT
    local port=$1; shift
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$SB_TMP" "$@" >"$SB_TMP/redis-$port.log" 2>&1 &
    sb_track $!
    LAST_PID=$!
    sb_wait_for redis-cli -p "$port" ping || { echo "redis $port did not start"; cat "$SB_TMP/redis-$port.log"; exit 1; }
}

primary=$(sb_free_port); replica=$(sb_free_port)
start_redis_at "$primary"; primary_pid=$LAST_PID
start_redis_at "$replica" --replicaof 127.0.0.1 "$primary"
sb_wait_for sh -c "redis-cli -p $replica info replication | grep -q master_link_status:up" ||
    { echo "replica did not sync"; exit 1; }

sentinels=()
for i in 1 2 3; do
    port=$(sb_free_port)
    cat >"$SB_TMP/sentinel-$i.conf" <<CONF
port $port
bind 127.0.0.1
dir $SB_TMP
sentinel monitor mymaster 127.0.0.1 $primary 2
sentinel down-after-milliseconds mymaster 1000
sentinel failover-timeout mymaster 5000
sentinel parallel-syncs mymaster 1
CONF
    redis-server "$SB_TMP/sentinel-$i.conf" --sentinel >"$SB_TMP/sentinel-$i.log" 2>&1 &
    sb_track $!
    sentinels+=("$port")
done
# every sentinel sees the other two and the replica
for port in "${sentinels[@]}"; do
    SB_WAIT=200 sb_wait_for sh -c "redis-cli -p $port sentinel master mymaster | grep -A1 -x num-other-sentinels | tail -1 | grep -qx 2 &&
        redis-cli -p $port sentinel replicas mymaster | grep -q $replica" ||
        { echo "sentinel $port did not converge"; cat "$SB_TMP/sentinel-1.log"; exit 1; }
done
check "three sentinels agree on the primary" "127.0.0.1 $primary" \
    "$(redis-cli -p "${sentinels[0]}" sentinel get-master-addr-by-name mymaster | tr '\n' ' ' | sed 's/ $//')"

SB_REDIS_URL=redis://127.0.0.1:$primary/0   # sb_write_config's url (unused in sentinel mode)
export SB_REDIS_URL
sb_api_prepare
sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES" "[redis]
mode = sentinel
sentinel_master = mymaster
nodes = 127.0.0.1:${sentinels[0]}, 127.0.0.1:${sentinels[1]}, 127.0.0.1:${sentinels[2]}
wait_replicas = 1
wait_timeout_ms = 400"
sb_start_daemon "$SB_TMP/sb.ini"
check "/ready through the sentinels" 200 "$(sb_http_status GET /ready)"
check_match "the metrics name the master" "sessionbridge_redis_master\\{addr=\"127.0.0.1:$primary\"\\} 1" "$(sb_http_body GET /metrics)"
login alice '{}' 3600
check "login (written to the primary)" 201 "$API_STATUS"
alice_cookie=$(cookie legacy)
alice_sid=$LOGIN_SID
check "the session is on the primary" 1 "$(redis-cli -p "$primary" exists "sb:{u:alice}:sess:$LOGIN_SID")"
login bob '{}' 3600
bob_cookie=$(cookie legacy)
login carol '{}' 3600
carol_sid=$LOGIN_SID
carol_cookie=$(cookie legacy)
api DELETE "/v1/sessions/$carol_sid"
check "carol's session revoked before the failover (WAIT 1 acknowledged)" 200 "$API_STATUS"
check "the replica has carol's revocation marker" 1 "$(redis-cli -p "$replica" exists "sb:{u:carol}:rev:$carol_sid")"
check_match "no WAIT came up short" 'sessionbridge_redis_wait_short_total 0' "$(sb_http_body GET /metrics)"
login erin '{}' 3600
erin_sid=$LOGIN_SID

# ---- bounded load: 4 threads alternate alice and bob until told to stop
cat >"$SB_TMP/load.py" <<'PY'
import http.client, os, sys, threading, time
port, stop, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
users = [("alice", sys.argv[4]), ("bob", sys.argv[5])]
lines, lock = [], threading.Lock()
def worker(n):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    i = 0
    while not os.path.exists(stop) and i < 20000:
        user, cookie = users[(n + i) % 2]
        i += 1
        try:
            c.request("GET", "/v1/auth", headers={"Cookie": cookie})
            r = c.getresponse(); r.read()
            got = r.getheader("X-Session-Subject") or "-"
            line = "%.3f %d %s %s" % (time.time(), r.status, user, got)
        except Exception as e:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            line = "%.3f err %s %s" % (time.time(), user, type(e).__name__)
        with lock:
            lines.append(line)
        time.sleep(0.005)
ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
[t.start() for t in ts]; [t.join() for t in ts]
open(out, "w").write("\n".join(lines) + "\n")
PY
python3 "$SB_TMP/load.py" "$SB_PORT" "$SB_TMP/stop" "$SB_TMP/load.out" "$alice_cookie" "$bob_cookie" &
load=$!
sleep 1
kill_at=$(date +%s.%N)
kill -KILL "$primary_pid"; wait "$primary_pid" 2>/dev/null
# the sentinels promote the replica (down-after 1 s + election)
SB_WAIT=300 sb_wait_for sh -c "redis-cli -p ${sentinels[0]} sentinel get-master-addr-by-name mymaster | grep -qx $replica"
check "the sentinels promoted the replica" "$replica" \
    "$(redis-cli -p "${sentinels[0]}" sentinel get-master-addr-by-name mymaster | tail -1)"
# the bridge serves again: 2 s of answers after the promotion
sleep 2
touch "$SB_TMP/stop"
wait "$load"

total=$(wc -l <"$SB_TMP/load.out")
check_match "the load ran" '^[0-9]{3,}$' "$total"
check "every answer is 200 or 503 (never 401, never an error)" "" \
    "$(awk '$2 != 200 && $2 != 503 {print $2}' "$SB_TMP/load.out" | sort -u | tr '\n' ' ')"
check "every 200 is for the right user" 0 "$(awk '$2 == 200 && $3 != $4' "$SB_TMP/load.out" | wc -l)"
check_match "some requests met the outage (503)" '^[1-9]' "$(awk '$2 == 503' "$SB_TMP/load.out" | wc -l)"
check "served again at the end" 200 "$(sort -n "$SB_TMP/load.out" | tail -1 | cut -d' ' -f2)"
window=$(sort -n "$SB_TMP/load.out" | awk -v k="$kill_at" '
    $1 >= k && $2 == 503 && first == "" {first = $1}
    $2 == 503 {last = $1}
    END {if (first != "") printf "%.1f", last - k; else print "none"}')
echo "# failover: primary killed at t=0, last 503 at t=${window}s, $(awk '$2 == 503' "$SB_TMP/load.out" | wc -l) of $total requests answered 503"

# a worker that last failed may still be in its backoff (at most 1 s):
# 8 answers in a row, within 4 s
ok=0
for _ in $(seq 40); do
    if [ "$(sb_http_status GET /ready)" = 200 ]; then ok=$((ok + 1)); else ok=0; sleep 0.1; fi
    [ "$ok" = 8 ] && break
done
check "/ready on the new master (8 in a row)" 8 "$ok"
check "/ready names the mode and the new master" "sentinel 127.0.0.1:$replica" \
    "$(b=$(sb_http_body GET /ready); echo "$(json_get "$b" '["redis"]["mode"]') $(json_get "$b" '["redis"]["master"]')")"
metrics=$(sb_http_body GET /metrics)
check_match "the failover is counted" 'sessionbridge_redis_failovers_total [1-9]' "$metrics"
check_match "the metrics name the new master" "sessionbridge_redis_master\\{addr=\"127.0.0.1:$replica\"\\} 1" "$metrics"
check_match "the failover is logged" '"msg":"Redis master changed.*"to":"127.0.0.1:'"$replica"'"' "$(cat "$SB_TMP/daemon.log")"
check "alice's session is on the new master" 1 "$(redis-cli -p "$replica" exists "sb:{u:alice}:sess:$alice_sid")"
curl -s -o /dev/null -D "$SB_TMP/h" -H "Cookie: $carol_cookie" "$SB_URL/v1/auth"
check "carol's revocation (acknowledged after WAIT 1) survived the failover" 401 "$(head -1 "$SB_TMP/h" | cut -d' ' -f2)"
out=$("$SB_CTL" -c "$SB_TMP/sb.ini" sessions list --user alice 2>&1); rc=$?
check "sessionbridgectl finds the new master through the sentinels" 0 "$rc"
check_match "sessionbridgectl lists alice's session" "$alice_sid" "$out"
login dave '{}' 60
check "logins work on the new master" 201 "$API_STATUS"
api DELETE "/v1/sessions/$erin_sid"
check "a revocation on a master without replicas: 503 (not acknowledged)" "503 store_unavailable" "$API_STATUS $(jget '["error"]')"
check_match "... saying why" 'only 0 of 1 replicas acknowledged' "$(jget '["message"]')"
check "... and kept on the master" 1 "$(redis-cli -p "$replica" exists "sb:{u:erin}:rev:$erin_sid")"
check_match "the short WAIT is counted" 'sessionbridge_redis_wait_short_total [1-9]' "$(sb_http_body GET /metrics)"
check "the new session is on the new master" 1 "$(redis-cli -p "$replica" exists "sb:{u:dave}:sess:$LOGIN_SID")"

sb_api_finish
