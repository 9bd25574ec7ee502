#!/bin/bash
# test_cli_keys.sh - sessionbridgectl keys generate: every algorithm family,
# file modes whatever the umask, atomic no-overwrite, bad arguments.
. "$(dirname "$0")/../harness/lib.sh"

ctl() { "$SB_CTL" "$@"; }
cd "$SB_TMP" || exit 1
# entries: the names in this directory but the stderr capture, sorted.
entries() { find . -mindepth 1 -maxdepth 1 ! -name err -printf '%P\n' | sort; }

# A permissive umask must not widen the key file's mode.
umask 000

for alg in RS256 ES256 ES384; do
    ctl keys generate --alg "$alg" --out "$alg.pem" --pub "$alg.pub" 2>gen.err
    check "$alg: exit 0" 0 $?
    check "$alg: private key mode 0600" 600 "$(stat -c %a "$alg.pem")"
    check "$alg: public key mode 0644" 644 "$(stat -c %a "$alg.pub")"
    check "$alg: private key parses" 0 "$(openssl pkey -in "$alg.pem" -noout 2>/dev/null; echo $?)"
    check "$alg: public half matches" "$(openssl pkey -in "$alg.pem" -pubout)" "$(cat "$alg.pub")"
    check_match "$alg: says where it wrote" "private_key_file = $alg.pem" "$(cat gen.err)"
done
check_match "RS256 is 2048-bit RSA" "2048 bit" "$(openssl pkey -in RS256.pem -noout -text | head -1)"
check_match "ES256 is P-256" "NIST CURVE: P-256" "$(openssl pkey -in ES256.pem -noout -text | grep -i 'NIST CURVE')"
check_match "ES384 is P-384" "NIST CURVE: P-384" "$(openssl pkey -in ES384.pem -noout -text | grep -i 'NIST CURVE')"
ctl keys generate --alg RS256 --bits 3072 --out rs3072.pem 2>/dev/null
check_match "--bits 3072" "3072 bit" "$(openssl pkey -in rs3072.pem -noout -text | head -1)"

# HS256: one line of base64url carrying 32 random bytes.
ctl keys generate --alg HS256 --out hs.key 2>/dev/null
check "HS256: exit 0" 0 $?
check "HS256: mode 0600" 600 "$(stat -c %a hs.key)"
check "HS256: one line" 1 "$(wc -l <hs.key)"
check "HS256: 32 bytes as base64url" 32 "$(python3 -c 'import base64,sys; s=open("hs.key").read().strip(); print(len(base64.urlsafe_b64decode(s+"="*(-len(s)%4))))')"
check "HS512: 64 bytes" 86 "$(ctl keys generate --alg HS512 | tr -d '\n' | wc -c)"
check "two secrets differ" 1 "$(ctl keys generate --alg HS256 >a; ctl keys generate --alg HS256 >b; cmp -s a b; echo $?)"

# Without --out the key goes to stdout and nothing else is written.
before=$(entries)
out=$(ctl keys generate --alg ES256 2>err)
check "stdout: exit 0" 0 $?
check_match "stdout: a PEM private key" "^-----BEGIN PRIVATE KEY-----" "$out"
check "stdout: no file left behind" "$before" "$(entries)"

# Never over an existing file, unless --force; no temporary left behind.
sum=$(sha256sum <ES256.pem)
ctl keys generate --alg ES256 --out ES256.pem 2>err
check "existing file: exit 1" 1 $?
check_match "existing file: says so" "ES256.pem exists" "$(cat err)"
check "existing file: unchanged" "$sum" "$(sha256sum <ES256.pem)"
ctl keys generate --alg ES256 --out ES256.pem --force 2>/dev/null
check "--force: exit 0" 0 $?
check "--force: replaced" 1 "$([ "$sum" = "$(sha256sum <ES256.pem)" ]; echo $?)"
check "--force: still 0600" 600 "$(stat -c %a ES256.pem)"
check "no temporary files left" "" "$(find . -maxdepth 1 -name '.sbkey*')"
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
    ctl keys generate --alg HS256 --out ro/k 2>err
    check "unwritable directory: exit 1" 1 $?
fi

# Bad arguments: exit 2, a message naming the argument, nothing written.
bad() {
    local name=$1 want=$2; shift 2
    local before after
    before=$(entries)
    ctl "$@" >/dev/null 2>err
    check "$name: exit 2" 2 $?
    check_match "$name: names the argument" "$want" "$(cat err)"
    after=$(entries)
    check "$name: nothing written" "$before" "$after"
}
bad "no --alg" "--alg is required" keys generate --out x.pem
bad "unknown alg" "--alg: 'PS256'" keys generate --alg PS256 --out x.pem
bad "lowercase alg" "--alg: 'es256'" keys generate --alg es256 --out x.pem
bad "--alg without value" "--alg needs a value" keys generate --alg
bad "--out empty" "--out needs a non-empty value" keys generate --alg ES256 --out=
bad "--bits on EC" "--bits: only for RS" keys generate --alg ES256 --bits 2048 --out x.pem
bad "--bits 1024" "--bits: '1024'" keys generate --alg RS256 --bits 1024 --out x.pem
bad "--pub for a secret" "--pub: an HS256 secret" keys generate --alg HS256 --out x --pub y
bad "--pub same as --out" "name the same file" keys generate --alg ES256 --out x.pem --pub x.pem
bad "--force without --out" "--force: only with --out" keys generate --alg ES256 --force
bad "unknown option" "unknown option '--size'" keys generate --alg ES256 --size 3
bad "stray word" "unexpected argument 'extra'" keys generate --alg ES256 extra
bad "keys without subcommand" "needs a subcommand" keys
bad "keys bogus subcommand" "needs a subcommand" keys bogus

check_match "--help has an example" "Example: sessionbridgectl keys generate" "$(ctl keys generate --help)"
check "--help exits 0" 0 "$(ctl keys generate --help >/dev/null; echo $?)"

sb_finish
