#!/bin/bash
# test_self_contained.sh - a clone of the repository is all the build and the
# tests need: no file names the folder beside the checkout that some
# development machines have (a parent-relative "shared" path, or that
# folder's absolute path), the compiled-in vector path lies inside the
# checkout, and the vectors and test-only keys the suites read are here.
# Under a second.
. "$(dirname "$0")/../harness/lib.sh"

# The patterns are assembled here so that this file does not match them.
dotdot=..
parent_shared="$dotdot/shared"
abs_shared="/work""/shared"

# search PATTERN DIR: the tracked files of DIR (git grep) when it is a git
# checkout, else every file but build directories and node_modules; prints
# file:line:text of each match.
search() {
    if git -C "$2" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git -C "$2" grep -n -F -e "$1"
    else
        grep -rn -F --exclude-dir='build*' --exclude-dir=node_modules \
            --exclude-dir=.git -e "$1" "$2"
    fi
}

# The search finds a match when there is one (so an empty answer below
# means something): a scratch checkout with one file naming the folder.
canary=$SB_TMP/canary
mkdir -p "$canary"
printf 'x = "%s/vectors"\n' "$parent_shared" >"$canary/f.txt"
check_match "the search finds a parent-relative path (plain tree)" 'f\.txt:1:' \
    "$(search "$parent_shared" "$canary")"
git -C "$canary" init -q && git -C "$canary" add f.txt
check_match "the search finds a parent-relative path (git checkout)" '^f\.txt:1:' \
    "$(search "$parent_shared" "$canary")"

check "no file names a folder beside the checkout (parent-relative shared)" "" \
    "$(search "$parent_shared" "$SB_SOURCE_DIR")"
check "no file names the development machine's shared folder" "" \
    "$(search "$abs_shared" "$SB_SOURCE_DIR")"

# Every directory compiled into the tests and benches is in the checkout
# (SB_MODULE_DIR is the install's module directory: a build-tree daemon
# loads the gRPC module from beside itself first).
defs=$(grep -rhoE 'SB_[A-Z_]+_DIR=\\?"[^"\\]*' "$SB_BUILD_DIR/CMakeFiles" \
    --include=flags.make | sed 's/\\//g' | grep -v '^SB_MODULE_DIR=' | sort -u)
check_match "the unit tests get SB_VECTORS_DIR" 'SB_VECTORS_DIR=' "$defs"
outside=$(printf '%s\n' "$defs" | sed 's/^[^"]*"//' |
    while read -r dir; do
        case "$(realpath -m "$dir")/" in
        "$(realpath "$SB_SOURCE_DIR")"/*) ;;
        *) echo "$dir" ;;
        esac
    done)
check "no compiled-in directory outside the checkout" "" "$outside"

# The vectors the codec tests read, and every key file they name.
V=$SB_SOURCE_DIR/tests/vectors
missing=$(python3 - "$V" <<'EOF'
import json, os, sys
d = sys.argv[1]
vs = json.load(open(os.path.join(d, "public.json")))
names = {v["secret_or_key_params"].get(k) for v in vs for k in ("public_key_pem", "jwks")}
names |= {"test-only-jwt-rs256-private.pem", "test-only-jwt-es256-private.pem"}
print(len(vs), " ".join(sorted(n for n in names - {None}
                                if not os.path.isfile(os.path.join(d, n)))))
EOF
)
check "tests/vectors/public.json has 53 vectors and every key file it names" "53 " "$missing"
unmarked=
for f in "$V"/*.pem "$V"/*jwks*; do
    case ${f##*/} in test-only-*) ;; *) unmarked="$unmarked ${f##*/}" ;; esac
done
check "key files in tests/vectors are all marked test-only" "" "$unmarked"

sb_finish
