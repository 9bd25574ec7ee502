#!/bin/bash
# test_python_sessions.sh - flask, starlette and django against the real
# Debian frameworks (python3-flask, -flask-login, -itsdangerous, -starlette,
# -django), both directions: cookies the framework makes decode in the
# bridge (`sessionbridgectl decode`) to the same data, and cookies the
# bridge makes (`sessionbridgectl encode`) are accepted by the framework
# with the same data.  Fresh random secrets and salts every run; the clock
# is fixed on both sides with --now.
. "$(dirname "$0")/../harness/lib.sh"

PY=/usr/bin/python3 # the Debian interpreter, with the Debian packages
export PYTHONDONTWRITEBYTECODE=1 # leave nothing in the source tree
HELPERS=$SB_SOURCE_DIR/tests/interop/python
T=$(date +%s)

if ! $PY -c 'import flask, flask_login, itsdangerous, starlette, httpx, django' 2>"$SB_TMP/import.err"; then
    echo "FAIL - the Python frameworks are not installed (docker/packages.txt):"
    cat "$SB_TMP/import.err"
    exit 1
fi

# ---- helpers ---------------------------------------------------------------

# side NAME ARGS...: runs tests/interop/python/NAME_side.py.
side() { local s=$1; shift; $PY "$HELPERS/${s}_side.py" "$@" 2>>"$SB_TMP/python.log"; }
# field JSON KEY...: a value inside a JSON document (strings bare, else JSON).
field() {
    $PY -c 'import json,sys
v=json.loads(sys.argv[1])
for k in sys.argv[2:]: v=v[k]
print(v if isinstance(v,str) else json.dumps(v))' "$@" 2>/dev/null
}
# same_json A B: "same" when the two JSON documents are equal.
same_json() {
    $PY -c 'import json,sys; print("same" if json.loads(sys.argv[1])==json.loads(sys.argv[2]) else "differs: %s vs %s" % (sys.argv[1], sys.argv[2]))' "$1" "$2" 2>&1
}
# decode PROFILE NOW TOKEN [ctl options]: the CLI's JSON answer.
decode() { local p=$1 now=$2 tok=$3; shift 3; "$SB_CTL" -c "$CFG" decode --offline --profile "$p" --now "$now" "$@" "$tok"; }
# encode PROFILE NOW SESSION_JSON [ctl options]: the credential.
encode() { local p=$1 now=$2 s=$3; shift 3; printf '%s' "$s" | "$SB_CTL" -c "$CFG" encode --profile "$p" --now "$now" "$@" 2>>"$SB_TMP/ctl.log"; }
# verdict CLI_JSON: "active" or the error code.
verdict() { local a; a=$(field "$1" active); if [ "$a" = true ]; then echo active; else field "$1" error; fi; }

# ---- secrets, salts and profiles ------------------------------------------

sb_secret_file "$SB_TMP/new.secret"
sb_secret_file "$SB_TMP/old.secret"
cat "$SB_TMP/new.secret" "$SB_TMP/old.secret" >"$SB_TMP/rotated.secret"
chmod 600 "$SB_TMP/rotated.secret"
NEW=$SB_TMP/new.secret OLD=$SB_TMP/old.secret ROT=$SB_TMP/rotated.secret
FSALT=flask-salt-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
DSALT=django.salt.$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
CFG=$SB_TMP/sb.ini
cat >"$CFG" <<EOF
[profile.flask]
format = flask
secrets_file = $NEW
salt = $FSALT
subject_field = user_id

[profile.flask_rot]
format = flask
secrets_file = $ROT
salt = $FSALT
subject_field = user_id

[profile.flask_login]
format = flask
secrets_file = $NEW
session_protection = strong

[profile.starlette]
format = starlette
secrets_file = $NEW
max_age = 600
subject_field = user_id

[profile.starlette_rot]
format = starlette
secrets_file = $ROT
max_age = 600
subject_field = user_id

[profile.django]
format = django
secrets_file = $NEW

[profile.django_data]
format = django
secrets_file = $NEW
subject_field = user_id

[profile.django_rot]
format = django
secrets_file = $ROT
subject_field = user_id

[profile.django_salt]
format = django
secrets_file = $NEW
salt = $DSALT
subject_field = user_id

[profile.django_nolegacy]
format = django
secrets_file = $NEW
legacy_sha1 = false
EOF
check "config loads" 0 "$("$SB_CTL" -c "$CFG" config check >/dev/null 2>&1; echo $?)"

# ---- Flask ---------------------------------------------------------------

FLASK_MAX=2678400 # PERMANENT_SESSION_LIFETIME
for c in plain tagged compressed; do
    out=$(side flask mint --secret-file "$NEW" --salt "$FSALT" --now "$T" --case "$c")
    cookie=$(field "$out" cookie)
    res=$(decode flask "$T" "$cookie")
    check "flask $c: Flask cookie is active in the bridge" active "$(verdict "$res")"
    check "flask $c: same data (tags kept as tag objects)" same \
        "$(same_json "$(field "$out" expect)" "$(field "$res" session data)")"
    [ "$c" = compressed ] && check_match "flask compressed: Flask compressed it" '^\.' "$cookie"
    # Back: the bridge mints the same canonical data, Flask reads it.
    data=$(field "$out" expect)
    [ "$c" = tagged ] && data=$(field "$out" expect | $PY -c 'import json,sys
d=json.load(sys.stdin); d["esc"]={" t":"not a tuple"}; print(json.dumps(d))')
    minted=$(encode flask "$T" "{\"subject\":\"42\",\"data\":$data}")
    back=$(side flask read --secret-file "$NEW" --salt "$FSALT" --now "$T" --case "$c" --cookie "$minted")
    check "flask $c: bridge cookie opens in Flask" true "$(field "$back" valid)"
    check "flask $c: Flask sees the same Python values" true "$(field "$back" match)"
    [ "$c" = compressed ] && check_match "flask compressed: the bridge compressed it" '^\.' "$minted"
done

# Wrong secret.
sb_secret_file "$SB_TMP/other.secret"
out=$(side flask mint --secret-file "$SB_TMP/other.secret" --salt "$FSALT" --now "$T")
check "flask: another app's cookie is bad_signature" bad_signature \
    "$(verdict "$(decode flask "$T" "$(field "$out" cookie)")")"
out=$(side flask mint --secret-file "$NEW" --now "$T")
check "flask: the default salt is not our custom salt" bad_signature \
    "$(verdict "$(decode flask "$T" "$(field "$out" cookie)")")"

# Rotation: the old key still verifies, new cookies use the new key.
out=$(side flask mint --secret-file "$OLD" --salt "$FSALT" --now "$T")
check "flask rotation: cookie signed with the old key is active" active \
    "$(verdict "$(decode flask_rot "$T" "$(field "$out" cookie)")")"
minted=$(encode flask_rot "$T" '{"subject":"42","data":{"user_id":42,"username":"alice","name":"Zo\u00eb \ud83d\ude00"}}')
check "flask rotation: Flask with the new key accepts the bridge's cookie" true \
    "$(field "$(side flask read --secret-file "$NEW" --salt "$FSALT" --now "$T" --cookie "$minted")" match)"
check "flask rotation: Flask with the old key does not" false \
    "$(field "$(side flask read --secret-file "$OLD" --salt "$FSALT" --now "$T" --cookie "$minted")" valid)"

# Expiry as Flask judges it: age > max_age expired, future rejected.
cookie=$(field "$(side flask mint --secret-file "$NEW" --salt "$FSALT" --now "$T")" cookie)
check "flask expiry: at exactly max_age still active" active "$(verdict "$(decode flask $((T + FLASK_MAX)) "$cookie")")"
check "flask expiry: one second later expired" expired "$(verdict "$(decode flask $((T + FLASK_MAX + 1)) "$cookie")")"
check "flask expiry: Flask agrees at max_age" true \
    "$(field "$(side flask read --secret-file "$NEW" --salt "$FSALT" --now $((T + FLASK_MAX)) --cookie "$cookie")" valid)"
check "flask expiry: Flask agrees one second later" false \
    "$(field "$(side flask read --secret-file "$NEW" --salt "$FSALT" --now $((T + FLASK_MAX + 1)) --cookie "$cookie")" valid)"
old=$(encode flask "$T" "{\"subject\":\"42\",\"issued_at\":$((T - FLASK_MAX - 1)),\"data\":{}}")
check "flask expiry: Flask rejects a bridge cookie one second too old" false \
    "$(field "$(side flask read --secret-file "$NEW" --salt "$FSALT" --now "$T" --cookie "$old")" valid)"
future=$(encode flask "$T" "{\"subject\":\"42\",\"issued_at\":$((T + 60)),\"data\":{}}")
check "flask expiry: Flask rejects a future-dated cookie" false \
    "$(field "$(side flask read --secret-file "$NEW" --salt "$FSALT" --now "$T" --cookie "$future")" valid)"
check "flask expiry: so does the bridge (not_yet_valid)" not_yet_valid "$(verdict "$(decode flask "$T" "$future")")"

# Flask-Login with SESSION_PROTECTION = "strong".
A=203.0.113.7 U="Mozilla/5.0 (interop; it's \"quoted\")"
out=$(side flask mint --case login --secret-file "$NEW" --now "$T" --addr "$A" --ua "$U")
cookie=$(field "$out" cookie)
res=$(decode flask_login "$T" "$cookie" --client-addr "$A" --user-agent "$U")
check "flask-login: login_user() session is active for its client" active "$(verdict "$res")"
check "flask-login: subject is _user_id" 42 "$(field "$res" session subject)"
check "flask-login: another User-Agent is invalid_claim" invalid_claim \
    "$(verdict "$(decode flask_login "$T" "$cookie" --client-addr "$A" --user-agent other)")"
minted=$(encode flask_login "$T" '{"subject":"42","data":{}}' --client-addr "$A" --user-agent "$U")
check "flask-login: Flask-Login accepts the bridge's login for that client" 42 \
    "$(field "$(side flask read --case login --secret-file "$NEW" --now "$T" --cookie "$minted" --addr "$A" --ua "$U")" user)"
check "flask-login: and logs out another address (strong)" null \
    "$(field "$(side flask read --case login --secret-file "$NEW" --now "$T" --cookie "$minted" --addr 198.51.100.1 --ua "$U")" user)"

# ---- Starlette -----------------------------------------------------------

for c in plain nested; do
    out=$(side starlette mint --secret-file "$NEW" --now "$T" --max-age 600 --case "$c")
    res=$(decode starlette "$T" "$(field "$out" cookie)")
    check "starlette $c: SessionMiddleware cookie is active" active "$(verdict "$res")"
    check "starlette $c: same data" same "$(same_json "$(field "$out" expect)" "$(field "$res" session data)")"
    minted=$(encode starlette "$T" "{\"subject\":\"$(field "$out" expect user_id)\",\"data\":$(field "$out" expect)}")
    back=$(side starlette read --secret-file "$NEW" --now "$T" --max-age 600 --case "$c" --cookie "$minted")
    check "starlette $c: SessionMiddleware reads the bridge's cookie" true "$(field "$back" match)"
done
set_cookie=$(field "$(side starlette mint --secret-file "$NEW" --now "$T" --max-age 600)" set_cookie)
ours=$(encode starlette "$T" '{"subject":"42","data":{"user_id":42}}' --set-cookie)
for attr in 'path=/' 'max-age=600' 'httponly' 'samesite=lax'; do
    check_match "starlette Set-Cookie has $attr like Starlette's" "; $attr(;|$)" "$(printf '%s' "$set_cookie" | tr 'A-Z' 'a-z')"
    check_match "bridge Set-Cookie has $attr" "; $attr(;|$)" "$(printf '%s' "$ours" | tr 'A-Z' 'a-z')"
done

out=$(side starlette mint --secret-file "$OLD" --now "$T" --max-age 600)
check "starlette rotation: old-key cookie is active" active "$(verdict "$(decode starlette_rot "$T" "$(field "$out" cookie)")")"
minted=$(encode starlette_rot "$T" '{"subject":"42","data":{"user_id":42,"username":"alice"}}')
check "starlette rotation: SessionMiddleware with the new key accepts" true \
    "$(field "$(side starlette read --secret-file "$NEW" --now "$T" --max-age 600 --cookie "$minted")" match)"

cookie=$(field "$(side starlette mint --secret-file "$NEW" --now "$T" --max-age 600)" cookie)
check "starlette expiry: at max_age active" active "$(verdict "$(decode starlette $((T + 600)) "$cookie")")"
check "starlette expiry: one second later expired" expired "$(verdict "$(decode starlette $((T + 601)) "$cookie")")"
check "starlette expiry: Starlette agrees at max_age" true \
    "$(field "$(side starlette read --secret-file "$NEW" --now $((T + 600)) --max-age 600 --cookie "$cookie")" valid)"
check "starlette expiry: Starlette agrees one second later" false \
    "$(field "$(side starlette read --secret-file "$NEW" --now $((T + 601)) --max-age 600 --cookie "$cookie")" valid)"
future=$(encode starlette "$T" "{\"subject\":\"42\",\"issued_at\":$((T + 5)),\"data\":{\"user_id\":42}}")
check "starlette expiry: Starlette rejects a future-dated cookie" false \
    "$(field "$(side starlette read --secret-file "$NEW" --now "$T" --max-age 600 --cookie "$future")" valid)"
check "starlette expiry: so does the bridge" not_yet_valid "$(verdict "$(decode starlette "$T" "$future")")"

# ---- Django --------------------------------------------------------------

DJANGO_MAX=1209600 # SESSION_COOKIE_AGE
for c in plain compressed; do
    out=$(side django mint --secret-file "$NEW" --now "$T" --case "$c")
    cookie=$(field "$out" cookie)
    res=$(decode django_data "$T" "$cookie")
    check "django $c: signed_cookies session is active" active "$(verdict "$res")"
    check "django $c: same data" same "$(same_json "$(field "$out" expect)" "$(field "$res" session data)")"
    minted=$(encode django_data "$T" "{\"subject\":\"42\",\"data\":$(field "$out" expect)}")
    back=$(side django read --secret-file "$NEW" --now "$T" --case "$c" --cookie "$minted")
    check "django $c: Django's session backend reads the bridge's cookie" true "$(field "$back" match)"
    if [ "$c" = compressed ]; then
        check_match "django compressed: Django compressed it" '^\.' "$cookie"
        check_match "django compressed: the bridge compressed it" '^\.' "$minted"
    fi
done

# Logins: Django's login() read by the bridge; the bridge's login (with the
# _auth_user_hash the Django side supplies) accepted by get_user().
out=$(side django mint --case login --secret-file "$NEW" --now "$T")
res=$(decode django "$T" "$(field "$out" cookie)")
check "django login: subject is _auth_user_id" 1 "$(field "$res" session subject)"
check "django login: hash and backend passed through" same "$(same_json "$(field "$out" expect)" "$(field "$res" session data)")"
info=$(side django info --secret-file "$NEW" --now "$T")
hash=$(field "$info" auth_hash)
minted=$(encode django "$T" "{\"subject\":\"1\",\"data\":{\"_auth_user_hash\":\"$hash\"}}")
check "django login: Django logs the bridge's session in as user 1" 1 \
    "$(field "$(side django read --secret-file "$NEW" --now "$T" --cookie "$minted")" user)"
wrong=$(encode django "$T" '{"subject":"1","data":{"_auth_user_hash":"0000"}}')
check "django login: a wrong _auth_user_hash is flushed by Django" null \
    "$(field "$(side django read --secret-file "$NEW" --now "$T" --cookie "$wrong")" user)"
check "django login: minting without _auth_user_hash is refused" 1 \
    "$(encode django "$T" '{"subject":"1","data":{}}' >/dev/null; echo $?)"

# Custom salt through django.core.signing.
out=$(side django mint --secret-file "$NEW" --salt "$DSALT" --now "$T" --case compressed)
res=$(decode django_salt "$T" "$(field "$out" cookie)")
check "django salt: signing.dumps with a custom salt is active" active "$(verdict "$res")"
check "django salt: same data" same "$(same_json "$(field "$out" expect)" "$(field "$res" session data)")"
minted=$(encode django_salt "$T" "{\"subject\":\"42\",\"data\":$(field "$out" expect)}")
check "django salt: signing.loads reads the bridge's value" true \
    "$(field "$(side django read --secret-file "$NEW" --salt "$DSALT" --now "$T" --case compressed --cookie "$minted")" match)"
check "django salt: the default salt does not verify it" bad_signature "$(verdict "$(decode django "$T" "$minted")")"

# Legacy sha1 (DEFAULT_HASHING_ALGORITHM = 'sha1' in Django 3.1-3.2).
cookie=$(field "$(side django mint --secret-file "$NEW" --algorithm sha1 --now "$T")" cookie)
check "django legacy sha1: accepted by default (as Django 3.2 does)" active "$(verdict "$(decode django "$T" "$cookie")")"
check "django legacy sha1: refused with legacy_sha1 = false (Django 4)" bad_signature \
    "$(verdict "$(decode django_nolegacy "$T" "$cookie")")"
check "django legacy sha1: Django 3.2 itself accepts it" true \
    "$(field "$(side django read --secret-file "$NEW" --now "$T" --cookie "$cookie")" match)"

out=$(side django mint --secret-file "$OLD" --now "$T")
check "django rotation: old-key cookie is active" active "$(verdict "$(decode django_rot "$T" "$(field "$out" cookie)")")"
minted=$(encode django_rot "$T" "{\"subject\":\"42\",\"data\":$(field "$out" expect)}")
check "django rotation: Django with the new key accepts" true \
    "$(field "$(side django read --secret-file "$NEW" --now "$T" --cookie "$minted")" match)"

cookie=$(field "$(side django mint --secret-file "$NEW" --now "$T")" cookie)
check "django expiry: at SESSION_COOKIE_AGE active" active "$(verdict "$(decode django_data $((T + DJANGO_MAX)) "$cookie")")"
check "django expiry: one second later expired" expired "$(verdict "$(decode django_data $((T + DJANGO_MAX + 1)) "$cookie")")"
check "django expiry: Django agrees one second later" false \
    "$(field "$(side django read --secret-file "$NEW" --now $((T + DJANGO_MAX + 1)) --cookie "$cookie")" valid)"
future=$(encode django_data "$T" "{\"subject\":\"42\",\"issued_at\":$((T + 3600)),\"data\":{\"user_id\":42,\"username\":\"alice\",\"name\":\"Zo\u00eb \ud83d\ude00\"}}")
check "django expiry: Django accepts a future-dated cookie" true \
    "$(field "$(side django read --secret-file "$NEW" --now "$T" --cookie "$future")" match)"
check "django expiry: so does the bridge" active "$(verdict "$(decode django_data "$T" "$future")")"

if [ "$SB_FAILED" != 0 ]; then
    echo "--- python stderr"; tail -n 40 "$SB_TMP/python.log"
    echo "--- sessionbridgectl stderr"; tail -n 20 "$SB_TMP/ctl.log" 2>/dev/null
fi
sb_finish
