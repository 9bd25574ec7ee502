"""starlette_side.py - the real Starlette SessionMiddleware side of the
interop test, driven through Starlette's TestClient.

  mint: the app stores the case's session; prints {"cookie", "expect",
        "set_cookie"} (expect = the data, set_cookie = the whole header).
  read: the app receives the cookie; prints {"valid", "match", "data"}.
"""
import itsdangerous.timed
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import common

CASES = {
    "plain": {"user_id": 42, "username": "alice"},
    "nested": {"user_id": 7, "name": "Zo\u00eb \U0001F600",
               "roles": ["admin", "ops"], "prefs": {"dark": True, "n": None},
               "ratio": 0.1, "big": 2 ** 53 + 1, "quote": "a\"b\\c</d>"},
}


def make_app(args):
    async def set_session(request):
        request.session.update(CASES[args.case])
        return PlainTextResponse("ok")

    async def get_session(request):
        data = common.without_sid(request.session)
        return JSONResponse({"valid": len(request.session) > 0,
                             "match": data == CASES.get(args.case),
                             "data": data})

    kw = {"secret_key": common.read_secret(args.secret_file)}
    if args.max_age:
        kw["max_age"] = args.max_age
    return Starlette(routes=[Route("/set", set_session, methods=["POST"]),
                             Route("/get", get_session)],
                     middleware=[Middleware(SessionMiddleware, **kw)])


def main():
    args = common.parser(__doc__).parse_args()
    common.fix_clock(itsdangerous.timed, args.now)
    client = TestClient(make_app(args))
    if args.command == "mint":
        resp = client.post("/set")
        headers = resp.headers.get_list("set-cookie")
        common.answer({"cookie": common.cookie_from(headers, "session"),
                       "expect": CASES[args.case],
                       "set_cookie": headers[0]})
    resp = client.get("/get", headers={"cookie": "session=" + args.cookie})
    common.answer(resp.json())


if __name__ == "__main__":
    main()
