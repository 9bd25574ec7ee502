#!/usr/bin/env bash
# The status page in a real browser (issue 15): headless Chromium, driven
# over the DevTools protocol by status_page.py, loads /status from the
# daemon with the admin token after some forward-auth traffic, and the
# page must show the live route, the version, a non-empty traffic chart
# and progress chart, fit a phone's width, and log no console error,
# exception or failed load; then the same at desktop width, with a
# screenshot (SB_STATUS_SCREENSHOT=PATH keeps it, e.g. docs/status-page.png).
# Costs about 30 s idle, up to 60 s on a busy 2-core machine.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

# History from Redis (what every bridge flushed): 30 minutes (35 to 6
# minutes ago, outside the 5-minute "active" figure) of a
# migration moving from 10% to 68% of 50 users each, written straight into
# the per-minute HyperLogLogs of the documented layout.
now=$(date +%s)
for i in $(seq 1 30); do
    w=$(( (now / 60 - 36 + i) * 60 ))
    n=$(( 5 + i ))
    sb_redis pfadd "sb:{progress}:$w:all" $(seq -f "u%016g" 1 50) >/dev/null
    sb_redis pfadd "sb:{progress}:$w:new" $(seq -f "u%016g" 1 "$n") >/dev/null
done
# Traffic: three users on the legacy cookie, two holding the new one.
for u in ann bob cid dee eve; do
    login "$u"
    case $u in
        ann|bob|cid) c=$(cookie legacy); app=legacy_app ;;
        *) c=$(cookie new); app=new_app ;;
    esac
    for _ in 1 2 3; do
        check "forward-auth for $u" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $c" -H "X-Sessionbridge-Backend: $app" "$SB_URL/v1/auth")"
    done
done
curl -s -o /dev/null -H 'Cookie: session=forged' "$SB_URL/v1/auth"
# The page draws what /status.json holds: wait until the minute's counts
# were read back from Redis (the flusher reads them within 10 s).
# (A read after the traffic also saw the history written before it; the
# minute may turn meanwhile: add the last two.)
counted() {
    sb_http_body GET /status.json -H "X-Bridge-Token: $ATOK" |
        /usr/bin/python3 -c 'import json,sys; m=json.load(sys.stdin)["minutes"]; sys.exit(0 if sum(x["active_any"] for x in m[-2:]) == 5 else 1)'
}
SB_WAIT=200 sb_wait_for counted
check "status.json counted the minute's 5 users" 0 "$(counted; echo $?)"

# run_page WIDTH HEIGHT PNG: prints the page report (JSON).
run_page() { /usr/bin/python3 "$SB_SOURCE_DIR/tests/integration/status_page.py" "$SB_URL" "$ATOK" "$3" "$1" "$2"; }
version=$("$SB_BIN" --version | awk '{print $2}')
for size in "390 844 phone" "1100 900 desktop"; do
    read -r width height name <<<"$size"
    set -- "$width" "$height" "$name"
    report=$(run_page "$1" "$2" "$SB_TMP/$3.png")
    echo "# $3: $report"
    r() { json_get "$report" "$1"; }
    check "$3: the page loaded and filled itself from /status.json" "true " "$(r '["loaded"]') $(r '["failure"]')"
    check "$3: no console error, exception or failed load" "[]" "$(r '["errors"]')"
    check "$3: the live route" "legacy new new off off" "$(r '["route"]["legacy"]') $(r '["route"]["new"]') $(r '["route"]["mint"]') $(r '["route"]["shadow"]') $(r '["route"]["retire"]')"
    check "$3: the version" "$version" "$(r '["version"]')"
    check_match "$3: the router's split (by X-Sessionbridge-Backend)" '^legacy_app56\.3% of the hour \([0-9]+ in the last minute\)new_app37\.5% of the hour \([0-9]+ in the last minute\)unknown6\.3% of the hour' "$(r '["backends"]')"
    check_match "$3: the traffic chart has bars" '^[1-9][0-9]*$' "$(r '["traffic_bars"]')"
    check "$3: the progress chart has a line" 1 "$(r '["progress_lines"]')"
    check_match "$3: ... through the 30 minutes from Redis and this one (or two)" '^3[12]$' "$(r '["progress_points"]')"
    check "$3: the progress figure (2 of 5 users with a new credential)" "40.0% 5 2" "$(r '["share"]') $(r '["active_any"]') $(r '["active_new"]')"
    check "$3: Redis shown healthy" true "$(r '["problem_hidden"]')"
    check "$3: no horizontal scrolling" false "$(r '["overflows"]')"
    check "$3: a PNG screenshot" PNG "$(head -c 4 "$SB_TMP/$3.png" | tail -c 3)"
done
if [ -n "${SB_STATUS_SCREENSHOT-}" ]; then
    cp "$SB_TMP/desktop.png" "$SB_STATUS_SCREENSHOT"
fi
check "no chromium left running from this test" "" "$(pgrep -f "sb-chromium-" || true)"

sb_api_finish
