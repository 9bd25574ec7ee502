#!/usr/bin/env bash
# HTTP API, the session resource: POST /v1/sessions, GET / PATCH / DELETE
# /v1/sessions/{sid}, GET / DELETE /v1/users/{subject}/sessions, with the
# keys and TTLs they leave in a real Redis (proto/REDIS-LAYOUT.md), the
# connect-redis record of the express profile, protobuf bodies, and every
# bad input (400/413/415 with a specific code and nothing written).
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

# Expiries are checked as absolute times (Redis EXPIRETIME, 7.0+), never
# as a TTL read some unknown time after the write.  The daemon sets a key's
# expiry from its own clock during the request, so the key expires at the
# session's expires_at plus at most the request's duration (T0..T1, timed
# here) and one second of rounding, never before.
# timed CMD...: runs CMD in this shell; T0 and T1 are the Unix seconds
# before and after it.
timed() { T0=$(date +%s); "$@"; T1=$(date +%s); }
# between LO HI VALUE: "yes" if LO <= VALUE <= HI, else what VALUE was.
between() { [ "$3" -ge "$1" ] 2>/dev/null && [ "$3" -le "$2" ] && echo yes || echo "no ($3 not in $1..$2)"; }
# expires_at KEY AT: KEY expires at AT, give or take the last timed request.
expires_at() { between "$2" $(($2 + T1 - T0 + 1)) "$(sb_redis expiretime "$1")"; }
# lives KEY SECONDS: KEY was written during the last timed request to live
# SECONDS from then.
lives() { between $((T0 + $2)) $((T1 + 1 + $2)) "$(sb_redis expiretime "$1")"; }

# -- login
timed login alice '{"theme":"dark","n":12345678901234567,"tags":[]}' 3600
check "POST /v1/sessions is 201" 201 "$API_STATUS"
sid=$LOGIN_SID
check_match "a new sid is 32 characters" '^[A-Za-z0-9_-]{32}$' "$sid"
check "the session names the subject" alice "$(jget '["session"]["subject"]')"
check "version 1" 1 "$(jget '["session"]["version"]')"
exp=$(jget '["session"]["expires_at"]')
check "expires_at = issued_at + ttl" 3600 "$(( exp - $(jget '["session"]["issued_at"]') ))"
for p in $SB_API_ALL; do
    check_match "a credential for $p" '.{16,}' "$(cred "$p")"
    check_match "a Set-Cookie for $p" '^[^=;]+=[^;]+; Path=/' "$(jget "[\"credentials\"][\"$p\"][\"set_cookie\"]")"
done

# -- what it left in Redis
skey="sb:{u:alice}:sess:$sid"
check "session key exists" 1 "$(sb_redis exists "$skey")"
check "session key expires at expires_at" yes "$(expires_at "$skey" "$exp")"
stored=$(sb_redis get "$skey")
check "stored JSON has every field" "sid subject issued_at expires_at profile data version updated_at" \
    "$($SB_PY -c 'import json,sys; print(" ".join(json.loads(sys.argv[1])))' "$stored")"
check "stored data keeps a big integer" 12345678901234567 "$(json_get "$stored" '["data"]["n"]')"
check "stored data keeps an empty array" "[]" "$(json_get "$stored" '["data"]["tags"]')"
check "index holds the sid, scored by expiry" "$exp" "$(sb_redis zscore 'sb:{u:alice}:idx' "$sid")"
check "index expires with its latest member" yes "$(expires_at 'sb:{u:alice}:idx' "$exp")"
check "sid pointer names the owner" "u:alice" "$(sb_redis get "sb:sid:$sid")"
check "sid pointer expires with the session" yes "$(expires_at "sb:sid:$sid" "$exp")"
check "layout version" 1 "$(sb_redis get sb:layout)"
rec=$(sb_redis get "sess:$sid")
check "connect-redis record written for express" alice "$(json_get "$rec" '["user_id"]')"
check_match "connect-redis record has its cookie object first" '^\{"cookie":\{' "$rec"
check "connect-redis record expires with the session" yes "$(expires_at "sess:$sid" "$exp")"

# -- a second, shorter session: the index TTL follows the latest member
timed login alice '{}' 600
sid2=$LOGIN_SID
exp2=$(jget '["session"]["expires_at"]')
check "the short session's expires_at = issued_at + 600" 600 "$(( exp2 - $(jget '["session"]["issued_at"]') ))"
check "index has both" 2 "$(sb_redis zcard 'sb:{u:alice}:idx')"
check "index still expires with the latest member" yes "$(expires_at 'sb:{u:alice}:idx' "$exp")"
check "short session key expires at its expires_at" yes "$(expires_at "sb:{u:alice}:sess:$sid2" "$exp2")"

# -- an expired member is pruned by the next write
login carol '{}' 1
short=$LOGIN_SID
sleep 2.2
timed login carol '{}' 3600
check "expired sid pruned from the index" "$LOGIN_SID" "$(sb_redis zrange 'sb:{u:carol}:idx' 0 -1)"
check "index expires with its one live member" yes "$(expires_at 'sb:{u:carol}:idx' "$(jget '["session"]["expires_at"]')")"
api GET "/v1/sessions/$short"
check "an expired session is 404" 404 "$API_STATUS"

# -- GET
api GET "/v1/sessions/$sid"
check "GET session is 200" 200 "$API_STATUS"
check "GET returns the data" dark "$(jget '["data"]["theme"]')"
check "GET keeps the big integer" 12345678901234567 "$(jget '["data"]["n"]')"

# -- PATCH
expiry_before=$(sb_redis pexpiretime "$skey")
api PATCH "/v1/sessions/$sid" '{"data":{"theme":null,"cart":[1,2],"n":7}}'
check "PATCH is 200" 200 "$API_STATUS"
check "PATCH bumps the version" 2 "$(jget '["version"]')"
check "PATCH removes a key sent as null" None "$($SB_PY -c 'import json,sys; print(json.loads(sys.argv[1])["data"].get("theme"))' "$API_BODY")"
check "PATCH merges new keys" "[1, 2]" "$(jget '["data"]["cart"]')"
check "PATCH keeps untouched keys" "[]" "$(jget '["data"]["tags"]')"
check "PATCH keeps the expiry (to the millisecond)" "$expiry_before" "$(sb_redis pexpiretime "$skey")"
check "PATCH reaches the connect-redis record" 7 "$(json_get "$(sb_redis get "sess:$sid")" '["n"]')"
api PATCH "/v1/sessions/$sid" '{"data":{}}'
check "a second PATCH bumps again" 3 "$(jget '["version"]')"

# -- protobuf
printf '\x0a\x03bob\x18\x90\x1c' >"$SB_TMP/create.bin"   # subject=bob ttl=3600
status=$(curl -s -o "$SB_TMP/created.bin" -w '%{http_code} %{content_type}' -X POST \
    -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/x-protobuf' \
    --data-binary @"$SB_TMP/create.bin" "$SB_URL/v1/sessions")
check "protobuf login answers protobuf" "201 application/x-protobuf" "$status"
check "protobuf answer carries the subject" yes "$(grep -q bob "$SB_TMP/created.bin" && echo yes)"
api GET /v1/users/bob/sessions
check "the protobuf login is listed" 1 "$($SB_PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"
status=$(curl -s -o /dev/null -w '%{http_code} %{content_type}' -H "X-Bridge-Token: $BTOK" \
    -H 'Accept: application/x-protobuf' "$SB_URL/v1/sessions/$sid")
check "Accept: application/x-protobuf on GET" "200 application/x-protobuf" "$status"

# -- users' sessions
api GET /v1/users/alice/sessions
check "list is 200" 200 "$API_STATUS"
check "list has both sessions, soonest expiry first" "$sid2 $sid" \
    "$($SB_PY -c 'import json,sys; print(" ".join(s["sid"] for s in json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"
api GET /v1/users/nobody/sessions
check "an unknown user has an empty list" '{"sessions":[]}' "$API_BODY"
login 'odd user:{x}%/' '{}' 3600
odd=$LOGIN_SID
check "an odd subject is escaped in the tag" 1 "$(sb_redis exists "sb:{u:odd%20user%3A%7Bx%7D%25%2F}:sess:$odd")"
api GET "/v1/users/odd%20user%3A%7Bx%7D%25/sessions?subject=odd%20user%3A%7Bx%7D%25%2F"
check "an odd subject can be listed by ?subject=" "$odd" \
    "$($SB_PY -c 'import json,sys; print(" ".join(s["sid"] for s in json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"

login 'a%41b' '{}' 3600
api GET "/v1/users/a%2541b/sessions"
check "a path segment is percent-decoded once" "$LOGIN_SID" \
    "$($SB_PY -c 'import json,sys; print(" ".join(s["sid"] for s in json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"

# -- DELETE one
timed api DELETE "/v1/sessions/$sid2"
check "DELETE is 200" 200 "$API_STATUS"
check "DELETE says it existed" true "$(jget '["existed"]')"
check "the session key is gone" 0 "$(sb_redis exists "sb:{u:alice}:sess:$sid2")"
check "its index entry is gone" "" "$(sb_redis zscore 'sb:{u:alice}:idx' "$sid2")"
marker="sb:{u:alice}:rev:$sid2"
revoked_at=$(sb_redis get "$marker")
check "the revocation marker holds the time of the DELETE" yes "$(between "$T0" "$T1" "$revoked_at")"
check "a revocation marker lives as long as any credential could (400 days: some profile has no max_age)" \
    yes "$(lives "$marker" 34560000)"
check "its connect-redis record is gone" 0 "$(sb_redis exists "sess:$sid2")"
marker_expiry=$(sb_redis pexpiretime "$marker")
api DELETE "/v1/sessions/$sid2"
check "DELETE again is 200, existed false" "200 false" "$API_STATUS $(jget '["existed"]')"
check "...and keeps the marker as it was: revocation time" "$revoked_at" "$(sb_redis get "$marker")"
check "...and expiry (to the millisecond)" "$marker_expiry" "$(sb_redis pexpiretime "$marker")"
api GET "/v1/sessions/$sid2"
check "GET a deleted session is 404" "404 not_found" "$API_STATUS $(jget '["error"]')"
api DELETE /v1/sessions/never-seen-sid
check "DELETE of a sid the store never saw is 404" 404 "$API_STATUS"
api DELETE "/v1/sessions/never-seen-sid?subject=alice"
check "...but with ?subject= it is revoked" 200 "$API_STATUS"
check "...with a marker in the user's slot" 1 "$(sb_redis exists 'sb:{u:alice}:rev:never-seen-sid')"

# -- DELETE a user's sessions
timed api DELETE /v1/users/alice/sessions
check "log out everywhere is 200" 200 "$API_STATUS"
check "it removed one session" 1 "$(jget '["sessions_removed"]')"
check "not_before is the time of the request" yes "$(between "$T0" "$T1" "$(jget '["not_before"]')")"
check "the index is gone" 0 "$(sb_redis exists 'sb:{u:alice}:idx')"
check "the session is gone" 0 "$(sb_redis exists "$skey")"
check "not-before TTL = the longest credential lifetime (400 days: some profile has no max_age)" \
    yes "$(lives 'sb:{u:alice}:nbf' 34560000)"
check "the logged-out session has a marker as long-lived" yes "$(lives "sb:{u:alice}:rev:$sid" 34560000)"
check "its connect-redis record is gone" 0 "$(sb_redis exists "sess:$sid")"

# -- bad input: a specific code, and nothing written
keys_before=$(sb_data_keys)
bad() { # NAME STATUS CODE METHOD PATH BODY [curl args]
    local name=$1 st=$2 code=$3 m=$4 p=$5 b=$6
    shift 6
    api "$m" "$p" "$b" "$@"
    check "$name" "$st $code" "$API_STATUS $(jget '["error"]')"
}
bad "login: invalid JSON" 400 invalid_json POST /v1/sessions '{"subject":'
bad "login: not an object" 400 invalid_json POST /v1/sessions '["alice"]'
bad "login: missing subject" 400 missing_field POST /v1/sessions '{"data":{}}'
bad "login: subject of the wrong type" 400 wrong_type POST /v1/sessions '{"subject":42}'
bad "login: empty subject" 400 invalid_field POST /v1/sessions '{"subject":""}'
bad "login: subject over 256 bytes" 413 too_large POST /v1/sessions "{\"subject\":\"$(head -c 300 /dev/zero | tr '\0' a)\"}"
bad "login: data not an object" 400 wrong_type POST /v1/sessions '{"subject":"x","data":[1]}'
bad "login: ttl not an integer" 400 wrong_type POST /v1/sessions '{"subject":"x","ttl":"60"}'
bad "login: ttl zero" 400 invalid_field POST /v1/sessions '{"subject":"x","ttl":0}'
bad "login: ttl beyond 400 days" 400 invalid_field POST /v1/sessions '{"subject":"x","ttl":99999999999}'
bad "login: unknown profile" 400 unknown_profile POST /v1/sessions '{"subject":"x","profile":"nope"}'
bad "login: JSON nested too deep" 413 too_large POST /v1/sessions "{\"subject\":\"x\",\"data\":{\"a\":$(printf '[%.0s' $(seq 40))$(printf ']%.0s' $(seq 40))}}"
bad "login: empty body" 400 missing_body POST /v1/sessions ''
api_raw POST /v1/sessions -H "X-Bridge-Token: $BTOK" --data 'subject=x'
check "login: form body" "400 invalid_json" "$API_STATUS $(jget '["error"]')"
printf '\xff\xff\xff' >"$SB_TMP/bad.bin"
api_raw POST /v1/sessions -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/x-protobuf' \
    -H 'Accept: application/json' --data-binary @"$SB_TMP/bad.bin"
check "login: bad protobuf" "400 invalid_protobuf" "$API_STATUS $(jget '["error"]')"
printf '\x0a\x01x\x12\x05{nope' >"$SB_TMP/badjson.bin"
api_raw POST /v1/sessions -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/x-protobuf' \
    -H 'Accept: application/json' --data-binary @"$SB_TMP/badjson.bin"
check "login: protobuf whose data_json is not JSON" "400 invalid_protobuf" "$API_STATUS $(jget '["error"]')"
big=$(head -c 70000 /dev/zero | tr '\0' a)
bad "login: body over max_body" 413 too_large POST /v1/sessions "{\"subject\":\"$big\"}"
bad "GET: invalid sid" 400 invalid_sid GET '/v1/sessions/bad%20sid' ''
bad "PATCH: missing data" 400 missing_field PATCH /v1/sessions/abc '{}'
bad "PATCH: data of the wrong type" 400 wrong_type PATCH /v1/sessions/abc '{"data":"x"}'
bad "PATCH: invalid JSON" 400 invalid_json PATCH /v1/sessions/abc '{'
bad "PATCH: unknown session" 404 not_found PATCH /v1/sessions/abc '{"data":{}}'
bad "DELETE: invalid sid" 400 invalid_sid DELETE '/v1/sessions/a%7Bb' ''
bad "DELETE: empty subject" 400 invalid_field DELETE '/v1/sessions/abc?subject=' ''
api_raw GET /v1/sessions/abc
check "no caller token is 401" "401 unauthenticated" "$API_STATUS $(jget '["error"]')"
api_raw GET /v1/users/alice/sessions -H 'X-Bridge-Token: wrong-token'
check "a wrong caller token is 401" "401 unauthenticated" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/sessions -H 'Content-Type: application/json' --data '{"subject":"x"}'
check "sessions are not open to loopback callers" 401 "$API_STATUS"
check "bad input wrote nothing" "$keys_before" "$(sb_data_keys)"
# JSON by default: curl -d's form Content-Type does not stand in the way.
api_raw POST /v1/sessions -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data '{"subject":"curl-d"}'
check "login: JSON sent with curl -d's default Content-Type" "201 curl-d" "$API_STATUS $(jget '["session"]["subject"]')"

sb_api_finish
