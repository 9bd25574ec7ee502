#!/bin/sh
# start.sh - redis-server for the compose demo (image target "store"):
# persistence on (append-only file, fsync every second, plus snapshots),
# and the password from the redis_password secret, written into a config
# file only the redis user can read, never onto the command line.
set -eu
secret=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}
if [ ! -s "$secret" ]; then
    echo "redis: $secret is missing or empty (docker/secrets/generate.sh)" >&2
    exit 1
fi
umask 077
conf=$(mktemp /tmp/redis.XXXXXX)
{
    echo "bind 0.0.0.0"
    echo "port 6379"
    echo "protected-mode yes"
    echo "dir /data"
    echo "appendonly yes"
    echo "appendfsync everysec"
    echo "save 3600 1 300 100 60 10000"
    printf 'requirepass "%s"\n' "$(head -n1 "$secret")"
} >"$conf"
exec redis-server "$conf"
