#!/usr/bin/env bash
# gRPC listener ([grpc] listen), called by Python's real gRPC stack
# (python3-grpcio, messages generated now from proto/ by python3-grpc-tools):
# Envoy's Authorization/Check agrees with GET /v1/auth on the same request
# for every profile (valid, revoked, expired, forged, missing; cookie and
# bearer; Envoy's header map and raw header list); Sessions/Validate agrees
# with POST /v1/validate; ApiKeys/Validate (valid, unknown, expired,
# revoked); Health; caller tokens (missing, wrong, loopback rule and its
# SIGHUP reload); oversized messages (RESOURCE_EXHAUSTED); deadlines
# (Redis paused); Redis down (UNAVAILABLE, NOT_SERVING); OPTIONS /v1/auth;
# the Envoy recipes are well-formed YAML naming what the bridge needs;
# SIGTERM drains and exits 0.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"
export PYTHONDONTWRITEBYTECODE=1 # leave nothing in the source tree

GC=("$SB_PY" "$SB_SOURCE_DIR/tests/integration/grpc_client.py")
mkdir "$SB_TMP/pb"
"${GC[@]}" gen "$SB_SOURCE_DIR/proto" "$SB_TMP/pb" || { echo "FAIL - cannot generate the Python messages"; exit 1; }

GPORT=$(sb_free_port)
sb_api_prepare
sb_start_redis
grpc_section="[grpc]
listen = 127.0.0.1:$GPORT
threads = 2
max_message_bytes = 4096"
sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES" "$grpc_section"
sb_start_daemon "$SB_TMP/sb.ini"
sb_wait_for grep -q '"gRPC listening"' "$SB_TMP/daemon.log" || { echo "FAIL - no gRPC listener"; cat "$SB_TMP/daemon.log"; exit 1; }

# gcalls: one gRPC (or HTTP: http_auth, http_validate) call per JSON line
# on stdin; the summaries land in G[].
gcalls() {
    "${GC[@]}" calls "$SB_TMP/pb" "127.0.0.1:$GPORT" "$SB_URL" >"$SB_TMP/gout" 2>"$SB_TMP/gerr" || cat "$SB_TMP/gerr"
    mapfile -t G <"$SB_TMP/gout"
}
# gcall JSON: one call; prints its summary.
gcall() { gcalls <<<"$1"; echo "${G[0]-}"; }

# http_auth COOKIE [AUTHORIZATION] [curl args]: GET /v1/auth as the backend;
# prints the answer in grpc_client.py's Check summary format.
http_auth() {
    local c=$1 a=${2-} h=$SB_TMP/h st up sc err
    shift; [ $# -gt 0 ] && shift
    curl -s -D "$h.raw" -o /dev/null -H "X-Bridge-Token: $BTOK" ${c:+-H "Cookie: $c"} \
        ${a:+-H "Authorization: $a"} "$@" "$SB_URL/v1/auth"
    tr -d '\r' <"$h.raw" >"$h"
    st=$(head -1 "$h" | cut -d' ' -f2)
    up=$(grep -i '^x-session-' "$h" | grep -vi '^x-session-error:' |
        awk '{i=index($0, ": "); k=tolower(substr($0, 1, i-1)); v=substr($0, i+2);
              if ((k=="x-session-token" || k=="x-session-cookie") && v!="") v="*"; print k "=" v}' |
        LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
    sc=$(grep -i '^set-cookie:' "$h" | sed -E 's/^[^:]*: ([^=]*)=.*/\1/' | LC_ALL=C sort | paste -sd, -)
    err=$(grep -i '^x-session-error:' "$h" | sed 's/^[^:]*: //')
    case $st in
    200) echo "OK 0 $up set-cookie=$sc" ;;
    401) echo "DENIED 16 401 $err" ;;
    503) echo "UNAVAILABLE store_unavailable" ;;
    *) echo "HTTP $st $err" ;;
    esac
}

# j KEY VALUE ...: a JSON object of string values (values are cookies and
# tokens: no quotes or backslashes in them).
j() {
    local out="" sep=""
    while [ $# -ge 2 ]; do out="$out$sep\"$1\":\"$2\""; sep=","; shift 2; done
    echo "{$out}"
}

# -- Health: readiness, known and unknown services
gcalls <<EOF
$(j method health)
$(j method health service envoy.service.auth.v3.Authorization)
$(j method health service sessionbridge.v1.ApiKeys)
$(j method health service no.such.Service)
$(j method unknown caller "$BTOK")
EOF
check "Health/Check: SERVING with Redis up" "OK SERVING" "${G[0]-}"
check "Health/Check of the Authorization service" "OK SERVING" "${G[1]-}"
check "Health/Check of the ApiKeys service" "OK SERVING" "${G[2]-}"
check "Health/Check of an unknown service: NOT_FOUND" "NOT_FOUND unknown service 'no.such.Service'" "${G[3]-}"
check "an unknown method: UNIMPLEMENTED" "UNIMPLEMENTED unknown method" "${G[4]-}"

# -- Credentials: alice's valid session, bob's revoked one, one made 40
# days ago; every profile's cookie of each.
now=$(date +%s)
past=$((now - 40 * 86400))
login alice '{"theme":"dark"}' 3600
ALICE=$LOGIN
login bob '{}' 3600
BOB=$LOGIN
api DELETE "/v1/sessions/$LOGIN_SID"
# forge V: V with its last character changed
forge() { local v=$1; [ "${v: -1}" = A ] && echo "${v%?}B" || echo "${v%?}A"; }
declare -A C T # cookies (name=value) and tokens
# every profile's cookie and token of both logins, in one python run
while read -r p s c t; do
    C[$p,$s]=$c; T[$p,$s]=$t
done < <($SB_PY -c '
import json, sys
for state, login in (("valid", sys.argv[1]), ("revoked", sys.argv[2])):
    for p, c in json.loads(login)["credentials"].items():
        print(p, state, c["set_cookie"].split(";")[0], c["token"])' "$ALICE" "$BOB")
for p in $SB_API_ALL; do
    C[$p,forged]=$(forge "${C[$p,valid]}"); T[$p,forged]=$(forge "${T[$p,valid]}")
    old="{\"sid\":\"old-$p\",\"subject\":\"carol\",\"data\":{},\"issued_at\":$past,\"expires_at\":$((past + 3600))}"
    C[$p,expired]=$(offline_cookie "$p" "$past" "$old")
    T[$p,expired]=$(offline "$p" "$past" "$old")
done
LOGIN=$ALICE
api_token=${T[api,valid]}

# -- Check and /v1/auth agree on the same request, for every profile and
# state (one table: HTTP answers first, then the same requests over gRPC).
# (HTTP answers first, then the same requests over gRPC, in one run)
rows=() http="" reqs=""
for p in $SB_API_ALL; do
    for s in valid revoked expired forged; do
        rows+=("$p $s cookie")
        http+="$(j method http_auth caller "$BTOK" cookie "${C[$p,$s]}")"$'\n'
        reqs+="$(j method check caller "$BTOK" cookie "${C[$p,$s]}")"$'\n'
    done
done
rows+=("none missing" "api bearer" "legacy+new raw-headers" "api bearer+forged-cookie")
http+="$(j method http_auth caller "$BTOK")"$'\n'
http+="$(j method http_auth caller "$BTOK" authorization "Bearer $api_token")"$'\n'
http+="$(j method http_auth caller "$BTOK" cookie "${C[legacy,valid]}; ${C[new,valid]}")"$'\n'
http+="$(j method http_auth caller "$BTOK" cookie "${C[legacy,forged]}" authorization "Bearer $api_token")"$'\n'
reqs+="$(j method check caller "$BTOK")"$'\n'
reqs+="$(j method check caller "$BTOK" authorization "Bearer $api_token")"$'\n'
reqs+="$(j method check caller "$BTOK" cookie "${C[legacy,valid]}; ${C[new,valid]}" raw 1)"$'\n'
reqs+="$(j method check caller "$BTOK" cookie "${C[legacy,forged]}" authorization "Bearer $api_token")"$'\n'
gcalls <<<"$http$reqs"
nrows=${#rows[@]}
for i in "${!rows[@]}"; do
    check "Check = /v1/auth: ${rows[$i]}" "${G[$i]-}" "${G[$((i + nrows))]-}"
done
G=("${G[@]:$nrows}")
# the table must hold both verdicts, or agreeing proved little
check_match "a valid cookie is OK with the identity" "^OK 0 .*x-session-subject=alice .*set-cookie=" "${G[0]-}"
check "a revoked cookie is denied 401 revoked" "DENIED 16 401 revoked" "${G[1]-}"
check "an expired cookie is denied 401 expired" "DENIED 16 401 expired" "${G[2]-}"
check_match "a forged cookie is denied 401" "^DENIED 16 401 (bad_signature|malformed)$" "${G[3]-}"
n=$(( $(echo "$SB_API_ALL" | wc -w) * 4 ))
check "no credential is denied 401 no_credential" "DENIED 16 401 no_credential" "${G[$n]-}"
check_match "a bearer token is OK" "^OK 0 .*x-session-profile=api " "${G[$((n + 1))]-}"

# -- Sessions/Validate = POST /v1/validate
rows=() http="" reqs=""
for p in legacy api node rails; do
    for s in valid revoked expired forged; do
        rows+=("$p $s")
        http+="$(j method http_validate caller "$BTOK" token "${T[$p,$s]}" profile "$p")"$'\n'
        reqs+="$(j method validate caller "$BTOK" token "${T[$p,$s]}" profile "$p")"$'\n'
    done
done
reqs+="$(j method validate caller "$BTOK" token "$api_token")"$'\n'
reqs+="$(j method validate caller "$BTOK")"$'\n'
reqs+="$(j method validate caller "$BTOK" token "$api_token" profile nope)"$'\n'
gcalls <<<"$http$reqs"
nrows=${#rows[@]}
for i in "${!rows[@]}"; do
    check "Sessions/Validate = /v1/validate: ${rows[$i]}" "${G[$i]-}" "${G[$((i + nrows))]-}"
done
G=("${G[@]:$nrows}")
check "Sessions/Validate: valid" "OK active=True subject=alice profile=legacy error=" "${G[0]-}"
check "Sessions/Validate: revoked" "OK active=False subject= profile= error=revoked" "${G[1]-}"
check "Sessions/Validate: expired" "OK active=False subject= profile= error=expired" "${G[2]-}"
check "Sessions/Validate without a profile tries every one" "OK active=True subject=alice profile=api error=" "${G[16]-}"
check "Sessions/Validate without a token: INVALID_ARGUMENT" "INVALID_ARGUMENT missing_field" "${G[17]-}"
check "Sessions/Validate with an unknown profile: INVALID_ARGUMENT" "INVALID_ARGUMENT unknown_profile" "${G[18]-}"

# -- ApiKeys/Validate: valid, unknown, expired, revoked
ctl() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@"; }
key=$(ctl apikey create --subject svc-ingest --scope ingest:write --scope ingest:read --id ingest 2>/dev/null)
gone=$(ctl apikey create --subject svc-old --id gone 2>/dev/null)
ctl apikey revoke gone >/dev/null
$SB_PY - "$SB_REDIS_PORT" "$now" <<'PY'
import hashlib, json, sys, redis
r = redis.Redis(port=int(sys.argv[1])); now = int(sys.argv[2])
key, kid = "expired-key-0123456789abcdef", "lapsed"
h = hashlib.sha256(key.encode()).hexdigest()
rec = {"key_id": kid, "subject": "svc-lapsed", "scopes": [], "created_at": now - 100,
       "expires_at": now - 10, "key_hash": h}
r.set(f"sb:{{k}}:apikey:{h}", json.dumps(rec)); r.set(f"sb:{{k}}:apikey-id:{kid}", h)
r.zadd("sb:{k}:apikeys", {kid: now - 10})
PY
api POST /v1/apikeys/validate "$(j key "$key")"
http_scopes=$(jget '["scopes"]')
gcalls <<EOF
$(j method apikey caller "$BTOK" key "$key")
$(j method apikey caller "$BTOK" key sbk_not-a-key-of-this-bridge)
$(j method apikey caller "$BTOK" key expired-key-0123456789abcdef)
$(j method apikey caller "$BTOK" key "$gone")
$(j method apikey caller "$BTOK")
$(j method apikey key "$key")
$(j method apikey caller wrong-token key "$key")
EOF
check_match "ApiKeys/Validate: valid, with the key's record" "^OK valid=True key_id=ingest subject=svc-ingest scopes=ingest:(write,ingest:read|read,ingest:write) error=$" "${G[0]-}"
check "ApiKeys/Validate: the HTTP answer has the same scopes" "ingest:write,ingest:read" "$(echo "$http_scopes" | tr -d '[]" ' )"
check "ApiKeys/Validate: unknown" "OK valid=False key_id= subject= scopes= error=unknown_key" "${G[1]-}"
check "ApiKeys/Validate: expired" "OK valid=False key_id= subject= scopes= error=expired" "${G[2]-}"
check "ApiKeys/Validate: revoked" "OK valid=False key_id= subject= scopes= error=unknown_key" "${G[3]-}"
check "ApiKeys/Validate without a key: INVALID_ARGUMENT" "INVALID_ARGUMENT missing_field" "${G[4]-}"
check "ApiKeys/Validate without a caller token: UNAUTHENTICATED" "UNAUTHENTICATED unauthenticated" "${G[5]-}"
check "ApiKeys/Validate with a wrong caller token: UNAUTHENTICATED" "UNAUTHENTICATED unauthenticated" "${G[6]-}"

# -- Check counts as GET /v1/auth does: sessionbridge_auth_requests_total
# by the router's backend header (x-sessionbridge-backend; [route] mint
# is set here, so a valid cookie counts as minted), and the credential
# metrics
auth_count() {
    curl -s "$SB_URL/metrics" | awk -v b="backend=\"$1\"" -v r="result=\"$2\"" \
        'index($1, "sessionbridge_auth_requests_total{") == 1 && index($1, b) && index($1, r) { n += $2 } END { print n + 0 }'
}
cred_count() {
    curl -s "$SB_URL/metrics" | awk -v r="result=\"$1\"" \
        'index($1, "sessionbridge_credentials_total{op=\"auth\",profile=\"legacy\"") == 1 && index($1, r) { n += $2 } END { print n + 0 }'
}
ok_before=$(auth_count grpc_app minted) revoked_before=$(auth_count grpc_app revoked)
cred_before=$(cred_count active)
gcalls <<EOF
$(j method check caller "$BTOK" backend grpc_app cookie "${C[legacy,valid]}")
$(j method check caller "$BTOK" backend grpc_app cookie "${C[legacy,valid]}")
$(j method check caller "$BTOK" backend grpc_app cookie "${C[legacy,revoked]}")
EOF
check_match "Check with a backend header: OK" "^OK 0 " "${G[0]-}"
check "Check counts in sessionbridge_auth_requests_total{backend,result}" 2 "$(( $(auth_count grpc_app minted) - ok_before ))"
check "...and its denials by error code" 1 "$(( $(auth_count grpc_app revoked) - revoked_before ))"
check "...and in sessionbridge_credentials_total{op=auth}" 2 "$(( $(cred_count active) - cred_before ))"

# -- Callers: open_on_loopback = auth,validate opens Sessions/Validate on
# loopback but not Check; a wrong token is refused everywhere.
gcalls <<EOF
$(j method check cookie "${C[legacy,valid]}")
$(j method check caller wrong-token cookie "${C[legacy,valid]}")
$(j method validate token "$api_token")
$(j method validate caller wrong-token token "$api_token")
EOF
check "Check without a caller token: UNAUTHENTICATED" "UNAUTHENTICATED unauthenticated" "${G[0]-}"
check "Check with a wrong caller token: UNAUTHENTICATED" "UNAUTHENTICATED unauthenticated" "${G[1]-}"
check "Sessions/Validate from loopback without a token (validate is open)" "OK active=True subject=alice profile=api error=" "${G[2]-}"
check "Sessions/Validate with a wrong caller token: UNAUTHENTICATED" "UNAUTHENTICATED unauthenticated" "${G[3]-}"

# SIGHUP: open ext_authz and apikeys on loopback; the next calls see it
sed -i 's/^open_on_loopback = .*/open_on_loopback = auth,validate,ext_authz,apikeys/' "$SB_TMP/sb.ini"
reloads=$(grep -c '"configuration reloaded"' "$SB_TMP/daemon.log")
kill -HUP "$SB_DAEMON_PID"
sb_wait_for test "$(grep -c '"configuration reloaded"' "$SB_TMP/daemon.log")" -gt "$reloads"
gcalls <<EOF
$(j method check cookie "${C[legacy,valid]}")
$(j method check)
$(j method apikey key "$key")
$(j method check caller wrong-token)
EOF
check_match "after SIGHUP: Check from loopback without a token" "^OK 0 .*x-session-subject=alice" "${G[0]-}"
check "after SIGHUP: no credential is still denied" "DENIED 16 401 no_credential" "${G[1]-}"
check_match "after SIGHUP: ApiKeys from loopback without a token" "^OK valid=True key_id=ingest" "${G[2]-}"
check "after SIGHUP: a wrong token is still refused" "UNAUTHENTICATED unauthenticated" "${G[3]-}"

# -- OPTIONS /v1/auth answers as forward-auth (CORS preflights)
check "OPTIONS /v1/auth with a valid cookie" "$(http_auth "${C[legacy,valid]}")" "$(http_auth "${C[legacy,valid]}" "" -X OPTIONS)"
check "OPTIONS /v1/auth without a credential: 401" "DENIED 16 401 no_credential" "$(http_auth "" "" -X OPTIONS)"

# -- Limits: a message over max_message_bytes is refused, the next served
big=$(head -c 5000 /dev/zero | tr '\0' a)
gcalls <<EOF
$(j method check caller "$BTOK" cookie "session=$big")
$(j method validate caller "$BTOK" token "$big")
$(j method health)
EOF
check_match "an oversized Check: RESOURCE_EXHAUSTED" "^RESOURCE_EXHAUSTED" "${G[0]-}"
check_match "an oversized Validate: RESOURCE_EXHAUSTED" "^RESOURCE_EXHAUSTED" "${G[1]-}"
check "the next call is served" "OK SERVING" "${G[2]-}"

# -- Deadlines: with Redis paused a call that needs it misses its deadline;
# the server goes on.  Fresh sessions: nothing cached.
login dave '{}' 3600; fresh1=$(cookie legacy)
login erin '{}' 3600; fresh2=$(cookie legacy); fresh2_tok=$(cred api)
login fred '{}' 3600; fresh3=$(cookie legacy)
kill -STOP "$SB_REDIS_PID"
gcall "{\"method\":\"check\",\"caller\":\"$BTOK\",\"cookie\":\"$fresh1\",\"timeout\":0.2}" >"$SB_TMP/dl"
kill -CONT "$SB_REDIS_PID"
check "a Check past its deadline: DEADLINE_EXCEEDED" "DEADLINE_EXCEEDED Deadline Exceeded" "$(cat "$SB_TMP/dl")"
# the paused Redis costs a worker its connection (command timeout): one
# 503 may follow, so wait for the service to answer again
SB_WAIT=50 sb_wait_for test "$(gcall "$(j method check caller "$BTOK" cookie "$fresh1")" | cut -c1-2)" = OK
check_match "after the deadline the call is served" "^OK 0 .*x-session-subject=dave" "$(gcall "$(j method check caller "$BTOK" cookie "$fresh1")")"

# -- Redis down: UNAVAILABLE (fail closed), NOT_SERVING; /v1/auth says 503
sb_stop_redis
check "/v1/auth with Redis down" "UNAVAILABLE store_unavailable" "$(http_auth "$fresh2")"
gcalls <<EOF
$(j method check caller "$BTOK" cookie "$fresh3")
$(j method validate caller "$BTOK" token "$fresh2_tok" profile api)
$(j method apikey caller "$BTOK" key "$key")
$(j method health)
EOF
check "Check with Redis down: UNAVAILABLE" "UNAVAILABLE store_unavailable" "${G[0]-}"
check "Sessions/Validate with Redis down: UNAVAILABLE" "UNAVAILABLE store_unavailable" "${G[1]-}"
check "ApiKeys/Validate with Redis down: UNAVAILABLE" "UNAVAILABLE store_unavailable" "${G[2]-}"
check "Health/Check with Redis down: NOT_SERVING" "OK NOT_SERVING" "${G[3]-}"

# -- The access lines: one per call, never a credential or caller token
check_match "an access line per Check" '^[1-9]' "$(grep -c '"msg":"grpc","method":"/envoy.service.auth.v3.Authorization/Check","code":"0","ms":"' "$SB_TMP/daemon.log")"
check "an unknown method is logged without its name" 1 "$(grep -c '"method":"(unknown)","code":"12"' "$SB_TMP/daemon.log")"
leaked=0
for secret in "$BTOK" "${T[legacy,valid]}" "${T[api,valid]}" "$key"; do
    grep -qF -- "$secret" "$SB_TMP/daemon.log" && leaked=$((leaked + 1))
done
check "no caller token, credential or API key in the log" 0 "$leaked"

# -- [grpc] from the environment, checked like the file
out=$(SESSIONBRIDGE_GRPC_LISTEN=nowhere "$SB_BIN" --check-config -c "$SB_TMP/sb.ini" 2>&1)
check "SESSIONBRIDGE_GRPC_LISTEN is read and checked" "sessionbridge: environment SESSIONBRIDGE_GRPC_LISTEN: [grpc] listen: expected host:port (e.g. 127.0.0.1:8080)" "$out"
out=$(SESSIONBRIDGE_GRPC_LISTN=127.0.0.1:1 "$SB_BIN" --check-config -c "$SB_TMP/sb.ini" 2>&1)
check_match "a misspelt [grpc] variable is an error" "environment SESSIONBRIDGE_GRPC_LISTN: not a configuration key" "$out"

# -- The Envoy recipes: well-formed YAML with what the bridge needs
$SB_PY - "$SB_SOURCE_DIR/docker/envoy" >"$SB_TMP/envoy.out" 2>&1 <<'PY'
import sys, yaml
d = sys.argv[1]
def authz(f):
    doc = yaml.safe_load(open(f"{d}/{f}"))
    hcm = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return [h for h in hcm["http_filters"] if h["name"] == "envoy.filters.http.ext_authz"][0]["typed_config"]
g, h = authz("envoy-grpc.yaml"), authz("envoy-http.yaml")
for c in (g, h):
    assert {"exact": "cookie"} in c["allowed_headers"]["patterns"]
    assert c["failure_mode_allow"] is False
assert g["grpc_service"]["envoy_grpc"]["cluster_name"] == "sessionbridge"
resp = h["http_service"]["authorization_response"]
assert {"exact": "set-cookie"} in resp["allowed_client_headers_on_success"]["patterns"]
assert h["http_service"]["path_prefix"] == "/v1/auth"
print("ok")
PY
check "the Envoy recipes are YAML naming cookie and set-cookie" "ok" "$(cat "$SB_TMP/envoy.out")"

# -- SIGTERM drains: a call the daemon holds when the signal comes (its
# message not sent yet) is answered after it, then the daemon exits 0
check "a call in flight at SIGTERM is answered" "OK NOT_SERVING" \
    "$("${GC[@]}" drain "$SB_TMP/pb" "127.0.0.1:$GPORT" "$SB_DAEMON_PID" "$SB_TMP/daemon.log" 2>"$SB_TMP/drain.err")"
check "no gRPC call was cancelled by the drain" 0 "$(grep -c 'cancelling them' "$SB_TMP/daemon.log")"

sb_api_finish
