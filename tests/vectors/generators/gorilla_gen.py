#!/usr/bin/python3
"""gorilla/securecookie + gorilla/sessions vectors. Real tokens come from the Go program in
gorilla_gen/ (built against Debian's golang-github-gorilla-*-dev in GOPATH mode); tokens with a
fixed old timestamp come from reference.py and are then checked by the real Go Decode.
The Go library's clock cannot be set from outside, hence the split."""
import base64
import json
import os
import subprocess
import tempfile

import reference as R
from common import SECRET, T0, T_OLD, VERIFY_NOW, emit, deb_version

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(os.environ.get("SB_VECTORS_TMP") or tempfile.mkdtemp(), "gorilla_gen_bin")
ENV = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="")
subprocess.run(["go", "build", "-o", BIN, "."], cwd=os.path.join(HERE, "gorilla_gen"),
               env=ENV, check=True)

HASH_KEY = SECRET                                   # used as raw bytes
BLOCK_KEY = "0123456789abcdef0123456789abcdef"      # 32 ASCII bytes -> AES-256
VER = ", ".join(deb_version(p) for p in ("golang-github-gorilla-securecookie-dev",
                                         "golang-github-gorilla-sessions-dev", "golang-1.19-go"))


def go(cmd, **req):
    out = subprocess.run([BIN, cmd], input=json.dumps(req), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def params(block=False, ser="gob", max_age=2592000):
    p = {"hash_key_utf8": HASH_KEY, "hash": "HMAC-SHA256", "max_age": max_age, "min_age": 0,
         "serializer": ser, "max_length": 4096}
    if block:
        p.update(block_key_utf8=BLOCK_KEY, cipher="AES-256-CTR, random 16-byte IV prefix")
    return p


vectors = []


def add(name, token, expect, notes, ts, payload, block=False, ser="gob", verify_now=None,
        go_result=None, extra=None):
    v = {"format": "gorilla", "name": name, "cookie_name": "session",
         "secret_or_key_params": params(block, ser), "token": token,
         "expected_payload": payload, "expect": expect, "timestamp": ts,
         "verify_now": verify_now if verify_now is not None else ts + 60,
         "verified_with": VER, "notes": notes}
    if go_result is not None:
        v["go_decode_result"] = go_result
    if extra:
        v.update(extra)
    vectors.append(v)


def go_decode(token, block=False, ser="gob", max_age=None, name="session"):
    req = dict(name=name, hash_key=HASH_KEY, token=token, serializer=ser)
    if block:
        req["block_key"] = BLOCK_KEY
    if max_age is not None:
        req["max_age"] = max_age
    return go("decode", **req)


def as_payload(go_vals):
    return {k: {"type": t, "value": v} for k, t, v in go_vals}


# 1. plain, real Go
items = [["user_id", "int", 42], ["username", "string", "alice"]]
tok = go("encode", name="session", hash_key=HASH_KEY, values=items)["token"]
gob, ts, _ = R.gorilla_decode("session", tok, HASH_KEY.encode(), now=VERIFY_NOW, max_age=0)
assert R.gorilla_encode("session", ts, gob, HASH_KEY.encode()) == tok   # byte-exact
dec = R.gob_decode_values(gob)
assert R.gob_encode_values(dec) == gob                                  # same map order
res = go_decode(tok)
assert res["error"] == "<nil>"
add("gorilla-plain", tok, "valid",
    "Made by securecookie.Encode (gob of map[interface{}]interface{}). Inner gob bytes (hex): "
    + gob.hex() + " . Go map order is random, so a second run may order the two entries "
    "differently; decoders must accept any order.", ts, as_payload(res["values"]),
    extra={"gob_hex": gob.hex()})

# 2. all scalar kinds, real Go
items2 = [["user_id", "int", 42], ["big", "int64", 9007199254740993], ["admin", "bool", True],
          ["score", "float64", 1.5], ["neg", "int", -5], ["name", "string", "Zo\u00eb"]]
tok2 = go("encode", name="session", hash_key=HASH_KEY, values=items2)["token"]
gob2, ts2, _ = R.gorilla_decode("session", tok2, HASH_KEY.encode(), now=VERIFY_NOW, max_age=0)
assert R.gorilla_encode("session", ts2, gob2, HASH_KEY.encode()) == tok2
dec2 = R.gob_decode_values(gob2)
assert R.gob_encode_values(dec2) == gob2
res2 = go_decode(tok2)
assert res2["error"] == "<nil>"
add("gorilla-types", tok2, "valid",
    "int, int64 (beyond 2^53), bool, float64, negative int, UTF-8 string. Gob hex: " + gob2.hex(),
    ts2, as_payload(res2["values"]), extra={"gob_hex": gob2.hex()})

# 3. encrypted (hash + block key), real Go; re-encrypt with the same IV must match
tok3 = go("encode", name="session", hash_key=HASH_KEY, block_key=BLOCK_KEY, values=items)["token"]
gob3, ts3, iv3 = R.gorilla_decode("session", tok3, HASH_KEY.encode(), BLOCK_KEY.encode(),
                                  now=VERIFY_NOW, max_age=0)
assert R.gorilla_encode("session", ts3, gob3, HASH_KEY.encode(), BLOCK_KEY.encode(), iv3) == tok3
res3 = go_decode(tok3, block=True)
assert res3["error"] == "<nil>"
add("gorilla-encrypted", tok3, "valid",
    "AES-256-CTR (block key = 32 bytes); value = base64url(IV16 || CTR(gob)); IV here: "
    + iv3.hex() + " ; plaintext gob hex: " + gob3.hex(), ts3, as_payload(res3["values"]),
    block=True, extra={"iv_hex": iv3.hex(), "gob_hex": gob3.hex()})

# 4. through sessions.CookieStore.Save (Set-Cookie header)
st = go("store", name="session", hash_key=HASH_KEY, values=[["user_id", "int", 42]])
assert st["read_back_error"] == "<nil>"
ctok = st["set_cookie"].split(";", 1)[0].split("=", 1)[1]
gob4, ts4, _ = R.gorilla_decode("session", ctok, HASH_KEY.encode(), now=VERIFY_NOW, max_age=0)
assert R.gob_encode_values([("user_id", "int", 42)]) == gob4
add("gorilla-cookiestore", ctok, "valid",
    "Produced by sessions.NewCookieStore(hashKey).Save; single entry, so the gob bytes are "
    "deterministic and equal reference.gob_encode_values.", ts4,
    {"user_id": {"type": "int", "value": 42}}, extra={"set_cookie_header": st["set_cookie"],
                                                      "gob_hex": gob4.hex()})

# 5. JSONEncoder (securecookie directly; sessions.Values cannot be JSON-encoded)
tok5 = go("encode", name="session", hash_key=HASH_KEY, serializer="json", values=items)["token"]
js, ts5, _ = R.gorilla_decode("session", tok5, HASH_KEY.encode(), now=VERIFY_NOW, max_age=0)
assert R.gorilla_encode("session", ts5, js, HASH_KEY.encode()) == tok5
res5 = go_decode(tok5, ser="json")
assert res5["error"] == "<nil>"
add("gorilla-json", tok5, "valid",
    "securecookie.JSONEncoder over map[string]interface{}: inner bytes are " + json.dumps(js.decode())
    + " (json.Encoder: sorted keys, trailing newline). With sessions.Values "
    "(map[interface{}]interface{}) encoding/json fails: 'json: unsupported type'.",
    ts5, res5["values"], ser="json", extra={"inner_json": js.decode()})

# 6. reference-made token at fixed T0 (sorted keys), accepted by real Go
ref_items = [("user_id", "int", 42), ("username", "string", "alice")]
tok6 = R.gorilla_encode("session", T0, R.gob_encode_values(ref_items), HASH_KEY.encode())
res6 = go_decode(tok6, max_age=0)
assert res6["error"] == "<nil>", res6
add("gorilla-fixed-t0", tok6, "valid",
    "Made by reference.py at T0 with keys in sorted order and type id 65; real Go Decode "
    "(MaxAge(0) so the check does not depend on today's date) returns the values.", T0,
    as_payload(res6["values"]), verify_now=VERIFY_NOW)

# 7. expired: reference-made at T_OLD; real Go with default MaxAge (30 days) rejects it
tok7 = R.gorilla_encode("session", T_OLD, R.gob_encode_values(ref_items), HASH_KEY.encode())
res7 = go_decode(tok7)
assert res7["error"] == "securecookie: expired timestamp", res7
assert go_decode(tok7, max_age=0)["error"] == "<nil>"
add("gorilla-expired", tok7, "expired",
    "Timestamp T_OLD=%d; real Go Decode with the default MaxAge 2592000 says '%s'."
    % (T_OLD, res7["error"]), T_OLD, as_payload(go_decode(tok7, max_age=0)["values"]),
    verify_now=VERIFY_NOW, go_result=res7["error"])

# 8. tampered
raw = bytearray(base64.urlsafe_b64decode(tok))
raw[raw.index(b"|") + 5] ^= 0x01                     # flip a bit inside the value part
tok8 = base64.urlsafe_b64encode(bytes(raw)).decode()
res8 = go_decode(tok8)
assert res8["error"] == "securecookie: the value is not valid", res8
add("gorilla-tampered", tok8, "bad_signature",
    "One bit flipped in the inner value; real Go says '%s'." % res8["error"], ts, None,
    go_result=res8["error"])

# 9. right token, wrong cookie name (the name is inside the MAC)
res9 = go_decode(tok, name="other")
assert res9["error"] == "securecookie: the value is not valid"
v9 = dict(vectors[0])
v9.update(name="gorilla-wrong-name", cookie_name="other", expect="bad_signature",
          expected_payload=None, go_decode_result=res9["error"],
          notes="The gorilla-plain token presented under cookie name 'other': MAC covers the "
                "name, so it fails.")
v9.pop("gob_hex", None)
vectors.append(v9)

emit(vectors)
