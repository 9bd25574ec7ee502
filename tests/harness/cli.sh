# cli.sh - helpers for the sessionbridgectl tests, on top of lib.sh: a
# config for the CLI, a populated store, exact snapshots of what the store
# holds, and a consistency check of sessions against user indexes.
#
# Usage:  . "$(dirname "$0")/../harness/lib.sh"; . "$(dirname "$0")/../harness/cli.sh"

SB_POPULATE=$SB_BUILD_DIR/bench_populate
# The Debian python3 (python3-redis is a Debian package; another python3
# may come first in PATH).
SB_PY=/usr/bin/python3
[ -x "$SB_PY" ] || SB_PY=python3

# ctl ARGS...: the CLI on the test config.
ctl() { "$SB_CTL" -c "$SB_TMP/sb.ini" "$@"; }

# Writes $SB_TMP/sb.ini with profiles legacy, new and old (flask, one
# random secret each) for the private Redis; extra lines are appended.
sb_cli_config() {
    local p
    for p in legacy new old; do sb_secret_file "$SB_TMP/$p.secrets"; done
    sb_write_config "$SB_TMP/sb.ini" \
        "[profile.legacy]" "format = flask" "secrets_file = $SB_TMP/legacy.secrets" "subject_field = _user_id" \
        "[profile.new]" "format = flask" "secrets_file = $SB_TMP/new.secrets" "subject_field = _user_id" \
        "[profile.old]" "format = flask" "secrets_file = $SB_TMP/old.secrets" "subject_field = _user_id" \
        "$@"
}

# populate ARGS...: bench_populate on the private Redis (prefix sb:).
populate() { "$SB_POPULATE" --redis "$SB_REDIS_URL" --prefix sb: "$@" >/dev/null; }

# snapshot: one line per key, "type key value-digest", sorted, so two
# snapshots are equal only when nothing changed.  Pipelined: fast enough
# for a few hundred thousand keys.
snapshot() {
    "$SB_PY" - "$SB_REDIS_PORT" <<'EOF'
import hashlib, redis, sys
r = redis.Redis(port=int(sys.argv[1]))
keys = list(r.scan_iter(count=1000))
out = []
for i in range(0, len(keys), 1000):
    chunk = keys[i:i + 1000]
    p = r.pipeline(transaction=False)
    for k in chunk:
        p.type(k)
    types = p.execute()
    p = r.pipeline(transaction=False)
    for k, t in zip(chunk, types):
        if t == b'string':
            p.get(k)
        elif t == b'zset':
            p.zrange(k, 0, -1, withscores=True)
        else:
            p.type(k)
    for k, t, v in zip(chunk, types, p.execute()):
        v = v if isinstance(v, bytes) else repr(v).encode()
        out.append('%s %s %s' % (t.decode(), k.decode(), hashlib.sha1(v or b'').hexdigest()[:12]))
print('\n'.join(sorted(out)))
EOF
}

# sessions_json: {sid: [subject, profile, issued_at]} of every session
# (layout v1: P{owner}:sess:SID).
sessions_json() {
    "$SB_PY" - "$SB_REDIS_PORT" <<'EOF'
import json, redis, sys
r = redis.Redis(port=int(sys.argv[1]))
keys = list(r.scan_iter(match='sb:{*}:sess:*', count=1000))
out = {}
for i in range(0, len(keys), 1000):
    chunk = keys[i:i + 1000]
    for k, v in zip(chunk, r.mget(chunk)):
        if v is not None:
            d = json.loads(v)
            out[k.decode().split('}:sess:', 1)[1]] = [d.get('subject'), d.get('profile'), d.get('issued_at')]
print(json.dumps(out, sort_keys=True))
EOF
}

# key_count PATTERN: how many keys match.
key_count() {
    "$SB_PY" - "$SB_REDIS_PORT" "$1" <<'EOF'
import redis, sys
r = redis.Redis(port=int(sys.argv[1]))
print(sum(1 for _ in r.scan_iter(match=sys.argv[2], count=1000)))
EOF
}

# consistency: "ok" when every session is in its owner's index and has its
# sid pointer, and every live index entry names a session that exists
# (pointers of deleted sessions stay: they lead to the revocation markers).
# Else the first problems.
consistency() {
    "$SB_PY" - "$SB_REDIS_PORT" <<'EOF'
import redis, sys, time
r = redis.Redis(port=int(sys.argv[1]), decode_responses=True)
bad = []
now = time.time()
keys = list(r.scan_iter(match='sb:{*}:sess:*', count=1000))
for i in range(0, len(keys), 1000):
    chunk = [k[4:].split('}:sess:', 1) for k in keys[i:i + 1000]]
    p = r.pipeline(transaction=False)
    for tag, sid in chunk:
        p.zscore('sb:{%s}:idx' % tag, sid)
        p.get('sb:sid:' + sid)
    res = p.execute()
    for n, (tag, sid) in enumerate(chunk):
        if tag.startswith('u:') and res[2 * n] is None:
            bad.append('session %s missing from its index' % sid)
        if res[2 * n + 1] != tag:
            bad.append('session %s without its sid pointer' % sid)
idx = list(r.scan_iter(match='sb:{u:*}:idx', count=1000))
for i in range(0, len(idx), 500):
    chunk = idx[i:i + 500]
    p = r.pipeline(transaction=False)
    for k in chunk:
        p.zrange(k, 0, -1, withscores=True)
    members = [(k, sid) for k, m in zip(chunk, p.execute()) for sid, score in m if score > now]
    p = r.pipeline(transaction=False)
    for k, sid in members:
        p.exists('sb:{%s}:sess:%s' % (k[4:-5], sid))
    for (k, sid), e in zip(members, p.execute()):
        if not e:
            bad.append('index %s names missing session %s' % (k, sid))
print('ok' if not bad else '; '.join(bad[:5]) + ' (%d problems)' % len(bad))
EOF
}

# expected_left FILTER: sids a python expression keeps, from sessions_json
# in $1 (file); FILTER sees subject, profile, issued_at, now.
expected_left() {
    "$SB_PY" - "$1" "$2" <<'EOF'
import json, sys, time
now = int(time.time())
s = json.load(open(sys.argv[1]))
keep = sorted(sid for sid, (subject, profile, issued_at) in s.items() if eval(sys.argv[2]))
print(len(keep), ' '.join(keep))
EOF
}

# left_now: the same shape for what the store holds now.
left_now() {
    sessions_json >"$SB_TMP/now.json"
    "$SB_PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); k=sorted(s); print(len(k), " ".join(k))' "$SB_TMP/now.json"
}
