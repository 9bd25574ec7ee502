#!/usr/bin/env bash
# HTTP API, credentials: POST /v1/validate (body, cookies, bearer, named
# profile), POST /v1/translate (legacy -> new -> legacy keeps subject and
# data), POST /v1/introspect (RFC 7662), POST /v1/apikeys/validate, GET
# /.well-known/jwks.json, caller authentication (tokens, roles, loopback),
# protobuf, metrics, and every endpoint's bad input.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

# Listen on every address so a non-loopback caller can be tested too.
export SESSIONBRIDGE_HTTP_LISTEN=0.0.0.0:0
sb_api_start

# -- validate: every format, with and without a profile name
login 42 '{"theme":"dark","cart":["a","b"],"n":12345678901234567}' 3600
sid=$LOGIN_SID
for p in $SB_API_ALL; do
    check "validate $p (profile named)" "200 42" "$(validate "$(cred "$p")" "$p")"
    api POST /v1/validate "{\"token\":\"$(cred "$p")\"}"
    check "validate $p (every profile tried) finds $p" "200 $p $sid" \
        "$API_STATUS $(jget '["profile"]') $(jget '["session"]["sid"]')"
done
api POST /v1/validate "{\"token\":\"$(cred legacy)\"}"
check "validate answers active" true "$(jget '["active"]')"
check "validate answers the canonical data" dark "$(jget '["session"]["data"]["theme"]')"
check "validate keeps a big integer" 12345678901234567 "$(jget '["session"]["data"]["n"]')"

# -- validate from the request's own headers
api_raw POST /v1/validate -H "Cookie: other=1; $(cookie new)"
check "validate without body reads the Cookie header" "200 new" "$API_STATUS $(jget '["profile"]')"
api_raw POST /v1/validate -H "Authorization: Bearer $(cred api)"
check "validate without body reads a bearer token" "200 api" "$API_STATUS $(jget '["profile"]')"
api_raw POST /v1/validate
check "validate with nothing is 401 no_credential" "401 no_credential" "$API_STATUS $(jget '["error"]')"
check "...with active false" false "$(jget '["active"]')"

# -- specific errors
tampered=$(cred api | sed 's/.$/A/;s/..$/xA/')
check "tampered JWT" "401 bad_signature" "$(validate "$tampered" api)"
check "garbage" "401 malformed" "$(validate "not-a-credential" legacy)"
now=$(date +%s)
old=$(offline api $((now - 7200)) "{\"sid\":\"old-1\",\"subject\":\"42\",\"data\":{},\"issued_at\":$((now - 7200)),\"expires_at\":$((now - 3600))}")
check "expired JWT" "401 expired" "$(validate "$old" api)"
check "expired JWT, every profile tried" "401 expired" "$(validate "$old")"
check "a token of another profile" "401 bad_signature" "$(validate "$(cred api)" rs)"

# -- translate legacy -> new -> legacy
api POST /v1/translate "{\"token\":\"$(cred legacy)\",\"from\":\"legacy\",\"to\":\"new\"}"
check "translate legacy -> new" 200 "$API_STATUS"
check "translate names the source profile" legacy "$(jget '["profile"]')"
check_match "translate gives new's Set-Cookie" '^gsess=[^;]+; Path=/' "$(jget '["set_cookie"]')"
t_new=$(jget '["token"]')
check "the new credential validates" "200 42" "$(validate "$t_new" new)"
api POST /v1/translate "{\"token\":\"$t_new\",\"to\":\"legacy\"}"
check "translate new -> legacy (source found)" "200 new" "$API_STATUS $(jget '["profile"]')"
back=$(jget '["token"]')
api POST /v1/validate "{\"token\":\"$back\",\"profile\":\"legacy\"}"
check "round trip keeps the subject" 42 "$(jget '["session"]["subject"]')"
check "round trip keeps the sid" "$sid" "$(jget '["session"]["sid"]')"
check "round trip keeps the data" '{"_user_id": "42", "cart": ["a", "b"], "n": 12345678901234567, "theme": "dark"}' \
    "$($SB_PY -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["session"]["data"], sort_keys=True))' "$API_BODY")"
for p in $SB_API_ALL; do
    api POST /v1/translate "{\"token\":\"$(cred legacy)\",\"to\":\"$p\"}"
    if [ "$API_STATUS" = 200 ]; then
        check "translate legacy -> $p -> validates" "200 42" "$(validate "$(jget '["token"]')" "$p")"
    else
        check "translate legacy -> $p" 200 "$API_STATUS"
    fi
done
api POST /v1/translate "{\"token\":\"$(cred legacy)\",\"to\":\"node\"}"
check "translating to express keeps the connect-redis record" 1 "$(sb_redis exists "sess:$sid")"

# -- introspect (RFC 7662)
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred rs)" --data "token_type_hint=rs"
check "introspect active" "200 true 42 $sid jwt rs" \
    "$API_STATUS $(jget '["active"]') $(jget '["sub"]') $(jget '["sid"]') $(jget '["token_type"]') $(jget '["profile"]')"
check "introspect exp" "$(json_get "$LOGIN" '["session"]["expires_at"]')" "$(jget '["exp"]')"
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$old"
check "introspect of an expired token is 200 inactive" '200 {"active":false}' "$API_STATUS $API_BODY"
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data "token_type_hint=api"
check "introspect without token is 400" "400 invalid_request" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/introspect --data-urlencode "token=$(cred rs)"
check "introspect needs a caller token even on loopback" 401 "$API_STATUS"
api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" -H 'Content-Type: application/json' --data '{"token":"x"}'
check "introspect with JSON is 415" 415 "$API_STATUS"

# -- API keys (records written as the layout says: the CLI's job)
now=$(date +%s)
$SB_PY - "$SB_REDIS_PORT" "$now" <<'PY'
import hashlib, json, sys, redis
r = redis.Redis(port=int(sys.argv[1])); now = int(sys.argv[2])
for kid, key, exp in (("ci", "ci-key-0123456789abcdef", 0), ("old", "old-key-0123456789abcdef", now - 10)):
    h = hashlib.sha256(key.encode()).hexdigest()
    rec = {"key_id": kid, "subject": "svc-" + kid, "scopes": ["sessions:read"], "created_at": now - 100,
           "expires_at": exp, "key_hash": h}
    r.set(f"sb:{{k}}:apikey:{h}", json.dumps(rec)); r.set(f"sb:{{k}}:apikey-id:{kid}", h)
    r.zadd("sb:{k}:apikeys", {kid: exp or float("inf")})
PY
api POST /v1/apikeys/validate '{"key":"ci-key-0123456789abcdef"}'
check "API key valid" "200 true ci svc-ci" "$API_STATUS $(jget '["valid"]') $(jget '["key_id"]') $(jget '["subject"]')"
check "API key scopes" '["sessions:read"]' "$(jget '["scopes"]')"
api POST /v1/apikeys/validate '' -H 'X-API-Key: ci-key-0123456789abcdef'
check "API key in X-API-Key" "200 true" "$API_STATUS $(jget '["valid"]')"
api POST /v1/apikeys/validate '{"key":"ci-key-0123456789abcdeX"}'
check "unknown API key" "401 false unknown_key" "$API_STATUS $(jget '["valid"]') $(jget '["error"]')"
api POST /v1/apikeys/validate '{"key":"old-key-0123456789abcdef"}'
check "expired API key" "401 false expired" "$API_STATUS $(jget '["valid"]') $(jget '["error"]')"
api POST /v1/apikeys/validate '{}'
check "API key missing" "400 missing_field" "$API_STATUS $(jget '["error"]')"
api POST /v1/apikeys/validate '{"key":7}'
check "API key of the wrong type" "400 wrong_type" "$API_STATUS $(jget '["error"]')"
api POST /v1/apikeys/validate "{\"key\":\"$(head -c 600 /dev/zero | tr '\0' k)\"}"
check "API key too long" "413 too_large" "$API_STATUS $(jget '["error"]')"

# -- JWKS
api_raw GET /.well-known/jwks.json
check "JWKS is public" 200 "$API_STATUS"
check "JWKS lists the RS256 key with its kid" "RSA test-rsa-1 RS256" \
    "$(jget '["keys"][0]["kty"]') $(jget '["keys"][0]["kid"]') $(jget '["keys"][0]["alg"]')"
check "JWKS has only public RS/ES keys" 1 "$($SB_PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["keys"]))' "$API_BODY")"
check "JWKS n matches the test-only JWKS" \
    "$($SB_PY -c 'import json,sys; print([k["n"] for k in json.load(open(sys.argv[1]))["keys"] if k["kty"]=="RSA"][0])' "$SB_VECTORS/test-only-jwks.json")" \
    "$(jget '["keys"][0]["n"]')"

# -- protobuf
printf '\x0a%b' "$(printf '\\x%02x' "${#sid}")" >/dev/null
$SB_PY -c '
import sys
t = sys.argv[1].encode()
def v(n):
    o = b""
    while n > 0x7f: o += bytes([n & 0x7f | 0x80]); n >>= 7
    return o + bytes([n])
sys.stdout.buffer.write(b"\x0a" + v(len(t)) + t + b"\x12\x06legacy")' "$(cred legacy)" >"$SB_TMP/v.bin"
curl -s -o "$SB_TMP/v.out" -w '%{http_code} %{content_type}' -X POST -H 'Content-Type: application/x-protobuf' \
    --data-binary @"$SB_TMP/v.bin" "$SB_URL/v1/validate" >"$SB_TMP/v.st"
check "protobuf validate" "200 application/x-protobuf" "$(cat "$SB_TMP/v.st")"
check "protobuf answer: active, profile, session with data_json" "1 legacy 42 $sid dark" "$($SB_PY -c '
import json, sys
b = open(sys.argv[1], "rb").read()
def parse(b):
    i, out = 0, {}
    while i < len(b):
        k = b[i]; i += 1; f, w = k >> 3, k & 7
        if w == 0:
            n = s = 0
            while True:
                c = b[i]; i += 1; n |= (c & 0x7f) << s; s += 7
                if c < 0x80: break
            out[f] = n
        else:
            n = s = 0
            while True:
                c = b[i]; i += 1; n |= (c & 0x7f) << s; s += 7
                if c < 0x80: break
            out[f] = b[i:i + n]; i += n
    return out
m = parse(b); s = parse(m[3])
print(m[1], m[2].decode(), s[2].decode(), s[1].decode(), json.loads(s[6])["theme"])' "$SB_TMP/v.out")"
api POST /v1/validate "{\"token\":\"$(cred legacy)\"}" -H 'Accept: application/x-protobuf'
check "Accept: protobuf with a JSON request" 200 "$API_STATUS"

# -- caller authentication
api_raw POST /v1/validate -H 'Content-Type: application/json' --data "{\"token\":\"$(cred legacy)\"}"
check "validate is open to loopback callers (open_on_loopback)" 200 "$API_STATUS"
api_raw POST /v1/translate -H 'Content-Type: application/json' --data "{\"token\":\"$(cred legacy)\",\"to\":\"new\"}"
check "translate is not" "401 unauthenticated" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/validate -H 'X-Bridge-Token: nope' -H 'Content-Type: application/json' --data "{\"token\":\"$(cred legacy)\"}"
check "a wrong token is refused even where loopback is open" "401 unauthenticated" "$API_STATUS $(jget '["error"]')"
api_raw POST /v1/translate -H "X-Bridge-Token: $ATOK" -H 'Content-Type: application/json' --data "{\"token\":\"$(cred legacy)\",\"to\":\"new\"}"
check "the admin role may call backend endpoints" 200 "$API_STATUS"
# From a non-loopback address of this machine: no skip when there is none
# (the checks below would prove nothing), a failure that says why.
ext=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9.]+$' | grep -v '^127\.' | head -1)
check_match "this machine has a non-loopback IPv4 address to call from (hostname -I)" '^[0-9.]+$' "$ext"
if [ -n "$ext" ]; then
    st=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data "{\"token\":\"$(cred legacy)\"}" "http://$ext:$SB_PORT/v1/validate")
    check "validate from a non-loopback address needs a token" 401 "$st"
    st=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $(cookie legacy)" "http://$ext:$SB_PORT/v1/auth")
    check "forward-auth from a non-loopback address needs a token" 401 "$st"
    st=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Bridge-Token: $BTOK" -H "Cookie: $(cookie legacy)" "http://$ext:$SB_PORT/v1/auth")
    check "...and works with one" 200 "$st"
fi

# -- bad input: a specific code, nothing written
keys_before=$(sb_data_keys)
bad() { local name=$1 st=$2 code=$3 p=$4 b=$5; api POST "$p" "$b"; check "$name" "$st $code" "$API_STATUS $(jget '["error"]')"; }
bad "validate: invalid JSON" 400 invalid_json /v1/validate '{"token":'
bad "validate: token of the wrong type" 400 wrong_type /v1/validate '{"token":5}'
bad "validate: profile of the wrong type" 400 wrong_type /v1/validate '{"token":"x","profile":[]}'
bad "validate: unknown profile" 400 unknown_profile /v1/validate '{"token":"x","profile":"nope"}'
bad "validate: empty token" 400 invalid_field /v1/validate '{"token":""}'
bad "validate: token over 8192 bytes" 413 too_large /v1/validate "{\"token\":\"$(head -c 9000 /dev/zero | tr '\0' a)\"}"
bad "translate: missing token" 400 missing_field /v1/translate '{"to":"new"}'
bad "translate: missing to" 400 missing_field /v1/translate '{"token":"x"}'
bad "translate: unknown to" 400 unknown_profile /v1/translate '{"token":"x","to":"nope"}'
bad "translate: unknown from" 400 unknown_profile /v1/translate '{"token":"x","from":"nope","to":"new"}'
bad "translate: to of the wrong type" 400 wrong_type /v1/translate '{"token":"x","to":1}'
bad "translate: empty body" 400 missing_body /v1/translate ''
bad "translate: invalid JSON" 400 invalid_json /v1/translate 'nope'
bad "translate: bad credential" 401 malformed /v1/translate '{"token":"x","from":"legacy","to":"new"}'
api_raw POST /v1/validate -H 'Content-Type: text/plain' --data 'x'
check "validate: text/plain body that is not JSON" "400 invalid_json" "$API_STATUS $(jget '["error"]')"
check "bad input wrote nothing" "$keys_before" "$(sb_data_keys)"
check "GET /v1/validate is 405" 405 "$(sb_http_status GET /v1/validate)"

# -- metrics: validations by profile and result
metrics=$(sb_http_body GET /metrics)
check_match "validations by profile and result" 'sessionbridge_credentials_total\{op="validate",profile="legacy",result="active"\} [1-9]' "$metrics"
check_match "expired counted" 'op="validate",profile="api",result="expired"' "$metrics"
check_match "translations counted" 'op="translate",profile="legacy",result="active"' "$metrics"
check_match "sessions created by profile" 'sessionbridge_sessions_created_total\{profile="bridge"\} [1-9]' "$metrics"

sb_api_finish
