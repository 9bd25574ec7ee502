#!/usr/bin/env bash
# HTTP API, revocation: after DELETE /v1/sessions/{sid}, DELETE
# /v1/users/{subject}/sessions or POST /v1/revoke, every credential of
# that session / user, in every registered format (stateless cookies and
# JWTs included), is revoked on every endpoint at once; a login afterwards
# works.  Real redis-server, real daemon.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

# every_profile EXPECTED LABEL: validates LOGIN's credential of each
# profile and checks "STATUS ERROR-or-subject".
every_profile() {
    local p
    for p in $SB_API_ALL; do
        check "$2: $p" "$1" "$(validate "$(cred "$p")" "$p")"
    done
}

# -- DELETE one session revokes its credentials in every format
login u1 '{"role":"admin"}' 3600
every_profile "200 u1" "valid after login"
api DELETE "/v1/sessions/$LOGIN_SID"
check "DELETE session" 200 "$API_STATUS"
every_profile "401 revoked" "revoked after DELETE"
check "forward-auth refuses a revoked flask cookie" "401 revoked" \
    "$(curl -s -o /dev/null -w '%{http_code} ' -D "$SB_TMP/h" -H "Cookie: $(cookie legacy)" "$SB_URL/v1/auth")$(tr -d '\r' <"$SB_TMP/h" | sed -n 's/^X-Session-Error: //p')"
api POST /v1/translate "{\"token\":\"$(cred api)\",\"to\":\"legacy\"}"
check "translate refuses a revoked JWT" "401 revoked" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred new)"
check "introspect: a revoked gorilla cookie is inactive" '200 {"active":false}' "$API_STATUS $API_BODY"
api GET "/v1/sessions/$LOGIN_SID"
check "the session is gone" 404 "$API_STATUS"

# -- a login afterwards works
login u1 '{}' 3600
every_profile "200 u1" "a new login works"

# -- log out everywhere, across two profiles and a credential never seen
login u2 '{"n":1}' 3600
first=$LOGIN
now=$(date +%s)
sid_new=never-seen-gorilla-1
gor=$(offline new "$((now - 60))" "{\"sid\":\"$sid_new\",\"subject\":\"u2\",\"data\":{\"user_id\":\"u2\"},\"issued_at\":$((now - 60)),\"expires_at\":$((now + 3000))}")
check "a gorilla credential the bridge never saw is valid" "200 u2" "$(validate "$gor" new)"
check "...and is now recorded under u2" 1 "$(sb_redis exists "sb:{u:u2}:sess:$sid_new")"
declare -A unseen
for p in legacy api star dj rs; do
    unseen[$p]=$(offline "$p" "$((now - 30))" "{\"sid\":\"unseen-$p\",\"subject\":\"u2\",\"data\":{},\"issued_at\":$((now - 30)),\"expires_at\":$((now + 3000))}")
done
api GET /v1/users/u2/sessions
check "u2 has two recorded sessions, from two profiles" "bridge new" \
    "$($SB_PY -c 'import json,sys; print(" ".join(sorted(s["profile"] for s in json.loads(sys.argv[1])["sessions"])))' "$API_BODY")"
sleep 1.1   # the unseen credentials' issue time must be earlier than now
api DELETE /v1/users/u2/sessions
check "log out everywhere" "200 2" "$API_STATUS $(jget '["sessions_removed"]')"
LOGIN=$first
every_profile "401 revoked" "logged out everywhere (login credentials)"
check "logged out everywhere: the gorilla credential first seen before" "401 revoked" "$(validate "$gor" new)"
for p in legacy api star dj rs; do
    check "logged out everywhere: a $p credential issued before, never seen" "401 revoked" "$(validate "${unseen[$p]}" "$p")"
done
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred legacy)"
check "introspect after log-out-everywhere" '{"active":false}' "$API_BODY"
login u2 '{}' 3600
every_profile "200 u2" "a login after log-out-everywhere works"
fresh=$(offline api "$(date +%s)" "{\"sid\":\"fresh-api\",\"subject\":\"u2\",\"data\":{},\"issued_at\":$(date +%s),\"expires_at\":$(( $(date +%s) + 600 ))}")
check "a JWT issued after log-out-everywhere by another party is valid" "200 u2" "$(validate "$fresh" api)"

# -- a same-second credential the bridge saw is caught by its marker
login u3 '{}' 3600
same=$LOGIN
check "seen before the log-out" "200 u3" "$(validate "$(cred star)" star)"
api DELETE /v1/users/u3/sessions
LOGIN=$same
check "revoked although issued in the log-out's second" "401 revoked" "$(validate "$(cred star)" star)"

# -- RFC 7009 revocation of one token revokes the session in every format
login u4 '{}' 3600
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred rs)" --data-urlencode "token_type_hint=rs"
check "revoke answers 200 {}" "200 {}" "$API_STATUS $API_BODY"
every_profile "401 revoked" "revoked by RFC 7009"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=not-a-token"
check "revoke of an unknown token is 200 (RFC 7009)" 200 "$API_STATUS"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred rs)"
check "revoke twice is 200" 200 "$API_STATUS"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data "token_type_hint=x"
check "revoke without token is 400 invalid_request" "400 invalid_request" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/json' --data '{"token":"x"}'
check "revoke with a JSON body is 415" 415 "$API_STATUS"
api_raw POST /v1/revoke --data "token=x"
check "revoke without a caller token is 401" 401 "$API_STATUS"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data "token=%zz"
check "revoke with a bad escape is 400" "400 invalid_request" "$API_STATUS $(jget '["error"]')"

# -- a stateless credential whose session the store never recorded
now=$(date +%s)
tok=$(offline legacy "$now" "{\"sid\":\"ghost-1\",\"subject\":\"u5\",\"data\":{},\"issued_at\":$now,\"expires_at\":$((now + 600))}")
api DELETE /v1/sessions/ghost-1
check "DELETE of an unrecorded sid is 404" 404 "$API_STATUS"
api DELETE "/v1/sessions/ghost-1?subject=u5"
check "DELETE with ?subject= revokes it" 200 "$API_STATUS"
check "...so the credential is revoked on first sight" "401 revoked" "$(validate "$tok" legacy)"

# -- metrics count revocations and results
# -- the admin CLI removes the connect-redis records too, as the API does:
# an Express app reading its own store must not keep the session alive.
ctl_purge() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@" >/dev/null 2>"$SB_TMP/ctl.err"; }
login u5 '{}' 3600
check "a login writes the connect-redis record" 1 "$(sb_redis exists "sess:$LOGIN_SID")"
ctl_purge purge --user u5 --yes
check "purge --user: exit 0" 0 $?
check "purge --user: the connect-redis record is gone" 0 "$(sb_redis exists "sess:$LOGIN_SID")"
login u6 '{}' 3600
ctl_purge purge --session "$LOGIN_SID" --yes
check "purge --session: the connect-redis record is gone" 0 "$(sb_redis exists "sess:$LOGIN_SID")"
login u7 '{}' 3600
ctl_purge revoke --profile legacy "$(cred legacy)"
check "revoke: exit 0" 0 $?
check "revoke: the connect-redis record is gone" 0 "$(sb_redis exists "sess:$LOGIN_SID")"
check "revoke: the express cookie is refused" "401 revoked" "$(validate "$(cred node)" node)"

metrics=$(sb_http_body GET /metrics)
check_match "revocations by kind" 'sessionbridge_revocations_total\{kind="user"\} [1-9]' "$metrics"
check_match "validations counted as revoked" 'result="revoked"' "$metrics"

sb_api_finish
