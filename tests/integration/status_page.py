#!/usr/bin/python3
"""status_page.py - loads the daemon's /status in headless Chromium over the
DevTools protocol and reports what the page shows.

usage: status_page.py URL TOKEN SCREENSHOT.png WIDTH HEIGHT

Starts chromium (its own profile directory, a free debugging port), sends
TOKEN as X-Bridge-Token on every request of the page, loads URL/status,
waits (bounded) until the script has filled the page from /status.json,
then prints one JSON object: the texts of the route, version and progress
elements, how many bars / points each chart drew, whether the page is
wider than the window, and every console error, uncaught exception and
browser log error seen (a 404, a CSP violation ...).  Writes a full-page
PNG screenshot.  Stops chromium (its whole process group) whatever
happens.  Exit 0 when the page loaded, 1 otherwise (the JSON says why).
"""
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

LOAD_SECONDS = 60  # a bound, not a measurement: the busy-machine worst case


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Page:
    """One DevTools session on a page target; events are kept as they come."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=LOAD_SECONDS,
                                              suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def evaluate(self, expr):
        res = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return res.get("result", {}).get("value")


def errors_of(events):
    """Console errors, exceptions and browser log errors, as text."""
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p["type"], " ".join(
                str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif m == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            out.append("exception: %s" % d.get("exception", {}).get("description", d.get("text")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            entry = p["entry"]
            out.append("log: %s %s" % (entry.get("text"), entry.get("url", "")))
    return out


def wait_for_target(port, deadline):
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=5) as r:
                for t in json.load(r):
                    if t.get("type") == "page":
                        return t["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("chromium did not offer a page target in time")


def main():
    url, token, shot, width, height = sys.argv[1:6]
    port = free_port()
    profile = tempfile.mkdtemp(prefix="sb-chromium-")
    browser = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-background-networking", "--disable-sync",
         "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=%d" % port, "--user-data-dir=" + profile,
         "--window-size=%s,%s" % (width, height), "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    report = {"loaded": False}
    try:
        deadline = time.monotonic() + LOAD_SECONDS
        page = Page(wait_for_target(port, deadline))
        for domain in ("Runtime", "Log", "Network", "Page"):
            page.call(domain + ".enable")
        page.call("Emulation.setDeviceMetricsOverride", width=int(width),
                  height=int(height), deviceScaleFactor=1, mobile=int(width) < 500)
        page.call("Network.setExtraHTTPHeaders", headers={"X-Bridge-Token": token})
        page.call("Page.navigate", url=url + "/status")
        while time.monotonic() < deadline:
            if page.evaluate("document.body && document.body.dataset.loaded") == "1":
                report["loaded"] = True
                break
            time.sleep(0.2)
        report.update(page.evaluate("""(() => {
            const t = id => { const e = document.getElementById(id); return e ? e.textContent : null; };
            const traffic = document.getElementById('chart-traffic');
            const progress = document.getElementById('chart-progress');
            return {
              title: document.title,
              version: t('version'), generation: t('generation'),
              route: { legacy: t('route-legacy'), new: t('route-new'), mint: t('route-mint'),
                       shadow: t('route-shadow'), retire: t('route-retire') },
              share: t('share'), active_any: t('active-any'), active_new: t('active-new'),
              split_minute: t('split-minute'), backends: t('backends'),
              traffic_bars: traffic ? traffic.querySelectorAll('rect').length : 0,
              traffic_points: traffic ? Number(traffic.dataset.points || 0) : 0,
              progress_lines: progress ? progress.querySelectorAll('polyline').length : 0,
              progress_points: progress ? Number(progress.dataset.points || 0) : 0,
              problem_hidden: document.getElementById('problem').hidden,
              overflows: document.documentElement.scrollWidth > window.innerWidth,
              errors_table: t('errors'),
              health: t('health'),
            };
        })()""") or {})
        # Let late events (a failed asset, an exception in a timer) arrive.
        page.call("Runtime.evaluate", expression="new Promise(r => setTimeout(r, 300))",
                  awaitPromise=True)
        shot_data = page.call("Page.captureScreenshot", format="png",
                              captureBeyondViewport=True)["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(shot_data))
        report["errors"] = errors_of(page.events)
        page.ws.close()
    except Exception as e:  # reported, so the test can say what broke
        report["failure"] = "%s: %s" % (type(e).__name__, e)
    finally:
        try:
            os.killpg(browser.pid, signal.SIGTERM)
            browser.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(browser.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            browser.wait()
        subprocess.run(["rm", "-rf", profile], check=False)
    print(json.dumps(report))
    return 0 if report["loaded"] and "failure" not in report else 1


if __name__ == "__main__":
    sys.exit(main())
