"""flask_side.py - the real Flask (and Flask-Login) side of the interop test.

  mint: a real Flask app stores the case's session and answers with its
        Set-Cookie; prints {"cookie", "expect"} where expect is the tagged
        JSON Flask wrote (the bridge's canonical data for that cookie).
  read: a real Flask app receives the cookie; prints {"valid", "match",
        "data"}: whether Flask opened a non-empty session, whether it equals
        the case's Python values (tuple, bytes, UUID, datetime, Markup...),
        and the session as tagged JSON.
With --case login the app uses Flask-Login with SESSION_PROTECTION strong;
--addr/--ua are the client's address and User-Agent; read prints "user".
"""
import json
import uuid
from datetime import datetime, timedelta, timezone

import itsdangerous.timed
from flask import Flask, jsonify, request, session
from flask.json.tag import TaggedJSONSerializer
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

import common

CASES = {
    "plain": {"user_id": 42, "username": "alice", "name": "Zo\u00eb \U0001F600"},
    "tagged": {
        "user_id": 42,
        "roles": ("admin", "ops"),
        "blob": b"\x00\x01bin",
        "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "when": datetime(2026, 11, 1, 12, 30, tzinfo=timezone.utc),
        "greeting": Markup("<b>hi</b>"),
        "esc": {" t": "not a tuple"},
        "nested": [("a", b"x"), {"k": (1, 2)}],
        "ratio": 1.5,
    },
    "compressed": {"user_id": 42,
                   "history": ["/page/%d" % i for i in range(60)]},
}


def make_app(args):
    app = Flask("bridge_interop")
    app.secret_key = common.read_secret(args.secret_file)
    iface = SecureCookieSessionInterface()
    if args.salt:
        iface.salt = args.salt
    app.session_interface = iface
    if args.max_age:
        app.permanent_session_lifetime = timedelta(seconds=args.max_age)

    @app.route("/set", methods=["POST"])
    def set_session():
        session.update(CASES[args.case])
        return "ok"

    @app.route("/get")
    def get_session():
        data = common.without_sid(session)
        tagged = json.loads(TaggedJSONSerializer().dumps(data))
        match = data == CASES.get(args.case) and all(
            type(data[k]) is type(v) for k, v in CASES[args.case].items())
        return jsonify(valid=len(session) > 0, match=match, data=tagged)

    return app


def make_login_app(args):
    from flask_login import LoginManager, UserMixin, current_user, login_user

    app = make_app(args)
    app.config["SESSION_PROTECTION"] = "strong"
    manager = LoginManager(app)

    class User(UserMixin):
        def __init__(self, uid):
            self.id = uid

    @manager.user_loader
    def load_user(uid):
        return User(uid) if uid == "42" else None

    @app.route("/login")
    def login():
        login_user(User("42"))
        return "ok"

    @app.route("/whoami")
    def whoami():
        user = current_user.get_id() if current_user.is_authenticated else None
        return jsonify(user=user)

    return app


def client_kwargs(args):
    kw = {"headers": {}}
    if args.addr:
        kw["environ_base"] = {"REMOTE_ADDR": args.addr}
    if args.ua:
        kw["headers"]["User-Agent"] = args.ua
    return kw


def main():
    args = common.parser(__doc__).parse_args()
    common.fix_clock(itsdangerous.timed, args.now)
    login = args.case == "login"
    app = make_login_app(args) if login else make_app(args)
    kw = client_kwargs(args)
    client = app.test_client()
    if args.command == "mint":
        resp = client.get("/login", **kw) if login else client.post("/set")
        cookie = common.cookie_from(resp.headers.getlist("Set-Cookie"),
                                    "session")
        expect = None
        if not login:
            expect = json.loads(TaggedJSONSerializer().dumps(CASES[args.case]))
        common.answer({"cookie": cookie, "expect": expect})
    client.set_cookie("localhost", "session", args.cookie)
    resp = client.get("/whoami" if login else "/get", **kw)
    common.answer(resp.get_json())


if __name__ == "__main__":
    main()
