#!/bin/bash
# test_cli_purge.sh - sessionbridgectl purge against a real redis-server:
# every mode on a store of several users, profiles and ages, checking
# exactly which sessions went and which stayed (and every other key), the
# revocation markers left behind, dry runs, confirmation rules, JSON, the
# progress bar on a pseudo-terminal, NO_COLOR, bad arguments, Redis down.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/cli.sh"

sb_start_redis
sb_cli_config

# 600 sessions: user0..user19, profiles legacy/new/old, issued up to 20 days ago.
fresh_store() {
    sb_redis flushall >/dev/null
    populate --sessions 600 --users 20 --profiles legacy,new,old --spread 1728000
    sessions_json >"$SB_TMP/before.json"
    snapshot >"$SB_TMP/before.snap"
}

# after_purge NAME FILTER: the sessions left are exactly those FILTER keeps,
# the indexes are consistent, and no key other than sessions, indexes and
# markers changed.
after_purge() {
    local name=$1 filter=$2 want
    want=$(expected_left "$SB_TMP/before.json" "$filter")
    check "$name: exactly the expected sessions are left" "$want" "$(left_now)"
    check "$name: sessions and indexes consistent" ok "$(consistency)"
}

fresh_store
check "populated: 600 sessions" 600 "$(key_count 'sb:{*}:sess:*')"
check "populated: 20 user indexes" 20 "$(key_count 'sb:{u:*}:idx')"
check "populated: 600 sid pointers" 600 "$(key_count 'sb:sid:*')"
check "populated: the layout version" 1 "$(sb_redis get sb:layout)"
check "no session within a minute of the 10d / 5d cut-offs" 0 "$(python3 -c '
import json,sys,time
now=int(time.time()); s=json.load(open(sys.argv[1]))
print(sum(1 for (_,_,t) in s.values() if abs(now-864000-t)<60 or abs(now-432000-t)<60))' "$SB_TMP/before.json")"

# -- dry runs change nothing and count right
for args in "--profile legacy" "--older-than 10d" "--user user1 user2" "--session bench-1 bench-2" "--all" "--profile new --older-than 5d"; do
    out=$(ctl purge $args --dry-run --json)
    check "dry run ($args): exit 0" 0 $?
    check "dry run ($args): store unchanged" "$(cat "$SB_TMP/before.snap")" "$(snapshot)"
    check "dry run ($args): says dry_run" true "$(json_get "$out" '["dry_run"]')"
done
check "dry run --profile legacy counts 200" 200 "$(json_get "$(ctl purge --profile legacy -n --json)" '["sessions"]')"
want=$(expected_left "$SB_TMP/before.json" "issued_at < now - 864000" | cut -d' ' -f1)
check "dry run --older-than 10d counts the old ones" "$want" "$(json_get "$(ctl purge --older-than 10d -n --json)" '["sessions"]')"
check "dry run --user counts their sessions" 60 "$(json_get "$(ctl purge --user user1 user2 -n --json)" '["sessions"]')"
out=$(ctl purge --all -n)
check_match "dry run text says nothing changed" "would purge 600 sessions \(dry run: nothing changed\)" "$out"

# -- --profile
# Expiries are compared as absolute times (EXPIRETIME), never as a TTL read
# some unknown time later: a marker written during the purge (T0..T1,
# timed here) to outlive the session by nothing expires at the session's
# expires_at, plus at most the purge's duration and a second of rounding.
exp0=$(json_get "$(sb_redis get 'sb:{u:user0}:sess:bench-0')" '["expires_at"]')
T0=$(date +%s)
ctl purge --profile legacy --json >"$SB_TMP/out" 2>"$SB_TMP/err"
check "--profile: exit 0" 0 $?
T1=$(date +%s)
check "--profile: counts 200" 200 "$(json_get "$(cat "$SB_TMP/out")" '["sessions"]')"
after_purge "--profile legacy" "profile != 'legacy'"
check "--profile: a revocation marker per purged session" 200 "$(key_count 'sb:{*}:rev:*')"
check "--profile: marker of a purged session" 1 "$(sb_redis exists 'sb:{u:user0}:rev:bench-0')"
check "--profile: no marker for a kept one" 0 "$(sb_redis exists 'sb:{u:user1}:rev:bench-1')"
check "--profile: the marker expires with the session" yes \
    "$(e=$(sb_redis expiretime 'sb:{u:user0}:rev:bench-0'); [ "$e" -ge "$exp0" ] && [ "$e" -le $((exp0 + T1 - T0 + 1)) ] && echo yes || echo "no ($e, session expired at $exp0)")"
check "--profile: its sid pointer stays, leading to the marker" "u:user0" "$(sb_redis get sb:sid:bench-0)"
check "--profile: user indexes all still there" 20 "$(key_count 'sb:{u:*}:idx')"
check "--profile: nothing on stderr (not a terminal: no progress bar)" "" "$(cat "$SB_TMP/err")"
out=$(ctl purge --profile legacy)
check "--profile again: exit 0, nothing left to do" 0 $?
check_match "--profile again: purged 0" "^purged 0 sessions" "$out"

# -- --older-than
fresh_store
ctl purge --older-than 10d >/dev/null
check "--older-than: exit 0" 0 $?
after_purge "--older-than 10d" "issued_at >= now - 864000"

# -- --profile and --older-than together: both must hold
fresh_store
ctl purge --profile new --older-than 5d >/dev/null
after_purge "--profile new --older-than 5d" "not (profile == 'new' and issued_at < now - 432000)"
fresh_store
ctl purge --profile new --profile old >/dev/null
after_purge "--profile twice" "profile == 'legacy'"

# -- --user: log-out-everywhere
fresh_store
T0=$(date +%s)
out=$(ctl purge --user user3 --user user4 user5)
check "--user: exit 0" 0 $?
T1=$(date +%s)
check_match "--user: counts users and sessions" "3 users logged out everywhere \(90 sessions\)" "$out"
after_purge "--user" "subject not in ('user3', 'user4', 'user5')"
check "--user: their indexes are gone" "0 0 0" "$(sb_redis exists 'sb:{u:user3}:idx') $(sb_redis exists 'sb:{u:user4}:idx') $(sb_redis exists 'sb:{u:user5}:idx')"
nb=$(sb_redis get 'sb:{u:user3}:nbf')
check "--user: not-before set to the time of the purge" yes \
    "$([ "$nb" -ge "$T0" ] 2>/dev/null && [ "$nb" -le "$T1" ] && echo yes || echo "no ($nb not in $T0..$T1)")"
check "--user: a marker per removed session" 90 "$(key_count 'sb:{*}:rev:*')"
check "--user: no not-before for others" 0 "$(sb_redis exists 'sb:{u:user6}:nbf')"
out=$(ctl purge --user nobody 'odd user:{x}')
check "--user unknown: exit 0 (the not-before still revokes)" 0 $?
check "--user unknown: not-before written" 1 "$(sb_redis exists 'sb:{u:nobody}:nbf')"
check "--user: subject escaped in the key" 1 "$(sb_redis exists 'sb:{u:odd%20user%3A%7Bx%7D}:nbf')"

# -- --user with a filter: only the matching sessions, no log-out
fresh_store
ctl purge --user user7 --profile old >/dev/null
after_purge "--user with --profile" "not (subject == 'user7' and profile == 'old')"
check "--user with a filter: no not-before" 0 "$(sb_redis exists 'sb:{u:user7}:nbf')"

# -- --session
fresh_store
out=$(ctl purge --session bench-10 bench-11 --session nosuch)
check "--session: exit 0" 0 $?
check_match "--session: 2 of 3, one missing" "by session: 2 of 3 \(1 not in the store\)" "$out"
after_purge "--session" "sid not in ('bench-10', 'bench-11')"
check "--session: markers for the two" "1 1" "$(sb_redis exists 'sb:{u:user10}:rev:bench-10') $(sb_redis exists 'sb:{u:user11}:rev:bench-11')"
ctl purge --session nosuch2 >/dev/null 2>"$SB_TMP/err"
check "--session of only missing ids: exit 1" 1 $?
check_match "--session missing: says so" "none of the sessions given was in the store" "$(cat "$SB_TMP/err")"
ctl purge --session bench-12 --profile new >/dev/null 2>&1
check "--session not matching its filter: exit 1" 1 $?
check "--session not matching: kept" 1 "$(sb_redis exists 'sb:{u:user12}:sess:bench-12')"

# -- sids may start with '-' (base64url): they are values, not options
fresh_store
populate --sessions 3 --users 1 --profiles legacy --sid-prefix -dash
out=$(ctl sessions show -dash-1 --json)
check "sessions show of a sid starting with '-'" "-dash-1" "$(json_get "$out" '["sid"]')"
check "sessions show -- SID" "-dash-2" "$(json_get "$(ctl sessions show --json -- -dash-2)" '["sid"]')"
ctl purge --session -dash-0 -dash-1 >/dev/null
check "purge --session of sids starting with '-': exit 0" 0 $?
check "...removed exactly those" "1 0 0" "$(sb_redis exists 'sb:{u:user0}:sess:-dash-2') $(sb_redis exists 'sb:{u:user0}:sess:-dash-0') $(sb_redis exists 'sb:{u:user0}:sess:-dash-1')"
check "...the bench sessions untouched" 600 "$(key_count 'sb:{*}:sess:bench-*')"

# -- anonymous sessions (no subject): by filter, and by --all after the users
fresh_store
populate --sessions 10 --users 0 --profiles old,new --sid-prefix anon
check "10 anonymous sessions, under their own tags" 10 "$(key_count 'sb:{s:anon-*}:sess:anon-*')"
out=$(ctl sessions list --profile old --limit 0 --json | grep -c '"sid":"anon-[0-9]*","subject":null,"profile":"old"')
check "sessions list shows anonymous ones without a subject" 5 "$out"
ctl purge --profile old --json >"$SB_TMP/out"
check "--profile old removes the anonymous ones of that profile too" "205 5" "$(json_get "$(cat "$SB_TMP/out")" '["sessions"]') $(key_count 'sb:{s:anon-*}:sess:*')"
check "...each with its marker under its own tag" 1 "$(sb_redis exists 'sb:{s:anon-0}:rev:anon-0')"
out=$(ctl purge --all --yes --json)
check "--all: the anonymous ones go in the second step" "5 400" "$(json_get "$out" '["by_scan"]') $(json_get "$out" '["by_user"]')"
check "--all: nothing left" 0 "$(key_count 'sb:{*}:sess:*')"

# -- --all: refuses without --yes off a terminal, then empties the store
fresh_store
ctl purge --all </dev/null >/dev/null 2>"$SB_TMP/err"
check "--all without --yes, no terminal: exit 2" 2 $?
check_match "--all refusal names --yes" "without --yes" "$(cat "$SB_TMP/err")"
check "--all refused: store unchanged" "$(cat "$SB_TMP/before.snap")" "$(snapshot)"
out=$(ctl purge --all --yes --json)
check "--all --yes: exit 0" 0 $?
check "--all: 600 sessions" 600 "$(json_get "$out" '["sessions"]')"
check "--all: 20 users logged out" 20 "$(json_get "$out" '["users"]')"
check "--all: no session left" 0 "$(key_count 'sb:{*}:sess:*')"
check "--all: no index left" 0 "$(key_count 'sb:{u:*}:idx')"
check "--all: a not-before per user" 20 "$(key_count 'sb:{u:*}:nbf')"
check "--all: a marker per session" 600 "$(key_count 'sb:{*}:rev:*')"

# -- over the threshold: refuses without --yes off a terminal
sb_redis flushall >/dev/null
populate --sessions 1500 --users 50 --profiles legacy,new
snapshot >"$SB_TMP/big.snap"
ctl purge --profile legacy --profile new </dev/null >/dev/null 2>"$SB_TMP/err"
check "1500 sessions without --yes, no terminal: exit 2" 2 $?
check "threshold refusal: unchanged" "$(cat "$SB_TMP/big.snap")" "$(snapshot)"
ctl purge --profile legacy >/dev/null 2>&1
check "750 sessions (under the threshold) need no --yes" 0 $?
check "under the threshold: done" 750 "$(key_count 'sb:{*}:sess:*')"

# -- on a pseudo-terminal: the question, the answer, the progress bar
sb_redis flushall >/dev/null
populate --sessions 3000 --users 100 --profiles legacy,new
snapshot >"$SB_TMP/big.snap"
on_tty() { local input=$1; shift; printf '%s' "$input" | script -qec "$*" /dev/null; }
out=$(on_tty $'n\n' "$SB_CTL -c $SB_TMP/sb.ini purge --all")
check "terminal, answered n: exit 1" 1 $?
check_match "terminal: asks first" "Purge ALL 3,000 sessions .*\[y/N\]" "$out"
check_match "terminal, answered n: aborted" "aborted, nothing changed" "$out"
check "terminal, answered n: unchanged" "$(cat "$SB_TMP/big.snap")" "$(snapshot)"
out=$(on_tty $'y\n' "$SB_CTL -c $SB_TMP/sb.ini purge --all --batch 50")
check "terminal, answered y: exit 0" 0 $?
check "terminal, answered y: empty" 0 "$(key_count 'sb:{*}:sess:*')"
check_match "terminal: progress bar drawn" $'\r''(users|sessions|counting) \[.*\] +[0-9]+% .*sessions.*/s' "$out"
check_match "terminal: bar in colour" $'\e\\[32m' "$out"
check_match "terminal: summary" "purged 3,000 sessions" "$out"
populate --sessions 3000 --users 100 --profiles legacy,new
out=$(NO_COLOR=1 on_tty '' "$SB_CTL -c $SB_TMP/sb.ini purge --all --yes --batch 50")
check "NO_COLOR: exit 0" 0 $?
check_match "NO_COLOR: still a progress bar" $'\r''(users|sessions) \[' "$out"
check "NO_COLOR: no colour at all" 0 "$(printf '%s' "$out" | grep -c $'\e\\[[0-9;]*m')"

# -- bad arguments: exit 2, the argument named, nothing changed
fresh_store
bad() {
    local name=$1 want=$2; shift 2
    ctl purge "$@" >/dev/null 2>"$SB_TMP/err" </dev/null
    check "$name: exit 2" 2 $?
    check_match "$name: names the argument" "$want" "$(cat "$SB_TMP/err")"
}
bad "no mode" "say what to purge" --dry-run
bad "unknown flag" "unknown option '--everything'" --everything
bad "bad duration" "--older-than: '7x' is not a duration" --older-than 7x
bad "zero duration" "--older-than: must be more than 0" --older-than 0
bad "duration without value" "--older-than needs a value" --older-than
bad "unknown profile" "--profile: no profile named 'nope'" --profile nope
bad "empty subject" "--user needs a non-empty value" --user ''
bad "empty subject in a list" "--user: empty subject" --user a ''
bad "malformed sid" "--session: 'a b' is not a session id" --session 'a b'
bad "sid with a slash" "--session: '../x' is not a session id" --session ../x
bad "--all with --user" "--all: cannot be combined" --all --user x
bad "--all with --profile" "--all: cannot be combined" --all --profile legacy
bad "--batch 0" "--batch: '0'" --all --batch 0
bad "stray word" "unexpected argument 'legacy'" --profile new legacy
check "bad arguments: store unchanged" "$(cat "$SB_TMP/before.snap")" "$(snapshot)"

# -- Redis unreachable: exit 3; bad arguments still 2 first
"$SB_CTL" -c "$SB_TMP/sb.ini" --redis redis://127.0.0.1:1/0 purge --profile legacy >/dev/null 2>"$SB_TMP/err"
check "Redis unreachable: exit 3" 3 $?
check_match "Redis unreachable: says so" "cannot connect to Redis" "$(cat "$SB_TMP/err")"
"$SB_CTL" -c "$SB_TMP/sb.ini" --redis redis://127.0.0.1:1/0 purge --older-than x >/dev/null 2>&1
check "Redis unreachable, bad argument: exit 2" 2 $?

check_match "purge --help has an example" "Example: sessionbridgectl -c sb.ini purge" "$(ctl purge --help)"

sb_finish
