# api.sh - the HTTP API tests' setup on top of lib.sh: secrets, caller
# tokens and one profile of every registered format, a daemon started on
# them, and small helpers to call the API and mint credentials.
#
# Usage: . lib.sh; . api.sh; sb_api_start [extra config lines...]

SB_PY=/usr/bin/python3   # Debian's python, with python3-redis
BTOK=backend-token-0123456789abcdef
ATOK=admin-token-0123456789abcdef

# Writes secrets and tokens; SB_API_PROFILES holds the profile sections.
sb_api_prepare() {
    local f
    for f in flask gorilla jwt express star dj rails; do
        sb_secret_file "$SB_TMP/$f.sec"
    done
    head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SB_TMP/rails.sec"
    echo >>"$SB_TMP/rails.sec"
    install -m 600 "$SB_VECTORS/test-only-jwt-rs256-private.pem" "$SB_TMP/rs.pem"
    printf 'backend %s\nadmin %s\n' "$BTOK" "$ATOK" >"$SB_TMP/tokens"
    chmod 600 "$SB_TMP/tokens"
    SB_API_PROFILES="[api]
tokens_file = $SB_TMP/tokens
open_on_loopback = auth,validate
[route]
legacy = legacy
new = new
mint = new
[profile.legacy]
format = flask
cookie_name = session
secrets_file = $SB_TMP/flask.sec
subject_field = _user_id
[profile.new]
format = gorilla
cookie_name = gsess
hash_keys_file = $SB_TMP/gorilla.sec
subject_field = user_id
[profile.api]
format = jwt
alg = HS256
cookie_name = token
secrets_file = $SB_TMP/jwt.sec
max_age = 3600
[profile.node]
format = express
cookie_name = connect.sid
secrets_file = $SB_TMP/express.sec
subject_field = user_id
[profile.star]
format = starlette
cookie_name = star_session
secrets_file = $SB_TMP/star.sec
subject_field = user_id
[profile.dj]
format = django
secrets_file = $SB_TMP/dj.sec
require_auth_user_hash = false
[profile.rails]
format = rails
cookie_name = _app_session
secret_key_base_file = $SB_TMP/rails.sec
subject_field = user_id
[profile.rs]
format = jwt
alg = RS256
cookie_name = rs_token
private_key_file = $SB_TMP/rs.pem
kid = test-rsa-1"
}

# Starts Redis and the daemon with every profile; extra arguments are
# appended to the config.
sb_api_start() {
    sb_api_prepare
    sb_start_redis
    sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES" "$@"
    sb_start_daemon "$SB_TMP/sb.ini"
}

# The profiles every credential test walks through.
SB_API_ALL="legacy new api node star dj rails rs"

# api METHOD PATH [BODY [curl args...]]: calls the API as the backend with
# a JSON body; sets API_STATUS and API_BODY (no subshell, so use it bare).
api() {
    local m=$1 p=$2 body=${3-} out
    shift 2; [ $# -gt 0 ] && shift
    if [ -n "$body" ]; then
        out=$(curl -s -w '\n%{http_code}' -X "$m" -H "X-Bridge-Token: $BTOK" \
            -H 'Content-Type: application/json' --data-binary "$body" "$@" "$SB_URL$p")
    else
        out=$(curl -s -w '\n%{http_code}' -X "$m" -H "X-Bridge-Token: $BTOK" "$@" "$SB_URL$p")
    fi
    API_STATUS=${out##*$'\n'}
    API_BODY=${out%$'\n'*}
}

# api_raw METHOD PATH [curl args...]: no caller token, no body.
api_raw() {
    local m=$1 p=$2 out
    shift 2
    out=$(curl -s -w '\n%{http_code}' -X "$m" "$@" "$SB_URL$p")
    API_STATUS=${out##*$'\n'}
    API_BODY=${out%$'\n'*}
}

# jget PATH: a value of API_BODY (python expression path).
jget() { json_get "$API_BODY" "$1"; }

# login SUBJECT [DATA_JSON [TTL]]: POST /v1/sessions; leaves the answer in
# LOGIN (and API_BODY) and the sid in LOGIN_SID.
login() {
    local data=${2:-'{}'} ttl=${3:-3600}
    api POST /v1/sessions "{\"subject\":\"$1\",\"data\":$data,\"ttl\":$ttl}"
    LOGIN=$API_BODY
    LOGIN_SID=$(json_get "$LOGIN" '["session"]["sid"]')
}

# cred PROFILE: the token LOGIN minted for PROFILE.
cred() { json_get "$LOGIN" "[\"credentials\"][\"$1\"][\"token\"]"; }

# validate TOKEN [PROFILE]: POST /v1/validate; prints "STATUS ERROR-or-subject".
validate() {
    local body
    if [ -n "${2-}" ]; then
        body=$(printf '{"token":"%s","profile":"%s"}' "$1" "$2")
    else
        body=$(printf '{"token":"%s"}' "$1")
    fi
    api POST /v1/validate "$body"
    if [ "$API_STATUS" = 200 ]; then
        echo "$API_STATUS $(jget '["session"]["subject"]')"
    else
        echo "$API_STATUS $(jget '["error"]')"
    fi
}

# offline PROFILE NOW SESSION_JSON: a credential made by sessionbridgectl
# encode at time NOW (never seen by the daemon).
offline() {
    printf '%s' "$3" | "$SB_CTL" -c "$SB_TMP/sb.ini" encode --profile "$1" --now "$2"
}

# cookie PROFILE: "name=value" of the cookie LOGIN minted for PROFILE, as a
# browser sends it back.
cookie() {
    local sc
    sc=$(json_get "$LOGIN" "[\"credentials\"][\"$1\"][\"set_cookie\"]")
    echo "${sc%%;*}"
}

# offline_cookie PROFILE NOW SESSION_JSON: the same as offline, as the
# "name=value" of its cookie.
offline_cookie() {
    local sc
    sc=$(printf '%s' "$3" | "$SB_CTL" -c "$SB_TMP/sb.ini" encode --profile "$1" --now "$2" --set-cookie)
    echo "${sc%%;*}"
}

# sb_api_finish: stops the daemon, which must exit 0 and leave no
# sanitizer report in its log, then prints the totals (sb_finish).
sb_api_finish() {
    local rc
    sb_stop_daemon; rc=$?
    check "the daemon exits 0 on SIGTERM" 0 "$rc"
    check "no sanitizer report" "" "$(grep -E -m3 'AddressSanitizer|LeakSanitizer|runtime error' "$SB_TMP/daemon.log")"
    sb_finish
}
