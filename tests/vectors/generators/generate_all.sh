#!/bin/sh
# generate_all.sh - regenerates tests/vectors/public.json (and
# test-only-jwks.json) from the real libraries, re-checks every vector with
# the independent reference implementation (check_vectors.py) and with
# jsonwebtoken (jwt_check.js), and only then replaces the committed file;
# prints which vectors changed.  Run through `make vectors`, which first
# installs the Debian packages tagged test and vectors in docker/packages.txt.
#
# Everything is test-only: the HMAC secrets are constants in common.py and
# the files here, and the key pairs are the committed test-only-jwt-*.pem.
# A missing key pair is generated with openssl (delete them to rotate).
#
# Deterministic: every timestamp is fixed (common.py), so a rerun gives the
# same bytes except where the format itself is randomised: ES256
# signatures, gorilla's AES-CTR IV, Rails' GCM IV; those vectors are
# still checked by both checkers.
set -eu
cd "$(dirname "$0")"
PY=/usr/bin/python3            # Debian's interpreter: the python3-* packages live there
OUT=..
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -d node_modules ]; then
    npm ci --no-audit --no-fund >"$tmp/npm.log" 2>&1 || { cat "$tmp/npm.log"; exit 1; }
fi
NODE_PATH=$(pwd)/node_modules
export NODE_PATH

# Test-only key pairs: kept when present (so RS256 vectors are stable).
if [ ! -f "$OUT/test-only-jwt-rs256-private.pem" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$OUT/test-only-jwt-rs256-private.pem"
    openssl pkey -in "$OUT/test-only-jwt-rs256-private.pem" -pubout -out "$OUT/test-only-jwt-rs256-public.pem"
fi
if [ ! -f "$OUT/test-only-jwt-es256-private.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/test-only-jwt-es256-private.pem"
    openssl pkey -in "$OUT/test-only-jwt-es256-private.pem" -pubout -out "$OUT/test-only-jwt-es256-public.pem"
fi

# express_gen.js starts its own redis-server on this loopback port.
SB_VECTORS_REDIS_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SB_VECTORS_TMP=$tmp
export SB_VECTORS_REDIS_PORT SB_VECTORS_TMP

$PY flask_gen.py          > "$tmp/1.json"
$PY starlette_gen.py      > "$tmp/2.json"
$PY django_gen.py         > "$tmp/3.json"
$PY gorilla_gen.py        > "$tmp/4.json"
node express_gen.js       > "$tmp/5.json"
ruby rails_gen.rb         > "$tmp/6.json"
$PY jwt_gen.py            > "$tmp/7.json"
$PY flask_session_gen.py  > "$tmp/8.json"
$PY -c 'import json,sys; print(json.dumps([v for f in sys.argv[1:] for v in json.load(open(f))], indent=1, ensure_ascii=False))' \
    "$tmp"/1.json "$tmp"/2.json "$tmp"/3.json "$tmp"/4.json "$tmp"/5.json "$tmp"/6.json "$tmp"/7.json "$tmp"/8.json > "$tmp/public.json"
$PY check_vectors.py "$tmp/public.json"
node jwt_check.js "$tmp/public.json"

# What changed against the committed vectors (by name, token only).
if [ -f "$OUT/public.json" ]; then
    $PY - "$OUT/public.json" "$tmp/public.json" <<'EOF'
import json, sys
old = {v["name"]: v.get("token") for v in json.load(open(sys.argv[1]))}
new = {v["name"]: v.get("token") for v in json.load(open(sys.argv[2]))}
changed = sorted(n for n in new if n in old and old[n] != new[n])
print("vectors: %d; new: %s; gone: %s; token changed: %s" % (
    len(new), sorted(set(new) - set(old)) or "none", sorted(set(old) - set(new)) or "none",
    ", ".join(changed) or "none"))
EOF
fi
cp "$tmp/public.json" "$OUT/public.json"
echo "wrote $(cd "$OUT" && pwd)/public.json"
