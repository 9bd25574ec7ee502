#!/bin/bash
# gen-cli-reference.sh - writes docs/sessionbridgectl.md, the command
# reference, from sessionbridgectl's own --help texts (one source of truth:
# the command table in src/cli/commands.c).  tests/integration/
# test_cli_docs.sh fails when the committed file is out of date.
#
#   docs/gen-cli-reference.sh [BUILD_DIR] > docs/sessionbridgectl.md
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ctl=$(cd "${1:-$here/../build}" && pwd)/sessionbridgectl

# The command words: first word of each line under "Commands:", plus the
# second when it is a subcommand (a lower-case word, not an argument).
commands() {
    "$ctl" --help | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  //p' |
        awk '{ if ($2 ~ /^[a-z]+$/) print $1 " " $2; else print $1 }'
}

printf '# sessionbridgectl reference\n\n'
printf 'Generated from the program'"'"'s own help texts by `docs/gen-cli-reference.sh`;\n'
printf 'do not edit by hand.  The README'"'"'s "Operating" section shows the common tasks.\n\n'
printf '```\n'
"$ctl" --help
printf '```\n'
commands | while read -r cmd; do
    printf '\n## %s\n\n```\n' "$cmd"
    # shellcheck disable=SC2086
    "$ctl" $cmd --help
    printf '```\n'
done
