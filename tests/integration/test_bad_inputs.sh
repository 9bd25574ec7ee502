#!/usr/bin/env bash
# The bad-input catalogue: every row of bad_inputs.tsv (malformed and
# hostile cookies, JWTs and other credentials, request bodies, headers,
# raw HTTP, config files and CLI arguments) gets exactly the answer the
# table states: the HTTP status and error code, or the exit code and the
# message.  Prints the count (at least 60 are required).  Cost: about 20 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start
out=$(python3 "$(dirname "$0")/bad_inputs.py" "$(dirname "$0")/bad_inputs.tsv" \
    "$SB_URL" "$BTOK" "$SB_BIN" "$SB_CTL" "$SB_TMP/sb.ini" "$SB_TMP")
rc=$?
echo "$out"
check "every catalogued bad input gets its stated answer" 0 "$rc"
check_match "the catalogue holds at least 60 inputs" \
    'bad-input catalogue: ([6-9][0-9]|[1-9][0-9][0-9]+) inputs, [0-9]+ passed, 0 failed' \
    "$(echo "$out" | tail -1)"
sb_finish
