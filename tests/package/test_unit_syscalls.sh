#!/bin/bash
# test_unit_syscalls.sh - the unit's SystemCallFilter= and
# RestrictAddressFamilies= (docker/sessionbridge.service) allow what the
# daemon really does: the built daemon runs under strace -f against a real
# redis-server through start-up, health/ready/metrics, validate,
# forward-auth, a session written by a backend, a SIGHUP reload and a
# SIGTERM drain; every system call it made must be in the filter as
# `systemd-analyze syscall-filter` expands it, and every socket family in
# the allow-list.  A filtered call would kill the service with SIGSYS, so
# this is the check that the hardening does not break it.  Not run in the
# sanitizer build (its runtime makes calls the release binary does not).
# Cost: about 5 s.
. "$(dirname "$0")/../harness/lib.sh"

unit=$SB_SOURCE_DIR/docker/sessionbridge.service
sb_start_redis
sb_secret_file "$SB_TMP/legacy.secrets"
backend=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf 'backend %s\n' "$backend" >"$SB_TMP/tokens"
chmod 600 "$SB_TMP/tokens"
sb_write_config "$SB_TMP/sb.ini" '[api]' "tokens_file = $SB_TMP/tokens" \
    '[profile.legacy]' 'format = flask' "secrets_file = $SB_TMP/legacy.secrets"

strace -f -qq -o "$SB_TMP/trace" "$SB_BIN" -c "$SB_TMP/sb.ini" 2>>"$SB_TMP/daemon.log" &
tracer=$!
sb_track "$tracer"
sb_wait_for test -s "$SB_TMP/port" || { cat "$SB_TMP/daemon.log"; exit 1; }
daemon=$(pgrep -P "$tracer")
url=http://127.0.0.1:$(cat "$SB_TMP/port")
sb_wait_for curl -sf "$url/ready"

codes=""
for p in /health /ready /metrics; do codes+="$(curl -s -o /dev/null -w '%{http_code}' "$url$p") "; done
codes+="$(curl -s -o /dev/null -w '%{http_code}' -d '{"token":"x.y.z"}' "$url/v1/validate") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: session=x.y.z' "$url/v1/auth") "
codes+="$(curl -s -o /dev/null -w '%{http_code}' -H "X-Bridge-Token: $backend" \
    -d '{"subject":"42","data":{}}' "$url/v1/sessions")"
check "the requests were answered" "200 200 200 401 401 201" "$codes"
kill -HUP "$daemon"
sb_wait_for curl -sf "$url/health"
kill -TERM "$daemon"
wait "$tracer"
check "the traced daemon exits 0 after the drain" 0 $?

# System calls and socket families of every thread, from the trace.
awk '{ sub(/^[0-9]+ +/, ""); if (match($0, /^[a-z_0-9]+\(/)) print substr($0, 1, RLENGTH - 1) }' \
    "$SB_TMP/trace" | sort -u >"$SB_TMP/used"
grep -o 'socket(AF_[A-Z0-9]*' "$SB_TMP/trace" | sed 's/socket(//' | sort -u >"$SB_TMP/families"
check_match "the trace has the calls of the HTTP and Redis paths" 'accept4.*connect.*epoll_wait' \
    "$(tr '\n' ' ' <"$SB_TMP/used")"

systemd-analyze syscall-filter >"$SB_TMP/groups" 2>/dev/null
verdict=$(python3 - "$unit" "$SB_TMP/groups" "$SB_TMP/used" "$SB_TMP/families" <<'PY'
import sys
unit, groups_file, used_file, families_file = sys.argv[1:5]
groups, cur = {}, None
for line in open(groups_file):
    t = line.strip()
    if not t or t.startswith("#"):
        continue
    if line.startswith("@"):
        cur = t
        groups[cur] = []
    elif cur:
        groups[cur].append(t)
def expand(names):
    out = set()
    for n in names:
        out |= expand(groups[n]) if n.startswith("@") else {n}
    return out
allow, deny, families = set(), set(), set()
for line in open(unit):
    key, _, value = line.strip().partition("=")
    if key == "SystemCallFilter":
        if value.startswith("~"):
            deny |= expand(value[1:].split())
        else:
            allow |= expand(value.split())
    elif key == "RestrictAddressFamilies":
        families |= set(value.split())
used = [l.strip() for l in open(used_file)]
print("filter:%s" % " ".join(s for s in used if s not in allow or s in deny))
print("families:%s" % " ".join(f.strip() for f in open(families_file) if f.strip() not in families))
print("nonempty:%d" % (len(allow) > 100 and len(deny) > 10))
PY
)
check "the unit has a real filter (allow-list and deny-list)" "nonempty:1" "$(echo "$verdict" | grep '^nonempty:')"
check "every system call is allowed by SystemCallFilter=" "filter:" "$(echo "$verdict" | grep '^filter:')"
check "every socket family is in RestrictAddressFamilies=" "families:" "$(echo "$verdict" | grep '^families:')"

sb_finish
