#!/bin/bash
# build-deb.sh OUT_DIR - builds the Debian package from a copy of this tree
# (the tracked and new, not ignored, files; never build directories) in
# OUT_DIR/src, so the working tree stays clean and the .deb, .buildinfo
# and .changes land in OUT_DIR; then runs lintian on the .deb, which must
# report no warning or error (debian/sessionbridge.lintian-overrides
# explains the one informational tag it silences).  Used by `make deb` and
# tests/package/test_deb_install.sh.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)

rm -rf "$out/src" "$out"/sessionbridge_*
mkdir -p "$out/src"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Tracked files deleted in the working tree are left out.
    (cd "$src" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$out/src"
else
    tar -C "$src" --exclude='./build*' -cf - . | tar -xf - -C "$out/src"
fi

cd "$out/src"
dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$out/build.log" 2>&1 || {
    tail -n 40 "$out/build.log" >&2
    echo "build-deb.sh: dpkg-buildpackage failed; the log is $out/build.log" >&2
    exit 1
}
deb=$(ls "$out"/sessionbridge_*.deb)
echo "built $deb"
lintian --fail-on warning,error --display-info "$deb"
