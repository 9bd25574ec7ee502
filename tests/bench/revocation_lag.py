#!/usr/bin/env python3
"""revocation_lag.py - how long after bridge A acknowledges a revocation
bridge B still accepts the revoked cookie (bench_auth.sh runs it while
both bridges serve wrk load).

For each of --count sessions: log in through A, let B see the gorilla
cookie twice (so B answers it from its verdict cache), DELETE the session
through A, then ask B again and again on a kept-alive connection until it
answers 401.  The lag is from A's answer to B's first 401; a 200 from B
after A's answer is a stale answer and is counted.  Then --kill-count
more with B's invalidation subscription cut (CLIENT KILL TYPE pubsub on
Redis) just before the revocation: B must not serve from its cache
across the gap, and must refuse within the backstop TTL at the latest.
Prints percentiles; exits 1 when a revocation was not refused within 5 s.
"""
import argparse
import http.client
import json
import socket
import sys
import time


def conn(addr):
    host, port = addr.rsplit(":", 1)
    return http.client.HTTPConnection(host, int(port), timeout=10)


def call(c, method, path, headers=None, body=None):
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.read()


def redis_cmd(sock_path, *args):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    msg = "*%d\r\n" % len(args) + "".join("$%d\r\n%s\r\n" % (len(a), a) for a in args)
    s.sendall(msg.encode())
    reply = s.recv(4096)
    s.close()
    return reply


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--kill-count", type=int, default=20)
    ap.add_argument("--redis-socket", required=True)
    args = ap.parse_args()

    a, b = conn(args.a), conn(args.b)
    api = {"X-Bridge-Token": args.token, "Content-Type": "application/json"}

    def subscribed():
        _, body = call(b, "GET", "/metrics")
        for line in body.decode().splitlines():
            if line.startswith("sessionbridge_cache_subscribed "):
                return line.split()[1] == "1"
        return False

    def one(kill):
        st, body = call(a, "POST", "/v1/sessions", api,
                        json.dumps({"subject": "rev", "data": {}, "ttl": 600}))
        if st != 201 and st != 200:
            raise SystemExit("login answered %d" % st)
        doc = json.loads(body)
        sid = doc["session"]["sid"]
        cookie = {"Cookie": "gsess=" + doc["credentials"]["gorilla"]["token"]}
        for _ in range(2):
            st, _ = call(b, "GET", "/v1/auth", cookie)
            if st != 200:
                raise SystemExit("bridge B answered %d for a fresh session" % st)
        if kill:
            redis_cmd(args.redis_socket, "CLIENT", "KILL", "TYPE", "pubsub")
        st, _ = call(a, "DELETE", "/v1/sessions/" + sid, {"X-Bridge-Token": args.token})
        acked = time.perf_counter()
        if st not in (200, 204):
            raise SystemExit("DELETE answered %d" % st)
        stale = 0
        while True:
            st, _ = call(b, "GET", "/v1/auth", cookie)
            now = time.perf_counter()
            if st == 401:
                return (now - acked) * 1000.0, stale
            if st == 200:
                stale += 1
            if now - acked > 5.0:
                return None, stale

    def report(name, results):
        lags = [r[0] for r in results if r[0] is not None]
        missed = sum(1 for r in results if r[0] is None)
        stale = sum(r[1] for r in results)
        first = sum(1 for r in results if r[0] is not None and r[1] == 0)
        print("  %-38s n=%d  p50 %.3f ms  p99 %.3f ms  max %.3f ms  refused on the first ask after the ack: %d/%d  stale 200s: %d  not refused within 5 s: %d"
              % (name, len(results), pct(lags, 50), pct(lags, 99), max(lags), first, len(results), stale, missed))
        return missed == 0

    ok = report("A revokes, B refuses", [one(False) for _ in range(args.count)])
    results = []
    for _ in range(args.kill_count):
        deadline = time.time() + 10
        while not subscribed():
            if time.time() > deadline:
                raise SystemExit("bridge B did not subscribe again within 10 s")
            time.sleep(0.01)
        results.append(one(True))
    ok = report("... with B's subscription just killed", results) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
