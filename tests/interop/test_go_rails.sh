#!/usr/bin/env bash
# test_go_rails.sh - interop of the gorilla and rails formats with the real
# libraries, both directions, under fresh random keys:
#  - gorilla: a Go program (tests/interop/go/gorilla_interop.go) built in
#    GOPATH mode against Debian's golang-github-gorilla-securecookie-dev and
#    -sessions-dev makes cookies (CookieStore.Save and securecookie, gob
#    and JSON, signed and AES-128/192/256 encrypted, rotated key pairs,
#    every supported Go type) that `sessionbridgectl decode` reads to the
#    same values, and reads the cookies `sessionbridgectl encode` makes with
#    the right Go types (CookieStore.Get / DecodeMulti); expiry as
#    securecookie judges it.
#  - rails: tests/interop/ruby/rails_side.rb drives Debian's
#    ruby-activesupport 6.1 KeyGenerator + MessageEncryptor as Rails'
#    encrypted cookie jar does: plain, expire_after, wrong purpose, rotated
#    secret_key_base, the Rails 7.0 SHA-256 KDF, Marshal and bare cookies
#    into the bridge; bridge cookies back into Rails with the purpose check.
#  - translate: a Rails cookie becomes a gorilla cookie Go reads, and that
#    one a Rails cookie again, with the same session.
. "$(dirname "$0")/../harness/lib.sh"

HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(date +%s)
CFG=$SB_TMP/sb.ini
cd "$SB_TMP" || exit 1

for tool in go ruby; do
    command -v $tool >/dev/null || { echo "FAIL - $tool is not installed (docker/packages.txt)"; exit 1; }
done
ruby -e 'require "active_support/message_encryptor"' 2>/dev/null ||
    { echo "FAIL - ruby-activesupport is not installed"; exit 1; }

# The Go side, built from Debian's packaged sources: no module download.
GOBIN_OUT=$SB_BUILD_DIR/gorilla_interop
(cd "$HERE/go" && GO111MODULE=off GOPATH=/usr/share/gocode \
    GOCACHE=$SB_BUILD_DIR/go-cache go build -o "$GOBIN_OUT" gorilla_interop.go) \
    >go-build.log 2>&1 || { echo "FAIL - cannot build the Go side"; cat go-build.log; exit 1; }

# ---- helpers ---------------------------------------------------------------

gi() { "$GOBIN_OUT" "$@" 2>>go.log; }
rb() { ruby "$HERE/ruby/rails_side.rb" "$@" 2>>ruby.log; }
typed() { $PY "$HERE/go/typed.py" "$@"; }
field() { json_get "$1" "$2"; }
decode() { local p=$1 now=$2 tok=$3; "$SB_CTL" -c "$CFG" decode --offline --profile "$p" --now "$now" "$tok"; }
encode() { local p=$1 now=$2 s=$3; shift 3; printf '%s' "$s" | "$SB_CTL" -c "$CFG" encode --profile "$p" --now "$now" "$@" 2>>ctl.log; }
verdict() { if [ "$(field "$1" '["active"]')" = true ]; then echo active; else field "$1" '["error"]'; fi; }
data() { field "$1" '["session"]["data"]'; }
hexkey() { head -c "$1" /dev/urandom | od -An -v -tx1 | tr -d ' \n'; }
cookie_value() { sed 's/^[^=]*=//; s/;.*//'; }
# same_plain A B: "same" when the JSON documents are equal as values (Go's
# encoding/json reads every number as float64).
same_plain() { $PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print("same" if a==b else "differs: %s" % sys.argv[2])' "$1" "$2"; }
# plain_of TYPED: gorilla_interop's typed JSON reduced to plain values,
# without the bridge's _sb_sid.
plain_of() { $PY -c 'import json,sys
def p(t): v=t.get("value"); return {k:p(x) for k,x in v.items()} if isinstance(v,dict) else v
print(json.dumps({k:p(v) for k,v in json.loads(sys.argv[1]).items() if k != "_sb_sid"}))' "$1"; }
NOT_GOB='^(malformed|unsupported|too_large)$'  # random bytes read as gob

# ---- keys and profiles -----------------------------------------------------

H1=$(hexkey 64) B1=$(hexkey 32) H2=$(hexkey 32) B2=$(hexkey 16)
H3=$(hexkey 48) B3=$(hexkey 24)
RAWKEY=raw-$(hexkey 12)
keyfile() { local f=$1; shift; printf '%s\n' "$@" >"$f"; chmod 600 "$f"; }
keyfile h1 "hex:$H1"
keyfile b1 "hex:$B1"
keyfile hrot "hex:$H2" "hex:$H1"
keyfile brot "hex:$B2" "hex:$B1"
keyfile h3 "hex:$H3"
keyfile b3 "hex:$B3"
keyfile hraw "$RAWKEY"
SKB_NEW=$(hexkey 64) SKB_OLD=$(hexkey 64)
keyfile skb_new "$SKB_NEW"
keyfile skb_rot "$SKB_NEW" "$SKB_OLD"
RAWHEX=$(printf '%s' "$RAWKEY" | od -An -v -tx1 | tr -d ' \n')

cat >"$CFG" <<EOF
[profile.go_gob]
format = gorilla
cookie_name = mysession
hash_keys_file = $SB_TMP/h1
subject_field = user_id

[profile.go_enc]
format = gorilla
cookie_name = mysession
hash_keys_file = $SB_TMP/h1
block_keys_file = $SB_TMP/b1

[profile.go_rot]
format = gorilla
cookie_name = mysession
hash_keys_file = $SB_TMP/hrot
block_keys_file = $SB_TMP/brot

[profile.go_json]
format = gorilla
cookie_name = mysession
serializer = json
hash_keys_file = $SB_TMP/h3
block_keys_file = $SB_TMP/b3

[profile.go_raw]
format = gorilla
cookie_name = other-name
serializer = json
hash_keys_file = $SB_TMP/hraw
max_age = 3600

[profile.go_uint]
format = gorilla
cookie_name = mysession
hash_keys_file = $SB_TMP/h1
go_types = user_id:uint, org:int64

[profile.rails]
format = rails
cookie_name = _myapp_session
secret_key_base_file = $SB_TMP/skb_new
subject_field = user_id

[profile.rails_rot]
format = rails
cookie_name = _myapp_session
secret_key_base_file = $SB_TMP/skb_rot
max_age = 1209600

[profile.rails7]
format = rails
cookie_name = _myapp_session
secret_key_base_file = $SB_TMP/skb_new
kdf_digest = sha256

[profile.rails_mig]
format = rails
cookie_name = _myapp_session
secret_key_base_file = $SB_TMP/skb_new
kdf_digest = sha256, sha1

[profile.rails_none]
format = rails
cookie_name = _myapp_session
secret_key_base_file = $SB_TMP/skb_new
envelope = none
EOF
check "config loads" 0 "$("$SB_CTL" -c "$CFG" config check >config.log 2>&1; echo $?)"

# Every Go type the gob codec maps.
VALUES='{"user_id":{"type":"int","value":42},"name":{"type":"string","value":"Zoë <&> \u2028"},
"admin":{"type":"bool","value":true},"off":{"type":"bool","value":false},
"score":{"type":"float64","value":1.5},"neg":{"type":"int","value":-5},
"big":{"type":"int64","value":9007199254740993},"i8":{"type":"int8","value":-8},
"i16":{"type":"int16","value":300},"i32":{"type":"int32","value":-70000},
"u":{"type":"uint","value":7},"u8":{"type":"uint8","value":255},
"u16":{"type":"uint16","value":65535},"u32":{"type":"uint32","value":4294967295},
"u64":{"type":"uint64","value":9223372036854775807},"f32":{"type":"float32","value":0.25},
"raw":{"type":"[]uint8","value":"AAFiaW4="},"tags":{"type":"[]string","value":["a","b"]},
"none":{"type":"nil"},
"nested":{"type":"map[string]interface {}","value":{"x":{"type":"int","value":1},
  "list":{"type":"[]string","value":["q"]},"f":{"type":"float64","value":2.25},
  "inner":{"type":"map[string]interface {}","value":{"ok":{"type":"bool","value":true}}}}}}'
VALUES=$(printf '%s' "$VALUES" | tr -d '\n')
CANON=$(typed canon "$VALUES")
JSON_VALUES='{"user_id":{"type":"int","value":42},"name":{"type":"string","value":"<b>Zoë</b>"},"score":{"type":"float64","value":1.5},"tags":{"type":"[]string","value":["a"]},"m":{"type":"map[string]interface {}","value":{"k":{"type":"string","value":"v"}}}}'
JSON_CANON='{"user_id":42,"name":"<b>Zoë</b>","score":1.5,"tags":["a"],"m":{"k":"v"}}'

# ---- gorilla: Go makes, the bridge reads -----------------------------------

tok=$(gi mint -pairs "$H1" -name mysession -store "$VALUES" | cookie_value)
out=$(decode go_gob "$T" "$tok")
check "go CookieStore gob -> bridge: active" active "$(verdict "$out")"
check "go CookieStore gob -> bridge: every type" same "$(typed same-canon "$VALUES" "$(data "$out")")"
check "go CookieStore gob -> bridge: subject" 42 "$(field "$out" '["session"]["subject"]')"
issued=$(field "$out" '["session"]["issued_at"]')
check "go CookieStore gob -> bridge: issued_at is the cookie's" near \
    "$([ $((issued - T)) -ge -60 ] && [ $((issued - T)) -le 60 ] && echo near)"
check_match "go gob, signed only, under an encrypting profile" "$NOT_GOB" "$(verdict "$(decode go_enc "$T" "$tok")")"
check "go gob under another cookie name" bad_signature "$(verdict "$(decode go_raw "$T" "$tok")")"
check "go gob at the end of MaxAge" active "$(verdict "$(decode go_gob $((issued + 2592000)) "$tok")")"
check "go gob past MaxAge (securecookie: expired timestamp)" expired \
    "$(verdict "$(decode go_gob $((issued + 2592001)) "$tok")")"
check "go gob from the future passes (minAge 0)" active "$(verdict "$(decode go_gob $((issued - 86400)) "$tok")")"
bad=$(printf '%s' "$tok" | $PY -c 'import sys; t=sys.stdin.read(); i=len(t)//2; print(t[:i]+("A" if t[i]!="A" else "B")+t[i+1:])')
check_match "go gob tampered" '^(bad_signature|malformed)$' "$(verdict "$(decode go_gob "$T" "$bad")")"

tok=$(gi mint -pairs "$H1:$B1" -name mysession "$VALUES")
out=$(decode go_enc "$T" "$tok")
check "go securecookie gob AES-256 -> bridge" same "$(typed same-canon "$VALUES" "$(data "$out")")"
check_match "go AES-256 cookie without the block key" "$NOT_GOB" "$(verdict "$(decode go_gob "$T" "$tok")")"
tok=$(gi mint -pairs "$H1:$B1" -name mysession -store "$VALUES" | cookie_value)
check "go CookieStore gob AES-256 -> bridge" same "$(typed same-canon "$VALUES" "$(data "$(decode go_enc "$T" "$tok")")")"

tok=$(gi mint -pairs "$H1:$B1" -name mysession -store "$VALUES" | cookie_value)
check "go old key pair -> rotated profile" same "$(typed same-canon "$VALUES" "$(data "$(decode go_rot "$T" "$tok")")")"
tok=$(gi mint -pairs "$H2:$B2,$H1:$B1" -name mysession -store "$VALUES" | cookie_value)
check "go new key pair (AES-128) -> rotated profile" same "$(typed same-canon "$VALUES" "$(data "$(decode go_rot "$T" "$tok")")")"
check "go new key pair -> profile with the old pair only" bad_signature "$(verdict "$(decode go_enc "$T" "$tok")")"

tok=$(gi mint -pairs "$H3:$B3" -name mysession -serializer json "$JSON_VALUES")
out=$(decode go_json "$T" "$tok")
check "go JSONEncoder AES-192 -> bridge" same "$(same_plain "$JSON_CANON" "$(data "$out")")"
check "go JSON cookie under the gob profile" bad_signature "$(verdict "$(decode go_gob "$T" "$tok")")"
tok=$(gi mint -pairs "$RAWHEX" -name other-name -serializer json -max-age 3600 "$JSON_VALUES")
issued=$(field "$(decode go_raw "$T" "$tok")" '["session"]["issued_at"]')
check "go JSON, raw text key, MaxAge 3600 -> bridge" active "$(verdict "$(decode go_raw $((issued + 3600)) "$tok")")"
check "go JSON past MaxAge 3600" expired "$(verdict "$(decode go_raw $((issued + 3601)) "$tok")")"

# ---- round trips keep what they carried (issue 11) ---------------------------

tok=$(gi mint -pairs "$H1" -name mysession '{"user_id":{"type":"int","value":7},"x":{"type":"float64","value":2}}')
out=$(decode go_gob "$T" "$tok")
check "go float64 2 -> bridge: a real in the canonical JSON" "2.0" "$(field "$out" '["session"]["data"]["x"]')"
back=$(gi decode -pairs "$H1" -name mysession "$(encode go_gob "$T" "$out")")
check "... decode's answer -> encode -> go: still a float64" "float64 7" \
    "$(field "$back" '["x"]["type"]') $(field "$back" '["user_id"]["value"]')"
tok=$(gi mint -pairs "$H1" -name mysession '{"user_id":{"type":"string","value":"admin\u0000suffix"}}')
check "go cookie whose user_id holds a NUL: malformed, not user admin" malformed \
    "$(verdict "$(decode go_gob "$T" "$tok")")"

# ---- gorilla: the bridge makes, Go reads -----------------------------------

SESSION=$($PY -c 'import json,sys; print(json.dumps({"sid":"bridge-sid-0001","subject":"42","data":json.loads(sys.argv[1])}))' "$CANON")
tok=$(encode go_gob "$T" "$SESSION")
out=$(gi decode -pairs "$H1" -name mysession "$tok")
check "bridge gob -> go CookieStore.Get: every Go type" same "$(typed same-typed "$CANON" "$out" _sb_sid)"
check "bridge gob -> go: the sid rides in _sb_sid" bridge-sid-0001 "$(field "$out" '["_sb_sid"]["value"]')"
check "bridge gob -> go with another key" "ERROR: securecookie: the value is not valid" \
    "$(gi decode -pairs "$H2" -name mysession "$tok")"
check "bridge gob -> go under another name" "ERROR: securecookie: the value is not valid" \
    "$(gi decode -pairs "$H1" -name othersession "$tok")"
tok=$(encode go_enc "$T" "$SESSION")
check "bridge gob AES-256 -> go" same "$(typed same-typed "$CANON" "$(gi decode -pairs "$H1:$B1" -name mysession "$tok")" _sb_sid)"
tok=$(encode go_rot "$T" "$SESSION")
check "bridge rotated profile encodes with the new pair (AES-128)" same \
    "$(typed same-typed "$CANON" "$(gi decode -pairs "$H2:$B2" -name mysession "$tok")" _sb_sid)"
check "bridge new pair -> go with the old pair only" "ERROR: securecookie: the value is not valid" \
    "$(gi decode -pairs "$H1:$B1" -name mysession "$tok")"
tok=$(encode go_json "$T" "{\"subject\":\"42\",\"data\":$JSON_CANON}")
out=$(gi decode -pairs "$H3:$B3" -name mysession -serializer json "$tok")
check "bridge JSON AES-192 -> go DecodeMulti" same "$(same_plain "$JSON_CANON" "$(plain_of "$out")")"
check "bridge JSON -> go: numbers are float64, as encoding/json reads them" float64 "$(field "$out" '["user_id"]["type"]')"
now=$(date +%s)   # Go reads with its own clock
tok=$(encode go_gob $((now - 2592000 - 60)) "$SESSION")
check "bridge cookie 30 days + 60 s old -> go" "ERROR: securecookie: expired timestamp" \
    "$(gi decode -pairs "$H1" -name mysession "$tok")"
tok=$(encode go_gob $((now - 2592000 + 60)) "$SESSION")
check "bridge cookie 30 days - 60 s old -> go" same \
    "$(typed same-typed "$CANON" "$(gi decode -pairs "$H1" -name mysession "$tok")" _sb_sid)"
hdr=$(encode go_gob "$T" "$SESSION" --set-cookie)
check_match "bridge Set-Cookie as gorilla/sessions writes it" '^mysession=[A-Za-z0-9_=-]+; Path=/; Max-Age=2592000; Expires=' "$hdr"
check "bridge Set-Cookie value -> go" same \
    "$(typed same-typed "$CANON" "$(gi decode -pairs "$H1" -name mysession "$(printf '%s' "$hdr" | cookie_value)")" _sb_sid)"
tok=$(encode go_uint "$T" '{"subject":"7","data":{"org":12}}')
out=$(gi decode -pairs "$H1" -name mysession "$tok")
check "go_types: the subject is a Go uint" '{"type": "uint", "value": 7}' "$(field "$out" '["user_id"]')"
check "go_types: org is a Go int64" '{"type": "int64", "value": 12}' "$(field "$out" '["org"]')"
check "go_types: read back as plain numbers" '{"org": 12, "user_id": 7}' \
    "$($PY -c 'import json,sys; d=json.loads(sys.argv[1]); d.pop("_sb_sid",None); print(json.dumps(d, sort_keys=True))' "$(data "$(decode go_uint "$T" "$tok")")")"
unsupported=$(encode go_gob "$T" '{"subject":"1","data":{"mixed":[1,"a"]}}'; echo "rc=$?")
check_match "a JSON array of non-strings has no gob type" 'rc=[1-9]' "$unsupported"
check_match "... and the error says which" '\[\]interface \{\}.*unsupported' "$(tail -1 ctl.log)"

# ---- rails: Rails makes, the bridge reads ---------------------------------

SID=$(hexkey 16)
RSESSION="{\"session_id\":\"$SID\",\"user_id\":42,\"name\":\"<Zoë> & \\u2028\",\"flash\":{\"discard\":[],\"flashes\":{\"notice\":\"hi\"}},\"_csrf_token\":\"tok==\",\"ratio\":0.5}"
RDATA=$($PY -c 'import json,sys; d=json.loads(sys.argv[1]); d.pop("session_id"); print(json.dumps(d))' "$RSESSION")
same_data() { $PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print("same" if a==b else "differs: %s" % b)' "$1" "$2"; }

tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION")
out=$(decode rails "$T" "$tok")
check "rails plain -> bridge: active" active "$(verdict "$out")"
check "rails plain -> bridge: sid is session_id" "$SID" "$(field "$out" '["session"]["sid"]')"
check "rails plain -> bridge: data" same "$(same_data "$RDATA" "$(data "$out")")"
check "rails plain -> bridge: subject" 42 "$(field "$out" '["session"]["subject"]')"
check "rails plain -> bridge: no expiry" 0 "$(field "$out" '["session"]["expires_at"]')"
check "rails cookie with another secret_key_base" bad_signature "$(verdict "$(decode rails7 "$T" "$tok")")"

tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION" --expires-at $((T + 3600)))
check "rails expire_after -> bridge before exp" active "$(verdict "$(decode rails $((T + 3599)) "$tok")")"
check "rails expire_after -> bridge: expires_at" $((T + 3600)) "$(field "$(decode rails "$T" "$tok")" '["session"]["expires_at"]')"
check "rails expire_after -> bridge at exp" expired "$(verdict "$(decode rails $((T + 3600)) "$tok")")"

tok=$(rb mint "$SKB_NEW" other_cookie "$RSESSION")
check "rails cookie for another purpose" invalid_claim "$(verdict "$(decode rails "$T" "$tok")")"
tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION" --no-purpose)
check "rails cookie without metadata: no purpose" invalid_claim "$(verdict "$(decode rails "$T" "$tok")")"
check "rails cookie without metadata, envelope = none" same "$(same_data "$RDATA" "$(data "$(decode rails_none "$T" "$tok")")")"

tok=$(rb mint "$SKB_OLD" _myapp_session "$RSESSION")
check "rails old secret_key_base -> rotated profile" same "$(same_data "$RDATA" "$(data "$(decode rails_rot "$T" "$tok")")")"
check "rails old secret_key_base -> profile without it" bad_signature "$(verdict "$(decode rails "$T" "$tok")")"

tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION" --digest sha256)
check "rails 7.0 SHA-256 KDF -> kdf_digest = sha256" same "$(same_data "$RDATA" "$(data "$(decode rails7 "$T" "$tok")")")"
check "rails 7.0 SHA-256 KDF -> SHA-1 profile" bad_signature "$(verdict "$(decode rails "$T" "$tok")")"
check "rails 7.0 SHA-256 KDF -> kdf_digest = sha256, sha1" active "$(verdict "$(decode rails_mig "$T" "$tok")")"
tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION")
check "rails SHA-1 KDF -> kdf_digest = sha256, sha1" active "$(verdict "$(decode rails_mig "$T" "$tok")")"

tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION" --marshal)
out=$(decode rails "$T" "$tok")
check "rails Marshal cookie" unsupported "$(verdict "$out")"
check_match "rails Marshal cookie: the message says so" 'Marshal' "$(field "$out" '["message"]')"

# ---- rails: the bridge makes, Rails reads ---------------------------------

BSESSION="{\"sid\":\"$SID\",\"subject\":\"42\",\"data\":$RDATA}"
RWANT=$($PY -c 'import json,sys; d=json.loads(sys.argv[1]); print(json.dumps(d))' "$RSESSION")
tok=$(encode rails "$T" "$BSESSION")
check "bridge -> rails: same session, session_id = sid" same "$(same_data "$RWANT" "$(rb read _myapp_session "$tok" "$SKB_NEW")")"
check "bridge -> rails read for another purpose" nil "$(rb read _myapp_session "$tok" "$SKB_NEW" --purpose cookie.other_cookie)"
check "bridge -> rails with another secret_key_base" invalid "$(rb read _myapp_session "$tok" "$SKB_OLD")"
tok=$(encode rails "$T" "{\"sid\":\"$SID\",\"subject\":\"42\",\"data\":$RDATA,\"expires_at\":$((T - 10))}")
check "bridge -> rails: past its exp" nil "$(rb read _myapp_session "$tok" "$SKB_NEW")"
tok=$(encode rails "$T" "{\"sid\":\"$SID\",\"subject\":\"42\",\"data\":$RDATA,\"expires_at\":$((T + 600))}")
check "bridge -> rails: before its exp" same "$(same_data "$RWANT" "$(rb read _myapp_session "$tok" "$SKB_NEW")")"
tok=$(encode rails_rot "$T" "$BSESSION")
check "bridge rotated profile encrypts with the first secret" same "$(same_data "$RWANT" "$(rb read _myapp_session "$tok" "$SKB_NEW")")"
check "bridge rotated profile, Rails with the old secret only" invalid "$(rb read _myapp_session "$tok" "$SKB_OLD")"
check "bridge rotated profile, Rails rotating old -> new" same "$(same_data "$RWANT" "$(rb read _myapp_session "$tok" "$SKB_OLD" "$SKB_NEW")")"
tok=$(encode rails7 "$T" "$BSESSION")
check "bridge kdf_digest = sha256 -> Rails 7.0 key" same "$(same_data "$RWANT" "$(rb read _myapp_session "$tok" "$SKB_NEW" --digest sha256)")"
check "bridge kdf_digest = sha256 -> Rails 6.1 key" invalid "$(rb read _myapp_session "$tok" "$SKB_NEW")"
tok=$(encode rails "$T" '{"sid":"express-style-sid_01","subject":"42","data":{"user_id":42}}')
out=$(rb read _myapp_session "$tok" "$SKB_NEW")
check_match "bridge -> rails: a non-hex sid gives a 32-hex session_id" '"session_id":"[0-9a-f]{32}"' "$out"
check_match "bridge -> rails: ... and keeps the canonical sid" '"_sb_sid":"express-style-sid_01"' "$out"
check "... which decodes back to the canonical sid" express-style-sid_01 \
    "$(field "$(decode rails "$T" "$tok")" '["session"]["sid"]')"
hdr=$(encode rails "$T" "$BSESSION" --set-cookie)
check_match "bridge rails Set-Cookie attributes" '^_myapp_session=[^;]+; Path=/; HttpOnly; SameSite=Lax$' "$hdr"
wire=$(printf '%s' "$hdr" | cookie_value)
check "bridge rails Set-Cookie value: Rack-escaped, no + / =" "" "$(printf '%s' "$wire" | tr -d 'A-Za-z0-9%-')"
check "bridge rails Set-Cookie value -> Rails after unescaping" same \
    "$(same_data "$RWANT" "$(rb read _myapp_session "$(ruby -rcgi -e 'print CGI.unescape(ARGV[0])' "$wire")" "$SKB_NEW")")"
tok=$(encode rails_none "$T" "$BSESSION")
check "bridge envelope = none -> Rails without metadata" same \
    "$(same_data "$RWANT" "$(ruby -e '
require "active_support"; require "active_support/key_generator"; require "active_support/message_encryptor"
k = ActiveSupport::KeyGenerator.new(ARGV[1], iterations: 1000).generate_key("authenticated encrypted cookie", 32)
print ActiveSupport::MessageEncryptor.new(k, cipher: "aes-256-gcm", serializer: ActiveSupport::MessageEncryptor::NullSerializer).decrypt_and_verify(ARGV[0])' "$tok" "$SKB_NEW")")"

# ---- translate: Rails -> Go -> Rails ---------------------------------------

tok=$(rb mint "$SKB_NEW" _myapp_session "$RSESSION" --expires-at $((T + 3600)))
g=$("$SB_CTL" -c "$CFG" translate --offline --from rails --to go_enc --now "$T" "$tok" 2>>ctl.log)
out=$(gi decode -pairs "$H1:$B1" -name mysession "$g")
check "rails -> translate -> go: the same values in Go types" same "$(typed same-typed "$RDATA" "$out" _sb_sid)"
check "rails -> translate -> go: the sid rides along" "$SID" "$(field "$out" '["_sb_sid"]["value"]')"
check "rails -> translate -> go: Rails' exp kept (timestamp moved back)" $((T + 3600)) \
    "$(field "$(decode go_enc "$T" "$g")" '["session"]["expires_at"]')"
r=$("$SB_CTL" -c "$CFG" translate --offline --from go_enc --to rails --now "$T" "$g" 2>>ctl.log)
check "... -> translate -> rails: Rails reads the same session" same \
    "$(same_data "$RWANT" "$(rb read _myapp_session "$r" "$SKB_NEW")")"

sb_finish
