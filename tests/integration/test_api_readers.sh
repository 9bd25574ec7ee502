#!/usr/bin/env bash
# The Redis layout's reader examples (proto/examples/reader.py with
# redis-py, proto/examples/reader.go with the standard library) read the
# sessions the bridge wrote, by sid and by user, and see deletes.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

# PYR KIND ID: "--" before the id, which may begin with "-" (base64url sids)
PYR() { $SB_PY "$SB_SOURCE_DIR/proto/examples/reader.py" --url "$SB_REDIS_URL" "$1" -- "$2"; }
export GO111MODULE=off GOCACHE=$SB_TMP/gocache GOPATH=$SB_TMP/gopath
go build -o "$SB_TMP/reader" "$SB_SOURCE_DIR/proto/examples/reader.go" || { echo "go build failed"; exit 1; }
GOR() { "$SB_TMP/reader" -addr "127.0.0.1:$SB_REDIS_PORT" "$@"; }

login 'alice@example.com' '{"theme":"dark","n":12345678901234567,"nested":{"a":[1,"x"]}}' 3600
sid1=$LOGIN_SID
login 'alice@example.com' '{"theme":"light"}' 600
sid2=$LOGIN_SID
login 'odd:{user} x/%' '{"k":1}' 600
odd=$LOGIN_SID
# a session first seen through a credential (validate), not a login
now=$(date +%s)
tok=$(offline api "$now" "{\"sid\":\"seen-by-validate\",\"subject\":\"carol\",\"data\":{\"via\":\"jwt\"},\"issued_at\":$now,\"expires_at\":$((now + 900))}")
check "validate records the JWT's session" "200 carol" "$(validate "$tok" api)"

api GET "/v1/sessions/$sid1"
want=$($SB_PY -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1]), sort_keys=True))' "$API_BODY")

py=$(PYR session "$sid1")
check "python: session by sid" "$want" "$py"
go=$(GOR session "$sid1" | $SB_PY -c 'import json,sys; print(json.dumps(json.load(sys.stdin), sort_keys=True))')
check "go: session by sid (same JSON, big integer kept)" "$want" "$go"
check "python: user's sessions, soonest expiry first" "$sid2 $sid1" \
    "$(PYR user 'alice@example.com' | $SB_PY -c 'import json,sys; print(" ".join(s["sid"] for s in json.load(sys.stdin)))')"
check "go: user's sessions" "$sid2 $sid1" \
    "$(GOR user 'alice@example.com' | $SB_PY -c 'import json,sys; print(" ".join(s["sid"] for s in json.load(sys.stdin)))')"
check "python: a subject that needs escaping" "$odd" "$(PYR user 'odd:{user} x/%' | $SB_PY -c 'import json,sys; print(json.load(sys.stdin)[0]["sid"])')"
check "go: a subject that needs escaping" "$odd" "$(GOR user 'odd:{user} x/%' | $SB_PY -c 'import json,sys; print(json.load(sys.stdin)[0]["sid"])')"
check "python: the session validate recorded" "jwt api" "$(PYR session seen-by-validate | $SB_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["data"]["via"], d["profile"])')"
check "go: the session validate recorded" "jwt api" "$(GOR session seen-by-validate | $SB_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["data"]["via"], d["profile"])')"

api PATCH "/v1/sessions/$sid1" '{"data":{"theme":"blue"}}'
check "python sees a PATCH" "blue 2" "$(PYR session "$sid1" | $SB_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["data"]["theme"], d["version"])')"
check "go sees a PATCH" "blue 2" "$(GOR session "$sid1" | $SB_PY -c 'import json,sys; d=json.load(sys.stdin); print(d["data"]["theme"], d["version"])')"

api DELETE "/v1/sessions/$sid1"
PYR session "$sid1" >/dev/null; check "python: a deleted session is gone (exit 1)" 1 "$?"
GOR session "$sid1" >/dev/null; check "go: a deleted session is gone (exit 1)" 1 "$?"
api DELETE "/v1/users/alice@example.com/sessions"
check "python: no sessions after log-out-everywhere" "[]" "$(PYR user 'alice@example.com')"
check "go: no sessions after log-out-everywhere" "[]" "$(GOR user 'alice@example.com')"
GOR session never >/dev/null; check "go: unknown sid exit 1" 1 "$?"

sb_api_finish
