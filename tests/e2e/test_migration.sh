#!/usr/bin/env bash
# End to end: a Flask app (legacy, Flask cookie session) and a Go app (new,
# gorilla/sessions CookieStore) behind a real nginx that asks two
# sessionbridge instances (forward-auth) about every request, over a real
# redis-server.  Proves, with a bounded load generator on loopback:
#  1. a login on either app is recognised by the other, same user and data;
#  2. traffic shifted 0 -> 5 -> 25 -> 50 -> 100% to the new app under load
#     and rolled back to 0%: no logged-in user gets a 401, no 5xx;
#  3. sessionbridgectl purge of one user logs that user out on both apps at
#     once and nobody else;
#  4. restarting the bridge instances one by one (SIGTERM) under load: no
#     failed request;
#  5. Redis killed under load: requests fail closed (503, never served as
#     someone else, no cookie dropped) and recover by themselves.
# Prints the counts per phase as a table, then "N passed, N failed".
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/e2e.sh"

# How phases end: each on its event (nginx runs the new weight, a bridge is
# back in rotation, Redis answers again) and then on a count of requests
# (PHASE_REQUESTS at least), never on a budget shared by the phases, so a
# slow or busy machine only makes them longer.  Every wait is bounded by a
# generous per-phase limit (PHASE_SECONDS); the load generator stops by
# itself only if one phase outlasts LOAD_PHASE_SECONDS (this script died).
PHASE_REQUESTS=${E2E_PHASE_REQUESTS:-500}
PHASE_SECONDS=${E2E_PHASE_SECONDS:-240}
LOAD_PHASE_SECONDS=${E2E_LOAD_PHASE_SECONDS:-600}
LOAD_USERS=${E2E_USERS:-24}

for tool in nginx go curl redis-server "$E2E_PYTHON"; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is not installed (docker/install-deps.sh test)"; exit 1; }
done
"$E2E_PYTHON" -c 'import flask' 2>/dev/null || { echo "FAIL - python3-flask is not installed"; exit 1; }

e2e_build_new_app
e2e_secrets
# Persistence on, fsync on every write: a Redis crash loses nothing
# acknowledged (revocations included), as in production.
sb_start_redis --appendonly yes --appendfsync always
e2e_write_bridge_config "$SB_TMP/bridge.ini"
"$SB_BIN" --check-config -c "$E2E_BRIDGE_CONFIG" >/dev/null 2>"$SB_TMP/check.err" ||
    { echo "FAIL - bridge config: $(cat "$SB_TMP/check.err")"; exit 1; }
e2e_start_bridge 1
e2e_start_bridge 2
e2e_start_apps
e2e_start_nginx

# e2e_call JAR METHOD PATH [curl args]: one browser request through nginx;
# sets STATUS, BODY, APP (the app that answered, "" for the router) and
# WHO_USER, WHO_CART, WHO_COUNT ("-" when the answer lacks one), all read by
# one python run (the script's own cost matters on a busy machine).
e2e_call() {
    local jar=$1 method=$2 path=$3 out fields
    shift 3
    out=$(curl -s -m 10 -c "$jar" -b "$jar" -X "$method" -w '\n%{http_code}' "$@" "$E2E_URL$path")
    STATUS=${out##*$'\n'}
    BODY=${out%$'\n'*}
    fields=$("$E2E_PYTHON" -c '
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    d = None
d = d if isinstance(d, dict) else {}
print("|".join(str(d.get(k, "-")) for k in ("app", "user_id", "cart", "cart_count")))' "$BODY")
    IFS='|' read -r APP WHO_USER WHO_CART WHO_COUNT <<<"$fields"
    if [ "$APP" = - ]; then APP=""; fi
}

# who JAR: "status app user cart count" of GET /me.
who() {
    e2e_call "$1" GET /me
    echo "$STATUS $APP $WHO_USER $WHO_CART $WHO_COUNT"
}

login() { e2e_call "$SB_TMP/$1.jar" POST /login -d "user=$1"; }
add() { e2e_call "$SB_TMP/$1.jar" POST /cart -d "item=$2"; }

# ---- 1. a login on either side is recognised by the other ---------------
e2e_set_weight 0
login alice
check "alice logs in on the legacy app" "200 legacy" "$STATUS $APP"
add alice apple
check "alice's cart is written by the legacy app" "200 legacy apple" "$STATUS $APP $(json_get "$BODY" '["cart"]')"
e2e_set_weight 100
check "alice is recognised by the new app, same data" "200 new alice apple 1" "$(who "$SB_TMP/alice.jar")"
grep -q "gsession" "$SB_TMP/alice.jar"
check "the browser got the new app's cookie from the bridge" 0 $?
add alice pear
check "the new app adds to alice's cart" "200 new apple,pear" "$STATUS $APP $(json_get "$BODY" '["cart"]')"
login bob
check "bob logs in on the new app" "200 new" "$STATUS $APP"
add bob book
e2e_set_weight 0
check "alice is back on the legacy app with the new app's writes" "200 legacy alice apple,pear 2" "$(who "$SB_TMP/alice.jar")"
check "bob is recognised by the legacy app, same data" "200 legacy bob book 1" "$(who "$SB_TMP/bob.jar")"
login carol
add carol cake
e2e_set_weight 100
check "carol (legacy login) is recognised by the new app" "200 new carol cake 1" "$(who "$SB_TMP/carol.jar")"
e2e_call "$SB_TMP/nobody.jar" GET /me
check "no cookie: the app answers 401 (anonymous)" "401 new" "$STATUS $APP"
printf '127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tforged.cookie.value\n' >"$SB_TMP/forged.jar"
e2e_call "$SB_TMP/forged.jar" GET /me
check "a forged cookie is anonymous" "401 new" "$STATUS $APP"
body=$(curl -s -H "X-Bridge-Token: $E2E_ADMIN_TOKEN" "http://127.0.0.1:${E2E_BRIDGE_PORT[1]}/v1/users/alice/sessions")
check_match "the bridge recorded alice's sessions in Redis" '"sid"' "$body"

# ---- 2. shift and roll back under load ----------------------------------
mkdir -p "$SB_TMP/load"
# shift PCT: the weight changes in a phase of its own ("to PCT%"), so the
# phase "PCT%" holds only requests routed with the new weight.
shift_to() {
    set_phase "to $1%"
    e2e_set_weight "$1"
    set_phase "${2:-$1%}"
}

e2e_set_weight 0
printf 'login\n' >"$SB_TMP/load/phase"
"$E2E_PYTHON" "$E2E_DIR/loadgen.py" run --url "$E2E_URL" --control "$SB_TMP/load" \
    --out "$SB_TMP/load/result.json" --users "$LOAD_USERS" \
    --phase-max-seconds "$LOAD_PHASE_SECONDS" >"$SB_TMP/load/out.log" 2>&1 &
LOAD_PID=$!
sb_track "$LOAD_PID"
set_phase "0%"
wait_requests "$PHASE_REQUESTS"
for pct in 5 25 50 100; do
    shift_to "$pct"
    wait_requests "$PHASE_REQUESTS"
done
shift_to 0 "rollback 0%"
wait_requests "$PHASE_REQUESTS"

# ---- 3. purge one user --------------------------------------------------
shift_to 50 "purge"
cp "$SB_TMP/carol.jar" "$SB_TMP/carol-before-purge.jar"
out=$("$SB_CTL" -c "$E2E_BRIDGE_CONFIG" purge --user carol --yes 2>&1)
check "sessionbridgectl purge --user carol succeeds" 0 $?
echo "     purge said: $(echo "$out" | tr '\n' ' ')"
e2e_set_weight 0
check "carol is logged out on the legacy app" "401 legacy" "$(who "$SB_TMP/carol.jar" | cut -d' ' -f1-2)"
e2e_set_weight 100
check "carol is logged out on the new app" "401 new" "$(who "$SB_TMP/carol.jar" | cut -d' ' -f1-2)"
check "alice is untouched on the new app" "200 new alice apple,pear 2" "$(who "$SB_TMP/alice.jar")"
check "bob is untouched on the new app" "200 new bob book 1" "$(who "$SB_TMP/bob.jar")"
e2e_set_weight 0
check "alice is untouched on the legacy app" "200 legacy alice apple,pear 2" "$(who "$SB_TMP/alice.jar")"
check "bob is untouched on the legacy app" "200 legacy bob book 1" "$(who "$SB_TMP/bob.jar")"
login carol
check "carol can log in again" "200 legacy" "$STATUS $APP"
e2e_set_weight 100
check "carol's new login works on the new app" "200 new carol  0" "$(who "$SB_TMP/carol.jar")"
e2e_set_weight 50
wait_requests "$PHASE_REQUESTS"

# ---- 4. restart the bridge instances one by one under load ---------------
set_phase "bridge restart"
# auth_ok N: how many forward-auth answers bridge N's process gave so far.
auth_ok() {
    curl -s "http://127.0.0.1:${E2E_BRIDGE_PORT[$1]}/metrics" |
        sed -n 's|^sessionbridge_http_requests_total{route="/v1/auth",status="200"} \([0-9]*\)$|\1|p'
}
auth_ok_at_least() { [ "$(auth_ok "$1")" -ge "$2" ] 2>/dev/null; }
for n in 1 2; do
    e2e_stop_bridge "$n"
    check "bridge $n drained and exited 0 on SIGTERM" 0 $?
    e2e_start_bridge "$n"
    # Back in nginx's rotation (after its fail_timeout) before the other one
    # goes: the new process has answered forward-auth requests.
    SB_WAIT=$((PHASE_SECONDS * 10)) sb_wait_for auth_ok_at_least "$n" 100
    check "bridge $n is back in rotation" yes "$(auth_ok_at_least "$n" 100 && echo yes || echo no)"
done
wait_requests $(( PHASE_REQUESTS * 2 ))

# ---- 5. kill Redis under load --------------------------------------------
set_phase "redis up"
wait_requests "$PHASE_REQUESTS"
set_phase "redis killed"
kill -KILL "$SB_REDIS_PID"
wait "$SB_REDIS_PID" 2>/dev/null
set_phase "redis down"
wait_requests "$PHASE_REQUESTS"
e2e_call "$SB_TMP/alice.jar" GET /me
check "with Redis down a logged-in request fails closed: 503" "503 " "$STATUS $APP"
check "the 503 says store_unavailable" store_unavailable "$(json_get "$BODY" '["error"]')"
grep -q "gsession" "$SB_TMP/alice.jar" && grep -q "	session	" "$SB_TMP/alice.jar"
check "the outage dropped none of alice's cookies" 0 $?
# Requests in flight finish (the bridge's Redis timeouts are 0.5 s) before
# Redis comes back, so "redis down" holds only requests made without it.
set_phase "redis restart"
sleep 1.5
sb_start_redis --appendonly yes --appendfsync always
t0=$(date +%s%N)
# Recovered: both instances ready and 20 answers in a row right for alice
# (for at most PHASE_SECONDS).
streak=0
deadline=$((SECONDS + PHASE_SECONDS))
while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$(who "$SB_TMP/alice.jar" | cut -d' ' -f1,3-)" = "200 alice apple,pear 2" ] &&
        curl -sf -o /dev/null "http://127.0.0.1:${E2E_BRIDGE_PORT[1]}/ready" &&
        curl -sf -o /dev/null "http://127.0.0.1:${E2E_BRIDGE_PORT[2]}/ready"; then
        streak=$((streak + 1))
        [ "$streak" = 1 ] && t1=$(date +%s%N)
        [ "$streak" -ge 20 ] && break
    else
        streak=0
    fi
    sleep 0.05
done
check "requests are served again once Redis is back, without a restart" 20 "$streak"
echo "     first answer $(( (${t1:-$t0} - t0) / 1000000 )) ms after Redis came back"
set_phase "redis back"
wait_requests "$PHASE_REQUESTS"
e2e_set_weight 0
check "carol's purged cookie is still revoked after the Redis crash" "401 legacy" "$(who "$SB_TMP/carol-before-purge.jar" | cut -d' ' -f1-2)"

touch "$SB_TMP/load/stop"
wait "$LOAD_PID"
check "the load generator finished" 0 $?

# ---- the counts ------------------------------------------------------------
echo
# One row per step; requests made while nginx reloaded (the "to N%"
# phases) or that ran across two phases are summed in their own rows.
"$E2E_PYTHON" "$E2E_DIR/loadgen.py" table "$SB_TMP/load/result.json" \
    --merge 'redis killed, down=^redis (killed|down)|> redis (killed|down)$' \
    --merge 'redis restarting=redis restart' \
    --tail 'during nginx reloads=^to [0-9]+%$' \
    --tail 'across two steps= > '
echo

# phase_count PHASE FIELD: one counter of the result.
phase_count() {
    "$E2E_PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["phases"].get(sys.argv[2],{}).get(sys.argv[3],0))' \
        "$SB_TMP/load/result.json" "$1" "$2"
}
# sum_count FIELD [REGEX [EXCLUDE]]: a counter summed over the phases whose
# name matches REGEX and not EXCLUDE (requests spanning two phases are
# counted under "A > B").
sum_count() {
    "$E2E_PYTHON" -c 'import json,re,sys; r=json.load(open(sys.argv[1])); print(sum(c.get(sys.argv[2],0) for p,c in r["phases"].items() if re.search(sys.argv[3],p) and not (sys.argv[4] and re.search(sys.argv[4],p))))' \
        "$SB_TMP/load/result.json" "$1" "${2:-.}" "${3:-}"
}

check "load: nobody was ever served as someone else" 0 "$(sum_count wrong_user)"
# Every phase but the Redis outage (killed, down, restarting) must be clean.
outage='redis (killed|down|restart)'
for field in logged_out server_error unavailable failed data_mismatch other; do
    check "load: $field across shift, rollback, purge, restart, recovery = 0" 0 "$(sum_count "$field" . "$outage")"
done
check "load: 0% phase reached only the legacy app" 0 "$(phase_count "0%" new)"
check "load: rollback 0% reached only the legacy app" 0 "$(phase_count "rollback 0%" new)"
check "load: 100% phase reached only the new app" 0 "$(phase_count "100%" legacy)"
for pct in 5% 25% 50%; do
    check_match "load: $pct phase reached both apps" '^[1-9][0-9]* [1-9]' "$(phase_count "$pct" legacy) $(phase_count "$pct" new)"
done
check_match "load: the bridge restart phase ran under load" '^[1-9]' "$(phase_count "bridge restart" ok)"
check "load: with Redis down no request was served" 0 "$(phase_count "redis down" ok)"
check_match "load: with Redis down requests got 503" '^[1-9]' "$(phase_count "redis down" unavailable)"
check "load: with Redis down no 401 (fail closed is 503, nobody logged out)" 0 "$(sum_count logged_out '^redis')"
check "load: with Redis down no other 5xx or failed request" 0 "$(( $(sum_count server_error '^redis') + $(sum_count failed '^redis') ))"
check_match "load: requests were served again after Redis came back" '^[1-9]' "$(phase_count "redis back" ok)"

if [ "$SB_FAILED" != 0 ]; then
    for log in bridge1.log bridge2.log legacy.log new.log nginx/error.log load/out.log; do
        echo "--- last lines of $log"
        tail -n 5 "$SB_TMP/$log" 2>/dev/null
    done
fi
# E2E_KEEP=DIR keeps every log and the results for a look afterwards.
[ -n "${E2E_KEEP:-}" ] && rm -rf "$E2E_KEEP" && cp -r "$SB_TMP" "$E2E_KEEP"
sb_finish
