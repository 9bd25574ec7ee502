#!/usr/bin/python3
"""grpc_client.py - the gRPC test and benchmark client: Python's real gRPC
stack (Debian's python3-grpcio) with stubs generated at run time by
python3-grpc-tools from the project's .proto files.

  grpc_client.py gen PROTO_DIR OUT_DIR
      generates the Python messages of every .proto into OUT_DIR.
  grpc_client.py calls OUT_DIR HOST:PORT [HTTP_BASE_URL] < requests.jsonl
      one call per input line (a JSON object, see call()); prints one line
      per call: the summary (status code and what the test compares).
      Methods http_auth and http_validate ask the HTTP API the same
      question (GET /v1/auth, POST /v1/validate) and summarize its answer
      in the same format, so a test compares the two surfaces line by line.
  grpc_client.py drain OUT_DIR HOST:PORT DAEMON_PID DAEMON_LOG
      starts a Health call whose request message is held back, makes sure
      the daemon has it (a second call on the same connection answered
      after it), sends the daemon SIGTERM, waits for its "stopping" log
      line, then sends the message; prints the held call's summary.
  grpc_client.py bench OUT_DIR HOST:PORT SECONDS CONCURRENCY COOKIE TOKEN
      Check calls with CONCURRENCY calls in flight on one channel for
      SECONDS; prints "calls N seconds S rate R errors E".

Summaries:
  Check:    "OK <rpc status> <upstream headers k=v, sorted; minted token and
            cookie as *> set-cookie=<names>"
            "DENIED <rpc status> <http status> <x-session-error>"
            or the failed call's status code and details
  Validate: "OK active=<bool> subject=<s> profile=<p> error=<e>"
  ApiKeys:  "OK valid=<bool> key_id=<k> subject=<s> scopes=<a,b> error=<e>"
  Health:   "OK <SERVING|NOT_SERVING>"
"""
import importlib.util
import json
import os
import sys
import threading
import time


def gen(proto_dir, out_dir):
    from grpc_tools import protoc
    import grpc_tools
    protos = []
    for root, _, files in os.walk(proto_dir):
        protos += [os.path.relpath(os.path.join(root, f), proto_dir)
                   for f in files if f.endswith(".proto")]
    include = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    rc = protoc.main(["protoc", "-I" + proto_dir, "-I" + include,
                      "--python_out=" + out_dir] + sorted(protos))
    if rc != 0:
        sys.exit("protoc failed")


def load(out_dir, rel):
    """Loads a generated module by path: grpc/health/v1 cannot be imported
    by name while the grpc package is Python's gRPC."""
    name = rel.replace("/", "_").replace(".py", "")
    spec = importlib.util.spec_from_file_location(name, os.path.join(out_dir, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class Stubs:
    def __init__(self, out_dir, target, http_base=None):
        self.http_base = http_base
        import grpc
        sys.path.insert(0, out_dir)
        self.grpc = grpc
        from envoy.service.auth.v3 import external_auth_pb2 as ea
        from sessionbridge.v1 import api_pb2 as api
        self.ea, self.api = ea, api
        self.health = load(out_dir, "grpc/health/v1/health_pb2.py")
        self.channel = grpc.insecure_channel(
            target, options=[("grpc.max_send_message_length", 64 << 20)])
        mk = lambda path, req, resp: self.channel.unary_unary(
            path, request_serializer=req.SerializeToString,
            response_deserializer=resp.FromString)
        self.check = mk("/envoy.service.auth.v3.Authorization/Check",
                        ea.CheckRequest, ea.CheckResponse)
        self.validate = mk("/sessionbridge.v1.Sessions/Validate",
                           api.ValidateRequest, api.ValidateResponse)
        self.apikey = mk("/sessionbridge.v1.ApiKeys/Validate",
                         api.ApiKeyValidateRequest, api.ApiKeyValidateResponse)
        self.hcheck = mk("/grpc.health.v1.Health/Check",
                         self.health.HealthCheckRequest,
                         self.health.HealthCheckResponse)
        self.unknown = mk("/sessionbridge.v1.Sessions/Nope",
                          api.ValidateRequest, api.ValidateResponse)

    def check_request(self, r):
        req = self.ea.CheckRequest()
        http = req.attributes.request.http
        http.method = r.get("http_method", "GET")
        http.path = "/"
        headers = {k: v for k, v in (("cookie", r.get("cookie")),
                                     ("authorization", r.get("authorization")),
                                     ("user-agent", r.get("ua")),
                                     ("x-forwarded-for", r.get("xff")),
                                     ("x-sessionbridge-backend", r.get("backend"))) if v}
        if r.get("raw"):  # Envoy's encode_raw_headers: a list, raw values
            for k, v in headers.items():
                for part in (v.split("; ") if k == "cookie" else [v]):
                    hv = http.header_map.headers.add()
                    hv.key, hv.raw_value = k, part.encode()
        else:
            for k, v in headers.items():
                http.headers[k] = v
        sa = req.attributes.source.address.socket_address
        sa.address, sa.port_value = r.get("source", "127.0.0.1"), 40000
        return req

    def http_auth(self, r):
        headers = {k: v for k, v in (("Cookie", r.get("cookie")),
                                     ("Authorization", r.get("authorization")),
                                     ("User-Agent", r.get("ua")),
                                     ("X-Bridge-Token", r.get("caller"))) if v}
        resp, _ = http_request(self.http_base, r.get("http_method", "GET"), "/v1/auth", headers)
        hs = resp.getheaders()
        if resp.status == 200:
            up = sorted("%s=%s" % (k.lower(), "*" if k.lower() in MINTED and v else v)
                        for k, v in hs if k.lower().startswith("x-session-"))
            cookies = sorted(v.split("=")[0] for k, v in hs if k.lower() == "set-cookie")
            return "OK 0 %s set-cookie=%s" % (" ".join(up), ",".join(cookies))
        err = ",".join(v for k, v in hs if k.lower() == "x-session-error")
        if resp.status == 401:
            return "DENIED 16 401 %s" % err
        if resp.status == 503:
            return "UNAVAILABLE store_unavailable"
        return "HTTP %d %s" % (resp.status, err)


    def http_validate(self, r):
        body = json.dumps({k: r[k] for k in ("token", "profile") if r.get(k)})
        headers = {"Content-Type": "application/json"}
        if r.get("caller"):
            headers["X-Bridge-Token"] = r["caller"]
        resp, data = http_request(self.http_base, "POST", "/v1/validate", headers, body)
        j = json.loads(data)
        if resp.status == 200:
            return "OK active=True subject=%s profile=%s error=" % (j["session"]["subject"], j["profile"])
        if resp.status == 401:
            return "OK active=False subject= profile= error=%s" % j.get("error", "")
        return "HTTP %d %s" % (resp.status, j.get("error", ""))

    def call(self, r):
        md = [("x-bridge-token", r["caller"])] if r.get("caller") else None
        kw = {"timeout": r.get("timeout", 10), "metadata": md}
        m = r["method"]
        try:
            if m == "check":
                return summarize_check(self.check(self.check_request(r), **kw))
            if m == "validate":
                v = self.validate(self.api.ValidateRequest(
                    token=r.get("token", ""), profile=r.get("profile", "")), **kw)
                return ("OK active=%s subject=%s profile=%s error=%s" %
                        (v.active, v.session.subject, v.profile, v.error))
            if m == "apikey":
                k = self.apikey(self.api.ApiKeyValidateRequest(key=r.get("key", "")), **kw)
                return ("OK valid=%s key_id=%s subject=%s scopes=%s error=%s" %
                        (k.valid, k.key_id, k.subject, ",".join(k.scopes), k.error))
            if m == "health":
                h = self.hcheck(self.health.HealthCheckRequest(service=r.get("service", "")), **kw)
                return "OK " + self.health.HealthCheckResponse.ServingStatus.Name(h.status)
            if m == "http_auth":
                return self.http_auth(r)
            if m == "http_validate":
                return self.http_validate(r)
            if m == "unknown":
                self.unknown(self.api.ValidateRequest(token="x"), **kw)
                return "OK"
        except self.grpc.RpcError as e:
            return "%s %s" % (e.code().name, (e.details() or "").split(":")[0])
        raise SystemExit("unknown method " + m)


MINTED = ("x-session-token", "x-session-cookie")


def http_request(base, method, path, headers, body=None):
    import http.client
    import urllib.parse
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    conn.request(method, path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def summarize_check(resp):
    if resp.HasField("ok_response"):
        ok = resp.ok_response
        # minted credentials differ from call to call: only their presence
        up = sorted("%s=%s" % (h.header.key, "*" if h.header.key in MINTED and h.header.value
                                else h.header.value) for h in ok.headers)
        cookies = sorted(h.header.value.split("=")[0] for h in ok.response_headers_to_add
                         if h.header.key == "set-cookie")
        return "OK %d %s set-cookie=%s" % (resp.status.code, " ".join(up), ",".join(cookies))
    d = resp.denied_response
    err = [h.header.value for h in d.headers if h.header.key == "x-session-error"]
    return "DENIED %d %d %s" % (resp.status.code, d.status.code, ",".join(err))


def calls(out_dir, target, http_base=None):
    s = Stubs(out_dir, target, http_base)
    for line in sys.stdin:
        if line.strip():
            print(s.call(json.loads(line)), flush=True)


def drain(out_dir, target, pid, log):
    import signal
    s = Stubs(out_dir, target)
    held = s.channel.stream_unary(
        "/grpc.health.v1.Health/Check",
        request_serializer=s.health.HealthCheckRequest.SerializeToString,
        response_deserializer=s.health.HealthCheckResponse.FromString)
    release = threading.Event()

    def one_message():
        release.wait(30)
        yield s.health.HealthCheckRequest()

    fut = held.future(one_message(), timeout=30)
    # HTTP/2 streams of one connection are read in order: once a later
    # call is answered, the server has the held one.
    print("before:", s.call({"method": "health"}), file=sys.stderr)
    os.kill(pid, signal.SIGTERM)
    for _ in range(300):
        if b'"stopping: draining' in open(log, "rb").read():
            break
        time.sleep(0.1)
    else:
        sys.exit("no drain log line")
    release.set()
    try:
        h = fut.result()
        print("OK " + s.health.HealthCheckResponse.ServingStatus.Name(h.status))
    except s.grpc.RpcError as e:
        print("%s %s" % (e.code().name, e.details()))


def bench(out_dir, target, seconds, concurrency, cookie, token):
    s = Stubs(out_dir, target)
    req = s.check_request({"cookie": cookie})
    md = [("x-bridge-token", token)]
    s.check(req, metadata=md, timeout=10)  # warm: connection, first sight
    lock = threading.Lock()
    done = [0, 0]
    stop = time.monotonic() + seconds

    def on_done(fut):
        with lock:
            done[0 if fut.exception() is None and fut.result().HasField("ok_response") else 1] += 1
        if time.monotonic() < stop:
            s.check.future(req, metadata=md, timeout=10).add_done_callback(on_done)
        else:
            with lock:
                left[0] -= 1
                if left[0] == 0:
                    finished.set()

    left = [concurrency]
    finished = threading.Event()
    t0 = time.monotonic()
    for _ in range(concurrency):
        s.check.future(req, metadata=md, timeout=10).add_done_callback(on_done)
    finished.wait(seconds + 30)
    el = time.monotonic() - t0
    print("calls %d seconds %.2f rate %.0f errors %d" % (done[0], el, done[0] / el, done[1]))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], sys.argv[3])
    elif cmd == "calls":
        calls(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif cmd == "drain":
        drain(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    elif cmd == "bench":
        bench(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]),
              sys.argv[6], sys.argv[7])
    else:
        sys.exit(__doc__)
