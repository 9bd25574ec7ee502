#!/usr/bin/env bash
# forward-auth during a migration: the metrics that count it
# (sessionbridge_auth_requests_total{backend, presented, result}, bounded
# labels; credentials_total{op="auth"} per valid credential), shadow checks
# ([route] shadow = on: agree, cannot_encode, planted disagreements, a log
# line naming fields and never values) and retiring the legacy cookie
# ([route] retire = legacy: expired only when a valid new credential is
# held), with the config errors of both keys.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_prepare
sb_start_redis
# legacy: Flask, its cookie on a path and a domain (so the expiry must
# name both); new: gorilla (gob), user ids as Go ints.
route_and_profiles() {
    printf '%s\n' "[api]" "tokens_file = $SB_TMP/tokens" "open_on_loopback = auth,validate" \
        "[route]" "legacy = legacy" "new = new" "mint = new" "$@" \
        "[profile.legacy]" "format = flask" "cookie_name = session" \
        "cookie_path = /shop" "cookie_domain = shop.example" \
        "secrets_file = $SB_TMP/flask.sec" "subject_field = _user_id" \
        "[profile.new]" "format = gorilla" "cookie_name = gsess" \
        "hash_keys_file = $SB_TMP/gorilla.sec" "subject_field = user_id" \
        "subject_type = int" \
        "[profile.node]" "format = express" "secrets_file = $SB_TMP/express.sec" \
        "subject_field = user_id"
}

# ---- config: clear errors, env overrides --------------------------------
# config_error LINES...: the first line of --check-config's error for a
# config with these [route] lines.
config_error() {
    sb_write_config "$SB_TMP/bad.ini" "$(route_and_profiles "$@")"
    "$SB_BIN" --check-config -c "$SB_TMP/bad.ini" 2>&1 >/dev/null | head -1
}
check_match "shadow = maybe is refused, naming the key" '\[route\] shadow: .maybe. is not on or off' "$(config_error 'shadow = maybe')"
check_match "retire = new is refused" "\[route\] retire: 'new' is not a side that can be retired \(legacy" "$(config_error 'retire = new')"
sb_write_config "$SB_TMP/bad.ini" "$(route_and_profiles 'retire = legacy' | sed 's/^mint = new$/mint = legacy/')"
check_match "retire = legacy while mint = legacy is refused" '\[route\] retire: retire = legacy while \[route\] mint = legacy' \
    "$("$SB_BIN" --check-config -c "$SB_TMP/bad.ini" 2>&1 >/dev/null)"
sb_write_config "$SB_TMP/bad.ini" "$(route_and_profiles 'retire = legacy' | sed '/^legacy = legacy$/d')"
check_match "retire without [route] legacy is refused" 'retire = legacy needs \[route\] legacy and new' \
    "$("$SB_BIN" --check-config -c "$SB_TMP/bad.ini" 2>&1 >/dev/null)"
sb_write_config "$SB_TMP/bad.ini" "$(route_and_profiles 'retire = legacy' | sed 's/^cookie_name = gsess$/cookie_name = session\ncookie_path = \/shop\ncookie_domain = shop.example/')"
check_match "retire with the same cookie on both sides is refused" 'a legacy cookie distinct from the new one' \
    "$("$SB_BIN" --check-config -c "$SB_TMP/bad.ini" 2>&1 >/dev/null)"
sb_write_config "$SB_TMP/bad.ini" "$(route_and_profiles)"
check_match "SESSIONBRIDGE_ROUTE_SHADOW=sometimes is refused, naming the variable" 'SESSIONBRIDGE_ROUTE_SHADOW.*is not on or off' \
    "$(SESSIONBRIDGE_ROUTE_SHADOW=sometimes "$SB_BIN" --check-config -c "$SB_TMP/bad.ini" 2>&1 >/dev/null)"
SESSIONBRIDGE_ROUTE_RETIRE=legacy "$SB_BIN" --check-config -c "$SB_TMP/bad.ini" >/dev/null 2>&1
check "SESSIONBRIDGE_ROUTE_RETIRE=legacy is accepted" 0 $?

sb_write_config "$SB_TMP/sb.ini" "$(route_and_profiles 'shadow = on')"
sb_start_daemon "$SB_TMP/sb.ini"
now=$(date +%s)

# legacy_cookie SUBJECT DATA_JSON: a legacy (Flask) cookie the legacy app
# could have written, with a fresh sid.
n=0
legacy_cookie() {
    n=$((n + 1))
    offline_cookie legacy "$now" "{\"sid\":\"s$n-$RANDOM\",\"subject\":\"$1\",\"data\":$2,\"issued_at\":$now,\"expires_at\":0}"
}
# auth COOKIE_HEADER [curl args]: A_STATUS, A_SETCOOKIE (every Set-Cookie
# line, ' | ' separated).
auth() {
    local h=$1; shift
    curl -s -D "$SB_TMP/ah" -o /dev/null ${h:+-H "Cookie: $h"} "$@" "$SB_URL/v1/auth" >/dev/null
    tr -d '\r' <"$SB_TMP/ah" >"$SB_TMP/ah2"
    A_STATUS=$(head -1 "$SB_TMP/ah2" | cut -d' ' -f2)
    A_SETCOOKIE=$(sed -n 's/^Set-Cookie: //p' "$SB_TMP/ah2" | paste -sd'|' | sed 's/|/ | /g')
}
# metric NAME_AND_LABELS: its value in /metrics (0 when absent).
metric() {
    curl -s "$SB_URL/metrics" | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}
shadow() { metric "sessionbridge_shadow_total{result=\"$1\"}"; }
# reloads_at_least N: the daemon has logged N reloads.
reloads_at_least() { [ "$(grep -c '"configuration reloaded"' "$SB_TMP/daemon.log")" -ge "$1" ]; }

# ---- shadow ---------------------------------------------------------------
agree_cookie=$(legacy_cookie alice '{"cart":"apple,pear","n":3,"flags":{"beta":true}}')
auth "$agree_cookie"
check "a legacy cookie the new format carries: 200" 200 "$A_STATUS"
auth "$agree_cookie"
check "shadow: agree, once per request (cache hits too)" "2 0 0" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"

# gob has no type for an array of numbers (README Formats, gorilla).
auth "$(legacy_cookie bob '{"scores":[1,2]}')"
check "a legacy cookie whose data gob cannot hold is still served" 200 "$A_STATUS"
check "shadow: cannot_encode" "2 0 1" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"

# Planted: subject_type = int reads the legacy user "007" as Go int 7.
auth "$(legacy_cookie 007 '{"cart":"kiwi"}')"
check "shadow: a subject the new format rewrites is a disagreement" "2 1 1" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"
sb_wait_for grep -q '"fields":"subject"' "$SB_TMP/daemon.log"
check_match "the log names the field that differs" '"msg":"shadow: the new profile would see this session differently".*"fields":"subject"' \
    "$(grep 'shadow: the new' "$SB_TMP/daemon.log" | head -1)"
# Planted: the legacy data has a user_id of its own, which the new
# profile's subject_field overwrites (another second, so it is logged).
sleep 1
auth "$(legacy_cookie carol '{"user_id":"mallory-77","note":"x"}')"
check "shadow: data the new format overwrites is a disagreement" "2 2 1" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"
sb_wait_for grep -q '"fields":"data.user_id"' "$SB_TMP/daemon.log"
check_match "the log names data.user_id" '"fields":"data.user_id"' "$(grep 'shadow: the new' "$SB_TMP/daemon.log" | tail -1)"
check "no shadow log line holds a value (007, mallory-77, kiwi)" "" \
    "$(grep 'shadow: the new' "$SB_TMP/daemon.log" | grep -E '007|mallory|kiwi')"
# A request the new credential decides is not shadow-checked.
login dave '{"cart":"fig"}'
auth "$(cookie new)"
check "a new-format request is not shadow-checked" "2 2 1" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"

# A new format whose data lives in a framework record (express): the record
# is built and parsed in memory, nothing is written for the check.
sb_write_config "$SB_TMP/sb.ini" "$(route_and_profiles 'shadow = on' | sed 's/^new = new$/new = node/; s/^mint = new$/mint = node/')"
kill -HUP "$SB_DAEMON_PID"
SB_WAIT=300 sb_wait_for reloads_at_least 1
auth "$(legacy_cookie henry '{"cart":"lime","n":2}')"
check "shadow against express (a record format): agree" "3 2 1" "$(shadow agree) $(shadow disagree) $(shadow cannot_encode)"
sb_write_config "$SB_TMP/sb.ini" "$(route_and_profiles 'shadow = on')"
kill -HUP "$SB_DAEMON_PID"
SB_WAIT=300 sb_wait_for reloads_at_least 2

# ---- auth_requests_total: backend, presented, result ----------------------
req() { metric "sessionbridge_auth_requests_total{backend=\"$1\",presented=\"$2\",result=\"$3\"}"; }
login erin '{}'
legacy_erin=$(cookie legacy)
new_erin=$(cookie new)
auth "" -H 'X-Sessionbridge-Backend: new_app'
auth "$legacy_erin" -H 'X-Sessionbridge-Backend: new_app'
auth "$legacy_erin; $new_erin" -H 'X-Sessionbridge-Backend: new_app'
auth "$new_erin" -H 'X-Sessionbridge-Backend: legacy_app'
auth "session=forged.value.x" -H 'X-Sessionbridge-Backend: legacy_app'
check "backend new_app, nothing presented: no_credential" 1 "$(req new_app none no_credential)"
check "backend new_app, legacy only: minted (the new cookie)" 1 "$(req new_app legacy minted)"
check "backend new_app, both: ok" 1 "$(req new_app both ok)"
check "backend legacy_app, new only: minted (the legacy cookie)" 1 "$(req legacy_app new minted)"
check "backend legacy_app, a forged legacy cookie: bad_signature" 1 "$(req legacy_app legacy bad_signature)"
before=$(req unknown both ok)
auth "$legacy_erin; $new_erin"
auth "$legacy_erin; $new_erin" -H 'X-Sessionbridge-Backend: New App!'
auth "$legacy_erin; $new_erin" -H "X-Sessionbridge-Backend: $(printf 'a%.0s' $(seq 33))"
check "no header, an unsafe value and a 33-byte value count as unknown" $((before + 3)) "$(req unknown both ok)"
for i in $(seq 1 20); do auth "$legacy_erin; $new_erin" -H "X-Sessionbridge-Backend: b$i"; done
series=$(curl -s "$SB_URL/metrics" | grep -c '^sessionbridge_auth_requests_total{backend="b[0-9]*"')
check "backend labels are capped: 16 distinct names at most (2 taken above)" 14 "$series"
check "past the cap a backend counts as other" 6 "$(req other both ok)"
check "credentials_total{op=auth}: each valid credential of a request counts for its profile" "1" \
    "$( [ "$(metric 'sessionbridge_credentials_total{op="auth",profile="new",result="active"}')" -ge 20 ] && echo 1)"

# ---- retire -----------------------------------------------------------------
sb_write_config "$SB_TMP/sb.ini" "$(route_and_profiles 'retire = legacy')"
kill -HUP "$SB_DAEMON_PID"
SB_WAIT=300 sb_wait_for reloads_at_least 3
expiry='session=; Path=/shop; Domain=shop.example; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly'
login frank '{"cart":"plum"}'
legacy_frank=$(cookie legacy)
new_frank=$(cookie new)
auth "$legacy_frank; $new_frank"
check "retire: new valid + legacy: the legacy cookie is expired (name, path, domain)" "200 $expiry" "$A_STATUS $A_SETCOOKIE"
auth "$new_frank; $legacy_frank"
check "retire: the same whatever the cookie order" "200 $expiry" "$A_STATUS $A_SETCOOKIE"
auth "$new_frank"
check "retire: new only: no Set-Cookie (no legacy cookie is handed out)" "200 " "$A_STATUS $A_SETCOOKIE"
auth "$legacy_frank"
check_match "retire: legacy only: served, the new cookie minted, no legacy expiry" '^200 gsess=[^|]*$' "$A_STATUS $A_SETCOOKIE"
login frank '{}'
revoked_new=$(cookie new)
api DELETE "/v1/sessions/$LOGIN_SID"
auth "$legacy_frank; $revoked_new"
check_match "retire: new revoked + legacy: no expiry (a new cookie is minted)" '^200 gsess=' "$A_STATUS $A_SETCOOKIE"
check "retire: new revoked + legacy: the legacy cookie is not expired" "" "$(printf '%s' "$A_SETCOOKIE" | grep -o 'session=;')"
auth "$legacy_frank; gsess=not-a-valid-cookie"
check "retire: new invalid + legacy: no expiry" "" "$(printf '%s' "$A_SETCOOKIE" | grep -o 'session=;')"
login grace '{}'
auth "$legacy_frank; $(cookie new)"
check "retire: a valid new cookie of another session does not retire frank's legacy one" "" "$(printf '%s' "$A_SETCOOKIE" | grep -o 'session=;')"

sb_api_finish
