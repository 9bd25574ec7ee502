#!/bin/bash
# test_deb_install.sh - builds the Debian package (debian/build-deb.sh:
# dpkg-buildpackage from a copy of the tree, then lintian, which must find
# no warning or error), installs it with dpkg into a throwaway root (this
# machine's root seen through an overlay in a private mount namespace:
# the postinst really runs, nothing reaches the real root) and checks what
# an operator gets: the system user, the conffile, the man pages, the
# completion, `sessionbridge --check-config` passing on the example config
# once its keys are generated (run as the service user, as ExecStartPre
# is), `systemd-analyze verify` accepting the unit and `systemd-analyze
# security` rating it 2.0 or less, and remove/purge.
# Needs root (mount namespace, overlayfs, chroot).  Cost: the package
# build, 1-2 minutes on 2 cores, plus ~15 s of lintian and ~5 s here.
. "$(dirname "$0")/../harness/lib.sh"

out=$SB_TMP/deb
bash "$SB_SOURCE_DIR/debian/build-deb.sh" "$out" >"$SB_TMP/build-deb.out" 2>&1
rc=$?
[ $rc = 0 ] || cat "$SB_TMP/build-deb.out" >&2
check "the package builds and lintian finds nothing" 0 $rc
deb=$(ls "$out"/sessionbridge_*.deb 2>/dev/null)
[ -n "$deb" ] || { sb_finish; exit 1; }

check "Depends: runtime libraries and adduser, no -dev package" "" \
    "$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | grep -- '-dev\b')"
check "the config is a conffile" "/etc/sessionbridge/sessionbridge.ini" \
    "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)"

# The script run inside the throwaway root; prints "name<TAB>value" facts.
cat >"$SB_TMP/inside.sh" <<'INSIDE'
set -u
fact() { printf '%s\t%s\n' "$1" "$2"; }
dpkg -i --path-include='/usr/share/man/*' --path-include='/usr/share/doc/sessionbridge/*' \
    /tmp/sessionbridge.deb >/tmp/dpkg.log 2>&1
fact install $?
fact user "$(getent passwd sessionbridge | awk -F: '{ print ($3 < 1000), $6, $7 }')"
fact group "$(getent group sessionbridge | cut -d: -f1)"
fact confdir "$(stat -c '%U:%G %a' /etc/sessionbridge)"
fact binaries "$(command -v sessionbridge) $(command -v sessionbridgectl)"
fact man "$(man -w sessionbridgectl sessionbridge sessionbridge.ini 2>&1 | tr '\n' ' ')"
fact manpage "$(MANWIDTH=80 man sessionbridgectl 2>/dev/null | grep -c 'keys generate')"
fact unit-enabled "$(ls /etc/systemd/system/multi-user.target.wants/sessionbridge.service 2>&1 >/dev/null | grep -c 'No such')"

# The example's keys, as README.Debian tells the operator.
cd /etc/sessionbridge
rnd() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
before=$(setpriv --reuid sessionbridge --regid sessionbridge --clear-groups \
    sessionbridge --check-config -c /etc/sessionbridge/sessionbridge.ini 2>&1)
fact check-before "$? $before"
echo "hex:$(rnd)" >legacy.secrets
sessionbridgectl keys generate --alg RS256 --out jwt.pem --pub jwt.pub.pem >/dev/null 2>&1
printf 'admin %s\nbackend %s\n' "$(rnd)" "$(rnd)" >tokens
chown sessionbridge:sessionbridge legacy.secrets jwt.pem jwt.pub.pem tokens
chmod 0400 legacy.secrets jwt.pem tokens
after=$(setpriv --reuid sessionbridge --regid sessionbridge --clear-groups \
    sessionbridge --check-config -c /etc/sessionbridge/sessionbridge.ini 2>&1)
fact check-after "$? $after"

verify=$(systemd-analyze verify /lib/systemd/system/sessionbridge.service 2>&1)
fact verify "$?${verify:+ $verify}"
systemd-analyze security --offline=yes --threshold=20 /lib/systemd/system/sessionbridge.service \
    >/tmp/security.txt 2>&1
fact security "$? $(sed -n 's/.*Overall exposure level for sessionbridge.service: \([0-9.]*\).*/\1/p' /tmp/security.txt)"
fact unit-exec "$(grep -c '^ExecStart=/usr/bin/sessionbridge -c /etc/sessionbridge/sessionbridge.ini$' /lib/systemd/system/sessionbridge.service)"

fact completion "$(bash -c '
    . /usr/share/bash-completion/completions/sessionbridgectl
    COMP_WORDS=(sessionbridgectl translate --to ""); COMP_CWORD=3
    _sessionbridgectl; echo "${COMPREPLY[*]}"')"

fact zsh "$(ls /usr/share/zsh/vendor-completions/_sessionbridgectl)"

echo "# edited by the operator" >>/etc/sessionbridge/sessionbridge.ini
dpkg -r sessionbridge >>/tmp/dpkg.log 2>&1
fact remove "$? $(ls /usr/bin/sessionbridge 2>&1 | grep -c 'No such') $(tail -n 1 /etc/sessionbridge/sessionbridge.ini)"
dpkg --purge sessionbridge >>/tmp/dpkg.log 2>&1
fact purge "$? $(ls /etc/sessionbridge/sessionbridge.ini 2>&1 | grep -c 'No such')"
INSIDE

# The throwaway root: an overlay of / with a tmpfs upper layer, in a mount
# namespace that ends with the command (nothing to unmount afterwards).
cat >"$SB_TMP/root.sh" <<'ROOT'
set -eu
t=$1 deb=$2
mount -t tmpfs tmpfs "$t/ov"
mkdir "$t/ov/upper" "$t/ov/work" "$t/ov/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$t/ov/upper,workdir=$t/ov/work" "$t/ov/root"
mount --rbind /proc "$t/ov/root/proc"
mount --rbind /dev "$t/ov/root/dev"
mount -t tmpfs tmpfs "$t/ov/root/tmp"
cp "$deb" "$t/ov/root/tmp/sessionbridge.deb"
cp "$t/inside.sh" "$t/ov/root/tmp/inside.sh"
chroot "$t/ov/root" bash /tmp/inside.sh
ROOT
mkdir "$SB_TMP/ov"
facts=$(unshare --mount --propagation private --fork bash "$SB_TMP/root.sh" "$SB_TMP" "$deb" 2>"$SB_TMP/root.err")
check "the throwaway root runs ($(tr '\n' ' ' <"$SB_TMP/root.err"))" 0 $?
get() { printf '%s\n' "$facts" | awk -F'\t' -v k="$1" '$1 == k { print $2 }'; }

check "dpkg -i installs it" 0 "$(get install)"
check "postinst made a system user, no home, no shell" "1 /nonexistent /usr/sbin/nologin" "$(get user)"
check "... and its group" sessionbridge "$(get group)"
check "the config directory: root:sessionbridge 750" "root:sessionbridge 750" "$(get confdir)"
check "the programs are on PATH" "/usr/bin/sessionbridge /usr/bin/sessionbridgectl" "$(get binaries)"
check_match "man finds the three pages" \
    '^/usr/share/man/man8/sessionbridgectl.8.gz /usr/share/man/man8/sessionbridge.8.gz /usr/share/man/man5/sessionbridge.ini.5.gz $' \
    "$(get man)"
check_match "man sessionbridgectl shows the commands" '^[1-9]' "$(get manpage)"
check "the unit is not enabled before the operator configures it" 1 "$(get unit-enabled)"
check_match "the example config without its keys fails the check, naming the file" \
    '^1 .*/etc/sessionbridge/' "$(get check-before)"
check_match "with its keys generated, --check-config passes as the service user" \
    '^0 /etc/sessionbridge/sessionbridge.ini: configuration OK' "$(get check-after)"
check "systemd-analyze verify accepts the unit" 0 "$(get verify)"
check_match "systemd-analyze security: exposure 2.0 or less (of 10)" '^0 ([01]\.[0-9]|2\.0)$' "$(get security)"
check "the unit runs the packaged binary on the packaged config" 1 "$(get unit-exec)"
check "completion offers the installed config's profiles" "legacy new" "$(get completion)"
check "the zsh completion is installed" /usr/share/zsh/vendor-completions/_sessionbridgectl "$(get zsh)"
check "dpkg -r removes the programs and keeps the edited conffile" \
    "0 1 # edited by the operator" "$(get remove)"
check "dpkg --purge removes the conffile" "0 1" "$(get purge)"

sb_finish
