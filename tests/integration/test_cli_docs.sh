#!/bin/bash
# test_cli_docs.sh - docs/sessionbridgectl.md is what gen-cli-reference.sh
# makes from the current help texts (regenerate it after changing
# src/cli/commands.c), and every command's help has an example; the man
# pages in docs/man/ are what gen-man.sh makes and mandoc finds no fault.
. "$(dirname "$0")/../harness/lib.sh"

"$SB_SOURCE_DIR/docs/gen-cli-reference.sh" "$SB_BUILD_DIR" >"$SB_TMP/ref.md"
check "the generator runs" 0 $?
check "docs/sessionbridgectl.md is up to date (run docs/gen-cli-reference.sh BUILD_DIR > docs/sessionbridgectl.md)" \
    "" "$(diff "$SB_SOURCE_DIR/docs/sessionbridgectl.md" "$SB_TMP/ref.md")"
sections=$(grep -c '^## ' "$SB_TMP/ref.md")
check "a section per command" "$("$SB_CTL" --help | sed -n '/^Commands:/,/^$/p' | grep -c '^  ')" "$sections"
check "an example in every section" "$sections" "$(grep -c '^Example: ' "$SB_TMP/ref.md")"

# The man pages (docs/gen-man.sh): same sources, committed, mandoc-clean.
"$SB_SOURCE_DIR/docs/gen-man.sh" "$SB_BUILD_DIR" "$SB_TMP/man"
check "the man page generator runs" 0 $?
for page in sessionbridge.8 sessionbridgectl.8 sessionbridge.ini.5; do
    check "docs/man/$page is up to date (run docs/gen-man.sh BUILD_DIR)" \
        "" "$(diff "$SB_SOURCE_DIR/docs/man/$page" "$SB_TMP/man/$page" 2>&1)"
    check "mandoc -T lint accepts $page" "" "$(mandoc -T lint -W warning "$SB_TMP/man/$page" 2>&1)"
done
check "sessionbridgectl(8) has a section per command" "$sections" "$(grep -c '^\.SS ' "$SB_TMP/man/sessionbridgectl.8")"
check "sessionbridge.ini(5) has an entry per key of the README table" \
    "$(awk '/^## Configuration$/ { p = 1; next } /^## / { p = 0 } p' "$SB_SOURCE_DIR/README.md" | grep -v '^| section |' | grep -c '^| [a-z]* | ')" \
    "$(grep -c '^\.TP' "$SB_TMP/man/sessionbridge.ini.5")"
check "sessionbridge(8) shows --check-config" 1 "$(grep -c 'check-config  validate' "$SB_TMP/man/sessionbridge.8")"

sb_finish
