#!/usr/bin/env bash
# HTTP API, forward-auth (GET|POST /v1/auth and below): every combination
# of the legacy (flask) and new (gorilla) cookies being absent, valid,
# expired or revoked; the identity headers, the credential minted for
# [route] mint, Set-Cookie only for what the browser lacks; bearer tokens;
# route flips by reload; header safety.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_prepare
sb_start_redis
sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES" "[profile.fl]
format = flask
cookie_name = flsess
secrets_file = $SB_TMP/flask.sec
subject_field = _user_id
session_protection = strong"
sb_start_daemon "$SB_TMP/sb.ini"

now=$(date +%s)
past=$((now - 40 * 86400))
# valid: one login; revoked: another login, deleted; expired: made 40 days ago
login alice '{"theme":"dark"}' 3600
valid_sid=$LOGIN_SID
declare -A C
C[legacy,valid]=$(cookie legacy)
C[new,valid]=$(cookie new)
login alice '{}' 3600
revoked_sid=$LOGIN_SID
C[legacy,revoked]=$(cookie legacy)
C[new,revoked]=$(cookie new)
api DELETE "/v1/sessions/$revoked_sid"
C[legacy,expired]=$(offline_cookie legacy "$past" "{\"sid\":\"old-1\",\"subject\":\"alice\",\"data\":{},\"issued_at\":$past,\"expires_at\":0}")
C[new,expired]=$(offline_cookie new "$past" "{\"sid\":\"old-2\",\"subject\":\"alice\",\"data\":{},\"issued_at\":$past,\"expires_at\":$((past + 86400))}")

# auth COOKIE_HEADER [curl args]: sets A_STATUS, A_SID, A_PROFILE,
# A_SETCOOKIES (cookie names, sorted), A_TOKEN, A_ERROR.
auth() {
    local h=$1; shift
    curl -s -D "$SB_TMP/ah" -o /dev/null ${h:+-H "Cookie: $h"} "$@" "$SB_URL/v1/auth" >/dev/null
    tr -d '\r' <"$SB_TMP/ah" >"$SB_TMP/ah2"
    A_STATUS=$(head -1 "$SB_TMP/ah2" | cut -d' ' -f2)
    A_SID=$(sed -n 's/^X-Session-Id: //p' "$SB_TMP/ah2")
    A_PROFILE=$(sed -n 's/^X-Session-Profile: //p' "$SB_TMP/ah2")
    A_SUBJECT=$(sed -n 's/^X-Session-Subject: //p' "$SB_TMP/ah2")
    A_TOKEN=$(sed -n 's/^X-Session-Token: //p' "$SB_TMP/ah2")
    A_COOKIE=$(sed -n 's/^X-Session-Cookie: //p' "$SB_TMP/ah2")
    A_ERROR=$(sed -n 's/^X-Session-Error: //p' "$SB_TMP/ah2")
    A_SETCOOKIES=$(sed -n 's/^Set-Cookie: \([^=]*\)=.*/\1/p' "$SB_TMP/ah2" | sort | tr '\n' ' ' | sed 's/ $//')
}

states="absent valid expired revoked"
for l in $states; do
    for n in $states; do
        hdr=""
        [ "$l" != absent ] && hdr="${C[legacy,$l]}"
        [ "$n" != absent ] && hdr="${hdr:+$hdr; }${C[new,$n]}"
        auth "$hdr"
        name="legacy $l, new $n"
        if [ "$l" = valid ] || [ "$n" = valid ]; then
            want_cookie=""
            [ "$l" != valid ] && want_cookie="session"
            [ "$n" != valid ] && want_cookie="gsess"
            from=legacy; [ "$l" != valid ] && from=new
            check "$name: 200 for the valid session" "200 $valid_sid alice $from" "$A_STATUS $A_SID $A_SUBJECT $A_PROFILE"
            check "$name: Set-Cookie only for what is missing" "$want_cookie" "$A_SETCOOKIES"
            check_match "$name: the mint profile's credential" '^MTc|^[A-Za-z0-9_-]{40,}' "$A_TOKEN"
            check "$name: X-Session-Cookie carries it" "gsess=$A_TOKEN" "$A_COOKIE"
        else
            want=no_credential
            { [ "$l" = expired ] || [ "$n" = expired ]; } && want=expired
            { [ "$l" = revoked ] || [ "$n" = revoked ]; } && want=revoked
            check "$name: 401 $want" "401 $want" "$A_STATUS $A_ERROR"
            check "$name: no Set-Cookie" "" "$A_SETCOOKIES"
        fi
    done
done

# the minted gorilla credential is the valid session's
auth "${C[legacy,valid]}"
check "the minted credential validates as the same session" "200 alice" "$(validate "$A_TOKEN" new)"
api POST /v1/validate "{\"token\":\"$A_TOKEN\",\"profile\":\"new\"}"
check "...with the same sid" "$valid_sid" "$(jget '["session"]["sid"]')"
auth "${C[new,valid]}"
check "with the new cookie, X-Session-Token is that cookie's value" "${C[new,valid]#gsess=}" "$A_TOKEN"
auth "${C[legacy,valid]}; ${C[new,valid]}"
check "with both cookies the browser's own new cookie is passed on, not a fresh one" "${C[new,valid]#gsess=}" "$A_TOKEN"

# any path below /v1/auth, any method, bearer tokens
login bob '{}' 600
st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Cookie: $(cookie legacy)" "$SB_URL/v1/auth/app/orders?x=1")
check "POST /v1/auth/app/orders is forward-auth too" 200 "$st"
auth "" -H "Authorization: Bearer $(cred api)"
check "a bearer JWT authenticates" "200 bob api" "$A_STATUS $A_SUBJECT $A_PROFILE"
check "...and the browser gets both route cookies" "gsess session" "$A_SETCOOKIES"
check "a path that only starts like /v1/auth is not it" 404 "$(sb_http_status GET /v1/authx)"
auth "$(cookie legacy); $(cookie new)" -H 'X-Forwarded-For: 203.0.113.9, 10.0.0.1'
check "X-Forwarded-For does not disturb a flask cookie (session_protection off)" 200 "$A_STATUS"

# Flask-Login strong session protection: the client address comes from
# X-Forwarded-For (first entry), else X-Real-IP, else the peer
now=$(date +%s)
fl=$(printf '{"sid":"fl-1","subject":"77","data":{"_user_id":"77"},"issued_at":%s,"expires_at":%s}' "$now" $((now + 600)) |
    "$SB_CTL" -c "$SB_TMP/sb.ini" encode --profile fl --now "$now" --client-addr 203.0.113.5 --user-agent UA1 --set-cookie)
fl=${fl%%;*}
auth "$fl" -A UA1 -H 'X-Forwarded-For: 203.0.113.5, 10.0.0.1'
check "strong protection: the address from X-Forwarded-For matches" "200 77" "$A_STATUS $A_SUBJECT"
auth "$fl" -A UA1 -H 'X-Real-IP: 203.0.113.5'
check "strong protection: X-Real-IP is used without X-Forwarded-For" "200 77" "$A_STATUS $A_SUBJECT"
auth "$fl" -A UA1 -H 'X-Forwarded-For: 198.51.100.7'
check "strong protection: another address is refused" "401 invalid_claim" "$A_STATUS $A_ERROR"
auth "$fl" -A UA2 -H 'X-Forwarded-For: 203.0.113.5'
check "strong protection: another User-Agent is refused" "401 invalid_claim" "$A_STATUS $A_ERROR"
auth "$fl" -A UA1
check "strong protection: without forwarding headers the peer (127.0.0.1) is used" "401 invalid_claim" "$A_STATUS $A_ERROR"

# a subject that would break a header is percent-encoded
login 'eve\r\nX-Evil: 1' '{}' 600
auth "$(cookie legacy)"
check "control bytes in the subject are escaped" "eve%0D%0AX-Evil: 1" "$A_SUBJECT"
check "no header was injected" "" "$(grep -c '^X-Evil' "$SB_TMP/ah2" | sed 's/^0$//')"

# the work one request can ask for is bounded: at most 3 cookies of one
# profile are tried, in the order sent (browsers repeat a name across paths)
auth "session=forged.1.x; session=forged.2.x; ${C[legacy,valid]}"
check "a valid cookie after two forged ones of its profile is tried" "200 $valid_sid" "$A_STATUS $A_SID"
auth "session=forged.1.x; session=forged.2.x; session=forged.3.x; ${C[legacy,valid]}"
check "a fourth cookie of one profile is not tried" "401" "$A_STATUS"
auth "session=forged.1.x; session=forged.2.x; session=forged.3.x; ${C[new,valid]}"
check "the cap is per profile: another profile's cookie still counts" "200 $valid_sid" "$A_STATUS $A_SID"

# past [http] max_asym_verifications_per_second a forged RS token is not
# checked: 503 overloaded (a flood must not look like bad credentials)
forged_rs="$(printf '{"alg":"RS256","kid":"test-rsa-1"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').e30.$(head -c 256 /dev/urandom | base64 -w0 | tr '+/' '-_' | tr -d '=')"
auth "rs_token=$forged_rs"
check "a forged RS token is a bad signature" "401 bad_signature" "$A_STATUS $A_ERROR"
sed -i 's/^threads = 2$/threads = 2\nmax_asym_verifications_per_second = 1/' "$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
for _ in $(seq 100); do
    auth "rs_token=$forged_rs"
    [ "$A_STATUS" = 503 ] && break
    sleep 0.05
done
check "over the verification cap: 503 overloaded, no Set-Cookie" "503 overloaded " "$A_STATUS $A_ERROR $A_SETCOOKIES"
auth "${C[legacy,valid]}"
check "an HMAC cookie is not held back by the asymmetric cap" "200 $valid_sid" "$A_STATUS $A_SID"

# flipping the route is a reload, not a restart
login carol '{}' 600
sed -i 's/^mint = new$/mint = legacy/' "$SB_TMP/sb.ini"
kill -HUP "$SB_DAEMON_PID"
for _ in $(seq 30); do
    auth "$(cookie new)"
    [ "${A_COOKIE%%=*}" = session ] && break
    sleep 0.1
done
check "after SIGHUP forward-auth mints legacy" "200 session" "$A_STATUS ${A_COOKIE%%=*}"
check "the minted flask cookie validates" "200 carol" "$(validate "$A_TOKEN" legacy)"

sb_api_finish
