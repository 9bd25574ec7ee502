"""common.py - what the interop helpers share: argument parsing, a fixed
clock patched into the real libraries, and one-line JSON answers.

Each helper is run by tests/interop/test_python_sessions.sh with the
Debian python (/usr/bin/python3) so the real Debian framework packages are
the ones under test.  A helper prints exactly one JSON object on stdout.
"""
import argparse
import json
import sys


class FixedClock:
    """Stands in for the `time` module inside a library module: time() is
    the clock the test chose, everything else is the real time module."""

    def __init__(self, now):
        import time as real_time
        self._real = real_time
        self._now = float(now)

    def time(self):
        return self._now

    def __getattr__(self, name):
        return getattr(self._real, name)


def fix_clock(module, now):
    """Makes `module` (e.g. itsdangerous.timed) see time.time() == now."""
    module.time = FixedClock(now)


def read_secret(path):
    """The first line of a secrets file, as the bridge reads it."""
    with open(path, "rb") as f:
        return f.readline().rstrip(b"\r\n").decode("utf-8")


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("command", choices=["mint", "read", "info"])
    p.add_argument("--secret-file", required=True)
    p.add_argument("--salt")
    p.add_argument("--now", type=int, required=True)
    p.add_argument("--max-age", type=int)
    p.add_argument("--case", default="plain")
    p.add_argument("--cookie")
    p.add_argument("--addr")
    p.add_argument("--ua")
    p.add_argument("--algorithm")
    return p


def answer(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.exit(0)


def cookie_from(set_cookie_headers, name):
    """The value of cookie `name` in a list of Set-Cookie header values."""
    for h in set_cookie_headers:
        first = h.split(";", 1)[0]
        k, _, v = first.partition("=")
        if k.strip() == name:
            return v.strip().strip('"')
    raise SystemExit("no %s cookie in %r" % (name, set_cookie_headers))


def without_sid(data):
    """Session data without the bridge's canonical sid field."""
    data = dict(data)
    data.pop("_sb_sid", None)
    return data
