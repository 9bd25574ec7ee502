#!/usr/bin/env bash
# install-deps.sh USE... - installs the Debian packages of docker/packages.txt
# tagged with any of the given uses (build, runtime, test).  Runs apt only
# when something is missing, so a second run is instant.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -gt 0 ] || set -- build runtime test
want=()
while read -r pkg uses; do
    case "$pkg" in ''|\#*) continue ;; esac
    for use in "$@"; do
        if [[ " $uses " == *" $use "* ]]; then want+=("$pkg"); break; fi
    done
done <"$here/packages.txt"
missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# node/npm may come from outside Debian on some images: accept a working npm.
if command -v npm >/dev/null 2>&1; then
    missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
list=$(printf '%s\n' "${missing[@]}" | grep -v '^$' || true)
[ -z "$list" ] && exit 0
echo "installing: $(echo $list)"
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $list >/dev/null
