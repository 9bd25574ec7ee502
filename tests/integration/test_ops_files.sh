#!/usr/bin/env bash
# The operations files of contrib/monitoring/ (issue 15): the Prometheus
# alert rules pass `promtool check rules` and their unit tests
# (`promtool test rules`: each alert fires on its case and not on a
# healthy one), and the Grafana dashboard's structure is checked with every
# metric name of its panels, annotations and the alerts found among the
# families a running daemon exports (its /metrics after some traffic).
# A planted unknown metric name must be caught.  Costs about 5 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

MON=$SB_SOURCE_DIR/contrib/monitoring
out=$(promtool check rules "$MON/sessionbridge-alerts.yml" 2>&1)
check "promtool check rules" 0 "$?"
check_match "four alerts" 'SUCCESS: 4 rules found' "$out"
(cd "$MON" && promtool test rules sessionbridge-alerts.test.yml) >"$SB_TMP/promtool-test.log" 2>&1
check "promtool test rules (each alert fires on its case only)" 0 "$?"
grep -q SUCCESS "$SB_TMP/promtool-test.log" || cat "$SB_TMP/promtool-test.log"

sb_api_start
login ann
c=$(cookie legacy)
check "some forward-auth traffic" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $c" -H 'X-Sessionbridge-Backend: legacy' "$SB_URL/v1/auth")"
curl -s "$SB_URL/metrics" >"$SB_TMP/metrics.txt"
res=$(/usr/bin/python3 "$SB_SOURCE_DIR/tests/integration/ops_files_check.py" "$SB_TMP/metrics.txt" "$MON/grafana-dashboard.json" "$MON/sessionbridge-alerts.yml" 2>&1)
rc=$?
echo "$res"
check "the dashboard and alerts name only exported families" 0 "$rc"
check_match "... and checked a name in every panel" '^checked [1-9][0-9]* metric names' "$(tail -1 <<<"$res")"

# The check can fail: a dashboard naming a family the daemon does not export.
sed 's/sessionbridge_shadow_total/sessionbridge_shadow_totals/' "$MON/grafana-dashboard.json" >"$SB_TMP/bad.json"
/usr/bin/python3 "$SB_SOURCE_DIR/tests/integration/ops_files_check.py" "$SB_TMP/metrics.txt" "$SB_TMP/bad.json" "$MON/sessionbridge-alerts.yml" >"$SB_TMP/bad.out" 2>&1
check "a planted unknown metric name fails the check" 1 "$?"
check_match "... naming it" 'sessionbridge_shadow_totals is not a family' "$(cat "$SB_TMP/bad.out")"
sed 's/"w": 9,/"w": 12,/' "$MON/grafana-dashboard.json" >"$SB_TMP/overlap.json"
/usr/bin/python3 "$SB_SOURCE_DIR/tests/integration/ops_files_check.py" "$SB_TMP/metrics.txt" "$SB_TMP/overlap.json" "$MON/sessionbridge-alerts.yml" >"$SB_TMP/overlap.out" 2>&1
check "overlapping panels fail the check" 1 "$?"

sb_api_finish
