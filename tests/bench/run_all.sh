#!/usr/bin/env bash
# run_all.sh - `make bench`: every benchmark of the README's "Numbers
# measured", one after the other, with the README's parameters:
#   bench_codec_express_jwt, bench_codec_itsdangerous,
#   bench_codec_gorilla_rails  (codec micro-benchmarks built by CMake)
#   bench_http.sh              (the daemon and nginx auth_request under wrk)
#   bench_auth.sh              (forward-auth beside bare libmicrohttpd and a
#                               Go gorilla/securecookie peer; revocation lag)
#   bench_purge.sh             (purging SESSIONS sessions from Redis)
#   bench_grpc.sh              (Envoy's Check over gRPC next to /v1/auth)
# A failing benchmark is reported and the others still run; the exit status
# says whether all of them ran.  About 1 min for the codecs, 2.5 min for
# HTTP, 6 min for bench_auth.sh, 15-20 min (and ~600 MB of Redis) for the
# 1,000,000-session purges (adaptive, then unpaced), 40 s for gRPC.
# Not a test: the figures depend on the machine.
#
#   tests/bench/run_all.sh [BUILD_DIR]
#   SECONDS_PER=0.2 DURATION=2 SESSIONS=20000 tests/bench/run_all.sh build
#
# SECONDS_PER: seconds per codec measurement (default 1); DURATION,
# THREADS, CONNECTIONS: passed to bench_http.sh and bench_auth.sh (ROUNDS,
# REVOCATIONS too); SESSIONS: the purge's
# session count (default 1000000).
set -u

here=$(cd "$(dirname "$0")" && pwd)
BUILD=$(cd "${1:-$here/../../build}" && pwd) || exit 2
SECONDS_PER=${SECONDS_PER:-1}
SESSIONS=${SESSIONS:-1000000}
failed=()

# run NAME COMMAND...: runs one benchmark under a heading, remembers a failure.
run() {
    local name=$1 rc
    shift
    printf '\n==== %s ====\n' "$name"
    "$@"
    rc=$?
    if [ "$rc" != 0 ]; then
        echo "==== $name FAILED (exit $rc)"
        failed+=("$name")
    fi
}

for b in bench_codec_express_jwt bench_codec_itsdangerous bench_codec_gorilla_rails; do
    if [ -x "$BUILD/$b" ]; then
        run "$b" "$BUILD/$b" "$SECONDS_PER"
    else
        echo "==== $b: not built in $BUILD"
        failed+=("$b")
    fi
done
run bench_http.sh bash "$here/bench_http.sh" "$BUILD"
run bench_auth.sh bash "$here/bench_auth.sh" "$BUILD"
run bench_purge.sh bash "$here/bench_purge.sh" "$BUILD" "$SESSIONS"
run bench_grpc.sh bash "$here/bench_grpc.sh" "$BUILD"

echo
if [ ${#failed[@]} -gt 0 ]; then
    echo "benchmarks that failed: ${failed[*]}"
    exit 1
fi
echo "all benchmarks ran"
