#!/usr/bin/env python3
"""legacy_app.py - the "legacy" demo backend of the end-to-end migration: a
small Flask app keeping its login in Flask's default signed-cookie session
(flask-login style `_user_id`), unaware of sessionbridge.

Routes (JSON answers, every one names the app that served it):
  POST /login   form or JSON {"user": ID}   -> 200 {"user_id": ID}
  POST /logout                              -> 200 {}
  GET  /me                                  -> 200 {"user_id", "cart", "cart_count"} | 401
  POST /cart    form or JSON {"item": X}    -> 200 {"cart", "cart_count"} | 401
                (the cart keeps the last CART_KEEP items, comma-separated, so
                the cookie stays small; cart_count counts every item added)
  GET  /health                              -> 200

Usage: legacy_app.py --port PORT --secret-file FILE [--host 127.0.0.1]
(or the environment: LEGACY_PORT, LEGACY_SECRET_FILE, LEGACY_HOST).  The
secret is the first line of the file; it is never printed.
"""
import argparse
import logging
import os
import sys

from flask import Flask, jsonify, request, session
from werkzeug.serving import WSGIRequestHandler, run_simple

APP_NAME = "legacy"
CART_KEEP = 5


def create_app(secret):
    """The Flask app with SECRET_KEY = secret (bytes)."""
    app = Flask(__name__)
    app.config["SECRET_KEY"] = secret

    def answer(status, **fields):
        body = jsonify(app=APP_NAME, **fields)
        body.status_code = status
        body.headers["X-App"] = APP_NAME
        return body

    def field(name):
        data = request.get_json(silent=True) if request.is_json else request.form
        value = (data or {}).get(name)
        return value if isinstance(value, str) and value else None

    @app.post("/login")
    def login():
        user = field("user")
        if user is None:
            return answer(400, error="user missing")
        session.clear()
        session["_user_id"] = user
        session["_fresh"] = True
        return answer(200, user_id=user)

    @app.post("/logout")
    def logout():
        session.clear()
        return answer(200)

    @app.get("/me")
    def me():
        user = session.get("_user_id")
        if user is None:
            return answer(401, error="not logged in")
        return answer(200, user_id=user, cart=session.get("cart", ""),
                      cart_count=session.get("cart_count", 0))

    @app.post("/cart")
    def cart():
        user = session.get("_user_id")
        if user is None:
            return answer(401, error="not logged in")
        item = field("item")
        if item is None:
            return answer(400, error="item missing")
        old = session.get("cart", "")
        items = (old.split(",") if old else []) + [item]
        session["cart"] = ",".join(items[-CART_KEEP:])
        session["cart_count"] = int(session.get("cart_count", 0)) + 1
        return answer(200, user_id=user, cart=session["cart"],
                      cart_count=session["cart_count"])

    @app.get("/health")
    def health():
        return answer(200)

    return app


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default=os.environ.get("LEGACY_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("LEGACY_PORT", "0") or 0))
    ap.add_argument("--secret-file", default=os.environ.get("LEGACY_SECRET_FILE"))
    args = ap.parse_args()
    if not args.port or not args.secret_file:
        ap.error("--port and --secret-file are required")
    with open(args.secret_file, "rb") as f:
        secret = f.readline().rstrip(b"\r\n")
    if not secret:
        sys.exit(f"legacy_app: {args.secret_file}: empty secret")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # HTTP/1.1 so a router may keep connections to it alive.
    WSGIRequestHandler.protocol_version = "HTTP/1.1"
    run_simple(args.host, args.port, create_app(secret), threaded=True)


if __name__ == "__main__":
    main()
