#!/bin/bash
# test_cli_docs.sh - docs/sessionbridgectl.md is what gen-cli-reference.sh
# makes from the current help texts (regenerate it after changing
# src/cli/commands.c), and every command's help has an example.
. "$(dirname "$0")/../harness/lib.sh"

"$SB_SOURCE_DIR/docs/gen-cli-reference.sh" "$SB_BUILD_DIR" >"$SB_TMP/ref.md"
check "the generator runs" 0 $?
check "docs/sessionbridgectl.md is up to date (run docs/gen-cli-reference.sh BUILD_DIR > docs/sessionbridgectl.md)" \
    "" "$(diff "$SB_SOURCE_DIR/docs/sessionbridgectl.md" "$SB_TMP/ref.md")"
sections=$(grep -c '^## ' "$SB_TMP/ref.md")
check "a section per command" "$("$SB_CTL" --help | sed -n '/^Commands:/,/^$/p' | grep -c '^  ')" "$sections"
check "an example in every section" "$sections" "$(grep -c '^Example: ' "$SB_TMP/ref.md")"

sb_finish
