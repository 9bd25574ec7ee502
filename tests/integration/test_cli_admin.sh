#!/bin/bash
# test_cli_admin.sh - sessionbridgectl against the real daemon and a real
# redis-server: what the CLI purges or revokes validates as revoked through
# the API at once (in every format, stateless credentials included), API
# keys the CLI creates validate through the API until revoked, sessions
# list/show and stats agree with the store, keys jwks with the daemon's
# JWKS; bad arguments exit 2, Redis down exits 3.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start
ctl() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@"; }

# every_profile EXPECTED LABEL: validates LOGIN's credential of each profile.
every_profile() {
    local p
    for p in $SB_API_ALL; do
        check "$2: $p" "$1" "$(validate "$(cred "$p")" "$p")"
    done
}

# unseen PROFILE SUBJECT SID ISSUED_AGO: a credential the daemon never saw.
unseen() {
    local now
    now=$(date +%s)
    offline "$1" "$((now - $4))" "{\"sid\":\"$3\",\"subject\":\"$2\",\"data\":{\"user_id\":\"$2\",\"_user_id\":\"$2\"},\"issued_at\":$((now - $4)),\"expires_at\":$((now + 86400))}"
}

# -- purge --session: every credential of the session, every format
login u1 '{"role":"admin"}' 3600
every_profile "200 u1" "u1 valid after login"
out=$(ctl purge --session "$LOGIN_SID")
check "purge --session: exit 0" 0 $?
check_match "purge --session: one removed" "purged 1 session" "$out"
every_profile "401 revoked" "revoked after purge --session"
api GET "/v1/sessions/$LOGIN_SID"
check "purge --session: the API no longer has it" 404 "$API_STATUS"

# -- purge --user: log-out-everywhere, stateless credentials never seen too
login u2 '{}' 3600
first=$LOGIN
never=$(unseen legacy u2 unseen-u2 30)
sleep 1.1   # the unseen credential's issue time must be before the purge
out=$(ctl purge --user u2 --json)
check "purge --user: exit 0" 0 $?
check "purge --user: one user, one session" "1 1" "$(json_get "$out" '["users"]') $(json_get "$out" '["sessions"]')"
LOGIN=$first
every_profile "401 revoked" "revoked after purge --user"
check "purge --user: a credential the daemon never saw" "401 revoked" "$(validate "$never" legacy)"
login u2 '{}' 3600
every_profile "200 u2" "a login after purge --user works"

# -- purge --profile: only sessions recorded from that profile
c3=$(unseen legacy u3 prof-legacy-u3 60)
c4=$(unseen new u4 prof-new-u4 60)
check "u3 legacy credential valid (recorded)" "200 u3" "$(validate "$c3" legacy)"
check "u4 gorilla credential valid (recorded)" "200 u4" "$(validate "$c4" new)"
ctl purge --profile legacy >/dev/null
check "purge --profile: exit 0" 0 $?
check "purge --profile legacy: the legacy credential is revoked" "401 revoked" "$(validate "$c3" legacy)"
check "purge --profile legacy: the gorilla one stays valid" "200 u4" "$(validate "$c4" new)"
check "purge --profile legacy: u2's login (profile bridge) stays" "200 u2" "$(validate "$(cred api)" api)"

# -- purge --older-than: by issued_at
old=$(unseen star u5 old-u5 $((3 * 86400)))
young=$(unseen star u6 young-u6 60)
check "a 3-day-old credential is valid" "200 u5" "$(validate "$old" star)"
check "a fresh one too" "200 u6" "$(validate "$young" star)"
ctl purge --older-than 2d >/dev/null
check "purge --older-than: exit 0" 0 $?
check "purge --older-than 2d: the old one is revoked" "401 revoked" "$(validate "$old" star)"
check "purge --older-than 2d: the fresh one stays" "200 u6" "$(validate "$young" star)"

# -- purge --all: everything recorded is revoked, new logins work
login u7 '{}' 3600
all_login=$LOGIN
ctl purge --all </dev/null >/dev/null 2>&1
check "purge --all without --yes off a terminal: exit 2" 2 $?
check "...and u7 is still valid" "200 u7" "$(validate "$(cred legacy)" legacy)"
ctl purge --all --yes >/dev/null
check "purge --all --yes: exit 0" 0 $?
LOGIN=$all_login
every_profile "401 revoked" "revoked after purge --all"
check "purge --all: u4's gorilla credential" "401 revoked" "$(validate "$c4" new)"
check "purge --all: u6's starlette credential" "401 revoked" "$(validate "$young" star)"
check "purge --all: no session left" 0 "$(sb_redis --scan --pattern 'sb:{*}:sess:*' | wc -l)"
login u7 '{}' 3600
every_profile "200 u7" "a login after purge --all works"

# -- revoke TOKEN
login u8 '{}' 3600
printf '%s' "$(cred legacy)" | ctl revoke --profile legacy >"$SB_TMP/out" 2>&1
check "revoke (token on stdin): exit 0" 0 $?
check_match "revoke: says what it revoked" "revoked session $LOGIN_SID of u8 \(a legacy credential\); its stored session was deleted" "$(cat "$SB_TMP/out")"
every_profile "401 revoked" "revoke of the flask cookie revokes the session"
login u8 '{}' 3600
out=$(ctl revoke --json "$(cred api)")
check "revoke (argument, profile found by trying): exit 0" 0 $?
check "revoke --json" "true $LOGIN_SID u8 api true" "$(json_get "$out" '["revoked"]') $(json_get "$out" '["sid"]') $(json_get "$out" '["subject"]') $(json_get "$out" '["profile"]') $(json_get "$out" '["was_stored"]')"
every_profile "401 revoked" "revoke of the JWT revokes the session"
never=$(unseen dj u9 never-seen-u9 10)
out=$(printf '%s' "$never" | ctl revoke - --json)
check "revoke of a credential the store never saw: exit 0" 0 $?
check "...was not stored" false "$(json_get "$out" '["was_stored"]')"
check "...and validates as revoked from then on" "401 revoked" "$(validate "$never" dj)"
ctl revoke --profile legacy 'not-a-cookie' >/dev/null 2>"$SB_TMP/err"
check "revoke of garbage: exit 1" 1 $?
check_match "revoke of garbage: nothing revoked, no token echoed" "not valid for profile legacy: .*nothing revoked" "$(cat "$SB_TMP/err")"
check "revoke of garbage: the token is not in the message" 0 "$(grep -c 'not-a-cookie' "$SB_TMP/err")"
tampered="$(cred api)x"
ctl revoke "$tampered" >/dev/null 2>"$SB_TMP/err"
check "revoke of a tampered JWT: exit 1" 1 $?
check_match "revoke of a tampered JWT: the signature error" "bad_signature|malformed" "$(cat "$SB_TMP/err")"

# -- API keys: create, validate through the API, list, revoke
key=$(ctl apikey create --subject svc-deploy --scope sessions:read --scope sessions:write --id ci-deploy 2>"$SB_TMP/err")
check "apikey create: exit 0" 0 $?
check_match "apikey create: prints the key once" "^sbk_[A-Za-z0-9_-]{43}$" "$key"
check_match "apikey create: says it is shown once" "shown once" "$(cat "$SB_TMP/err")"
check "apikey create: the key is not stored, only its hash" "0 1" "$($SB_PY -c '
import hashlib, redis, sys
r = redis.Redis(port=int(sys.argv[1]))
vals = [r.get(k) for k in r.scan_iter(match="sb:{k}:*") if r.type(k) == b"string"]
print(sum(sys.argv[2].encode() in v for v in vals), sum(hashlib.sha256(sys.argv[2].encode()).hexdigest().encode() in v for v in vals if v.startswith(b"{")))' "$SB_REDIS_PORT" "$key")"
api POST /v1/apikeys/validate "{\"key\":\"$key\"}"
check "API validates the new key" "200 true ci-deploy svc-deploy" "$API_STATUS $(jget '["valid"]') $(jget '["key_id"]') $(jget '["subject"]')"
check "...with its scopes" '["sessions:read", "sessions:write"]' "$(jget '["scopes"]')"
api POST /v1/apikeys/validate '{}' -H "X-API-Key: $key"
check "API validates it from X-API-Key too" 200 "$API_STATUS"
out=$(ctl apikey list --json)
check "apikey list --json" "ci-deploy svc-deploy" "$(json_get "$out" '["key_id"]') $(json_get "$out" '["subject"]')"
check "apikey list never shows the key" 0 "$(printf '%s' "$out" | grep -c "$key")"
check_match "apikey list table" "ci-deploy +svc-deploy +sessions:read,sessions:write" "$(ctl apikey list 2>/dev/null)"
ctl apikey create --subject other --id ci-deploy >/dev/null 2>"$SB_TMP/err"
check "apikey create with a taken id: exit 1" 1 $?
check_match "...says so" "key id 'ci-deploy' is taken" "$(cat "$SB_TMP/err")"
out=$(ctl apikey revoke ci-deploy)
check "apikey revoke: exit 0" 0 $?
api POST /v1/apikeys/validate "{\"key\":\"$key\"}"
check "API refuses the revoked key" "401 false unknown_key" "$API_STATUS $(jget '["valid"]') $(jget '["error"]')"
ctl apikey revoke ci-deploy >/dev/null 2>&1
check "apikey revoke again: exit 1 (no such key)" 1 $?
# Expiry by the clock, never by a sleep that a slow run could outlast: a
# key valid for an hour validates; a 2-second key is refused once the clock
# has passed its expires_at.
long=$(ctl apikey create --subject temp --expires 1h --json 2>/dev/null)
check "--expires 1h: expires_at = created_at + 3600" 3600 \
    "$(( $(json_get "$long" '["expires_at"]') - $(json_get "$long" '["created_at"]') ))"
api POST /v1/apikeys/validate "{\"key\":\"$(json_get "$long" '["key"]')\"}"
check "a key with --expires validates before it expires" 200 "$API_STATUS"
ctl apikey revoke "$(json_get "$long" '["key_id"]')" >/dev/null 2>&1
check "...and is revoked again (the stats below count keys)" 0 $?
short=$(ctl apikey create --subject temp --expires 2s --json 2>/dev/null)
skey=$(json_get "$short" '["key"]')
check_match "...and has a random id" "^[0-9a-f]{12}$" "$(json_get "$short" '["key_id"]')"
sexp=$(json_get "$short" '["expires_at"]')
check "--expires 2s: expires_at = created_at + 2" 2 "$(( sexp - $(json_get "$short" '["created_at"]') ))"
clock_past() { [ "$(date +%s)" -gt "$1" ]; }
SB_WAIT=600 sb_wait_for clock_past "$sexp"
api POST /v1/apikeys/validate "{\"key\":\"$skey\"}"
check "...and is refused once the clock has passed its expires_at" 401 "$API_STATUS"

# -- sessions list / show agree with the API
login u10 '{"theme":"dark"}' 3600
out=$(ctl sessions list --user u10 --json)
check "sessions list --user: one JSON line" 1 "$(printf '%s\n' "$out" | wc -l)"
check "sessions list --user: the session" "$LOGIN_SID u10 bridge" "$(json_get "$out" '["sid"]') $(json_get "$out" '["subject"]') $(json_get "$out" '["profile"]')"
api GET "/v1/sessions/$LOGIN_SID"
check "sessions show --json is the API's session" "$(json_get "$API_BODY" '')" "$(json_get "$(ctl sessions show --json -- "$LOGIN_SID")" '')"
check "...and is not empty" "$LOGIN_SID" "$(json_get "$API_BODY" '["sid"]')"
check_match "sessions show: readable" "subject: +u10" "$(ctl sessions show -- "$LOGIN_SID")"
check_match "sessions show: its data" '"theme": "dark"' "$(ctl sessions show -- "$LOGIN_SID")"
ctl sessions show nosuchsid >/dev/null 2>"$SB_TMP/err"
check "sessions show of a missing sid: exit 1" 1 $?
check_match "...says so" "no session 'nosuchsid'" "$(cat "$SB_TMP/err")"
check "sessions list --profile legacy: none (logins are profile bridge)" 0 "$(ctl sessions list --profile legacy --json | wc -l)"
n=$(ctl sessions list --limit 0 --json | wc -l)
check "sessions list --limit 0: every session" "$(sb_redis --scan --pattern 'sb:{*}:sess:*' | wc -l)" "$n"
check "sessions list --limit 1" 1 "$(ctl sessions list --limit 1 --json | wc -l)"
check_match "sessions list table has a header" "^SID +SUBJECT +PROFILE +ISSUED +EXPIRES +UPDATED" "$(ctl sessions list 2>/dev/null)"

# -- stats agree with the store
out=$(ctl stats --json)
check "stats: exit 0" 0 $?
check "stats: sessions" "$(sb_redis --scan --pattern 'sb:{*}:sess:*' | wc -l)" "$(json_get "$out" '["sessions"]')"
check "stats: users" "$(sb_redis --scan --pattern 'sb:{u:*}:idx' | wc -l)" "$(json_get "$out" '["users"]')"
check "stats: revocation markers" "$(sb_redis --scan --pattern 'sb:{*}:rev:*' | wc -l)" "$(json_get "$out" '["revocation_markers"]')"
check "stats: not-before markers" "$(sb_redis --scan --pattern 'sb:{u:*}:nbf' | wc -l)" "$(json_get "$out" '["not_before_markers"]')"
check "stats: API keys (the expired one is gone)" 0 "$(json_get "$out" '["api_keys"]')"
check "stats: every key counted" "$(sb_redis --scan --pattern 'sb:*' | wc -l)" "$(json_get "$out" '["keys"]')"
check "stats: layout" 1 "$(json_get "$out" '["layout"]')"
check "stats: sessions by profile" '{"bridge": 2}' "$(json_get "$out" '["sessions_by_profile"]')"
check_match "stats: a memory figure" "^[1-9][0-9]+$" "$(json_get "$out" '["memory"]["bytes_estimate"]')"
check_match "stats: text" "sessions +2" "$(ctl stats)"

# -- keys jwks: what the daemon publishes
check "keys jwks equals /.well-known/jwks.json" "$(sb_http_body GET /.well-known/jwks.json | $SB_PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')" "$(ctl keys jwks | $SB_PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')"
check_match "keys jwks lists the RS256 key" '"kid": "test-rsa-1"' "$(ctl keys jwks | $SB_PY -m json.tool)"

# -- bad arguments: exit 2, named, nothing changed; Redis down: exit 3
before=$(sb_data_keys)
bad() {
    local name=$1 want=$2; shift 2
    ctl "$@" >/dev/null 2>"$SB_TMP/err" </dev/null
    check "$name: exit 2" 2 $?
    check_match "$name: names the argument" "$want" "$(cat "$SB_TMP/err")"
}
bad "sessions list unknown flag" "unknown option '--all'" sessions list --all
bad "sessions list bad limit" "--limit: 'many'" sessions list --limit many
bad "sessions list unknown profile" "--profile: no profile named 'zz'" sessions list --profile zz
bad "sessions list empty user" "--user needs a non-empty value" sessions list --user ''
bad "sessions show without sid" "which session" sessions show
bad "sessions show malformed sid" "SID: 'a/b' is not a session id" sessions show a/b
bad "sessions bogus" "needs a subcommand" sessions bogus
bad "stats bad sample" "--sample: 'x'" stats --sample x
bad "stats stray word" "unexpected argument 'now'" stats now
bad "apikey create without subject" "--subject is required" apikey create
bad "apikey create bad expiry" "--expires: '3x'" apikey create --subject s --expires 3x
bad "apikey create bad id" "--id: 'a b'" apikey create --subject s --id 'a b'
bad "apikey create empty scope" "--scope needs a non-empty value" apikey create --subject s --scope ''
bad "apikey create scope with a space" "--scope: 'a b'" apikey create --subject s --scope 'a b'
bad "apikey revoke without id" "which key" apikey revoke
bad "apikey revoke bad id" "KEY_ID: 'x/y'" apikey revoke x/y
bad "revoke unknown profile" "--profile: no profile named 'zz'" revoke --profile zz tok
bad "revoke without a token" "no TOKEN" revoke
bad "revoke two tokens" "unexpected argument" revoke a b
check "bad arguments changed nothing" "$before" "$(sb_data_keys)"
check "apikey create with bad arguments stored nothing" 0 "$(sb_redis --scan --pattern 'sb:{k}:apikey:*' | wc -l)"
for cmd in "sessions list" "sessions show abc" "stats" "apikey list" "apikey revoke k" "apikey create --subject s" "purge --user u1"; do
    "$SB_CTL" -c "$SB_TMP/sb.ini" --redis redis://127.0.0.1:1/0 $cmd >/dev/null 2>&1 </dev/null
    check "$cmd, Redis unreachable: exit 3" 3 $?
done
printf '%s' "$(cred legacy)" | "$SB_CTL" -c "$SB_TMP/sb.ini" --redis redis://127.0.0.1:1/0 revoke >/dev/null 2>&1
check "revoke, Redis unreachable: exit 3" 3 $?
for cmd in "sessions list" "sessions show" "stats" "revoke" "apikey create" "apikey list" "apikey revoke" "keys jwks" "purge"; do
    check_match "$cmd --help has an example" "Example: .*sessionbridgectl" "$(ctl $cmd --help)"
done

sb_api_finish
