"""django_side.py - the real Django side of the interop test: an in-process
Django project with the signed_cookies session backend, SessionMiddleware,
AuthenticationMiddleware and an in-memory user table, driven through
Django's test Client; plus django.core.signing directly for custom salts
and the legacy sha1 algorithm (the backend's own salt is fixed).

  mint: Django writes the case's session (or logs user alice in, case
        login); prints {"cookie", "expect"}.  With --salt or --algorithm it
        is signing.dumps / TimestampSigner.sign_object instead of a request.
  read: Django reads the cookie; prints {"valid", "match", "data", "user"}
        where user is request.user's pk when Django accepts the login.
  info: prints {"user_id", "auth_hash"} of alice: what a Django backend
        hands the bridge so that a minted login passes get_user().
"""
import django
from django.conf import settings

import common

DEFAULT_SALT = "django.contrib.sessions.backends.signed_cookies"
# A fixed password hash, so the session auth hash is the same in every run.
ALICE_PASSWORD = "md5$fixedsalt$" + "0" * 32

CASES = {
    "plain": {"user_id": 42, "username": "alice", "name": "Zo\u00eb \U0001F600"},
    "compressed": {"user_id": 42,
                   "history": ["/page/%d" % i for i in range(60)]},
}


def setup(args):
    settings.configure(
        SECRET_KEY=common.read_secret(args.secret_file),
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
        SESSION_COOKIE_AGE=args.max_age or 1209600,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware"],
        ROOT_URLCONF=__name__,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": ":memory:"}},
        ALLOWED_HOSTS=["*"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
    from django.core import signing
    common.fix_clock(signing, args.now)
    from django.core.management import call_command
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import User
    user = User(username="alice", password=ALICE_PASSWORD)
    user.save()
    return user


def make_urls(args):
    from django.contrib.auth import get_user_model, login
    from django.http import HttpResponse, JsonResponse
    from django.urls import path

    def set_session(request):
        request.session.update(CASES[args.case])
        return HttpResponse("ok")

    def do_login(request):
        login(request, get_user_model().objects.get(username="alice"))
        return HttpResponse("ok")

    def get_session(request):
        data = common.without_sid(dict(request.session.items()))
        user = str(request.user.pk) if request.user.is_authenticated else None
        return JsonResponse({"valid": len(data) > 0, "data": data,
                             "match": data == CASES.get(args.case),
                             "user": user})

    return [path("set", set_session), path("login", do_login),
            path("get", get_session)]


urlpatterns = []


def main():
    args = common.parser(__doc__).parse_args()
    alice = setup(args)
    urlpatterns.extend(make_urls(args))
    from django.core import signing
    from django.test import Client

    secret = settings.SECRET_KEY
    if args.command == "info":
        common.answer({"user_id": str(alice.pk),
                       "auth_hash": alice.get_session_auth_hash()})
    direct = args.salt is not None or args.algorithm is not None
    if args.command == "mint" and direct:
        signer = signing.TimestampSigner(
            secret, salt=args.salt or DEFAULT_SALT,
            algorithm=args.algorithm or "sha256")
        cookie = signer.sign_object(CASES[args.case], compress=True)
        common.answer({"cookie": cookie, "expect": CASES[args.case]})
    if args.command == "mint":
        resp = Client().post("/login" if args.case == "login" else "/set")
        cookie = resp.cookies["sessionid"].value
        expect = CASES.get(args.case)
        if args.case == "login":
            expect = {"_auth_user_id": str(alice.pk),
                      "_auth_user_backend":
                          "django.contrib.auth.backends.ModelBackend",
                      "_auth_user_hash": alice.get_session_auth_hash()}
        common.answer({"cookie": cookie, "expect": expect})
    if direct:
        try:
            data = common.without_sid(signing.loads(
                args.cookie, key=secret, salt=args.salt or DEFAULT_SALT,
                max_age=settings.SESSION_COOKIE_AGE))
        except signing.BadSignature:
            data = {}
        common.answer({"valid": len(data) > 0, "data": data,
                       "match": data == CASES.get(args.case), "user": None})
    client = Client()
    client.cookies["sessionid"] = args.cookie
    common.answer(client.get("/get").json())


if __name__ == "__main__":
    main()
