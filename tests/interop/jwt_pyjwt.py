#!/usr/bin/python3
"""jwt_pyjwt.py - Debian's python3-jwt (PyJWT 2.6) from the command line.

  jwt_pyjwt.py sign ALG KEYFILE KID ISS AUD CLAIMS_JSON   -> token
  jwt_pyjwt.py verify ALG KEYFILE ISS AUD LEEWAY TOKEN    -> payload JSON
      or {"error": "<PyJWT exception name>", "message": ...}, exit 1
KEYFILE: for HS* the first line of a secrets file; for RS*/ES* a PEM
(private to sign, public to verify).  ISS/AUD "-" means not checked.
"""
import json
import sys

import jwt


def key(alg, path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return text.split("\n")[0] if alg.startswith("HS") else text


def main(argv):
    cmd, alg, path = argv[1:4]
    if cmd == "sign":
        kid, iss, aud, claims = argv[4:8]
        claims = json.loads(claims)
        if iss != "-":
            claims["iss"] = iss
        if aud != "-":
            claims["aud"] = aud
        headers = {"kid": kid} if kid != "-" else None
        print(jwt.encode(claims, key(alg, path), algorithm=alg, headers=headers))
        return 0
    iss, aud, leeway, token = argv[4:8]
    try:
        payload = jwt.decode(token, key(alg, path), algorithms=[alg],
                             issuer=None if iss == "-" else iss,
                             audience=None if aud == "-" else aud,
                             leeway=int(leeway),
                             options={"require": ["exp"]})
    except jwt.PyJWTError as e:
        print(json.dumps({"error": type(e).__name__, "message": str(e)}))
        return 1
    print(json.dumps(payload))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
