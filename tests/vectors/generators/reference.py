"""Independent re-implementations of each wire format, using only hashlib/hmac/zlib/base64
(plus python3-cryptography for AES and public-key signatures). No framework code is imported.
They mirror the README's Formats section step by step, so a C port can follow them; check_vectors.py runs them
against public.json and the real libraries' output.
"""
import base64
import hashlib
import hmac
import json
import struct
import zlib

# ---------------------------------------------------------------- base64 helpers

def b64url_nopad(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_nopad_dec(s: str) -> bytes:
    if not all(c.isalnum() or c in "-_" for c in s):
        raise ValueError("bad base64url")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64std_strict_dec(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


# ---------------------------------------------------------------- itsdangerous (Flask, Starlette)

def its_derive_key(secret: bytes, salt: bytes, method: str, digest) -> bytes:
    if method == "hmac":                      # Flask: HMAC(secret, salt)
        return hmac.new(secret, salt, digest).digest()
    if method == "django-concat":             # itsdangerous default: H(salt + "signer" + secret)
        return digest(salt + b"signer" + secret).digest()
    if method == "concat":
        return digest(salt + secret).digest()
    if method == "none":
        return secret
    raise ValueError(method)


def its_ts_encode(ts: int) -> str:
    """Big-endian integer without leading zero bytes, base64url without padding."""
    return b64url_nopad(struct.pack(">Q", ts).lstrip(b"\x00"))


def its_ts_decode(s: str) -> int:
    raw = b64url_nopad_dec(s)
    if len(raw) > 8:
        raise ValueError("timestamp too long")
    return struct.unpack(">Q", raw.rjust(8, b"\x00"))[0]


def its_sign_timed(value: bytes, ts: int, key: bytes, digest) -> str:
    signed = value + b"." + its_ts_encode(ts).encode()
    return (signed + b"." + b64url_nopad(hmac.new(key, signed, digest).digest()).encode()).decode()


def its_unsign_timed(token: str, key: bytes, digest, max_age, now):
    """Returns (value_bytes, ts). Raises ValueError('bad_signature'|'expired')."""
    if token.count(".") < 2:
        raise ValueError("bad_signature")
    signed, sig = token.rsplit(".", 1)
    try:
        sig_raw = b64url_nopad_dec(sig)
    except Exception:
        raise ValueError("bad_signature")
    if not hmac.compare_digest(sig_raw, hmac.new(key, signed.encode(), digest).digest()):
        raise ValueError("bad_signature")
    value, ts_s = signed.rsplit(".", 1)
    ts = its_ts_decode(ts_s)
    if max_age is not None:
        age = now - ts
        if age > max_age or age < 0:          # itsdangerous 2.x rejects future stamps too
            raise ValueError("expired")
    return value.encode(), ts


def flask_json(obj) -> bytes:
    """Flask's session JSON: sorted keys, ASCII-only, compact separators (obj already tagged)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def its_compress_b64(raw: bytes) -> str:
    comp = zlib.compress(raw)                  # zlib level 6 (Z_DEFAULT_COMPRESSION)
    if len(comp) < len(raw) - 1:
        return "." + b64url_nopad(comp)
    return b64url_nopad(raw)


def its_decompress_b64(s: str, limit=1 << 20) -> bytes:
    if s.startswith("."):
        d = zlib.decompressobj()
        out = d.decompress(b64url_nopad_dec(s[1:]), limit)
        if d.unconsumed_tail:
            raise ValueError("decompressed payload too large")
        return out
    return b64url_nopad_dec(s)


FLASK = dict(salt=b"cookie-session", method="hmac", digest=hashlib.sha1)


def flask_encode(tagged_obj, secret: str, ts: int) -> str:
    key = its_derive_key(secret.encode(), FLASK["salt"], FLASK["method"], FLASK["digest"])
    return its_sign_timed(its_compress_b64(flask_json(tagged_obj)).encode(), ts, key, hashlib.sha1)


def flask_decode(token: str, secret: str, now: int, max_age=31 * 86400):
    key = its_derive_key(secret.encode(), FLASK["salt"], FLASK["method"], FLASK["digest"])
    value, ts = its_unsign_timed(token, key, hashlib.sha1, max_age, now)
    return json.loads(its_decompress_b64(value.decode())), ts


# Flask tagged-JSON: only the untagging direction is needed to read foreign sessions.
FLASK_TAGS = {" di", " t", " b", " m", " u", " d"}


def flask_untag(obj):
    """Bottom-up, like json.loads(object_hook=...)."""
    if isinstance(obj, list):
        return [flask_untag(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    obj = {k: flask_untag(v) for k, v in obj.items()}
    if len(obj) == 1:
        (k, v), = obj.items()
        if k == " di":
            (ik, iv), = v.items()
            return {ik[:-2]: iv}
        if k == " t":
            return {"$tuple": v}
        if k == " b":
            return {"$bytes_b64": v}
        if k == " m":
            return {"$markup": v}
        if k == " u":
            return {"$uuid": v}
        if k == " d":
            return {"$http_date": v}
    return obj


STARLETTE = dict(salt=b"itsdangerous.Signer", method="django-concat", digest=hashlib.sha1)


def starlette_encode(obj, secret: str, ts: int) -> str:
    key = its_derive_key(secret.encode(), STARLETTE["salt"], STARLETTE["method"], hashlib.sha1)
    payload = base64.b64encode(json.dumps(obj).encode())   # std alphabet, '=' padded
    return its_sign_timed(payload, ts, key, hashlib.sha1)


def starlette_decode(token: str, secret: str, now: int, max_age=14 * 86400):
    key = its_derive_key(secret.encode(), STARLETTE["salt"], STARLETTE["method"], hashlib.sha1)
    value, ts = its_unsign_timed(token, key, hashlib.sha1, max_age, now)
    return json.loads(b64std_strict_dec(value.decode())), ts


# ---------------------------------------------------------------- Django signing

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def b62_encode(n: int) -> str:
    if n == 0:
        return "0"
    s = ""
    while n:
        n, r = divmod(n, 62)
        s = B62[r] + s
    return s


def b62_decode(s: str) -> int:
    if not s or any(c not in B62 for c in s):
        raise ValueError("bad base62")
    n = 0
    for c in s:
        n = n * 62 + B62.index(c)
    return n


def django_sig(value: str, secret: str, salt: str, alg: str) -> str:
    h = getattr(hashlib, alg)
    key = h((salt + "signer").encode() + secret.encode()).digest()
    return b64url_nopad(hmac.new(key, value.encode(), h).digest())


DJ_SALT = "django.contrib.sessions.backends.signed_cookies"


def django_encode(obj, secret: str, ts: int, alg="sha256", salt=DJ_SALT, compress=True) -> str:
    data = json.dumps(obj, separators=(",", ":")).encode("latin-1")   # ensure_ascii=True
    b64 = its_compress_b64(data) if compress else b64url_nopad(data)
    value = b64 + ":" + b62_encode(ts)
    return value + ":" + django_sig(value, secret, salt, alg)


def django_decode(token: str, secret: str, now: int, max_age=1209600, salt=DJ_SALT,
                  algs=("sha256",)):
    """algs: ('sha256',) for Django 4.0+; ('sha256', 'sha1') reproduces Django 3.1/3.2."""
    if ":" not in token:
        raise ValueError("bad_signature")
    value, sig = token.rsplit(":", 1)
    if not any(hmac.compare_digest(sig, django_sig(value, secret, salt, a)) for a in algs):
        raise ValueError("bad_signature")
    b64, ts_s = value.rsplit(":", 1)
    ts = b62_decode(ts_s)
    if max_age is not None and now - ts > max_age:     # no check for future stamps
        raise ValueError("expired")
    return json.loads(its_decompress_b64(b64).decode("latin-1")), ts


def django_session_auth_hash(password_field: str, secret: str) -> str:
    salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
    key = hashlib.sha256(salt.encode() + secret.encode()).digest()
    return hmac.new(key, password_field.encode(), hashlib.sha256).hexdigest()


# ---------------------------------------------------------------- gob (sessions.Values)

def gob_uint(n: int) -> bytes:
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([256 - len(b)]) + b


def gob_int(i: int) -> bytes:
    return gob_uint((i << 1) if i >= 0 else ((~i << 1) | 1))


def gob_float(f: float) -> bytes:
    bits = struct.unpack("<Q", struct.pack("<d", f))[0]      # IEEE bits
    rev = int.from_bytes(bits.to_bytes(8, "big")[::-1], "big")  # byte-reversed
    return gob_uint(rev)


def gob_str(s) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return gob_uint(len(b)) + b


# wire type ids of the predeclared types
GOB_ID = {"bool": 1, "int": 2, "int64": 2, "uint": 3, "float64": 4, "[]uint8": 5, "string": 6,
          "interface": 8}


def gob_iface(name: str, value) -> bytes:
    if name == "string":
        body = gob_str(value)
    elif name in ("int", "int64"):
        body = gob_int(value)
    elif name == "bool":
        body = gob_uint(1 if value else 0)
    elif name == "float64":
        body = gob_float(value)
    elif name == "[]uint8":
        body = gob_str(value)
    else:
        raise ValueError(name)
    inner = b"\x00" + body                                  # singleton "field delta" 0
    return gob_str(name) + gob_int(GOB_ID[name]) + gob_uint(len(inner)) + inner


def gob_message(type_id: int, body: bytes) -> bytes:
    payload = gob_int(type_id) + body
    return gob_uint(len(payload)) + payload


def gob_encode_values(items, type_id=65) -> bytes:
    """items: list of (key_str, type_name, value). Map order = list order."""
    typedef = (b"\x04"                       # wireType field 3 (MapT), delta 4
               + b"\x01"                     # mapType field 0 (CommonType), delta 1
               + b"\x02" + gob_int(type_id)  # CommonType field 1 (Id), delta 2 (Name empty)
               + b"\x00"                     # end CommonType
               + b"\x01" + gob_int(8)        # Key  = interface (id 8)
               + b"\x01" + gob_int(8)        # Elem = interface (id 8)
               + b"\x00"                     # end mapType
               + b"\x00")                    # end wireType
    body = b"\x00" + gob_uint(len(items))     # singleton delta 0, element count
    for k, t, v in items:
        body += gob_iface("string", k) + gob_iface(t, v)
    return gob_message(-type_id, typedef) + gob_message(type_id, body)


class _R:
    def __init__(self, b):
        self.b, self.i = b, 0

    def byte(self):
        if self.i >= len(self.b):
            raise ValueError("truncated gob")
        self.i += 1
        return self.b[self.i - 1]

    def uint(self):
        c = self.byte()
        if c < 128:
            return c
        n = 256 - c
        if n > 8:
            raise ValueError("bad gob uint")
        v = 0
        for _ in range(n):
            v = (v << 8) | self.byte()
        return v

    def int(self):
        u = self.uint()
        return ~(u >> 1) if u & 1 else u >> 1

    def bytes_(self):
        n = self.uint()
        if self.i + n > len(self.b):
            raise ValueError("truncated gob")
        self.i += n
        return self.b[self.i - n:self.i]


def gob_decode_values(data: bytes):
    """Accepts exactly: one typedef of map[interface{}]interface{} (any id >= 65) + one value."""
    r = _R(data)
    ln = r.uint(); end = r.i + ln
    tid = -r.int()
    if tid < 65:
        raise ValueError("expected a type definition")
    m = _R(r.b[r.i:end])
    if m.uint() != 4 or m.uint() != 1:
        raise ValueError("not a map type")
    d = m.uint()
    if d == 1:                                  # CommonType.Name present (named map type)
        m.bytes_(); d = m.uint()
    if d not in (1, 2) or m.int() != tid or m.uint() != 0:
        raise ValueError("bad CommonType")
    if (m.uint(), m.int(), m.uint(), m.int(), m.uint(), m.uint()) != (1, 8, 1, 8, 0, 0):
        raise ValueError("not map[interface{}]interface{}")
    r.i = end
    ln = r.uint(); end = r.i + ln
    if r.int() != tid or r.uint() != 0:
        raise ValueError("value of unexpected type")
    out = []
    for _ in range(r.uint()):
        pair = []
        for _ in range(2):
            name = r.bytes_().decode()
            if name == "":
                pair.append(("nil", None)); continue
            wid = r.int()
            if GOB_ID.get(name) != wid:
                raise ValueError("unsupported interface type " + name)
            inner = _R(r.bytes_())
            if inner.uint() != 0:
                raise ValueError("bad singleton")
            if name == "string":
                v = inner.bytes_().decode()
            elif name in ("int", "int64"):
                v = inner.int()
            elif name == "bool":
                v = inner.uint() == 1
            elif name == "float64":
                rev = inner.uint().to_bytes(8, "big")[::-1]
                v = struct.unpack(">d", rev)[0]
            else:
                v = inner.bytes_()
            pair.append((name, v))
        if pair[0][0] != "string":
            raise ValueError("non-string key")
        out.append((pair[0][1], pair[1][0], pair[1][1]))
    if r.i != end or end != len(data):
        raise ValueError("trailing bytes")
    return out


# ---------------------------------------------------------------- gorilla/securecookie

def b64url_pad(b: bytes) -> bytes:
    return base64.urlsafe_b64encode(b)


def gorilla_encode(name: str, ts: int, serialized: bytes, hash_key: bytes, block_key=None,
                   iv=None) -> str:
    if block_key:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        enc = Cipher(algorithms.AES(block_key), modes.CTR(iv)).encryptor()
        serialized = iv + enc.update(serialized) + enc.finalize()
    value = b64url_pad(serialized)
    body = b"%d|%s" % (ts, value)
    mac = hmac.new(hash_key, name.encode() + b"|" + body, hashlib.sha256).digest()
    return b64url_pad(body + b"|" + mac).decode()


def gorilla_decode(name: str, token: str, hash_key: bytes, block_key=None, now=None,
                   max_age=86400 * 30, min_age=0):
    if len(token) > 4096:
        raise ValueError("too long")
    raw = base64.urlsafe_b64decode(token.encode())     # padded form required by Go
    parts = raw.split(b"|", 2)
    if len(parts) != 3:
        raise ValueError("bad_signature")
    ts_b, value, mac = parts
    want = hmac.new(hash_key, name.encode() + b"|" + ts_b + b"|" + value, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, want):
        raise ValueError("bad_signature")
    ts = int(ts_b)
    if min_age and ts > now - min_age:
        raise ValueError("too_new")
    if max_age and ts < now - max_age:
        raise ValueError("expired")
    data = base64.urlsafe_b64decode(value)
    iv = None
    if block_key:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        if len(data) <= 16:
            raise ValueError("decrypt failed")
        iv, data = data[:16], data[16:]
        dec = Cipher(algorithms.AES(block_key), modes.CTR(iv)).decryptor()
        data = dec.update(data) + dec.finalize()
    return data, ts, iv


# ---------------------------------------------------------------- Express cookie-signature

def express_sign(sid: str, secret: str) -> str:
    sig = base64.b64encode(hmac.new(secret.encode(), sid.encode(), hashlib.sha256).digest())
    return "s:" + sid + "." + sig.decode().rstrip("=")


def express_unsign(cookie_value: str, secrets):
    if not cookie_value.startswith("s:"):
        raise ValueError("unsigned")
    body = cookie_value[2:]
    sid = body[:body.rfind(".")]
    for s in secrets:
        if hmac.compare_digest(express_sign(sid, s).encode(), cookie_value.encode()):
            return sid
    raise ValueError("bad_signature")


# ---------------------------------------------------------------- Rails 6.1 encrypted cookie

def rails_key(secret_key_base: str, salt="authenticated encrypted cookie", iterations=1000,
              length=32, digest="sha1") -> bytes:
    return hashlib.pbkdf2_hmac(digest, secret_key_base.encode(), salt.encode(), iterations, length)


def rails_encrypt(plaintext: bytes, key: bytes, iv: bytes) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    ct_tag = AESGCM(key).encrypt(iv, plaintext, b"")
    ct, tag = ct_tag[:-16], ct_tag[-16:]
    b = lambda x: base64.b64encode(x).decode()
    return f"{b(ct)}--{b(iv)}--{b(tag)}"


def rails_decrypt(cookie_value: str, key: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    parts = cookie_value.split("--")
    if len(parts) != 3:
        raise ValueError("bad format")
    ct, iv, tag = (b64std_strict_dec(p) for p in parts)
    if len(tag) != 16:
        raise ValueError("bad tag")
    try:
        return AESGCM(key).decrypt(iv, ct + tag, b"")
    except Exception:
        raise ValueError("bad_signature")


def rails_unwrap(plaintext: bytes, purpose: str, now_iso: str):
    env = json.loads(plaintext)
    if not (isinstance(env, dict) and "_rails" in env):
        return plaintext                      # no metadata envelope (pre-6.0 format)
    meta = env["_rails"]
    if str(meta.get("pur") or "") != purpose:
        raise ValueError("purpose mismatch")
    if meta.get("exp") is not None and not now_iso < meta["exp"]:
        raise ValueError("expired")           # ISO-8601 UTC with ms: string order == time order
    return base64.b64decode(meta["message"], validate=True)


def rails_json(obj) -> str:
    """ActiveSupport::JSON.encode for plain session hashes: compact, non-ASCII kept as UTF-8,
    but <, >, & and U+2028/2029 escaped as \\u003c \\u003e \\u0026 \\u2028 \\u2029."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    for a, b in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                 ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        s = s.replace(a, b)
    return s


# ---------------------------------------------------------------- JWT (HS only; RS/ES in check)

def jwt_hs(header: dict, claims: dict, secret: bytes, alg="HS256") -> str:
    h = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    enc = lambda o: b64url_nopad(json.dumps(o, separators=(",", ":")).encode())
    si = enc(header) + "." + enc(claims)
    return si + "." + b64url_nopad(hmac.new(secret, si.encode(), h).digest())
