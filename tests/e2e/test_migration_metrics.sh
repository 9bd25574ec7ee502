#!/usr/bin/env bash
# End to end, the migration's metrics tell the truth: the e2e setup (nginx
# with the docker/nginx/ snippets, two bridges, the Flask and Go apps,
# Redis) under the load generator, traffic moved 0 -> 50 -> 100% to the new
# app and back to 0%.  Between phases the load generator pauses (nothing in
# flight), the script reads both bridges' /metrics, and each phase's
# increase of sessionbridge_auth_requests_total, by backend and presented,
# must equal what the load generator sent in it: which app answered (the
# backend nginx's split chose, which the snippets pass to the bridge as
# X-Sessionbridge-Backend) and which of the two apps' cookies it carried.
# The load's own checks hold too: nobody logged out, nobody served as
# someone else.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/e2e.sh"

PHASE_REQUESTS=${E2E_METRICS_PHASE_REQUESTS:-300}
PHASE_SECONDS=${E2E_PHASE_SECONDS:-240}
LOAD_USERS=${E2E_METRICS_USERS:-8}

for tool in nginx go curl redis-server "$E2E_PYTHON"; do
    command -v "$tool" >/dev/null || { echo "FAIL - $tool is not installed (docker/install-deps.sh test)"; exit 1; }
done
"$E2E_PYTHON" -c 'import flask' 2>/dev/null || { echo "FAIL - python3-flask is not installed"; exit 1; }

e2e_build_new_app
e2e_secrets
sb_start_redis
e2e_write_bridge_config "$SB_TMP/bridge.ini"
e2e_start_bridge 1
e2e_start_bridge 2
e2e_start_apps
e2e_start_nginx

LOAD=$SB_TMP/load
mkdir -p "$LOAD" "$SB_TMP/snap"
# pause NAME: a pause phase, returned from once no request is in flight.
pause() {
    local deadline
    set_phase "$1" || return 1
    deadline=$((SECONDS + PHASE_SECONDS))
    until [ "$(cat "$LOAD/idle" 2>/dev/null)" = "$1	0" ]; do
        [ "$SECONDS" -lt "$deadline" ] || { load_failed "requests still in flight in $1"; return 1; }
        sleep 0.05
    done
}
# snapshot NAME: both bridges' auth_requests_total series, saved as NAME.
snapshot() {
    local n
    for n in 1 2; do
        curl -s "http://127.0.0.1:${E2E_BRIDGE_PORT[$n]}/metrics" | grep '^sessionbridge_auth_requests_total{'
    done >"$SB_TMP/snap/$1"
}

snapshot start
e2e_set_weight 0
printf 'login\n' >"$LOAD/phase"
"$E2E_PYTHON" "$E2E_DIR/loadgen.py" run --url "$E2E_URL" --control "$LOAD" \
    --out "$LOAD/result.json" --users "$LOAD_USERS" \
    --legacy-cookie "$E2E_LEGACY_COOKIE" --new-cookie "$E2E_NEW_COOKIE" \
    --phase-max-seconds 600 >"$LOAD/out.log" 2>&1 &
LOAD_PID=$!
sb_track "$LOAD_PID"
# Every user has logged in (in phase "login") once the generator reports
# progress; only then may a pause begin.
# shellcheck disable=SC2034 # read by wait_requests (e2e.sh)
PHASE_START=$SECONDS
wait_requests 1

# The phases, each between two pauses: its name, then the weight.
phases=("login:" "0%:0" "50%:50" "100%:100" "back to 0%:0")
prev=start
i=0
for entry in "${phases[@]}"; do
    name=${entry%%:*}
    weight=${entry#*:}
    if [ "$name" != login ]; then
        e2e_set_weight "$weight"
        set_phase "$name"
        wait_requests "$PHASE_REQUESTS"
    fi
    i=$((i + 1))
    pause "pause $i"
    snapshot "$i"
    echo "$prev $i $name" >>"$SB_TMP/snap/index"
    prev=$i
done
touch "$LOAD/stop"
wait "$LOAD_PID"
check "the load generator finished" 0 $?

# compare: for each phase, the bridges' increase by backend/presented and
# what the generator sent (requests begun in the phase, some ending in the
# pause after it), side by side; prints one line per phase and differences.
compare() {
    "$E2E_PYTHON" - "$SB_TMP/snap" "$LOAD/result.json" <<'EOF'
import collections, json, re, sys
snap, result = sys.argv[1], json.load(open(sys.argv[2]))
apps = {"legacy": "legacy_app", "new": "new_app"}

def series(name):
    out = collections.Counter()
    for line in open(f"{snap}/{name}"):
        m = re.match(r'sessionbridge_auth_requests_total\{backend="([^"]*)",presented="([^"]*)",result="[^"]*"\} (\d+)', line)
        if m:
            out[f"{m[1]}/{m[2]}"] += int(m[3])
    return out

for line in open(f"{snap}/index"):
    before, after, phase = line.rstrip("\n").split(" ", 2)
    seen = series(after)
    seen.subtract(series(before))
    seen = {k: v for k, v in seen.items() if v}
    sent = collections.Counter()
    for name, counts in result["sent"].items():
        if name == phase or name.startswith(phase + " > pause"):
            for k, v in counts.items():
                app, presented = k.split("/")
                sent[f"{apps.get(app, 'router:' + app)}/{presented}"] += v
    sent = dict(sent)
    print(f"{phase}|{sum(sent.values())}|{'same' if seen == sent else 'DIFFERENT'}|"
          f"{json.dumps(dict(sorted(sent.items())))}|{json.dumps(dict(sorted(seen.items())))}")
EOF
}
compare >"$SB_TMP/compare.txt"
echo "     phase: requests sent; sent by backend/presented (bridges' counts equal unless shown)"
while IFS='|' read -r phase total verdict sent seen; do
    echo "     $phase: $total; $sent"
    [ "$verdict" = same ] || echo "     bridges counted: $seen"
    check "$phase: the bridges' auth_requests_total{backend, presented} equal what was sent" same "$verdict"
    case "$phase" in
    "0%" | "back to 0%")
        check_match "$phase: every request went to legacy_app" '^\{"legacy_app/[a-z]+": [0-9]+(, "legacy_app/[a-z]+": [0-9]+)*\}$' "$sent" ;;
    "100%")
        check_match "$phase: every request went to new_app" '^\{"new_app/[a-z]+": [0-9]+(, "new_app/[a-z]+": [0-9]+)*\}$' "$sent" ;;
    "50%")
        check_match "$phase: requests went to both apps" 'legacy_app/.*new_app/' "$sent" ;;
    login)
        check_match "login: the first requests carried no cookie" '"legacy_app/none": [1-9]' "$sent" ;;
    esac
    [ "$phase" = login ] || check "$phase: at least $PHASE_REQUESTS requests" yes "$( [ "$total" -ge "$PHASE_REQUESTS" ] && echo yes || echo "no ($total)")"
done <"$SB_TMP/compare.txt"

# sum_count FIELD: a load counter over every phase.
sum_count() {
    "$E2E_PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(c.get(sys.argv[2],0) for c in r["phases"].values()))' "$LOAD/result.json" "$1"
}
for field in wrong_user logged_out data_mismatch unavailable server_error failed; do
    check "load: $field = 0" 0 "$(sum_count "$field")"
done

if [ "$SB_FAILED" != 0 ]; then
    for log in bridge1.log bridge2.log nginx/error.log load/out.log; do
        echo "--- last lines of $log"
        tail -n 5 "$SB_TMP/$log" 2>/dev/null
    done
fi
sb_finish
