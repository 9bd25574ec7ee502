#!/usr/bin/env bash
# generate.sh - writes fresh random secrets for the compose demo into this
# directory (docker/secrets/), the files docker/compose.yaml mounts as
# secrets.  Never committed (.gitignore); the *.example files show the
# format.  Existing files are kept unless --force.
#
# The directory is made 0700 (only you can read it on the host); the files
# are 0644 because compose mounts file secrets with their host owner and
# mode, and the containers run as their own non-root users.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
force=no
[ "${1:-}" = "--force" ] && force=yes
rand() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# write NAME CONTENT: one secret file, unless it exists.
write() {
    local f=$here/$1
    if [ -e "$f" ] && [ "$force" = no ]; then
        echo "kept      $f"
        return
    fi
    printf '%s\n' "$2" >"$f.tmp"
    chmod 644 "$f.tmp"
    mv "$f.tmp" "$f"
    echo "written   $f"
}

chmod 700 "$here"
write redis_password "$(rand 24)"
write legacy_secret "$(rand 32)"
write new_hash_key "$(rand 32)"
write new_block_key "$(rand 16)"    # 32 hex characters: an AES-256 key
write bridge_tokens "$(printf 'admin %s\nbackend %s' "$(rand 24)" "$(rand 24)")"
