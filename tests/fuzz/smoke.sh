#!/usr/bin/env bash
# smoke.sh BUILD_DIR SECONDS - runs every fuzz target for SECONDS on its
# seed corpus (tests/fuzz/corpus/<name>, copied so the repo stays clean).
# A crash, leak or sanitizer report fails the run.
set -euo pipefail
build=$1; secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
ran=0
for bin in "$build"/fuzz_*; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin"); name=${name#fuzz_}
    work=$(mktemp -d)
    [ -d "$here/corpus/$name" ] && cp -r "$here/corpus/$name/." "$work/"
    echo "fuzz $name for ${secs}s"
    "$bin" -max_total_time="$secs" -max_len=8192 -rss_limit_mb=1024 "$work" \
        -artifact_prefix="$work/" >"$work.log" 2>&1 || { tail -40 "$work.log"; rm -rf "$work" "$work.log"; exit 1; }
    tail -1 "$work.log"
    rm -rf "$work" "$work.log"
    ran=$((ran + 1))
done
echo "fuzz smoke: $ran targets, no crash"
