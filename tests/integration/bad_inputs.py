#!/usr/bin/env python3
"""bad_inputs.py - runs the bad-input catalogue (bad_inputs.tsv) against a
running daemon and the two programs; prints one ok/FAIL line per row and
the count.  Columns (tab-separated; INPUT uses backslash escapes):
  KIND  ARG  INPUT  EXPECTED
  token    PROFILE  credential        "STATUS error" of POST /v1/validate
  cookie   -        Cookie header     "STATUS X-Session-Error" of GET /v1/auth
  header   NAME     header value      same, with that header instead
  body     PATH     request body      "STATUS error" of POST PATH (JSON)
  raw      -        raw HTTP request  "STATUS" of the answer
  config   -        INI text          "EXIT|substring" of --check-config
  cli      -        arguments         "EXIT|substring" of sessionbridgectl
usage: bad_inputs.py TABLE URL BACKEND_TOKEN DAEMON CTL CONFIG TMPDIR"""
import http.client
import json
import shlex
import socket
import subprocess
import sys
import urllib.parse


def unescape(s):
    return s.encode("latin-1", "backslashreplace").decode("unicode_escape")


def request(url, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(url)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def error_of(data):
    try:
        return json.loads(data).get("error", "-")
    except ValueError:
        return "not-json"


def run(kind, arg, text, env):
    url, btok, daemon, ctl, cfg, tmp = env
    if kind == "token":
        body = json.dumps({"token": text, "profile": arg})
        r, d = request(url, "POST", "/v1/validate", body,
                    {"X-Bridge-Token": btok, "Content-Type": "application/json"})
        return f"{r.status} {error_of(d)}"
    if kind in ("cookie", "header"):
        name = "Cookie" if kind == "cookie" else arg
        r, _ = request(url, "GET", "/v1/auth", None, {name: text})
        return f"{r.status} {r.getheader('X-Session-Error', '-')}"
    if kind == "body":
        r, d = request(url, "POST", arg, text.encode("latin-1"),
                    {"X-Bridge-Token": btok, "Content-Type": "application/json"})
        return f"{r.status} {error_of(d)}"
    if kind == "raw":
        u = urllib.parse.urlsplit(url)
        with socket.create_connection((u.hostname, u.port), timeout=10) as s:
            s.sendall(text.encode("latin-1"))
            try:
                head = s.recv(64).split(b" ")
            except (TimeoutError, ConnectionResetError):
                return "no answer"
        return head[1].decode() if len(head) > 1 else "closed"
    if kind == "config":
        path = f"{tmp}/bad.ini"
        with open(path, "w", encoding="latin-1") as f:
            f.write(text)
        p = subprocess.run([daemon, "--check-config", "-c", path],
                           capture_output=True, text=True)
        return f"{p.returncode}|{p.stderr.strip()}"
    if kind == "cli":
        p = subprocess.run([ctl, "-c", cfg] + shlex.split(text),
                           capture_output=True, text=True, stdin=subprocess.DEVNULL)
        return f"{p.returncode}|{p.stderr.strip()}"
    raise SystemExit(f"unknown kind {kind}")


def matches(kind, got, want):
    if kind in ("config", "cli"):
        code, _, sub = want.partition("|")
        gcode, _, gmsg = got.partition("|")
        return gcode == code and sub in gmsg
    return got == want


def main():
    table, *env = sys.argv[1:]
    passed = failed = 0
    seen = set()
    for n, line in enumerate(open(table, encoding="utf-8"), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, arg, text, want = line.rstrip("\n").split("\t")
        if (kind, arg, text) in seen:
            raise SystemExit(f"{table}:{n}: duplicate input")
        seen.add((kind, arg, text))
        got = run(kind, arg, unescape(text), env)
        if matches(kind, got, want):
            passed += 1
            print(f"ok   - {kind} {arg}: {text[:60]} -> {want}")
        else:
            failed += 1
            print(f"FAIL - {table}:{n} {kind} {arg}: {text[:60]}: "
                  f"expected [{want}], got [{got[:300]}]")
    print(f"bad-input catalogue: {passed + failed} inputs, {passed} passed, "
          f"{failed} failed")
    sys.exit(1 if failed or passed + failed < 60 else 0)


if __name__ == "__main__":
    main()
