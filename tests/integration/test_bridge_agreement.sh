#!/usr/bin/env bash
# The bridge answers once for every surface (issue 11):
#  - property: for every format, a credential re-issued by its app after a
#    revocation (new timestamp, same session) is refused with `revoked` on
#    every endpoint (validate, forward-auth, translate, introspect), after
#    a revocation through every path (DELETE session, DELETE user, POST
#    /v1/revoke, purge --user, purge --session, revoke);
#  - the CLI's decode / translate and POST /v1/validate / /v1/translate
#    give the same answer for the same input, for every profile, valid or
#    revoked.
# Real redis-server and daemon; costs about 40 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start
ctl() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@"; }

# auth_error COOKIE: forward-auth's "STATUS X-Session-Error".
auth_error() {
    curl -s -o /dev/null -D "$SB_TMP/ah" -w '%{http_code}' -H "Cookie: $1" "$SB_URL/v1/auth"
    printf ' %s' "$(tr -d '\r' <"$SB_TMP/ah" | sed -n 's/^X-Session-Error: //p')"
}

# refused_everywhere PATH SUBJECT SID: re-issues the session for every
# profile, one second later than its login, and checks every endpoint.
refused_everywhere() {
    local path=$1 subject=$2 sid=$3 p now session tok ck
    now=$(date +%s)
    session="{\"sid\":\"$sid\",\"subject\":\"$subject\",\"data\":{\"k\":\"v\"},\"issued_at\":$now,\"expires_at\":$((now + 3000))}"
    for p in $SB_API_ALL; do
        tok=$(offline "$p" "$now" "$session")
        ck=$(offline_cookie "$p" "$now" "$session")
        check "$path, $p re-issued: validate" "401 revoked" "$(validate "$tok" "$p")"
        check "$path, $p re-issued: forward-auth" "401 revoked" "$(auth_error "$ck")"
        api POST /v1/translate "{\"token\":\"$tok\",\"from\":\"$p\",\"to\":\"legacy\"}"
        check "$path, $p re-issued: translate" "401 revoked" "$API_STATUS $(jget '["error"]')"
        api_raw POST /v1/introspect -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$tok"
        check "$path, $p re-issued: introspect" '{"active":false}' "$API_BODY"
    done
}

# -- the property, one user per revocation path
n=0
for path in delete-session delete-user rfc7009 purge-user purge-session cli-revoke; do
    n=$((n + 1))
    login "prop$n" '{"k":"v"}' 3600
    sid=$LOGIN_SID
    check "$path: the login's JWT is valid" "200 prop$n" "$(validate "$(cred api)" api)"
    case $path in
    delete-session) api DELETE "/v1/sessions/$sid" ;;
    delete-user) api DELETE "/v1/users/prop$n/sessions" ;;
    rfc7009) api_raw POST /v1/revoke -H "X-Bridge-Token: $BTOK" --data-urlencode "token=$(cred legacy)" ;;
    purge-user) ctl purge --user "prop$n" --yes >/dev/null; API_STATUS=$? ;;
    purge-session) ctl purge --session "$sid" --yes >/dev/null; API_STATUS=$? ;;
    cli-revoke) printf '%s' "$(cred new)" | ctl revoke >/dev/null; API_STATUS=$? ;;
    esac
    check "$path: the revocation succeeded" 1 "$([ "$API_STATUS" = 200 ] || [ "$API_STATUS" = 0 ] && echo 1)"
    sleep 1 # the re-issue carries a later timestamp than the login
    refused_everywhere "$path" "prop$n" "$sid"
done

# -- the CLI and the API agree
# same_json A B: "same" when the two JSON documents are equal
same_json() { $SB_PY -c 'import json,sys; a,b=json.loads(sys.argv[1]),json.loads(sys.argv[2]); print("same" if a==b else "differ: %s | %s" % (a,b))' "$1" "$2"; }
login agree '{"theme":"dark","n":2.0}' 3600
for p in $SB_API_ALL; do
    tok=$(cred "$p")
    api POST /v1/validate "{\"token\":\"$tok\",\"profile\":\"$p\"}"
    check "$p: decode = POST /v1/validate" same "$(same_json "$API_BODY" "$(ctl decode --profile "$p" "$tok")")"
    api POST /v1/validate "{\"token\":\"$tok\"}"
    check "$p: decode without a profile = validate without one" same "$(same_json "$API_BODY" "$(ctl decode "$tok")")"
    for q in legacy new; do
        api POST /v1/translate "{\"token\":\"$tok\",\"from\":\"$p\",\"to\":\"$q\"}"
        via_api=$(jget '["token"]')
        via_cli=$(ctl translate --from "$p" --to "$q" "$tok")
        api POST /v1/validate "{\"token\":\"$via_api\",\"profile\":\"$q\"}"
        a=$(jget '["session"]')
        api POST /v1/validate "{\"token\":\"$via_cli\",\"profile\":\"$q\"}"
        check "$p -> $q: CLI translate = POST /v1/translate (the same session)" same \
            "$(same_json "$($SB_PY -c 'import json,sys; s=json.loads(sys.argv[1]); [s.pop(k) for k in ("issued_at","expires_at","version","updated_at")]; print(json.dumps(s))' "$a")" \
                         "$($SB_PY -c 'import json,sys; s=json.loads(sys.argv[1]); [s.pop(k) for k in ("issued_at","expires_at","version","updated_at")]; print(json.dumps(s))' "$(jget '["session"]')")")"
    done
done
check "the float stays a float through the API" "2.0" "$(printf '%s' "$(ctl decode --profile new "$(cred new)")" | $SB_PY -c 'import json,sys; print(repr(json.load(sys.stdin)["session"]["data"]["n"]))')"
api DELETE "/v1/sessions/$LOGIN_SID"
for p in $SB_API_ALL; do
    tok=$(cred "$p")
    api POST /v1/validate "{\"token\":\"$tok\",\"profile\":\"$p\"}"
    check "$p revoked: decode = validate" same "$(same_json "$API_BODY" "$(ctl decode --profile "$p" "$tok")")"
    check "$p revoked: decode exits 1" 1 "$(ctl decode --profile "$p" "$tok" >/dev/null; echo $?)"
done
check "express without Redis: decode says it cannot ask" 3 \
    "$("$SB_CTL" -c "$SB_TMP/sb.ini" --redis redis://127.0.0.1:1/0 decode --profile node "$(cred node)" >/dev/null 2>&1; echo $?)"

sb_api_finish
