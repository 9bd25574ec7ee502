#!/usr/bin/env bash
# demo.sh [BUILD_DIR] - `make demo`: the end-to-end migration on loopback,
# as the e2e test runs it: a private redis-server, two sessionbridge
# instances, the legacy Flask app, the new Go app, and nginx in front with
# a weighted split.  Prints the URLs and a few commands to try, then lets
# you move traffic (type a percentage and Enter, or write it to the weight
# file).  Ctrl-C stops everything; nothing is left running.
#
# Ports are free ones unless set: DEMO_PORT (nginx), e.g. DEMO_PORT=8088.
SB_BUILD_DIR=$(cd "${1:-${SB_BUILD_DIR:-build}}" && pwd)
SB_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
. "$SB_SOURCE_DIR/tests/harness/lib.sh"
. "$SB_SOURCE_DIR/tests/e2e/e2e.sh"
# Ctrl-C is how the demo ends: leave through the cleanup, quietly.
trap 'echo; echo "stopping..."; exit 0' INT TERM

e2e_build_new_app
e2e_secrets
sb_start_redis --appendonly yes
e2e_write_bridge_config "$SB_TMP/bridge.ini"
"$SB_BIN" --check-config -c "$E2E_BRIDGE_CONFIG" >/dev/null || exit 1
e2e_start_bridge 1
e2e_start_bridge 2
e2e_start_apps
E2E_NGINX_PORT=${DEMO_PORT:-} e2e_start_nginx
e2e_set_weight 0
printf '0\n' >"$SB_TMP/weight"

jar=$SB_TMP/demo.jar
cat <<TXT

sessionbridge end-to-end demo (everything on 127.0.0.1; files in $SB_TMP)

  router (nginx)       $E2E_URL            <- use this one
  legacy app (Flask)   http://127.0.0.1:$E2E_LEGACY_PORT   cookie "$E2E_LEGACY_COOKIE"
  new app (Go)         http://127.0.0.1:$E2E_NEW_PORT   cookie "$E2E_NEW_COOKIE"
  bridge 1 / 2         http://127.0.0.1:${E2E_BRIDGE_PORT[1]}/metrics   http://127.0.0.1:${E2E_BRIDGE_PORT[2]}/metrics
  Redis                redis-cli -p $SB_REDIS_PORT
  bridge config        $E2E_BRIDGE_CONFIG

Log in on the legacy app (all traffic goes there now) and fill a cart:
  curl -s -c $jar -b $jar -d user=alice $E2E_URL/login
  curl -s -c $jar -b $jar -d item=apple $E2E_URL/cart
Then move traffic to the new app (type 100 below) and ask who you are:
  curl -s -c $jar -b $jar $E2E_URL/me        # "app":"new", same user, same cart
Log alice out everywhere from the admin CLI:
  $SB_CTL -c $E2E_BRIDGE_CONFIG purge --user alice --yes
  $SB_CTL -c $E2E_BRIDGE_CONFIG sessions list

Traffic to the new app: type a percentage (0-100) and Enter, or
  echo 25 > $SB_TMP/weight
Ctrl-C stops everything.

TXT

# Applies a requested weight once.
apply_weight() {
    case "$1" in
        ''|*[!0-9]*) echo "a percentage, 0 to 100, please"; return ;;
    esac
    if [ "$1" -gt 100 ]; then echo "a percentage, 0 to 100, please"; return; fi
    e2e_set_weight "$1"
    printf '%s\n' "$1" >"$SB_TMP/weight"
    echo "now $1% of requests go to the new app"
}

current=0
interactive=no
[ -t 0 ] && interactive=yes
while true; do
    if [ "$interactive" = yes ]; then
        read -r -t 1 line
        case $? in
            0) apply_weight "$line"; current=$(cat "$SB_TMP/weight"); continue ;;
            1) interactive=no ;;   # end of input: keep running on the file
        esac
    else
        sleep 1
    fi
    want=$(cat "$SB_TMP/weight" 2>/dev/null)
    if [ -n "$want" ] && [ "$want" != "$current" ]; then
        apply_weight "$want"
        current=$want
    fi
done
