#!/usr/bin/env bash
# Redis over TLS: a redis-server with only a --tls-port and a CA and
# certificates this test makes with openssl.  The bridge and
# sessionbridgectl verify the server (CA and name), refuse a wrong CA and
# a wrong name with a message that says so, fall back to nothing
# unencrypted, do mTLS when the server asks for a client certificate, and
# refuse unreadable TLS files at config load naming the file.  Costs
# about 20 s.
. "$(dirname "$0")/../harness/lib.sh"
. "$(dirname "$0")/../harness/api.sh"

# ---- a CA, a server certificate for 127.0.0.1 / localhost, a client
# certificate, and a second CA nobody signed with
pki=$SB_TMP/pki
mkdir -p "$pki"
mkcert() { # NAME CA SUBJECT EXT
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$1.key" -out "$pki/$1.csr" -subj "/CN=$3" 2>/dev/null
    printf '%s\n' "$4" >"$pki/$1.ext"
    openssl x509 -req -in "$pki/$1.csr" -CA "$pki/$2.crt" -CAkey "$pki/$2.key" \
        -CAcreateserial -days 2 -extfile "$pki/$1.ext" -out "$pki/$1.crt" 2>/dev/null
}
for ca in ca otherca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$pki/$ca.key" -out "$pki/$ca.crt" -days 2 -subj "/CN=test $ca" 2>/dev/null
done
mkcert server ca redis.test "subjectAltName=DNS:localhost,DNS:redis.test,IP:127.0.0.1
extendedKeyUsage=serverAuth"
mkcert client ca bridge-client "extendedKeyUsage=clientAuth"
chmod 600 "$pki"/*.key
check "test PKI made" yes "$([ -s "$pki/server.crt" ] && [ -s "$pki/client.crt" ] && echo yes)"

# ---- a TLS-only redis-server; AUTH_CLIENTS is no, optional or yes
start_tls_redis() {
    redis-server --port 0 --tls-port "$SB_REDIS_PORT" --bind 127.0.0.1 \
        --save '' --appendonly no --dir "$SB_TMP" \
        --tls-cert-file "$pki/server.crt" --tls-key-file "$pki/server.key" \
        --tls-ca-cert-file "$pki/ca.crt" --tls-auth-clients "$1" \
        >"$SB_TMP/redis.log" 2>&1 &
    SB_REDIS_PID=$!
    sb_track "$SB_REDIS_PID"
    sb_wait_for tls_cli ping || { echo "TLS redis did not start"; cat "$SB_TMP/redis.log"; exit 1; }
}
tls_cli() {
    redis-cli --tls --cacert "$pki/ca.crt" --cert "$pki/client.crt" \
        --key "$pki/client.key" -p "$SB_REDIS_PORT" "$@"
}
SB_REDIS_PORT=$(sb_free_port)
start_tls_redis no
export SB_REDIS_URL=rediss://127.0.0.1:$SB_REDIS_PORT/0  # read by sb_write_config

# ---- verified TLS: the API and the CLI work
sb_api_prepare
sb_write_config "$SB_TMP/sb.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/ca.crt"
sb_start_daemon "$SB_TMP/sb.ini"
check "/ready over TLS" 200 "$(sb_http_status GET /ready)"
check "/ready says standalone over TLS" "standalone true" \
    "$(b=$(sb_http_body GET /ready); echo "$(json_get "$b" '["redis"]["mode"]') $(json_get "$b" '["redis"]["tls"]')")"
login alice '{"k":"v"}' 3600
check "login over TLS" 201 "$API_STATUS"
leg_cookie=$(cookie legacy)
check "forward-auth over TLS" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $leg_cookie" "$SB_URL/v1/auth")"
check "the session is in the TLS Redis" 1 "$(tls_cli exists "sb:{u:alice}:sess:$LOGIN_SID")"
check "the layout key is written over TLS" 1 "$(tls_cli get sb:layout)"
out=$("$SB_CTL" -c "$SB_TMP/sb.ini" sessions list --user alice 2>&1); rc=$?
check "sessionbridgectl over TLS" 0 "$rc"
check_match "sessionbridgectl lists the session" "$LOGIN_SID" "$out"
out=$("$SB_CTL" -c "$SB_TMP/sb.ini" --redis "rediss://localhost:$SB_REDIS_PORT/0" stats 2>&1); rc=$?
check "sessionbridgectl --redis rediss:// (name localhost)" 0 "$rc"
sb_stop_daemon

# ---- a wrong CA: refused, and the reason says why
sb_write_config "$SB_TMP/wrongca.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/otherca.crt"
sb_start_daemon "$SB_TMP/wrongca.ini"
body=$(sb_http_body GET /ready)
check "wrong CA: /ready 503" 503 "$(sb_http_status GET /ready)"
check_match "wrong CA: the reason is the verification" 'certificate verification failed: (self-signed certificate in certificate chain|unable to get local issuer certificate)' "$body"
curl -s -o "$SB_TMP/b" -D "$SB_TMP/h" -H "Cookie: $leg_cookie" "$SB_URL/v1/auth"
check "wrong CA: auth 503 store_unavailable" "503 store_unavailable" \
    "$(head -1 "$SB_TMP/h" | cut -d' ' -f2) $(json_get "$(cat "$SB_TMP/b")" '["error"]')"
check "wrong CA: no Set-Cookie" 0 "$(grep -c -i '^Set-Cookie' "$SB_TMP/h")"
out=$("$SB_CTL" -c "$SB_TMP/wrongca.ini" stats 2>&1); rc=$?
check "wrong CA: sessionbridgectl cannot reach Redis (3)" 3 "$rc"
check_match "wrong CA: sessionbridgectl says why" 'certificate verification failed' "$out"
sb_stop_daemon

# ---- a wrong name: the certificate is for localhost/redis.test/127.0.0.1
sb_write_config "$SB_TMP/wrongname.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/ca.crt
tls_server_name = wrong.example"
sb_start_daemon "$SB_TMP/wrongname.ini"
out=$(curl -s -w '\n%{http_code}' "$SB_URL/ready")
check "wrong name: /ready 503" 503 "${out##*$'\n'}"
check_match "wrong name: the reason is the name" 'expecting name wrong.example.*hostname mismatch' "${out%$'\n'*}"
sb_stop_daemon
sb_write_config "$SB_TMP/rightname.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/ca.crt
tls_server_name = redis.test"
sb_start_daemon "$SB_TMP/rightname.ini"
check "tls_server_name redis.test (in the SAN) is accepted" 200 "$(sb_http_status GET /ready)"
sb_stop_daemon

# ---- mTLS: the server now requires a client certificate
kill -TERM "$SB_REDIS_PID"; wait "$SB_REDIS_PID" 2>/dev/null
start_tls_redis yes
sb_start_daemon "$SB_TMP/sb.ini"
check "mTLS: without a client certificate, refused" 503 "$(sb_http_status GET /ready)"
sb_stop_daemon
sb_write_config "$SB_TMP/mtls.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/ca.crt
tls_cert_file = $pki/client.crt
tls_key_file = $pki/client.key"
sb_start_daemon "$SB_TMP/mtls.ini"
check "mTLS: with the client certificate, ready" 200 "$(sb_http_status GET /ready)"
check "mTLS: forward-auth" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $leg_cookie" "$SB_URL/v1/auth")"
out=$("$SB_CTL" -c "$SB_TMP/mtls.ini" stats 2>&1); rc=$?
check "mTLS: sessionbridgectl" 0 "$rc"

# ---- TLS files checked at load, naming the file
sb_write_config "$SB_TMP/badca.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $SB_TMP/nonexistent-ca.pem"
out=$("$SB_BIN" --check-config -c "$SB_TMP/badca.ini" 2>&1); rc=$?
check "missing CA file: config refused" 1 "$rc"
check_match "missing CA file: named" "tls_ca_file $SB_TMP/nonexistent-ca.pem: No such file" "$out"
sb_write_config "$SB_TMP/badkey.ini" "$SB_API_PROFILES" "[redis]
tls_ca_file = $pki/ca.crt
tls_cert_file = $pki/client.crt
tls_key_file = $pki/server.key"
out=$("$SB_BIN" --check-config -c "$SB_TMP/badkey.ini" 2>&1); rc=$?
check "key of another certificate: refused" 1 "$rc"
check_match "key of another certificate: said so" "tls_key_file .*server.key does not match the certificate" "$out"
out=$("$SB_CTL" --redis "redis://u:pw123@127.0.0.1:$SB_REDIS_PORT/0" -c "$SB_TMP/mtls.ini" stats 2>&1); rc=$?
check "--redis with a password: usage error" 2 "$rc"
check_match "--redis with a password: says how" 'password_file' "$out"
check "--redis with a password: the password is not echoed" 0 "$(printf '%s' "$out" | grep -c pw123)"
out=$("$SB_CTL" --redis "http://127.0.0.1:$SB_REDIS_PORT" -c "$SB_TMP/mtls.ini" stats 2>&1); rc=$?
check "--redis with a bad URL: usage error" 2 "$rc"
check_match "--redis with a bad URL: names --redis" '^sessionbridgectl: --redis: Redis URL must start with' "$out"
check "--redis with a bad URL: no environment variable named" 0 "$(printf '%s' "$out" | grep -c SESSIONBRIDGE_)"

sb_api_finish
