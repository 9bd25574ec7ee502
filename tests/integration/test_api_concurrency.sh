#!/usr/bin/env bash
# HTTP API under concurrency: 32 clients creating, validating, deleting
# sessions and logging the same few users out everywhere at once leave no
# orphan index entry, no session missing from its user's index, and no
# revoked session that still validates.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

sb_api_start

$SB_PY - "$SB_PORT" "$BTOK" >"$SB_TMP/conc.out" 2>&1 <<'PY'
import http.client, json, random, sys, threading
port, tok = int(sys.argv[1]), sys.argv[2]
users = ["u%d" % i for i in range(4)]
H = {"X-Bridge-Token": tok, "Content-Type": "application/json"}
errors, deleted = [], []
lock = threading.Lock()

def worker(n):
    rnd = random.Random(n)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine = []
    def call(m, p, body=None):
        c.request(m, p, body=json.dumps(body) if body is not None else None, headers=H)
        r = c.getresponse(); data = r.read()
        return r.status, json.loads(data) if data else None
    for i in range(60):
        op = rnd.random()
        u = rnd.choice(users)
        if op < 0.5 or not mine:
            st, b = call("POST", "/v1/sessions", {"subject": u, "data": {"n": i}, "ttl": 600})
            if st != 201: errors.append(("create", st, b)); continue
            mine.append((u, b["session"]["sid"], b["credentials"]["api"]["token"]))
        elif op < 0.8:
            u, sid, t = mine.pop(rnd.randrange(len(mine)))
            st, b = call("DELETE", "/v1/sessions/" + sid)
            if st != 200: errors.append(("delete", st, b)); continue
            with lock: deleted.append(t)
        elif op < 0.95:
            u, sid, t = rnd.choice(mine)
            st, b = call("POST", "/v1/validate", {"token": t, "profile": "api"})
            if st not in (200, 401): errors.append(("validate", st, b))
        else:
            st, b = call("DELETE", "/v1/users/%s/sessions" % u)
            if st != 200: errors.append(("logout", st, b))
    c.close()

ts = [threading.Thread(target=worker, args=(n,)) for n in range(32)]
[t.start() for t in ts]; [t.join() for t in ts]
c = http.client.HTTPConnection("127.0.0.1", port)
still = 0
for t in deleted:
    c.request("POST", "/v1/validate", body=json.dumps({"token": t, "profile": "api"}), headers=H)
    r = c.getresponse(); r.read()
    still += r.status == 200
print("errors", len(errors), errors[:3])
print("deleted", len(deleted) > 100)
print("still-valid", still)
PY
cat "$SB_TMP/conc.out" | head -5
check "no request failed" "errors 0 []" "$(grep '^errors' "$SB_TMP/conc.out")"
check "many sessions were deleted" "deleted True" "$(grep '^deleted' "$SB_TMP/conc.out")"
check "no deleted session still validates" "still-valid 0" "$(grep '^still-valid' "$SB_TMP/conc.out")"

orphans=0 missing=0 total=0
for u in u0 u1 u2 u3; do
    for sid in $(sb_redis zrange "sb:{u:$u}:idx" 0 -1); do
        total=$((total + 1))
        [ "$(sb_redis exists "sb:{u:$u}:sess:$sid")" = 1 ] || orphans=$((orphans + 1))
    done
    for key in $(sb_redis --scan --pattern "sb:{u:$u}:sess:*"); do
        [ -n "$(sb_redis zscore "sb:{u:$u}:idx" "${key##*:sess:}")" ] || missing=$((missing + 1))
    done
done
check "no orphan index entries" 0 "$orphans"
check "no session missing from its index" 0 "$missing"
check "live sessions remain" yes "$([ "$total" -gt 0 ] && echo yes)"
for u in u0 u1 u2 u3; do
    api GET "/v1/users/$u/sessions"
    check "list of $u matches its index" "$(sb_redis zcard "sb:{u:$u}:idx")" \
        "$($SB_PY -c 'import json,sys; print(len(json.loads(sys.argv[1])["sessions"]))' "$API_BODY")"
done

sb_api_finish
