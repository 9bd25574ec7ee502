#!/usr/bin/env bash
# One session, one identity (issue 11): each way around a revocation that
# a review found, reproduced against the real daemon and a real
# redis-server, at the level a user meets it.
#  1. a sid's owner pointer cannot be re-pointed by a credential without
#     (or with another) user;
#  2. an ECDSA-malleated JWT (r, n - s) is the same session as the original;
#  3. re-signed cookies of one app session (new timestamp) are one session;
#  4. a NUL inside a subject is malformed, not a truncated user name;
#  5. each user's index is bounded, the oldest sessions going first.
# Costs about 15 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

openssl ecparam -name prime256v1 -genkey -noout -out "$SB_TMP/es.pem" 2>/dev/null
chmod 600 "$SB_TMP/es.pem"
sb_api_start "[profile.es]
format = jwt
alg = ES256
cookie_name = es_token
private_key_file = $SB_TMP/es.pem
[profile.anonstar]
format = starlette
cookie_name = anon_session
secrets_file = $SB_TMP/star.sec"

# auth COOKIE: forward-auth with that Cookie header; prints "STATUS ERROR".
auth() {
    curl -s -o /dev/null -D "$SB_TMP/ah" -w '%{http_code}' -H "Cookie: $1" "$SB_URL/v1/auth"
    printf ' %s' "$(tr -d '\r' <"$SB_TMP/ah" | sed -n 's/^X-Session-Error: //p')"
}

# flask_cookie JSON SECONDS_AGO: a Flask session cookie signed by Flask's
# own serializer with the legacy profile's secret, as if signed that many
# seconds ago.
flask_cookie() {
    $SB_PY - "$SB_TMP/flask.sec" "$1" "$2" <<'EOF'
import json, sys, time
import flask
secret = open(sys.argv[1]).read().strip()
app = flask.Flask("t")
app.secret_key = secret
ser = app.session_interface.get_signing_serializer(app)
real = time.time
time.time = lambda: real() - int(sys.argv[3])
print(ser.dumps(json.loads(sys.argv[2])))
EOF
}

# -- 1. the owner pointer is fixed at first sight ----------------------------
login gina '{"theme":"dark"}' 3600
gina_jwt=$(cred api)
gina_flask=$(cred legacy)
check "gina's JWT is valid" "200 gina" "$(validate "$gina_jwt" api)"
check "the pointer names gina" "u:gina" "$(sb_redis get "sb:sid:$LOGIN_SID")"
# Flask-Login's logout_user() drops _user_id but keeps the bridge's sid
anon_flask=$(flask_cookie "{\"_sb_sid\":\"$LOGIN_SID\",\"theme\":\"dark\"}" 0)
check "a Flask cookie without _user_id claiming gina's sid is refused" \
    "401 invalid_claim" "$(auth "session=$anon_flask")"
check "validate refuses it too" "401 invalid_claim" "$(validate "$anon_flask" legacy)"
check "the pointer still names gina" "u:gina" "$(sb_redis get "sb:sid:$LOGIN_SID")"
check "nothing was recorded for the anonymous claim" 0 \
    "$(sb_redis exists "sb:{s:$LOGIN_SID}:sess:$LOGIN_SID")"
other=$(flask_cookie "{\"_sb_sid\":\"$LOGIN_SID\",\"_user_id\":\"mallory\"}" 0)
check "a cookie of another user claiming gina's sid is refused" \
    "401 invalid_claim" "$(validate "$other" legacy)"
api DELETE "/v1/sessions/$LOGIN_SID"
check "DELETE gina's session" "200 true" "$API_STATUS $(jget '["existed"]')"
check "gina's JWT is revoked" "401 revoked" "$(validate "$gina_jwt" api)"
check "gina's Flask cookie is revoked" "401 revoked" "$(auth "session=$gina_flask")"
check "the anonymous claim stays refused" "401 invalid_claim" "$(auth "session=$anon_flask")"

# a profile without subject_field cannot carry a user's session either
login dave '{}' 3600
dave_star=$(cred anonstar)
check "a subject-less starlette cookie of dave's session is refused" \
    "401 invalid_claim" "$(validate "$dave_star" anonstar)"
api DELETE /v1/users/dave/sessions
check "after log-out-everywhere it still is" "401" "$(validate "$dave_star" anonstar | cut -d' ' -f1)"
check "and dave's own cookie is revoked" "401 revoked" "$(validate "$(cred star)" star)"
# an anonymous session stays anonymous: naming a user later is refused
anon_sid=anon-sid-0001
anon1=$(offline anonstar "$(date +%s)" "{\"sid\":\"$anon_sid\",\"data\":{\"cart\":1}}")
check "an anonymous session is valid" "200 null" "$(validate "$anon1" anonstar)"
named=$(offline star "$(date +%s)" "{\"sid\":\"$anon_sid\",\"subject\":\"eve\",\"data\":{}}")
check "a credential naming a user for an anonymous sid is refused" \
    "401 invalid_claim" "$(validate "$named" star)"

# -- 2. ECDSA malleability -----------------------------------------------------
read -r es1 es2 < <($SB_PY - "$SB_TMP/es.pem" <<'EOF'
import base64, sys, time
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key
key = load_pem_private_key(open(sys.argv[1], "rb").read(), None)
now = int(time.time())
t1 = jwt.encode({"sub": "eve", "iat": now, "exp": now + 600}, key, algorithm="ES256")
head, body, sig = t1.split(".")
raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
sig2 = base64.urlsafe_b64encode(r.to_bytes(32, "big") + (n - s).to_bytes(32, "big")).rstrip(b"=").decode()
t2 = ".".join([head, body, sig2])
jwt.decode(t2, key.public_key(), algorithms=["ES256"])  # it does verify
print(t1, t2)
EOF
)
check "the malleated token differs from the original" 1 "$([ -n "$es2" ] && [ "$es1" != "$es2" ] && echo 1)"
check "the ES256 token is valid" "200 eve" "$(validate "$es1" es)"
api POST /v1/validate "{\"token\":\"$es1\"}"
sid1=$(jget '["session"]["sid"]')
api POST /v1/validate "{\"token\":\"$es2\"}"
check "the malleated token is the same session" "$sid1" "$(jget '["session"]["sid"]')"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$es1"
check "RFC 7009 revoke of the original" 200 "$API_STATUS"
check "the malleated token is revoked" "401 revoked" "$(validate "$es2" es)"
check "forward-auth mints nothing for it" "401 revoked" "$(auth "es_token=$es2")"

# -- 3. re-signed cookies of one app session are one session --------------------
c1=$(flask_cookie '{"_user_id":"bob","theme":"light"}' 4)
c2=$(flask_cookie '{"_user_id":"bob","theme":"light"}' 0)
check "two signings differ" 1 "$([ "$c1" != "$c2" ] && echo 1)"
validate "$c1" legacy >/dev/null
sid_c1=$(jget '["session"]["sid"]')
validate "$c2" legacy >/dev/null
check "...and are one session" "$sid_c1" "$(jget '["session"]["sid"]')"
api GET /v1/users/bob/sessions
check "bob has one session" 1 "$($SB_PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"
api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$c1"
check "revoking the first signing revokes the second" "401 revoked" "$(validate "$c2" legacy)"
c0=$(flask_cookie '{"_user_id":"bob","theme":"light"}' 10)
check "...and one signed before both" "401 revoked" "$(validate "$c0" legacy)"
sleep 1.1 # a later second than the revocation's
c3=$(flask_cookie '{"_user_id":"bob","theme":"light"}' 0)
check "the same data signed after the revocation is a new login" "200 bob" "$(validate "$c3" legacy)"
check "...which ends the marker: the old copies are that session again" "200 bob" "$(validate "$c2" legacy)"
c4=$(flask_cookie '{"_user_id":"bob","theme":"dark"}' 0)
check "other data is another session" "200 bob" "$(validate "$c4" legacy)"

# -- 4. (a NUL in a gob subject: tests/interop/test_go_rails.sh, with Go's
# own gob encoder; JSON text with a NUL never reaches a codec) -----------
nul=$(flask_cookie '{"_user_id":"admin\u0000suffix"}' 0)
check "a Flask cookie whose _user_id holds a NUL is malformed" "401 malformed" "$(validate "$nul" legacy)"
check "forward-auth says so and mints nothing" "401 malformed" "$(auth "session=$nul")"
check "no session was recorded for admin" 0 "$(sb_redis exists 'sb:{u:admin}:idx')"

# -- 6. an anonymous express session round-trips through the CLI -------------
anon_node=$(offline node "$(date +%s)" '{"sid":"anon-node-1","data":{}}')
dec=$("$SB_CTL" -c "$SB_TMP/sb.ini" decode --offline --profile node "$anon_node")
check "decode prints the anonymous express session" "true null" \
    "$(json_get "$dec" '["active"]') $(json_get "$dec" '["session"]["subject"]')"
check "...which encode takes back" "$anon_node" \
    "$(printf '%s' "$dec" | "$SB_CTL" -c "$SB_TMP/sb.ini" encode --profile node)"

# -- 5. the index is bounded; the oldest sessions go first --------------------------
first_cred=""
for i in $(seq 1 101); do
    login capped '{}' "$((3600 + i))"
    [ "$i" = 1 ] && first_cred=$(cred api)
done
last_cred=$(cred api)
api GET /v1/users/capped/sessions
check "the user keeps 100 live sessions" 100 "$($SB_PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"
check "the index holds 100" 100 "$(sb_redis zcard 'sb:{u:capped}:idx')"
check "the session expiring soonest was revoked" "401 revoked" "$(validate "$first_cred" api)"
check "the newest is valid" "200 capped" "$(validate "$last_cred" api)"

sb_api_finish
