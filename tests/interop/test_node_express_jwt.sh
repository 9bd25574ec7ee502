#!/usr/bin/env bash
# test_node_express_jwt.sh - interop of the express and jwt formats with the
# real libraries, both directions:
#  - jwt: jsonwebtoken 9 (npm) and PyJWT 2.6 (Debian python3-jwt) mint
#    tokens under fresh keys for all nine algorithms that
#    `sessionbridgectl decode` accepts with the same claims, and accept the
#    tokens `sessionbridgectl encode` mints; expiry, leeway and nbf as each
#    library judges them.
#  - express: a real Express app (express-session + connect-redis 7 +
#    redis 4) on a private redis-server: its connect.sid decodes to its sid
#    and its record reads back through express.h; a record and cookie the
#    bridge writes through express.h are the app's session; rotated
#    secrets both ways; expiry by the Redis TTL, as express judges it.
. "$(dirname "$0")/../harness/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
NODE_DIR=$HERE/node
PY=/usr/bin/python3          # Debian's python, where python3-jwt lives
ISS=https://app.example
AUD=app
ALGS="HS256 HS384 HS512 RS256 RS384 RS512 ES256 ES384 ES512"

ctl() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@"; }
node_jwt() { node "$NODE_DIR/jwt_cli.js" "$@"; }
pyjwt() { "$PY" "$HERE/jwt_pyjwt.py" "$@"; }
now_ms() { date +%s%3N; }
field() { json_get "$1" "$2"; }
cd "$SB_TMP" || exit 1

if [ ! -d "$NODE_DIR/node_modules" ]; then
    (cd "$NODE_DIR" && npm ci --no-audit --no-fund) >npm.log 2>&1 ||
        { echo "npm ci failed"; cat npm.log; exit 1; }
fi

# The express.h driver, built against this build's library (and with its
# sanitizers when the build has them).
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$SB_BUILD_DIR/CMakeCache.txt")
san=
grep -q '^SB_SANITIZE:BOOL=ON' "$SB_BUILD_DIR/CMakeCache.txt" &&
    san="-fsanitize=address,undefined -fno-omit-frame-pointer"
read -ra libs <<<"$(pkg-config --libs libmicrohttpd hiredis openssl libjwt jansson zlib inih libprotobuf-c)"
# shellcheck disable=SC2086
"${cc:-cc}" -std=gnu11 -O1 $san -I"$SB_SOURCE_DIR/include" \
    -o express_record "$HERE/express_record.c" "$SB_BUILD_DIR/libsbcore.a" \
    "${libs[@]}" -lpthread -lm || { echo "cannot build express_record"; exit 1; }
DRIVER=$SB_TMP/express_record

# Fresh keys for every algorithm, and one jwt profile per algorithm.
random_secret() { head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 48; }
profiles=()
for alg in $ALGS; do
    case $alg in
    HS*) random_secret >"$alg.secrets"; echo >>"$alg.secrets"; chmod 600 "$alg.secrets"
         keyline="secrets_file = $SB_TMP/$alg.secrets" ;;
    RS*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$alg.pem" 2>/dev/null
         keyline="private_key_file = $SB_TMP/$alg.pem" ;;
    ES*) curve=P-${alg#ES}; [ "$alg" = ES512 ] && curve=P-521
         openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:$curve -out "$alg.pem" 2>/dev/null
         keyline="private_key_file = $SB_TMP/$alg.pem" ;;
    esac
    [ -f "$alg.pem" ] && openssl pkey -in "$alg.pem" -pubout -out "$alg.pub"
    profiles+=("[profile.jwt_$alg]" "format = jwt" "alg = $alg" "$keyline"
               "kid = k-$alg" "issuer = $ISS" "audience = $AUD" "leeway = 30")
done
random_secret >new.secret; random_secret >old.secret
{ cat new.secret; echo; cat old.secret; echo; } >ex.secrets
{ cat old.secret; echo; } >ex_old.secrets
chmod 600 ex.secrets ex_old.secrets

sb_start_redis
sb_write_config "$SB_TMP/sb.ini" "${profiles[@]}" \
    "[profile.ex]" "format = express" "secrets_file = $SB_TMP/ex.secrets" \
    "max_age = 3600" "subject_type = int" \
    "[profile.ex_old]" "format = express" "secrets_file = $SB_TMP/ex_old.secrets" \
    "max_age = 3600" "subject_type = int"
ctl config check >config.out 2>&1 || { echo "config does not load"; cat config.out; exit 1; }

# ---- JWT ------------------------------------------------------------------
for alg in $ALGS; do
    p=jwt_$alg
    case $alg in
    HS*) signkey=$alg.secrets; verkey=$alg.secrets ;;
    *) signkey=$alg.pem; verkey=$alg.pub ;;
    esac
    now=$(date +%s)

    # jsonwebtoken and PyJWT mint; the bridge decodes the same claims.
    claims="{\"sub\":\"42\",\"sid\":\"s-$alg\",\"name\":\"alice\",\"roles\":[\"a\",\"b\"],\"iat\":$now,\"exp\":$((now + 600))}"
    for lib in jsonwebtoken pyjwt; do
        if [ $lib = jsonwebtoken ]; then
            tok=$(node_jwt sign "$alg" "$signkey" "k-$alg" "$ISS" "$AUD" "$claims")
        else
            tok=$(pyjwt sign "$alg" "$signkey" "k-$alg" "$ISS" "$AUD" "$claims")
        fi
        out=$(ctl decode --offline --profile "$p" "$tok")
        check "$alg: $lib token is active" true "$(field "$out" '["active"]')"
        check "$alg: $lib sub -> subject" 42 "$(field "$out" '["session"]["subject"]')"
        check "$alg: $lib sid" "s-$alg" "$(field "$out" '["session"]["sid"]')"
        check "$alg: $lib exp -> expires_at" $((now + 600)) "$(field "$out" '["session"]["expires_at"]')"
        check "$alg: $lib other claims -> data" '{"name": "alice", "roles": ["a", "b"]}' \
            "$(field "$out" '["session"]["data"]')"
    done

    # The bridge mints; jsonwebtoken.verify and jwt.decode accept it.
    session="{\"subject\":\"42\",\"sid\":\"b-$alg\",\"issued_at\":$now,\"expires_at\":$((now + 600)),\"data\":{\"name\":\"alice\"}}"
    btok=$(ctl encode --profile "$p" <<<"$session")
    check "$alg: bridge encode exit 0" 0 $?
    out=$(node_jwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$btok")
    check "$alg: jsonwebtoken accepts the bridge's token" \
        "{\"sub\": \"42\", \"sid\": \"b-$alg\", \"iat\": $now, \"exp\": $((now + 600)), \"iss\": \"$ISS\", \"aud\": \"$AUD\", \"name\": \"alice\"}" \
        "$(field "$out" '')"
    out=$(pyjwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$btok")
    check "$alg: PyJWT accepts the bridge's token" "b-$alg 42 alice" \
        "$(field "$out" '["sid"]') $(field "$out" '["sub"]') $(field "$out" '["name"]')"
    check "$alg: jsonwebtoken refuses it for another audience" JsonWebTokenError \
        "$(field "$(node_jwt verify "$alg" "$verkey" "$ISS" other 0 "$btok")" '["error"]')"

    # Expired 10 s ago: each library with leeway 0 says expired, with 30
    # (the profile's) not; the bridge says expired once 30 s have passed.
    now=$(date +%s)
    session="{\"subject\":\"42\",\"issued_at\":$((now - 600)),\"expires_at\":$((now - 10)),\"data\":{}}"
    old=$(ctl encode --profile "$p" <<<"$session")
    check "$alg: jsonwebtoken, expired" TokenExpiredError \
        "$(field "$(node_jwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$old")" '["error"]')"
    check "$alg: jsonwebtoken, within clockTolerance 30" 42 \
        "$(field "$(node_jwt verify "$alg" "$verkey" "$ISS" "$AUD" 30 "$old")" '["sub"]')"
    check "$alg: PyJWT, expired" ExpiredSignatureError \
        "$(field "$(pyjwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$old")" '["error"]')"
    check "$alg: PyJWT, within leeway 30" 42 \
        "$(field "$(pyjwt verify "$alg" "$verkey" "$ISS" "$AUD" 30 "$old")" '["sub"]')"
    check "$alg: bridge, within leeway 30" true "$(field "$(ctl decode --offline --profile "$p" "$old")" '["active"]')"
    check "$alg: bridge, 20 s on" expired \
        "$(field "$(ctl decode --offline --profile "$p" --now $((now + 20)) "$old")" '["error"]')"

    # Tokens the libraries consider expired or not yet valid.
    tok=$(node_jwt sign "$alg" "$signkey" "k-$alg" "$ISS" "$AUD" "{\"sub\":\"42\",\"iat\":$((now - 900)),\"exp\":$((now - 120))}")
    check "$alg: expired jsonwebtoken token" expired "$(field "$(ctl decode --offline --profile "$p" "$tok")" '["error"]')"
    check "$alg: ... and jsonwebtoken agrees" TokenExpiredError \
        "$(field "$(node_jwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$tok")" '["error"]')"
    tok=$(pyjwt sign "$alg" "$signkey" "k-$alg" "$ISS" "$AUD" "{\"sub\":\"42\",\"nbf\":$((now + 300)),\"exp\":$((now + 600))}")
    check "$alg: PyJWT token with nbf ahead" not_yet_valid "$(field "$(ctl decode --offline --profile "$p" "$tok")" '["error"]')"
    check "$alg: ... and PyJWT agrees" ImmatureSignatureError \
        "$(field "$(pyjwt verify "$alg" "$verkey" "$ISS" "$AUD" 0 "$tok")" '["error"]')"
    tok=$(node_jwt sign "$alg" "$signkey" "k-$alg" "https://evil.example" "$AUD" "$claims")
    check "$alg: another issuer" invalid_claim "$(field "$(ctl decode --offline --profile "$p" "$tok")" '["error"]')"
    tok=$(node_jwt sign "$alg" "$signkey" "k-other" "$ISS" "$AUD" "$claims")
    check "$alg: a kid the profile does not have" unknown_key "$(field "$(ctl decode --offline --profile "$p" "$tok")" '["error"]')"
done

# A token of one algorithm never verifies under another profile's key.
tok=$(node_jwt sign HS256 HS256.secrets k-RS256 "$ISS" "$AUD" "{\"sub\":\"1\",\"exp\":$(($(date +%s) + 60))}")
check "HS256 token on the RS256 profile" bad_signature "$(field "$(ctl decode --offline --profile jwt_RS256 "$tok")" '["error"]')"
# The classic confusion: HS256 MACed with the RS256 public key PEM.  PyJWT
# itself refuses to do that, so the token is made by hand.
tok=$("$PY" - RS256.pub <<'EOF'
import base64, hashlib, hmac, json, sys, time
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h = b(json.dumps({"alg": "HS256", "kid": "k-RS256", "typ": "JWT"}).encode())
c = b(json.dumps({"sub": "1", "exp": int(time.time()) + 60}).encode())
mac = hmac.new(open(sys.argv[1], "rb").read(), (h + "." + c).encode(), hashlib.sha256).digest()
print(h + "." + c + "." + b(mac))
EOF
)
check "HS256 MACed with the RS256 public key PEM" bad_signature \
    "$(field "$(ctl decode --offline --profile jwt_RS256 "$tok")" '["error"]')"

# ---- Express --------------------------------------------------------------
REDIS_PORT=$SB_REDIS_PORT SECRETS="[\"$(cat new.secret)\",\"$(cat old.secret)\"]" \
    PORT_FILE=$SB_TMP/app.port node "$NODE_DIR/express_app.js" >app.log 2>&1 &
sb_track $!
sb_wait_for test -s app.port || { echo "express app did not start"; cat app.log; exit 1; }
APP=http://127.0.0.1:$(cat app.port)
whoami() { curl -s -H "Cookie: connect.sid=$1" "$APP/whoami"; }

# Express -> bridge: the app's connect.sid decodes to the app's sid; its
# record reads back with the subject and data.
curl -s -D headers -o body "$APP/login?user_id=42&username=alice"
wire=$(sed -n 's/^[Ss]et-[Cc]ookie: connect\.sid=\([^;]*\);.*/\1/p' headers)
sid=$(field "$(cat body)" '["sid"]')
check_match "express: cookie is s%3A-escaped on the wire" '^s%3A' "$wire"
token=$("$PY" -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.argv[1]))' "$wire")
out=$(ctl decode --offline --profile ex "$token")
check "express: app cookie is active" true "$(field "$out" '["active"]')"
check "express: app cookie's sid" "$sid" "$(field "$out" '["session"]["sid"]')"
check "express: the app stored sess:<sid>" 1 "$(sb_redis exists "sess:$sid")"
check_match "express: the app's record layout" \
    '^\{"cookie":\{"originalMaxAge":3600000,"expires":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z","httpOnly":true,"path":"/"\},"user_id":42,"username":"alice"\}$' \
    "$(sb_redis get "sess:$sid")"
out=$("$DRIVER" sb.ini ex read "$(now_ms)" "$SB_REDIS_PORT" "$wire")
check "express: record read through express.h" "42 alice" \
    "$(field "$out" '["session"]["subject"]') $(field "$out" '["session"]["data"]["username"]')"
check "express: record data without its cookie" '{"user_id": 42, "username": "alice"}' \
    "$(field "$out" '["session"]["data"]')"
exp_s=$(field "$out" '["session"]["expires_at"]')
check_match "express: expires_at is about an hour ahead" '^[0-9]+$' "$exp_s"
check "express: expires_at within the hour" 1 "$(( exp_s > $(date +%s) + 3500 && exp_s <= $(date +%s) + 3601 ))"
check "express: a profile holding only the old secret refuses it" bad_signature \
    "$(field "$(ctl decode --offline --profile ex_old "$token")" '["error"]')"

# Bridge -> Express: record and cookie written through express.h are the
# app's session.
bsid=bridgeSid$(random_secret | head -c 23)
out=$("$DRIVER" sb.ini ex write "$(now_ms)" "$SB_REDIS_PORT" \
      <<<"{\"sid\":\"$bsid\",\"subject\":\"7\",\"data\":{\"username\":\"bob\",\"roles\":[\"admin\"]}}")
check "express: bridge record TTL is max_age" 3600 "$(field "$out" '["ttl"]')"
check_match "express: bridge record layout" \
    '^\{"cookie":\{"originalMaxAge":3600000,"expires":"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z","httpOnly":true,"path":"/"\},"username":"bob","roles":\["admin"\],"user_id":7\}$' \
    "$(sb_redis get "sess:$bsid")"
check_match "express: Redis TTL set" '^36[0-9]{2}$' "$(sb_redis ttl "sess:$bsid")"
me=$(whoami "$(field "$out" '["wire"]')")
check "express: the app takes the bridge's session" "$bsid 7 bob" \
    "$(field "$me" '["sid"]') $(field "$me" '["user_id"]') $(field "$me" '["username"]')"
check "express: the CLI's cookie is the driver's" "$(field "$out" '["cookie"]')" \
    "$(ctl encode --profile ex <<<"{\"sid\":\"$bsid\",\"subject\":\"7\",\"data\":{}}")"

# Rotation towards Express: signed with the old secret (second in the
# app's list) it is still the session.
osid=oldSid$(random_secret | head -c 20)
out=$("$DRIVER" sb.ini ex_old write "$(now_ms)" "$SB_REDIS_PORT" \
      <<<"{\"sid\":\"$osid\",\"subject\":\"8\",\"data\":{\"username\":\"carol\"}}")
me=$(whoami "$(field "$out" '["wire"]')")
check "express: old-secret cookie accepted by the app" "$osid 8" \
    "$(field "$me" '["sid"]') $(field "$me" '["user_id"]')"
check "express: ... and by the bridge's rotated profile" true \
    "$(field "$(ctl decode --offline --profile ex "$(field "$out" '["cookie"]')")" '["active"]')"

# Expiry: a session already over is not written (connect-redis DELs), so
# the app starts a new one; a short one lives as long as its Redis TTL.
esid=overSid$(random_secret | head -c 20)
out=$("$DRIVER" sb.ini ex write "$(now_ms)" "$SB_REDIS_PORT" \
      <<<"{\"sid\":\"$esid\",\"subject\":\"9\",\"expires_at\":$(($(date +%s) - 5)),\"data\":{}}")
check_match "express: an expired record has ttl <= 0" '^(-[0-9]+|0)$' "$(field "$out" '["ttl"]')"
check "express: ... and is not in Redis" 0 "$(sb_redis exists "sess:$esid")"
me=$(whoami "$(field "$out" '["wire"]')")
check "express: the app has no such session" "null" "$(field "$me" '["user_id"]')"
check "express: nor has the bridge" not_found \
    "$(field "$("$DRIVER" sb.ini ex read "$(now_ms)" "$SB_REDIS_PORT" "$(field "$out" '["wire"]')")" '["error"]')"

ssid=shortSid$(random_secret | head -c 20)
out=$("$DRIVER" sb.ini ex write "$(now_ms)" "$SB_REDIS_PORT" \
      <<<"{\"sid\":\"$ssid\",\"subject\":\"10\",\"expires_at\":$(($(date +%s) + 2)),\"data\":{}}")
swire=$(field "$out" '["wire"]')
check_match "express: short session ttl" '^[1-3]$' "$(field "$out" '["ttl"]')"
check "express: the app has it now" 10 "$(field "$(whoami "$swire")" '["user_id"]')"
check "express: the bridge judges it expired 5 s on" expired \
    "$(field "$("$DRIVER" sb.ini ex read "$(($(now_ms) + 5000))" "$SB_REDIS_PORT" "$swire")" '["error"]')"
sleep 4
check "express: the app has lost it once the TTL ran out" null "$(field "$(whoami "$swire")" '["user_id"]')"

# Tampering: one character of the signature changed.
bad=$(field "$(ctl decode --offline --profile ex "${token%?}A")" '["error"]')
[ "${token: -1}" = A ] && bad=$(field "$(ctl decode --offline --profile ex "${token%?}B")" '["error"]')
check "express: tampered signature" bad_signature "$bad"

sb_finish
