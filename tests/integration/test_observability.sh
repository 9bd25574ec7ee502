#!/usr/bin/env bash
# Observability (issue 15): the process, reload, Redis-latency and
# migration-progress metric families, the access log's error / profile /
# request_id / trace_id fields (and never a credential in it), and who may
# read /status and /status.json (admin token, or loopback with [api]
# open_on_loopback = status; a backend token is 403).
# Costs about 15 s idle, 35 s on a busy 2-core machine.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_prepare
sb_start_redis
sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES"
sb_start_daemon "$SB_TMP/sb.ini"

# metric NAME_WITH_LABELS: its value in /metrics (exact series match).
metric() { curl -s "$SB_URL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# fa COOKIE_HEADER [curl args]: forward-auth status; headers in $SB_TMP/fa.h
fa() {
    local h=$1; shift
    curl -s -D "$SB_TMP/fa.h" -o /dev/null -w '%{http_code}' ${h:+-H "Cookie: $h"} "$@" "$SB_URL/v1/auth"
}
resp_header() { tr -d '\r' <"$SB_TMP/fa.h" | sed -n "s/^$1: //Ip"; }
# access_line REQUEST_ID: the access log line of that request.
# The line is written once the answer went out: wait for it (bounded).
access_line() {
    sb_wait_for grep -qF "\"request_id\":\"$1\"" "$SB_TMP/daemon.log"
    grep -F "\"request_id\":\"$1\"" "$SB_TMP/daemon.log" | grep -F '"msg":"access"' | tail -1
}

# ---- who may read /status ---------------------------------------------------
for p in /status /status.json /status/status.js /status/status.css; do
    check "$p without a token (loopback not opened): 401" 401 "$(sb_http_status GET "$p")"
    check "$p with a backend token: 403" 403 "$(sb_http_status GET "$p" -H "X-Bridge-Token: $BTOK")"
    check "$p with an unknown token: 401" 401 "$(sb_http_status GET "$p" -H "X-Bridge-Token: nope-nope-nope")"
    check "$p with the admin token: 200" 200 "$(sb_http_status GET "$p" -H "X-Bridge-Token: $ATOK")"
done
check "an unknown file under /status/: 404" 404 "$(sb_http_status GET /status/other.js -H "X-Bridge-Token: $ATOK")"
check "backend refusal names the code" forbidden \
    "$(json_get "$(sb_http_body GET /status.json -H "X-Bridge-Token: $BTOK")" '["error"]')"
curl -s -D "$SB_TMP/st.h" -o "$SB_TMP/st.html" -H "X-Bridge-Token: $ATOK" "$SB_URL/status"
check_match "the page is HTML" '^Content-Type: text/html' "$(tr -d '\r' <"$SB_TMP/st.h" | grep -i '^content-type')"
check_match "the page forbids outside assets (CSP)" "default-src 'none'; script-src 'self'" "$(tr -d '\r' <"$SB_TMP/st.h" | grep -i '^content-security-policy')"
check "the page names no other host" "" "$(grep -Eo '(src|href)="(https?:)?//[^"]*' "$SB_TMP/st.html")"

# ---- traffic: two legacy-only users, one new-only, one with both -------------
declare -A LEG NEW
for u in ann bob cid dee; do
    login "$u"
    LEG[$u]=$(cookie legacy)
    NEW[$u]=$(cookie new)
done
check "ann, legacy cookie: 200" 200 "$(fa "${LEG[ann]}" -H 'X-Request-Id: req-ann-1')"
check "bob, legacy cookie: 200" 200 "$(fa "${LEG[bob]}")"
check "cid, new cookie: 200" 200 "$(fa "${NEW[cid]}")"
check "dee, both cookies: 200" 200 "$(fa "${LEG[dee]}; ${NEW[dee]}")"
check "ann again, legacy: 200" 200 "$(fa "${LEG[ann]}")"
check "a forged cookie: 401" 401 "$(fa 'session=forged.value.x' -H 'X-Request-Id: req-forged')"

active() { [ "$(metric 'sessionbridge_migration_active_users{credential="any"}')" = "$1" ] &&
           [ "$(metric 'sessionbridge_migration_active_users{credential="new"}')" = "$2" ]; }
SB_WAIT=100 sb_wait_for active 4 2
check "active users: 4 any, 2 with a new credential (HyperLogLog, flushed by the background thread)" \
    "4 2" "$(metric 'sessionbridge_migration_active_users{credential="any"}') $(metric 'sessionbridge_migration_active_users{credential="new"}')"
key=$(sb_redis --scan --pattern 'sb:{progress}:*:all' | head -1)
check_match "the minute's HyperLogLog key is in the documented layout" '^sb:\{progress\}:[0-9]+:all$' "$key"
ttl=$(sb_redis ttl "$key")
check "it expires (TTL 1..3900 s)" yes "$([ "$ttl" -ge 1 ] && [ "$ttl" -le 3900 ] && echo yes || echo "no: $ttl")"
check "elements are hashes, not subjects" 0 "$(sb_redis --scan --pattern 'sb:{progress}:*' | xargs -r -n1 sb_redis get 2>/dev/null | grep -c -E 'ann|bob|cid|dee')"
flushes=$(metric 'sessionbridge_migration_progress_flushes_total{result="ok"}')
check_match "flushes counted" '^[1-9][0-9]*$' "$flushes"

# ---- /status.json ---------------------------------------------------------------
sj=$(sb_http_body GET /status.json -H "X-Bridge-Token: $ATOK")
check "status.json: version" "$("$SB_BIN" --version | awk '{print $2}')" "$(json_get "$sj" '["version"]')"
check "status.json: route" "legacy new new" "$(json_get "$sj" '["route"]["legacy"]') $(json_get "$sj" '["route"]["new"]') $(json_get "$sj" '["route"]["mint"]')"
check "status.json: 60 minutes of history" 60 "$(json_get "$sj" '["minutes"].__len__()')"
check "status.json: this minute: 3 served with new ... legacy-only 3, refused 1" "2 3 1" \
    "$(json_get "$sj" '["minutes"][-1]["served_new"]') $(json_get "$sj" '["minutes"][-1]["served_legacy"]') $(json_get "$sj" '["minutes"][-1]["refused"]')"
check "status.json: progress" "4 2" "$(json_get "$sj" '["progress"]["active_users"]["any"]') $(json_get "$sj" '["progress"]["active_users"]["new"]')"
check "status.json: Redis answers" true "$(json_get "$sj" '["redis"]["ready"]')"
check "status.json: config generation 1, no reload yet" "1 null" "$(json_get "$sj" '["config"]["generation"]') $(json_get "$sj" '["config"]["last_reload"]')"

# The router's split as the bridge sees it (X-Sessionbridge-Backend).
fa "${LEG[ann]}" -H 'X-Sessionbridge-Backend: legacy_app' >/dev/null
fa "${NEW[cid]}" -H 'X-Sessionbridge-Backend: new_app' >/dev/null
fa "${NEW[cid]}" -H 'X-Sessionbridge-Backend: new_app' >/dev/null
fa "${NEW[cid]}" -H 'X-Sessionbridge-Backend: Bad Value!' >/dev/null
split=$(sb_http_body GET /status.json -H "X-Bridge-Token: $ATOK" | /usr/bin/python3 -c 'import json,sys; print(" ".join("%s=%d" % (b["backend"], b["last_hour"]) for b in json.load(sys.stdin)["split"]["backends"]))')
check "status.json: the split by backend (unsafe or absent header: unknown)" "legacy_app=1 new_app=2 unknown=7" "$split"

# ---- access log ---------------------------------------------------------------
line=$(access_line req-ann-1)
check_match "access line: the passed request id and the profile" '"status":200.*"profile":"legacy".*"request_id":"req-ann-1"' "$line"
line=$(access_line req-forged)
check_match "access line of a 401: its error code" '"status":401.*"error":"[a-z_]+"' "$line"
fa "${LEG[ann]}" -H 'X-Request-Id: req-ann-2' >/dev/null
check "the response returns the request id" req-ann-2 "$(resp_header X-Request-Id)"
fa "${LEG[ann]}" -H 'X-Request-Id: bad id with spaces' >/dev/null
gen=$(resp_header X-Request-Id)
check_match "an unsafe X-Request-Id is replaced by a generated one" '^[0-9a-f]{32}$' "$gen"
check_match "the generated id is in the access line" '"request_id":"[0-9a-f]{32}"' "$(access_line "$gen")"
check "the unsafe value is not logged" 0 "$(grep -c 'bad id with spaces' "$SB_TMP/daemon.log")"
long=$(printf 'x%.0s' $(seq 65))
fa "${LEG[ann]}" -H "X-Request-Id: $long" >/dev/null
check_match "a 65-byte X-Request-Id is replaced" '^[0-9a-f]{32}$' "$(resp_header X-Request-Id)"
tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
fa "${LEG[bob]}" -H "traceparent: $tp" -H 'X-Request-Id: req-traced' >/dev/null
check_match "a valid traceparent's trace id is logged" '"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"' "$(access_line req-traced)"
fa "${LEG[bob]}" -H "traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01" -H 'X-Request-Id: req-badtrace' >/dev/null
check "an all-zero trace id is not logged" 0 "$(access_line req-badtrace | grep -c trace_id)"
check "every endpoint answers a request id (/health)" 1 "$(curl -s -D - -o /dev/null "$SB_URL/health" | grep -ci '^X-Request-Id: [0-9a-f]\{32\}')"
leaked=0
for u in ann bob cid dee; do
    for c in "${LEG[$u]#*=}" "${NEW[$u]#*=}"; do
        grep -qF "$c" "$SB_TMP/daemon.log" && leaked=$((leaked + 1))
    done
done
check "no cookie value in the log" 0 "$leaked"

# ---- process metrics, Redis latency ------------------------------------------------
now=$(date +%s)
check_match "process_resident_memory_bytes" '^[1-9][0-9]+$' "$(metric process_resident_memory_bytes)"
check_match "process_open_fds" '^[1-9][0-9]*$' "$(metric process_open_fds)"
check_match "process_cpu_seconds_total" '^[0-9]+\.[0-9]+$' "$(metric process_cpu_seconds_total)"
st=$(metric process_start_time_seconds)
check "process_start_time_seconds is in the last hour" yes "$(awk -v s="$st" -v n="$now" 'BEGIN { print ((s > n - 3600 && s <= n + 1) ? "yes" : "no: " s) }')"
m=$(curl -s "$SB_URL/metrics")
count=$(awk '$1 == "sessionbridge_redis_latency_seconds_count" { print $2 }' <<<"$m")
inf=$(awk '$1 == "sessionbridge_redis_latency_seconds_bucket{le=\"+Inf\"}" { print $2 }' <<<"$m")
check_match "Redis round trips observed" '^[1-9][0-9]*$' "$count"
check "the +Inf bucket equals the count" "$count" "$inf"
check "the buckets are cumulative" ok "$(grep '^sessionbridge_redis_latency_seconds_bucket' <<<"$m" | awk '{ if ($2 < last) bad = 1; last = $2 } END { print bad ? "no" : "ok" }')"
check "13 finite buckets" 13 "$(grep -c '^sessionbridge_redis_latency_seconds_bucket{le="[0-9.e-]*"}' <<<"$m")"

# ---- reloads --------------------------------------------------------------------
check "no reload yet" "0 0" "$(metric 'sessionbridge_config_reload_total{result="success"}') $(metric 'sessionbridge_config_reload_total{result="failure"}')"
t0=$(metric sessionbridge_config_last_reload_success_timestamp_seconds)
check_match "the start counts as the last successful load" '^[1-9][0-9]+$' "$t0"
# open /status to loopback callers by a reload
sed -i 's/^open_on_loopback = auth,validate$/open_on_loopback = auth,validate,status/' "$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
reloaded() { [ "$(metric 'sessionbridge_config_reload_total{result="success"}')" = "$1" ]; }
sb_wait_for reloaded 1
check "a good reload counts success" 1 "$(metric 'sessionbridge_config_reload_total{result="success"}')"
check "after the reload loopback reads /status without a token" 200 "$(sb_http_status GET /status)"
check "... and /status.json" 200 "$(sb_http_status GET /status.json)"
check "a wrong token is still refused" 401 "$(sb_http_status GET /status.json -H 'X-Bridge-Token: wrong-wrong')"
cp "$SB_TMP/sb.ini" "$SB_TMP/good.ini"
printf '[route]\nlegacy = missing-profile\n' >>"$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
failed_reloads() { [ "$(metric 'sessionbridge_config_reload_total{result="failure"}')" = "$1" ]; }
sb_wait_for failed_reloads 1
check "a bad reload counts failure" 1 "$(metric 'sessionbridge_config_reload_total{result="failure"}')"
check "the last success stays the good reload's" yes "$(awk -v a="$(metric sessionbridge_config_last_reload_success_timestamp_seconds)" -v b="$t0" 'BEGIN { print ((a >= b) ? "yes" : "no") }')"
sj=$(sb_http_body GET /status.json)
check "status.json: generation 2, last reload failed" "2 failure 1 1" \
    "$(json_get "$sj" '["config"]["generation"]') $(json_get "$sj" '["config"]["last_reload"]["result"]') $(json_get "$sj" '["config"]["reloads"]["success"]') $(json_get "$sj" '["config"]["reloads"]["failure"]')"
cp "$SB_TMP/good.ini" "$SB_TMP/sb.ini"

# ---- bounded labels -------------------------------------------------------------------
labels=$(curl -s "$SB_URL/metrics" | grep -E '^(process_|sessionbridge_(config|redis_latency|migration))' | grep -o '{[^}]*}' | sort -u | tr '\n' ' ')
check_match "the new families' labels are credential, result or le only" '^(\{(credential|result|le)="[^"]*"\} )*$' "$labels"
check "no subject in any label" 0 "$(curl -s "$SB_URL/metrics" | grep -v '^#' | grep -c -E '"(ann|bob|cid|dee)"')"

# ---- Redis down: the figure's flushes fail, the page says so, never a hang ----
sb_stop_redis
flush_failed() { [ "$(metric 'sessionbridge_migration_progress_flushes_total{result="error"}')" -ge 1 ]; }
sb_wait_for flush_failed
check "with Redis down the progress flushes fail (counted)" 0 "$(flush_failed; echo $?)"
check "forward-auth answers 503 (fail closed)" 503 "$(fa "${NEW[cid]}" -H 'X-Request-Id: req-down')"
check_match "its access line names store_unavailable" '"status":503.*"error":"store_unavailable"' "$(access_line req-down)"
check "status.json still answers, Redis not ready" "200 false" \
    "$(sb_http_status GET /status.json) $(json_get "$(sb_http_body GET /status.json)" '["redis"]["ready"]')"

sb_api_finish
