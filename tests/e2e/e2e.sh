# shellcheck shell=bash
# e2e.sh - pieces of the end-to-end migration shared by the test
# (test_migration.sh) and the demo (demo.sh): the two demo apps, two bridge
# instances, nginx in front of them, and the traffic weight.  Sourced after
# tests/harness/lib.sh (which gives SB_TMP, sb_track, sb_free_port, the
# private Redis and the cleanup trap); everything runs on 127.0.0.1.
#
#   e2e_build_new_app         go build of apps/new_app (GOPATH mode, no download)
#   e2e_secrets               fresh random keys for both apps (files in $SB_TMP)
#   e2e_start_apps            legacy (Flask) and new (Go) apps on free ports
#   e2e_write_bridge_config   the bridge config for both apps' profiles
#   e2e_start_bridge N        bridge instance N (1 or 2) on its fixed port
#   e2e_stop_bridge N         SIGTERM, wait for it to exit
#   e2e_start_nginx           nginx on $E2E_NGINX_PORT or a free port, all
#                             traffic on the legacy app
#   e2e_set_weight PCT        PCT% of requests to the new app; reload nginx

E2E_DIR=$SB_SOURCE_DIR/tests/e2e
# Debian's python3 (python3-flask): the apps must run on the packaged
# framework, not on whatever another python3 on PATH has installed.
E2E_PYTHON=${E2E_PYTHON:-/usr/bin/python3}
E2E_BIN=$SB_BUILD_DIR/e2e
E2E_RUN=$SB_TMP/nginx
# The cookie names docker/nginx/sessionbridge.conf is written for.
E2E_LEGACY_COOKIE=session
E2E_NEW_COOKIE=gsession
E2E_GENERATION=0
declare -a E2E_BRIDGE_PID=() E2E_BRIDGE_PORT=()

# Builds the Go app when missing or older than its source.
e2e_build_new_app() {
    local src=$E2E_DIR/apps/new_app/main.go
    mkdir -p "$E2E_BIN"
    if [ -x "$E2E_BIN/new_app" ] && [ "$E2E_BIN/new_app" -nt "$src" ]; then
        return 0
    fi
    (cd "$E2E_DIR/apps/new_app" &&
        GO111MODULE=off GOPATH=/usr/share/gocode \
        GOCACHE="$E2E_BIN/gocache" GOPROXY=off \
        go build -o "$E2E_BIN/new_app" main.go) ||
        { echo "e2e: building apps/new_app failed"; exit 1; }
}

# Random keys: the Flask SECRET_KEY, the gorilla hash key and an AES-256
# block key (32 characters), one line each, mode 0600.
e2e_secrets() {
    sb_secret_file "$SB_TMP/legacy.secret"
    sb_secret_file "$SB_TMP/new.hash"
    head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$SB_TMP/new.block"
    echo >>"$SB_TMP/new.block"
    chmod 600 "$SB_TMP/new.block"
    printf 'admin %s\n' "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$SB_TMP/tokens"
    chmod 600 "$SB_TMP/tokens"
    # shellcheck disable=SC2034 # read by the scripts that source this file
    E2E_ADMIN_TOKEN=$(awk '{print $2}' "$SB_TMP/tokens")
}

# Waits for an app's /health on port $1.
e2e_wait_http() {
    sb_wait_for curl -sf -o /dev/null "http://127.0.0.1:$1/health"
}

# Starts both apps; sets E2E_LEGACY_PORT and E2E_NEW_PORT.
e2e_start_apps() {
    E2E_LEGACY_PORT=$(sb_free_port)
    "$E2E_PYTHON" "$E2E_DIR/apps/legacy_app.py" --port "$E2E_LEGACY_PORT" \
        --secret-file "$SB_TMP/legacy.secret" >>"$SB_TMP/legacy.log" 2>&1 &
    sb_track $!
    E2E_NEW_PORT=$(sb_free_port)
    "$E2E_BIN/new_app" -listen "127.0.0.1:$E2E_NEW_PORT" \
        -hash-key-file "$SB_TMP/new.hash" -block-key-file "$SB_TMP/new.block" \
        >>"$SB_TMP/new.log" 2>&1 &
    sb_track $!
    e2e_wait_http "$E2E_LEGACY_PORT" || { echo "legacy app did not start"; cat "$SB_TMP/legacy.log"; exit 1; }
    e2e_wait_http "$E2E_NEW_PORT" || { echo "new app did not start"; cat "$SB_TMP/new.log"; exit 1; }
}

# The bridge config: the Flask profile (legacy) and the gorilla profile
# (new) over the same keys as the apps, forward-auth open to loopback.
# Both instances share it; each gets its listen address from the
# environment (SESSIONBRIDGE_HTTP_LISTEN / _PORT_FILE).
e2e_write_bridge_config() {
    sb_write_config "$1" \
        '[api]' "tokens_file = $SB_TMP/tokens" 'open_on_loopback = auth,validate' \
        '[route]' 'legacy = legacy' 'new = new' 'mint = new' \
        '[profile.legacy]' 'format = flask' "cookie_name = $E2E_LEGACY_COOKIE" \
        "secrets_file = $SB_TMP/legacy.secret" 'subject_field = _user_id' \
        '[profile.new]' 'format = gorilla' "cookie_name = $E2E_NEW_COOKIE" \
        "secrets_file = $SB_TMP/new.hash" "block_keys_file = $SB_TMP/new.block" \
        'subject_field = user_id' 'rename = user_id:_user_id'
    E2E_BRIDGE_CONFIG=$1
}

# Starts bridge instance $1 on its port (chosen once, kept across restarts).
e2e_start_bridge() {
    local n=$1
    [ -n "${E2E_BRIDGE_PORT[$n]:-}" ] || E2E_BRIDGE_PORT[n]=$(sb_free_port)
    rm -f "$SB_TMP/bridge$n.port"
    SESSIONBRIDGE_HTTP_LISTEN=127.0.0.1:${E2E_BRIDGE_PORT[$n]} \
    SESSIONBRIDGE_HTTP_PORT_FILE=$SB_TMP/bridge$n.port \
        "$SB_BIN" -c "$E2E_BRIDGE_CONFIG" 2>>"$SB_TMP/bridge$n.log" &
    E2E_BRIDGE_PID[n]=$!
    sb_track "${E2E_BRIDGE_PID[$n]}"
    sb_wait_for test -s "$SB_TMP/bridge$n.port" ||
        { echo "bridge $n did not start"; tail -5 "$SB_TMP/bridge$n.log"; exit 1; }
}

# Stops bridge instance $1 with SIGTERM (it drains) and returns its status.
e2e_stop_bridge() {
    kill -TERM "${E2E_BRIDGE_PID[$1]}" 2>/dev/null
    wait "${E2E_BRIDGE_PID[$1]}"
}

# Renders the template and starts nginx in the foreground of a background
# job (so the trap stops it); sets E2E_PORT and E2E_URL.
e2e_start_nginx() {
    local user_line=""
    E2E_PORT=${E2E_NGINX_PORT:-$(sb_free_port)}
    mkdir -p "$E2E_RUN/tmp"
    # As root, the workers would switch to "nobody": keep the current user.
    [ "$(id -u)" = 0 ] && user_line="user $(id -un) $(id -gn);"
    sed -e "s|@RUN@|$E2E_RUN|g" -e "s|@USER_LINE@|$user_line|" \
        -e "s|@LISTEN_PORT@|$E2E_PORT|g" \
        -e "s|@BRIDGE1_PORT@|${E2E_BRIDGE_PORT[1]}|g" \
        -e "s|@BRIDGE2_PORT@|${E2E_BRIDGE_PORT[2]}|g" \
        -e "s|@LEGACY_PORT@|$E2E_LEGACY_PORT|g" -e "s|@NEW_PORT@|$E2E_NEW_PORT|g" \
        -e "s|@SNIPPETS@|$SB_SOURCE_DIR/docker/nginx|g" \
        "$E2E_DIR/nginx.conf.tmpl" >"$E2E_RUN/nginx.conf"
    e2e_write_split 0
    nginx -p "$E2E_RUN" -e "$E2E_RUN/error.log" -c "$E2E_RUN/nginx.conf" \
        -g 'daemon off;' >>"$SB_TMP/nginx.out" 2>&1 &
    E2E_NGINX_PID=$!
    sb_track "$E2E_NGINX_PID"
    E2E_URL=http://127.0.0.1:$E2E_PORT
    sb_wait_for curl -sf -o /dev/null "$E2E_URL/_router/split" ||
        { echo "nginx did not start"; cat "$SB_TMP/nginx.out" "$E2E_RUN/error.log"; exit 1; }
}

# Writes split.conf for PCT% to the new app, with the next generation.
e2e_write_split() {
    local pct=$1
    E2E_GENERATION=$((E2E_GENERATION + 1))
    {
        echo "# written by tests/e2e/e2e.sh: $pct% of requests to the new app"
        echo "map \"\" \$sb_split_generation { default \"$E2E_GENERATION\"; }"
        echo "split_clients \"\${request_id}\" \$sb_upstream {"
        case "$pct" in
            0) echo "    * legacy_app;" ;;
            100) echo "    * new_app;" ;;
            *) echo "    $pct% new_app;"; echo "    * legacy_app;" ;;
        esac
        echo "}"
    } >"$E2E_RUN/split.conf"
}

# Sends PCT% of the traffic to the new app: rewrites the split, reloads
# nginx, and waits (at most a minute each, a busy machine included) until
# the workers answer with the new generation and every worker of the old
# one has stopped accepting connections, so a request sent afterwards is
# routed with the new weight.
e2e_set_weight() {
    local gen old
    old=$(pgrep -P "$E2E_NGINX_PID" | tr '\n' ' ')
    e2e_write_split "$1"
    nginx -p "$E2E_RUN" -e "$E2E_RUN/error.log" -c "$E2E_RUN/nginx.conf" -s reload ||
        { echo "nginx reload failed"; exit 1; }
    gen=$E2E_GENERATION
    SB_WAIT=600 sb_wait_for e2e_generation_is "$gen" ||
        { echo "nginx did not pick up split generation $gen"; tail -5 "$E2E_RUN/error.log"; exit 1; }
    # shellcheck disable=SC2086 # one pid per word
    SB_WAIT=600 sb_wait_for e2e_workers_closed $old ||
        { echo "nginx's old workers ($old) still accept connections"; exit 1; }
}

# e2e_workers_closed PID...: none of these nginx workers accepts any more:
# each has exited or is "shutting down" (nginx sets that title before it
# closes its listening sockets, in the same step).
e2e_workers_closed() {
    local pid title
    for pid in "$@"; do
        title=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || continue
        case "$title" in
            "" | *"shutting down"*) ;;
            *"worker process"*) return 1 ;;
        esac
    done
}

e2e_generation_is() {
    [ "$(curl -s "$E2E_URL/_router/split")" = "$1" ]
}

# ---- the load generator's phase protocol (loadgen.py, in $SB_TMP/load) ----
# load_failed WHAT: counts a failure of the load generator's protocol and
# says why (its log's last lines when it is gone).
load_failed() {
    echo "FAIL - $1"
    SB_FAILED=$((SB_FAILED + 1))
    kill -0 "$LOAD_PID" 2>/dev/null || tail -n 5 "$SB_TMP/load/out.log"
}
# set_phase NAME: the load generator counts requests started from now on in
# NAME (waits for its acknowledgement, at most PHASE_SECONDS).
set_phase() {
    local deadline=$((SECONDS + PHASE_SECONDS))
    printf '%s\n' "$1" >"$SB_TMP/load/phase.tmp" && mv "$SB_TMP/load/phase.tmp" "$SB_TMP/load/phase"
    PHASE_START=$SECONDS
    until grep -qxF "$1" "$SB_TMP/load/ack" 2>/dev/null; do
        kill -0 "$LOAD_PID" 2>/dev/null || { load_failed "load generator stopped before phase $1"; return 1; }
        [ "$SECONDS" -lt "$deadline" ] ||
            { load_failed "load generator did not enter phase $1 in $PHASE_SECONDS s"; return 1; }
        sleep 0.05
    done
}
# wait_requests N: until the current phase has N finished requests, at
# most PHASE_SECONDS after the phase began.
wait_requests() {
    local n phase deadline=$((PHASE_START + PHASE_SECONDS))
    while :; do
        kill -0 "$LOAD_PID" 2>/dev/null || { load_failed "load generator stopped early"; return 1; }
        { read -r n _ phase <"$SB_TMP/load/progress"; } 2>/dev/null
        [ "${n:-0}" -ge "$1" ] && return 0
        [ "$SECONDS" -lt "$deadline" ] ||
            { load_failed "phase ${phase:-?} saw ${n:-0} of $1 requests in $PHASE_SECONDS s"; return 1; }
        sleep 0.1
    done
}
