#!/usr/bin/python3
"""Reads sessionbridge sessions straight from Redis (layout v1, see
proto/REDIS-LAYOUT.md) with redis-py.

    reader.py [--url redis://127.0.0.1:6379/0] [--prefix sb:] session SID
    reader.py [--url ...] [--prefix ...] user SUBJECT

Prints the session (or the user's sessions) as JSON; exits 1 when there is
none.  A sid may begin with "-" (sids are base64url): put "--" before it,
`reader.py session -- -AUJ9...`.
"""
import argparse
import json
import sys
import time
from urllib.parse import quote

import redis


def session(r, prefix, sid):
    """The canonical session of sid, or None."""
    tag = r.get(f"{prefix}sid:{sid}")          # the owner's hash tag
    value = r.get(f"{prefix}{{{tag}}}:sess:{sid}") if tag else None
    return json.loads(value) if value else None


def user_sessions(r, prefix, subject):
    """Every live session of subject, soonest expiry first."""
    tag = "u:" + quote(subject, safe="@+=")    # the layout's subject escape
    sids = r.zrangebyscore(f"{prefix}{{{tag}}}:idx", f"({int(time.time())}", "+inf")
    if not sids:
        return []
    values = r.mget([f"{prefix}{{{tag}}}:sess:{sid}" for sid in sids])
    return [json.loads(v) for v in values if v]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--prefix", default="sb:")
    ap.add_argument("what", choices=["session", "user"])
    ap.add_argument("id")
    a = ap.parse_args()
    r = redis.Redis.from_url(a.url, decode_responses=True)
    if r.get(f"{a.prefix}layout") not in (None, "1"):
        sys.exit("unknown sessionbridge layout version")
    found = session(r, a.prefix, a.id) if a.what == "session" \
        else user_sessions(r, a.prefix, a.id)
    print(json.dumps(found, sort_keys=True))
    sys.exit(0 if found else 1)


if __name__ == "__main__":
    main()
