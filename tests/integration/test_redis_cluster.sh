#!/usr/bin/env bash
# Redis Cluster ([redis] mode = cluster): 3 primaries + 3 replicas
# (redis-server --cluster-enabled yes, redis-cli --cluster create) on
# loopback.  Bridge A (no verdict cache, wait_replicas = 1) serves the
# API and sessionbridgectl works through the same [redis] section; bridge
# B (cache on) keeps its cache coherent through the cluster.
#  - API and CLI: login / validate / forward-auth / revoke / logout
#    everywhere / RFC 7009 revoke / API keys / sessions list / stats /
#    purge, with users spread over every primary;
#  - failover under load: the primary B's subscriber uses (and alice's
#    slot) is SIGKILLed while 4 threads ask for 4 users and a fifth revokes
#    sessions one by one: every answer is 200 for the right user or 503
#    (never 401, never another user), service comes back without a
#    restart, every acknowledged revocation survives (WAIT 1), B subscribes
#    again on another node and applies invalidations;
#  - resharding under load (redis-cli --cluster reshard of the slots two
#    load users live in): every answer 200 (MOVED / ASK / TRYAGAIN are
#    followed), then a slot moved by hand is read through ASK.
# Costs about 60 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

# slot KEY: the hash slot of a key (CRC16 of its {tag}), as the cluster
# computes it.
slot() {
    python3 - "$1" <<'PY'
import sys
k = sys.argv[1].encode()
o = k.find(b"{")
if o >= 0:
    c = k.find(b"}", o + 1)
    if c > o + 1:
        k = k[o + 1:c]
crc = 0
for b in k:
    crc ^= b << 8
    for _ in range(8):
        crc = ((crc << 1) ^ 0x1021) & 0xffff if crc & 0x8000 else (crc << 1) & 0xffff
print(crc % 16384)
PY
}

# owner SLOT: the port of the primary serving SLOT (CLUSTER NODES of a
# live node).
owner() {
    local p
    for p in "${ports[@]}"; do
        redis-cli -p "$p" ping >/dev/null 2>&1 || continue
        redis-cli -p "$p" cluster nodes | python3 -c '
import sys
s = int(sys.argv[1])
for line in sys.stdin:
    f = line.split()
    if "master" not in f[2] or "fail" in f[2]:
        continue
    for r in f[8:]:
        if r.startswith("["):
            continue
        a, _, b = r.partition("-")
        if int(a) <= s <= int(b or a):
            print(f[1].split("@")[0].split(":")[1])
' "$1"
        return
    done
}

# users_on PREFIX COUNT PORT [BELOW]: COUNT subjects PREFIX-N whose slot
# PORT serves (and is below BELOW), from one CLUSTER NODES.
users_on() {
    local p
    for p in "${ports[@]}"; do
        redis-cli -p "$p" ping >/dev/null 2>&1 && break
    done
    redis-cli -p "$p" cluster nodes | python3 -c '
import sys
prefix, count, port = sys.argv[1], int(sys.argv[2]), sys.argv[3]
below = int(sys.argv[4]) if len(sys.argv) > 4 else 16384
mine = set()
for line in sys.stdin:
    f = line.split()
    if "master" not in f[2] or "fail" in f[2] or f[1].split("@")[0].split(":")[1] != port:
        continue
    for r in f[8:]:
        if not r.startswith("["):
            a, _, b = r.partition("-")
            mine.update(range(int(a), int(b or a) + 1))
def slot(k):
    crc = 0
    for c in k.encode():
        crc ^= c << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xffff if crc & 0x8000 else (crc << 1) & 0xffff
    return crc % 16384
i = n = 0
while n < count and i < 100000:
    u = "%s-%d" % (prefix, i); i += 1
    s = slot("u:" + u)
    if s in mine and s < below:
        print(u); n += 1
' "$1" "$2" "$3" "${4-16384}"
}

# ---- the cluster -------------------------------------------------------------
ports=(); declare -A pid_of
start_node() { # PORT BUSPORT
    mkdir -p "$SB_TMP/n$1"
    redis-server --port "$1" --cluster-port "$2" --bind 127.0.0.1 --save '' \
        --appendonly no --dir "$SB_TMP/n$1" --cluster-enabled yes \
        --cluster-config-file nodes.conf --cluster-node-timeout 1000 \
        >>"$SB_TMP/n$1.log" 2>&1 &
    pid_of[$1]=$!
    sb_track $!
    sb_wait_for redis-cli -p "$1" ping || { echo "node $1 did not start"; cat "$SB_TMP/n$1.log"; exit 1; }
}
declare -A bus_of
for i in 0 1 2 3 4 5; do
    p=$(sb_free_port); b=$(sb_free_port)
    ports+=("$p"); bus_of[$p]=$b
    start_node "$p" "$b"
done
addrs=(); for p in "${ports[@]}"; do addrs+=("127.0.0.1:$p"); done
redis-cli --cluster create "${addrs[@]}" \
    --cluster-replicas 1 --cluster-yes >"$SB_TMP/create.log" 2>&1 ||
    { echo "cluster create failed"; cat "$SB_TMP/create.log"; exit 1; }
cluster_ok() { # every node says cluster_state:ok, knows 6 nodes, and
               # every replica is in sync with its primary
    local p
    for p in "$@"; do
        redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok' || return 1
        [ "$(redis-cli -p "$p" cluster nodes | grep -vc fail)" = 6 ] || return 1
        redis-cli -p "$p" info replication | grep -q 'role:master' ||
            redis-cli -p "$p" info replication | grep -q 'master_link_status:up' || return 1
    done
}
SB_WAIT=300 sb_wait_for cluster_ok "${ports[@]}" || { echo "cluster did not converge"; exit 1; }
primaries() { redis-cli -p "$1" cluster nodes | awk '$3 ~ /master/ && $3 !~ /fail/ && $9 != "" {split($2, a, "[:@]"); print a[2]}' | sort; }
# CLUSTER SLOTS lists a replica once its primary has seen it in sync
slots_list_all() { [ "$(redis-cli -p "${ports[0]}" cluster slots | grep -cxE "$(IFS='|'; echo "${ports[*]}")")" = 6 ]; }
SB_WAIT=300 sb_wait_for slots_list_all || { echo "CLUSTER SLOTS does not list the replicas"; exit 1; }
mapfile -t prim < <(primaries "${ports[0]}")
check "the cluster has 3 primaries" 3 "${#prim[@]}"

# ---- two bridges ---------------------------------------------------------------
SB_REDIS_URL=redis://127.0.0.1:${ports[0]}/0 # sb_write_config's url: user, TLS only
export SB_REDIS_URL
sb_api_prepare
CLUSTER_CONF="[redis]
mode = cluster
nodes = 127.0.0.1:${ports[0]}, 127.0.0.1:${ports[1]}, 127.0.0.1:${ports[2]}
wait_replicas = 1
wait_timeout_ms = 400"
sb_write_config "$SB_TMP/a.ini" "$SB_API_PROFILES" "$CLUSTER_CONF" "[cache]
entries = 0"
sb_write_config "$SB_TMP/b.ini" "$SB_API_PROFILES" "$CLUSTER_CONF" "[cache]
entries = 1000
ttl = 60"
sed -i "s|port_file = $SB_TMP/port|port_file = $SB_TMP/port_b|" "$SB_TMP/b.ini"
cp "$SB_TMP/a.ini" "$SB_TMP/sb.ini" # for the harness helpers (offline)
"$SB_BIN" -c "$SB_TMP/b.ini" 2>>"$SB_TMP/daemon_b.log" &
PID_B=$!
sb_track "$PID_B"
sb_wait_for test -s "$SB_TMP/port_b" || { echo "bridge B did not start"; cat "$SB_TMP/daemon_b.log"; exit 1; }
URL_B=http://127.0.0.1:$(cat "$SB_TMP/port_b")
sb_start_daemon "$SB_TMP/a.ini"
ctl() { "$SB_CTL" -c "$SB_TMP/a.ini" "$@"; }
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }

ready=$(sb_http_body GET /ready)
check "/ready in cluster mode" "ready cluster 6 3" \
    "$(json_get "$ready" '["status"]') $(json_get "$ready" '["redis"]["mode"]') $(json_get "$ready" '["redis"]["nodes"]') $(json_get "$ready" '["redis"]["primaries"]')"

# ---- the API and the CLI, users on every primary -----------------------------
declare -A sid_of cookie_of
owners=""
for i in 0 1 2 3 4 5 6 7; do
    login "user$i" '{}' 3600
    sid_of[user$i]=$LOGIN_SID; cookie_of[user$i]=$(cookie legacy)
    owners="$owners $(owner "$(slot "{u:user$i}")")"
    [ "$API_STATUS" = 201 ] || echo "login user$i: $API_STATUS $API_BODY"
done
check "8 users' sessions spread over the 3 primaries" 3 "$(echo "$owners" | tr ' ' '\n' | sort -u | grep -c .)"
check "every session is on its slot's primary" 8 "$(for i in 0 1 2 3 4 5 6 7; do redis-cli -c -p "${ports[0]}" exists "sb:{u:user$i}:sess:${sid_of[user$i]}"; done | grep -c '^1$')"
login alice '{"role":"admin"}' 3600
alice_token=$(cred legacy); alice_sid=$LOGIN_SID
check "validate" "200 alice" "$(validate "$alice_token" legacy)"
check "validate another profile's credential" "200 alice" "$(validate "$(cred api)" api)"
curl -s -o /dev/null -D "$SB_TMP/h" -H "Cookie: $(cookie legacy)" "$SB_URL/v1/auth"
check "forward-auth answers with the identity" "alice" "$(grep -i '^X-Session-Subject:' "$SB_TMP/h" | cut -d' ' -f2 | tr -d '\r')"
api GET "/v1/sessions/$alice_sid"
check "GET a session" "200 $alice_sid" "$API_STATUS $(jget '["sid"]')"
api GET /v1/users/user3/sessions
check "a user's sessions" "200 ${sid_of[user3]}" "$API_STATUS $(jget '["sessions"][0]["sid"]')"
api DELETE "/v1/sessions/${sid_of[user1]}"
check "revoke a session (WAIT 1 acknowledged)" 200 "$API_STATUS"
curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie_of[user1]}" "$SB_URL/v1/auth" >"$SB_TMP/s"
check "the revoked credential is refused" 401 "$(cat "$SB_TMP/s")"
login user2 '{}' 3600
api DELETE /v1/users/user2/sessions
check "log out everywhere" "200 2" "$API_STATUS $(jget '["sessions_removed"]')"
check "an older credential of that user is refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie_of[user2]}" "$SB_URL/v1/auth")"
login bob '{}' 3600
bob_token=$(cred api)
out=$(curl -s -w ' %{http_code}' -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$bob_token" "$SB_URL/v1/revoke")
check "RFC 7009 revoke" "{} 200" "$out"
check "the revoked token is refused" "401 revoked" "$(validate "$bob_token" api)"
check "no WAIT came up short" 0 "$(metric "$SB_URL" sessionbridge_redis_wait_short_total)"

key=$(ctl apikey create --subject svc-deploy --scope sessions:read --id deploy 2>"$SB_TMP/err"); rc=$?
check "sessionbridgectl apikey create" 0 "$rc"
api POST /v1/apikeys/validate "{\"key\":\"$key\"}"
check "the API key validates" "200 svc-deploy" "$API_STATUS $(jget '["subject"]')"
check_match "apikey list" "deploy" "$(ctl apikey list 2>&1)"
ctl apikey revoke deploy >/dev/null 2>&1
api POST /v1/apikeys/validate "{\"key\":\"$key\"}"
check "a revoked API key is refused" 401 "$API_STATUS"

out=$(ctl sessions list --user user3 2>&1); rc=$?
check "sessionbridgectl sessions list --user" 0 "$rc"
check_match "... lists that user's session" "${sid_of[user3]}" "$out"
live=0
for p in "${prim[@]}"; do
    live=$((live + $(redis-cli -p "$p" --scan --pattern 'sb:{*}:sess:*' | wc -l)))
done
out=$(ctl sessions list --limit 0 --json 2>/dev/null); rc=$?
check "sessions list walks every primary" "0 $live" "$rc $(printf '%s\n' "$out" | grep -c '"sid"')"
stats=$(ctl stats --json 2>"$SB_TMP/err"); rc=$?
check "sessionbridgectl stats" 0 "$rc"
check "stats counts the sessions of every primary" "$live" "$(json_get "$stats" '["sessions"]')"
ctl purge --user user4 --yes >/dev/null 2>&1
check "purge --user" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie_of[user4]}" "$SB_URL/v1/auth")"
ctl purge --all --yes >/dev/null 2>&1; rc=$?
check "purge --all" 0 "$rc"
check "no session is left on any primary" 0 "$(for p in "${prim[@]}"; do redis-cli -p "$p" --scan --pattern 'sb:{*}:sess:*'; done | wc -l)"
check "the purged credentials are refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie_of[user5]}" "$SB_URL/v1/auth")"

# ---- failover under load --------------------------------------------------------
# the primary bridge B's subscriber reads from
sub_node=""
for p in "${prim[@]}"; do
    redis-cli -p "$p" client list | grep -q 'cmd=subscribe' && sub_node=$p
done
check_match "bridge B subscribed on a primary" '^[0-9]+$' "$sub_node"
victim=$sub_node
others=()
for p in "${prim[@]}"; do [ "$p" != "$victim" ] && others+=("$p"); done
mapfile -t lusers < <(users_on fo 2 "$victim"; users_on fo 1 "${others[0]}"; users_on fo 1 "${others[1]}")
cookies=()
for u in "${lusers[@]}"; do login "$u" '{}' 3600; cookies+=("$(cookie legacy)"); done
: >"$SB_TMP/victims"
for i in $(seq 30); do
    login "rv$i" '{}' 3600
    echo "$LOGIN_SID $(cookie legacy)" >>"$SB_TMP/victims"
done
# B caches a victim's verdict, to see its invalidation after the failover
read -r late_sid late_cookie < <(tail -1 "$SB_TMP/victims")
sed -i '$d' "$SB_TMP/victims"
curl -s -o /dev/null -H "Cookie: $late_cookie" "$URL_B/v1/auth"

cat >"$SB_TMP/load.py" <<'PY'
import http.client, os, sys, threading, time
port, stop, out, started, victims, token = sys.argv[1:7]
users = [a.split("=", 1) for a in sys.argv[7:]]  # user=cookie
lines, revs, lock = [], [], threading.Lock()
def worker(n):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    i = 0
    while not os.path.exists(stop) and i < 20000:
        user, cookie = users[(n + i) % len(users)]
        i += 1
        try:
            c.request("GET", "/v1/auth", headers={"Cookie": cookie})
            r = c.getresponse(); r.read()
            got = r.getheader("X-Session-Subject") or "-"
            line = "%.3f %d %s %s" % (time.time(), r.status, user, got)
        except Exception as e:
            c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            line = "%.3f err %s %s" % (time.time(), user, type(e).__name__)
        with lock:
            lines.append(line)
            if len(lines) == 200:
                open(started, "w").close()
        time.sleep(0.005)
def revoker():
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    for v in open(victims):
        if os.path.exists(stop):
            break
        sid, cookie = v.split(" ", 1)
        try:
            c.request("DELETE", "/v1/sessions/" + sid, headers={"X-Bridge-Token": token})
            r = c.getresponse(); r.read(); st = r.status
        except Exception:
            c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            st = "err"
        with lock:
            revs.append("%s %s %s" % (st, sid, cookie.strip()))
        time.sleep(0.1)
ts = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
ts.append(threading.Thread(target=revoker))
[t.start() for t in ts]; [t.join() for t in ts]
open(out, "w").write("\n".join(lines) + "\n")
open(out + ".rev", "w").write("\n".join(revs) + "\n")
PY
load_args=()
for i in "${!lusers[@]}"; do load_args+=("${lusers[$i]}=${cookies[$i]}"); done
subs_before=$(metric "$URL_B" sessionbridge_cache_subscriptions_total)
rm -f "$SB_TMP/stop" "$SB_TMP/started"
python3 "$SB_TMP/load.py" "$SB_PORT" "$SB_TMP/stop" "$SB_TMP/load.out" "$SB_TMP/started" "$SB_TMP/victims" "$BTOK" "${load_args[@]}" &
load=$!
SB_WAIT=300 sb_wait_for test -e "$SB_TMP/started"
kill_at=$(date +%s.%N)
kill -KILL "${pid_of[$victim]}"; wait "${pid_of[$victim]}" 2>/dev/null
survivors=(); for p in "${ports[@]}"; do [ "$p" != "$victim" ] && survivors+=("$p"); done
promoted() { # a surviving node is primary of the victim's slots again: state ok
    redis-cli -p "${survivors[0]}" cluster info | grep -q cluster_state:ok &&
        [ "$(primaries "${survivors[0]}" | grep -vc "^$victim$")" = 3 ]
}
SB_WAIT=300 sb_wait_for promoted
check "a replica took over the killed primary's slots" 3 "$(primaries "${survivors[0]}" | grep -vc "^$victim$")"
# the killed node comes back as a replica of the new primary (WAIT 1 can
# be acknowledged on that shard again)
start_node "$victim" "${bus_of[$victim]}"
SB_WAIT=300 sb_wait_for sh -c "redis-cli -p $victim info replication | grep -q master_link_status:up"
# the bridge serves the victim's users again without a restart
served() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookies[0]}" "$SB_URL/v1/auth")" = 200 ]; }
SB_WAIT=300 sb_wait_for served
sleep 1 # a second of answers after the recovery, for the checks below
touch "$SB_TMP/stop"
wait "$load"

total=$(wc -l <"$SB_TMP/load.out")
check_match "the load ran" '^[0-9]{3,}$' "$total"
check "every answer is 200 or 503 (never 401, never an error)" "" \
    "$(awk '$2 != 200 && $2 != 503 {print $2}' "$SB_TMP/load.out" | sort -u | tr '\n' ' ')"
check "every 200 is for the right user" 0 "$(awk '$2 == 200 && $3 != $4' "$SB_TMP/load.out" | wc -l)"
check_match "the killed primary's user met the outage (503)" '^[1-9]' "$(awk -v u="${lusers[0]}" '$2 == 503 && $3 == u' "$SB_TMP/load.out" | wc -l)"
for u in "${lusers[@]}"; do
    check "$u is served at the end" 200 "$(awk -v u="$u" '$3 == u' "$SB_TMP/load.out" | sort -n | tail -1 | cut -d' ' -f2)"
done
window=$(sort -n "$SB_TMP/load.out" | awk -v k="$kill_at" '$1 >= k && $2 == 503 {last = $1} END {if (last != "") printf "%.1f", last - k; else print "none"}')
echo "# failover: primary killed at t=0, last 503 at t=${window}s; $(awk '$2 == 503' "$SB_TMP/load.out" | wc -l) of $total requests answered 503, $(awk -v u="${lusers[0]}" '$3 != u && $2 == 503' "$SB_TMP/load.out" | wc -l) of them for users of other primaries"
check "revocations are answered 200 or 503" "" "$(awk '$1 != 200 && $1 != 503 {print $1}' "$SB_TMP/load.out.rev" | sort -u | tr '\n' ' ')"
# a worker whose connection to the killed node died answers one 503
# first: ask again then (bounded); a revocation is lost if it answers 200
auth_after_503() {
    local st i
    for i in $(seq 20); do
        st=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $1" "$SB_URL/v1/auth")
        [ "$st" = 503 ] || break
        sleep 0.1
    done
    echo "$st"
}
acked=0; lost=0
while read -r st sid ck; do
    [ "$st" = 200 ] || continue
    acked=$((acked + 1))
    st=$(auth_after_503 "$ck")
    [ "$st" = 401 ] || { lost=$((lost + 1)); echo "# acknowledged revocation of $sid now answers $st"; }
done <"$SB_TMP/load.out.rev"
echo "# revocations during the failover: $acked acknowledged (200), $(grep -c '^503' "$SB_TMP/load.out.rev") answered 503"
check_match "revocations were acknowledged during the load" '^[1-9]' "$acked"
check "no acknowledged revocation was lost" 0 "$lost"
check_match "the failover is counted" '^[1-9]' "$(metric "$SB_URL" sessionbridge_redis_failovers_total)"
check "the promotion is logged" 1 "$(grep -c -m1 "Redis Cluster failover" "$SB_TMP/daemon.log")"
resubscribed() { [ "$(metric "$URL_B" sessionbridge_cache_subscribed)" = 1 ] && [ "$(metric "$URL_B" sessionbridge_cache_subscriptions_total)" -gt "$subs_before" ]; }
SB_WAIT=300 sb_wait_for resubscribed
check "bridge B subscribed again on another node" 1 "$(metric "$URL_B" sessionbridge_cache_subscribed)"
# (a worker of B whose connection died answers one 503 first)
b_serves() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $late_cookie" "$URL_B/v1/auth")" = 200 ]; }
SB_WAIT=50 sb_wait_for b_serves
check "B serves the late victim" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $late_cookie" "$URL_B/v1/auth")"
inv=$(metric "$URL_B" sessionbridge_cache_invalidations_total)
api DELETE "/v1/sessions/$late_sid"
check "revoke on A after the failover" 200 "$API_STATUS"
SB_WAIT=100 sb_wait_for sh -c "[ \$(curl -s '$URL_B/metrics' | awk '\$1 == \"sessionbridge_cache_invalidations_total\" {print \$2}') -gt $inv ]"
check "B applied the invalidation and refuses the credential" 401 "$(SB_URL=$URL_B auth_after_503 "$late_cookie")"
SB_WAIT=300 sb_wait_for cluster_ok "${ports[@]}"

# ---- resharding under load -------------------------------------------------------
mapfile -t prim < <(primaries "${ports[0]}")
src=${prim[0]}; dst=${prim[1]}
first=$(redis-cli -p "$src" cluster nodes | awk '$3 ~ /myself/ {print $9}' | cut -d- -f1)
src_id=$(redis-cli -p "$src" cluster myid); dst_id=$(redis-cli -p "$dst" cluster myid)
# two users in the 200 lowest slots of src (redis-cli moves those first)
mapfile -t rusers < <(users_on rs 2 "$src" $((first + 200)))
load_args=()
for u in "${rusers[@]}" "${lusers[2]}" "${lusers[3]}"; do login "$u" '{}' 3600; load_args+=("$u=$(cookie legacy)"); done
moved_before=$(metric "$SB_URL" sessionbridge_redis_redirects_total'{kind="moved"}')
: >"$SB_TMP/none"
rm -f "$SB_TMP/stop" "$SB_TMP/started" "$SB_TMP/load.out"
python3 "$SB_TMP/load.py" "$SB_PORT" "$SB_TMP/stop" "$SB_TMP/load.out" "$SB_TMP/started" "$SB_TMP/none" "$BTOK" "${load_args[@]}" &
load=$!
SB_WAIT=300 sb_wait_for test -e "$SB_TMP/started"
redis-cli --cluster reshard "127.0.0.1:$src" --cluster-from "$src_id" --cluster-to "$dst_id" \
    --cluster-slots 200 --cluster-yes >"$SB_TMP/reshard.log" 2>&1; rc=$?
check "redis-cli --cluster reshard moved 200 slots under load" 0 "$rc"
for u in "${rusers[@]}"; do
    check "$u's slot now lives on the other primary" "$dst" "$(owner "$(slot "{u:$u}")")"
done
sleep 1 # a second of answers after the move
touch "$SB_TMP/stop"
wait "$load"
total=$(wc -l <"$SB_TMP/load.out")
check_match "the load ran during the reshard" '^[0-9]{3,}$' "$total"
check "every answer during the reshard is 200 for the right user" "" \
    "$(awk '$2 != 200 || $3 != $4 {print $2, $3, $4}' "$SB_TMP/load.out" | sort -u | head -3)"
check_match "MOVED redirects were followed" '^[1-9]' "$(( $(metric "$SB_URL" 'sessionbridge_redis_redirects_total{kind="moved"}') - moved_before ))"

# ---- a slot moved by hand: read through ASK while it migrates ---------------------
login erin '{}' 3600; erin_sid=$LOGIN_SID
es=$(slot "{u:erin}"); from=$(owner "$es")
for p in "${prim[@]}"; do [ "$p" != "$from" ] && to=$p; done
from_id=$(redis-cli -p "$from" cluster myid); to_id=$(redis-cli -p "$to" cluster myid)
redis-cli -p "$to" cluster setslot "$es" importing "$from_id" >/dev/null
redis-cli -p "$from" cluster setslot "$es" migrating "$to_id" >/dev/null
for k in $(redis-cli -p "$from" cluster getkeysinslot "$es" 100); do
    redis-cli -p "$from" migrate 127.0.0.1 "$to" "$k" 0 5000 >/dev/null
done
check "erin's keys left the old primary" 0 "$(redis-cli -p "$from" cluster countkeysinslot "$es")"
api GET /v1/users/erin/sessions
check "erin's sessions are read through ASK while the slot migrates" "200 $erin_sid" "$API_STATUS $(jget '["sessions"][0]["sid"]')"
check_match "ASK redirects were followed" '^[1-9]' "$(metric "$SB_URL" 'sessionbridge_redis_redirects_total{kind="ask"}')"
for p in "${prim[@]}"; do redis-cli -p "$p" cluster setslot "$es" node "$to_id" >/dev/null; done
api GET /v1/users/erin/sessions
check "and after the move" "200 $erin_sid" "$API_STATUS $(jget '["sessions"][0]["sid"]')"
check "/ready at the end" 200 "$(sb_http_status GET /ready)"

# cluster mode pointed at a server that is not a cluster node: a clear error
sb_start_redis
printf '[redis]\nmode = cluster\nnodes = 127.0.0.1:%s\n' "$SB_REDIS_PORT" >"$SB_TMP/plain.ini"
out=$("$SB_CTL" -c "$SB_TMP/plain.ini" sessions list 2>&1); rc=$?
check "sessionbridgectl against a non-cluster Redis: exit 3" 3 "$rc"
check_match "... saying why" 'no node gave a slot map \(CLUSTER SLOTS: unexpected reply: ERR This instance has cluster support disabled\)' "$out"

kill -TERM "$PID_B"; wait "$PID_B"; rc=$?
check "bridge B exits 0" 0 "$rc"
check "no sanitizer report from B" "" "$(grep -E -m3 'AddressSanitizer|LeakSanitizer|runtime error' "$SB_TMP/daemon_b.log")"
[ -n "${SB_DEBUG_LOG-}" ] && cp "$SB_TMP/daemon.log" "$SB_DEBUG_LOG"
sb_api_finish
