#!/usr/bin/env python3
"""loadgen.py - bounded load for the end-to-end migration test: a fixed
number of simulated users behind the router, each with its own cookie jar,
who log in and then keep calling GET /me and POST /cart, checking every
answer against what they know they are (user id, cart).

  loadgen.py run --url URL --control DIR --out FILE [--users N]
                 [--phase-max-seconds S] [--cart-every K]
  loadgen.py table FILE [--merge ROW=REGEX]... [--tail ROW=REGEX]...

`run` is steered through files in DIR so a shell script can change the
world (traffic weight, bridge restart, Redis kill) while it runs:
  DIR/phase     the name of the current phase (written by the script);
  DIR/ack       the phase the generator has switched to (requests started
                after the ack are counted in that phase);
  DIR/progress  "<requests finished in the phase> <total> <phase>", every
                50 ms;
  DIR/stop      finish the requests in flight and write the results;
  DIR/idle      "<phase>\t<requests in flight>", every 50 ms.
A phase whose name starts with "pause" sends nothing: once DIR/idle reads
"pause...\t0" no request is in flight and none starts until the next
phase, so a script can read the bridges' counters between two phases.
There is no budget shared by the phases: the script ends each phase (on an
event, or once the phase has seen enough requests), however long a slow
machine takes.  The generator stops by itself only when one phase lasts
longer than --phase-max-seconds (the script died or hung).  Loopback only:
the URL must name 127.0.0.1 or localhost.

A request is counted in the phase it started and ended in, or in "A > B"
when the phase changed while it ran (so a phase's strict checks see only
requests that ran entirely inside it).  Counts per phase:
  requests, legacy / new   answers by app (X-App), router answers (no app)
  ok                       2xx with the expected user and data
  logged_out               401 from an app for a user who was logged in
  wrong_user               a 2xx naming another user (never acceptable)
  data_mismatch            a 2xx with the right user but another cart
  unavailable              503 from the router (the bridge could not check)
  server_error             any other 5xx
  failed                   no HTTP answer (connection refused, reset, timeout)
  other                    anything else
The result also holds each phase's duration in seconds ("seconds"), and
per phase what was sent ("sent": {"APP/PRESENTED": n}, logins included):
APP the app that answered (legacy, new, or router), PRESENTED which of the
two apps' cookies the request carried (none, legacy, new, both; the names
are --legacy-cookie and --new-cookie).
"""
import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse

NOTES_MAX = 40  # wrong answers logged to stderr, at most
CART_KEEP = 5  # the apps keep the last 5 items of a cart

COUNTERS = ("requests", "legacy", "new", "router", "ok", "logged_out",
            "wrong_user", "data_mismatch", "unavailable", "server_error",
            "failed", "other")


class Control:
    """The phase the script asked for, read from DIR/phase by one thread."""

    def __init__(self, directory):
        self.dir = directory
        self.phase = "start"
        self.since = time.monotonic()
        self.seconds = {}
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.counts = {}
        self.total = 0
        self.notes = 0
        self.stopped_by = "script"
        self.inflight = 0
        self.sent = {}

    def close_phase(self):
        """Adds the time spent in the current phase to its duration."""
        now = time.monotonic()
        self.seconds[self.phase] = self.seconds.get(self.phase, 0.0) + now - self.since
        self.since = now

    def read_phase(self):
        try:
            with open(os.path.join(self.dir, "phase")) as f:
                name = f.read().strip()
        except OSError:
            return
        if name and name != self.phase:
            with self.lock:
                self.close_phase()
                self.phase = name
            write_atomic(os.path.join(self.dir, "ack"), name + "\n")

    def begin(self):
        """The phase a request about to start is counted in, or None in a
        pause (no request starts); the request is in flight until end()."""
        with self.lock:
            if self.phase.startswith("pause"):
                return None
            self.inflight += 1
            return self.phase

    def end(self, phase, app, presented):
        """Ends a request begun in `phase`: what it sent, by app."""
        with self.lock:
            self.inflight -= 1
            if self.phase != phase:
                phase = f"{phase} > {self.phase}"
            key = f"{app}/{presented}"
            sent = self.sent.setdefault(phase, {})
            sent[key] = sent.get(key, 0) + 1

    def watch(self, phase_max_seconds):
        """Polls the control files until told to stop, or until one phase
        has lasted longer than phase_max_seconds."""
        while not self.stop.is_set():
            self.read_phase()
            with self.lock:
                done = self.counts.get(self.phase, {}).get("requests", 0)
                total = self.total
                stuck = time.monotonic() - self.since > phase_max_seconds
                idle = f"{self.phase}\t{self.inflight}\n"
            write_atomic(os.path.join(self.dir, "progress"),
                         f"{done} {total} {self.phase}\n")
            write_atomic(os.path.join(self.dir, "idle"), idle)
            if os.path.exists(os.path.join(self.dir, "stop")):
                self.stop.set()
            elif stuck:
                self.stopped_by = f"phase limit ({self.phase})"
                print(f"loadgen: phase {self.phase} lasted over "
                      f"{phase_max_seconds} s, stopping", file=sys.stderr, flush=True)
                self.stop.set()
            time.sleep(0.05)
        with self.lock:
            self.close_phase()

    def note(self, phase, user, what, status, data):
        """Logs the first NOTES_MAX answers that were not right."""
        with self.lock:
            self.notes += 1
            if self.notes > NOTES_MAX:
                return
        print(f"{time.time():.3f} [{phase}] {user.user_id} {what} -> {status} "
              f"{json.dumps(data)[:120]} cookies={sorted(user.jar)}",
              file=sys.stderr, flush=True)

    def count(self, phase, **fields):
        """Counts one finished request that started in `phase`."""
        with self.lock:
            if self.phase != phase:
                phase = f"{phase} > {self.phase}"
            c = self.counts.setdefault(phase, dict.fromkeys(COUNTERS, 0))
            c["requests"] += 1
            for k, v in fields.items():
                c[k] += v
            self.total += 1


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_set_cookie(value):
    """(name, value, deleted) of one Set-Cookie header value."""
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    deleted = False
    for attr in parts[1:]:
        key, _, arg = attr.partition("=")
        key = key.lower()
        if key == "max-age" and arg.strip().lstrip("-").isdigit() and int(arg) <= 0:
            deleted = True
        elif key == "expires" and "1970" in arg:
            deleted = True
    return name.strip(), val.strip(), deleted


class Paused(Exception):
    """A request not made: the run is in a pause phase."""


class User:
    """One simulated browser: a cookie jar and what it expects to see."""

    def __init__(self, host, port, user_id, timeout, ctl=None,
                 cookies=("session", "gsession")):
        self.host, self.port = host, port
        self.user_id = user_id
        self.timeout = timeout
        self.ctl = ctl
        self.cookies = cookies
        self.jar = {}
        self.logged_in = False
        self.cart = ""
        self.cart_count = 0
        self.items = 0

    def presented(self):
        """Which of the two apps' cookies the jar sends: none, legacy, new
        or both."""
        legacy, new = (name in self.jar for name in self.cookies)
        return "both" if legacy and new else "legacy" if legacy else "new" if new else "none"

    def request(self, method, path, form=None):
        """(status, headers, json body or None); raises OSError on no answer.
        One connection per request, as a browser whose keep-alive connection
        was closed by a router reload opens a new one.  With a Control, a
        request in a pause is not made (raises Paused) and what one sent is
        counted in its phase."""
        phase = self.ctl.begin() if self.ctl is not None else None
        if self.ctl is not None and phase is None:
            raise Paused()
        presented, app = self.presented(), "router"
        try:
            status, headers, data = self.exchange(method, path, form)
            app = headers.get("X-App") or "router"
            return status, headers, data
        finally:
            if self.ctl is not None:
                self.ctl.end(phase, app, presented)

    def exchange(self, method, path, form):
        """One HTTP request and its answer; updates the jar."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            headers = {"Connection": "close"}
            if self.jar:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            for value in resp.msg.get_all("Set-Cookie") or []:
                name, val, deleted = parse_set_cookie(value)
                if deleted:
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = val
            try:
                data = json.loads(raw) if raw else None
            except ValueError:
                data = None
            return resp.status, resp.msg, data
        finally:
            conn.close()

    def login(self):
        status, _, data = self.request("POST", "/login", {"user": self.user_id})
        if status == 200 and data and data.get("user_id") == self.user_id:
            self.logged_in = True
            self.cart, self.cart_count = "", 0
            return True
        return False


def classify(user, status, headers, data, expect_cart, expect_count):
    """The counters one answer adds (see the module comment)."""
    app = headers.get("X-App") if headers is not None else None
    out = {"legacy": int(app == "legacy"), "new": int(app == "new"),
           "router": int(app is None)}
    if 200 <= status < 300:
        if not isinstance(data, dict) or data.get("user_id") != user.user_id:
            out["wrong_user"] = 1
        elif data.get("cart") != expect_cart or data.get("cart_count") != expect_count:
            out["data_mismatch"] = 1
        else:
            out["ok"] = 1
    elif status == 401 and app is not None:
        out["logged_out"] = 1
    elif status == 503 and app is None:
        out["unavailable"] = 1
    elif status >= 500:
        out["server_error"] = 1
    else:
        out["other"] = 1
    return out


def user_loop(ctl, user, cart_every, think):
    """Logs in, then alternates /me and /cart until told to stop."""
    n = 0
    while not ctl.stop.is_set():
        if not user.logged_in:
            # A user who was logged out logs in again (and the run goes on);
            # the 401 that showed it has been counted.
            try:
                user.login()
            except (OSError, Paused):
                pass
            if not user.logged_in:
                time.sleep(0.05)
                continue
        with ctl.lock:
            phase = ctl.phase
        if phase.startswith("pause"):
            time.sleep(0.02)
            continue
        n += 1
        is_cart = cart_every > 0 and n % cart_every == 0
        item = f"i{user.items + 1}"
        expect_cart = user.cart
        if is_cart:
            items = (user.cart.split(",") if user.cart else []) + [item]
            expect_cart = ",".join(items[-CART_KEEP:])
        expect_count = user.cart_count + (1 if is_cart else 0)
        try:
            if is_cart:
                status, headers, data = user.request("POST", "/cart", {"item": item})
            else:
                status, headers, data = user.request("GET", "/me")
        except Paused:
            n -= 1
            continue
        except OSError as e:
            ctl.count(phase, failed=1, router=1)
            ctl.note(phase, user, "request", "no answer", str(e))
            continue
        fields = classify(user, status, headers, data, expect_cart, expect_count)
        ctl.count(phase, **fields)
        if not fields.get("ok"):
            ctl.note(phase, user, "POST /cart" if is_cart else "GET /me", status, data)
        if fields.get("ok") and is_cart:
            user.cart, user.cart_count, user.items = expect_cart, expect_count, user.items + 1
        elif fields.get("data_mismatch") and isinstance(data, dict):
            # Take the server's view so one mismatch is counted once.
            user.cart = data.get("cart", "")
            user.cart_count = data.get("cart_count", 0)
        if fields.get("logged_out") and not phase.startswith("redis"):
            user.logged_in = False
        if think:
            time.sleep(think)


def cmd_run(args):
    url = urllib.parse.urlsplit(args.url)
    if url.hostname not in ("127.0.0.1", "localhost"):
        sys.exit("loadgen: loopback URLs only")
    ctl = Control(args.control)
    for name in ("stop", "ack", "progress"):
        try:
            os.unlink(os.path.join(args.control, name))
        except OSError:
            pass
    ctl.read_phase()
    users = [User(url.hostname, url.port, f"{args.prefix}{i}", args.timeout, ctl,
                  (args.legacy_cookie, args.new_cookie))
             for i in range(args.users)]
    started = time.time()
    for u in users:
        for _ in range(50):
            try:
                if u.login():
                    break
            except (OSError, Paused):
                pass
            time.sleep(0.1)
        else:
            sys.exit(f"loadgen: user {u.user_id} could not log in")
    with ctl.lock:
        ctl.since = time.monotonic()
    watcher = threading.Thread(target=ctl.watch, args=(args.phase_max_seconds,))
    watcher.start()
    threads = [threading.Thread(target=user_loop, args=(ctl, u, args.cart_every, args.think))
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    watcher.join()
    result = {"users": args.users, "wall_seconds": round(time.time() - started, 1),
              "total": ctl.total, "phases": ctl.counts,
              "seconds": {p: round(s, 1) for p, s in ctl.seconds.items()},
              "sent": ctl.sent,
              "stopped_by": ctl.stopped_by}
    write_atomic(args.out, json.dumps(result, indent=1) + "\n")


def cmd_table(args):
    """Prints the phases of a result file as one table, in the order they
    ran.  Each --merge "ROW=REGEX" folds the phases whose name matches REGEX
    into ROW (the first match wins; the rest keep their own rows); --tail
    does the same for a row printed after all others.  A total ends it."""
    cols = ("requests", "legacy", "new", "ok", "logged_out", "wrong_user",
            "data_mismatch", "unavailable", "server_error", "failed")
    heads = ("phase", "seconds", "requests", "legacy", "new", "ok", "401 logged-in",
             "wrong user", "data diff", "503", "other 5xx", "failed")
    merges = []
    for m in args.merge + args.tail:
        row, _, regex = m.partition("=")
        merges.append((row, re.compile(regex)))
    tail = [m.partition("=")[0] for m in args.tail]
    with open(args.file) as f:
        res = json.load(f)
    durations = res.get("seconds", {})
    table, seconds = {}, {}
    for name, c in res["phases"].items():
        row = next((r for r, rx in merges if rx.search(name)), name)
        t = table.setdefault(row, dict.fromkeys(cols, 0))
        for k in cols:
            t[k] += c.get(k, 0)
        seconds[row] = seconds.get(row, 0.0) + durations.get(name, 0.0)
    total = {k: sum(t[k] for t in table.values()) for k in cols}
    order = [n for n in table if n not in tail] + [n for n in tail if n in table]
    # Requests across two phases have no duration of their own.
    rows = [[name, f"{seconds[name]:.1f}" if seconds[name] else "-"]
            + [str(table[name][k]) for k in cols] for name in order]
    rows.append(["total", f"{sum(durations.values()):.1f}"]
                + [str(total[k]) for k in cols])
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def fmt(cells):
        return "  ".join(v.ljust(widths[i]) if i == 0 else v.rjust(widths[i])
                         for i, v in enumerate(cells))
    print(fmt(heads))
    print("-" * len(fmt(heads)))
    for r in rows[:-1]:
        print(fmt(r))
    print("-" * len(fmt(heads)))
    print(fmt(rows[-1]))
    print(f"{res['users']} users, {res['total']} requests in {res['wall_seconds']} s "
          f"(stopped by {res['stopped_by']})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--url", required=True)
    run.add_argument("--control", required=True)
    run.add_argument("--out", required=True)
    run.add_argument("--users", type=int, default=24)
    run.add_argument("--prefix", default="user")
    run.add_argument("--phase-max-seconds", type=float, default=600,
                     help="stop when one phase lasts longer (script gone)")
    run.add_argument("--cart-every", type=int, default=4)
    run.add_argument("--think", type=float, default=0.0)
    run.add_argument("--timeout", type=float, default=10.0)
    run.add_argument("--legacy-cookie", default="session")
    run.add_argument("--new-cookie", default="gsession")
    table = sub.add_parser("table")
    table.add_argument("file")
    table.add_argument("--merge", action="append", default=[],
                       help="ROW=REGEX: fold matching phases into one row")
    table.add_argument("--tail", action="append", default=[],
                       help="ROW=REGEX: the same, printed after the others")
    args = ap.parse_args()
    if args.cmd == "run":
        cmd_run(args)
    else:
        cmd_table(args)


if __name__ == "__main__":
    main()
