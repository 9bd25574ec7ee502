#!/usr/bin/python3
"""Flask-Session 0.3.2 (Debian) Redis layout, for reference only: starts its own redis-server
on 127.0.0.1:$SB_VECTORS_REDIS_PORT (default 16398), drives a real Flask app, prints the cookie, the Redis key, TTL and the
pickle bytes. A bridge must never write (or unpickle untrusted) pickle; see the README's flask format."""
import atexit
import os
import pickle
import subprocess
import time
import warnings

import flask
import redis
from flask_session import Session

from common import SECRET, emit, deb_version

warnings.simplefilter("ignore")
PORT = int(os.environ.get("SB_VECTORS_REDIS_PORT", "16398"))
srv = subprocess.Popen(["redis-server", "--port", str(PORT), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
atexit.register(srv.terminate)      # also on a failed assertion
time.sleep(0.4)
r = redis.Redis(port=PORT)
r.flushall()
VER = ", ".join(deb_version(p) for p in ("python3-flask-session", "python3-flask",
                                         "python3-redis", "redis-server"))


def make_app(signed):
    app = flask.Flask("fs")
    app.config.update(SECRET_KEY=SECRET, SESSION_TYPE="redis", SESSION_REDIS=r,
                      SESSION_USE_SIGNER=signed)
    Session(app)

    @app.route("/login")
    def login():
        flask.session["user_id"] = 42
        flask.session["username"] = "alice"
        return "ok"

    @app.route("/whoami")
    def whoami():
        return flask.jsonify(uid=flask.session.get("user_id"), sid=flask.session.sid)
    return app


vectors = []
for signed in (True, False):
    app = make_app(signed)
    c = app.test_client()
    resp = c.get("/login")
    hdr = resp.headers["Set-Cookie"]
    cookie = hdr.split(";")[0].split("=", 1)[1]
    sid = cookie.rsplit(".", 1)[0] if signed else cookie
    raw = r.get("session:" + sid)
    ttl = r.ttl("session:" + sid)
    c2 = app.test_client()
    c2.set_cookie("localhost", "session", cookie)
    assert c2.get("/whoami").json["uid"] == 42
    params = {"secret_key": SECRET, "use_signer": signed, "key_prefix": "session:",
              "serializer": "pickle (protocol %d)" % raw[1]}
    if signed:
        from itsdangerous import Signer
        params.update(salt="flask-session", key_derivation="hmac", digest="sha1",
                      derived_key_hex=Signer(SECRET, salt="flask-session",
                                             key_derivation="hmac").derive_key().hex())
    vectors.append({
        "format": "flask-session", "name": "flask-session-" + ("signed" if signed else "unsigned"),
        "cookie_name": "session", "secret_or_key_params": params, "token": cookie,
        "expected_payload": pickle.loads(raw), "redis_key": "session:" + sid,
        "redis_value_hex": raw.hex(), "redis_ttl_s": ttl, "set_cookie_header": hdr,
        "expect": "valid", "verified_with": VER,
        "notes": "Redis value is a pickle of dict(session) (shown decoded here by Python, a trusted "
                 "party). The bridge must not produce or parse this; migrate such apps to a JSON "
                 "serializer first." + (" Cookie = sid '.' base64url(HMAC-SHA1(HMAC-SHA1(secret, "
                 "'flask-session'), sid)), no timestamp." if signed else " Cookie = bare uuid4.")})
    if signed:
        bad = cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB")
        c3 = app.test_client()
        c3.set_cookie("localhost", "session", bad)
        got = c3.get("/whoami").json
        assert got["uid"] is None and got["sid"] != sid
        vectors.append({
            "format": "flask-session", "name": "flask-session-tampered", "cookie_name": "session",
            "secret_or_key_params": params, "token": bad, "expected_payload": None,
            "expect": "bad_signature", "verified_with": VER,
            "notes": "Signature changed: Flask-Session ignores it and issues a new sid."})
        r.expire("session:" + sid, 1)
        time.sleep(1.5)
        c4 = app.test_client()
        c4.set_cookie("localhost", "session", cookie)
        got = c4.get("/whoami").json
        assert got["uid"] is None and got["sid"] == sid
        vectors.append({
            "format": "flask-session", "name": "flask-session-expired", "cookie_name": "session",
            "secret_or_key_params": params, "token": cookie, "expected_payload": None,
            "expect": "expired", "redis_key": "session:" + sid, "verified_with": VER,
            "notes": "Valid signed sid whose Redis key has expired (TTL set to 1 s here; normally "
                     "SETEX with PERMANENT_SESSION_LIFETIME = 2678400 s): the session is empty. "
                     "Expiry lives only in the Redis TTL."})

srv.terminate()
srv.wait()
emit(vectors)
