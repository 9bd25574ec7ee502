#!/usr/bin/env bash
# devrun.sh BUILD_DIR - `make run`: a development sessionbridge on
# 127.0.0.1:8080 with a private redis-server on a unix socket under the
# build directory and a config with freshly generated random secrets.
# Ctrl-C stops the daemon and Redis; nothing is left running.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
dev=$build/dev
mkdir -p "$dev"
chmod 700 "$dev"

rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Fresh secrets on every run: nothing fixed lives in the repository.
rand >"$dev/legacy.secrets"; echo >>"$dev/legacy.secrets"
rand >"$dev/new.secrets"; echo >>"$dev/new.secrets"
admin_token=$(rand)
backend_token=$(rand)
printf 'admin %s\nbackend %s\n' "$admin_token" "$backend_token" >"$dev/tokens"
chmod 600 "$dev"/*.secrets "$dev/tokens"

cat >"$dev/sessionbridge.ini" <<INI
; Development config written by make run ($(date -u +%FT%TZ)).
[http]
listen = 127.0.0.1:8080
[redis]
url = unix://$dev/redis.sock?db=0
prefix = sb:
[log]
level = info
[api]
tokens_file = $dev/tokens
open_on_loopback = auth,validate
[route]
legacy = legacy
new = new
mint = new
[profile.legacy]
format = flask
cookie_name = session
secrets_file = $dev/legacy.secrets
subject_field = _user_id
[profile.new]
format = jwt
alg = HS256
cookie_name = token
secrets_file = $dev/new.secrets
issuer = http://127.0.0.1:8080
audience = dev
INI

redis-server --unixsocket "$dev/redis.sock" --unixsocketperm 700 --port 0 \
    --save '' --appendonly no --dir "$dev" >"$dev/redis.log" 2>&1 &
redis_pid=$!
daemon_pid=
stop() {
    trap - INT TERM EXIT
    [ -n "$daemon_pid" ] && kill -TERM "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null
    kill -TERM "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
    echo "stopped sessionbridge and its Redis"
}
trap stop INT TERM EXIT
for _ in $(seq 50); do [ -S "$dev/redis.sock" ] && break; sleep 0.1; done

"$build/sessionbridge" --check-config -c "$dev/sessionbridge.ini" >/dev/null
cat <<TXT

sessionbridge (development) on http://127.0.0.1:8080, Redis at $dev/redis.sock
config: $dev/sessionbridge.ini   (secrets regenerated on every run)

Try (a backend logs user 42 in; the answer holds a credential per profile):
  curl -s -H 'X-Bridge-Token: $backend_token' -H 'Content-Type: application/json' \\
       -d '{"subject":"42","data":{"name":"alice"}}' http://127.0.0.1:8080/v1/sessions
  curl -s http://127.0.0.1:8080/ready
Then, with TOKEN = credentials.legacy.token from that answer:
  curl -s -H 'Content-Type: application/json' -d '{"token":"TOKEN"}' http://127.0.0.1:8080/v1/validate
  curl -s -i -H 'Cookie: session=TOKEN' http://127.0.0.1:8080/v1/auth
  $build/sessionbridgectl -c $dev/sessionbridge.ini sessions list

Ctrl-C stops everything.

TXT
"$build/sessionbridge" -c "$dev/sessionbridge.ini" &
daemon_pid=$!
wait "$daemon_pid" || true
daemon_pid=
