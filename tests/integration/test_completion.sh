#!/bin/bash
# test_completion.sh - the bash completion of sessionbridgectl
# (contrib/completion/sessionbridgectl.bash) offers the commands and
# options of the built program's help and the profile names of the config
# given with -c.  Cost: well under a second (no servers).
. "$(dirname "$0")/../harness/lib.sh"

cat >"$SB_TMP/sb.ini" <<'INI'
[profile.legacy]
format = flask
[profile.go_new]
format = jwt
INI

# Completes the words "$@" (the last one is being typed) and prints the
# sorted candidates on one line.
complete_words() {
    bash -c '
        . "$1"; shift
        PATH=$SB_BUILD_DIR:$PATH
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
        _sessionbridgectl
        printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"
    ' _ "$SB_SOURCE_DIR/contrib/completion/sessionbridgectl.bash" "$@"
}
export SB_BUILD_DIR

check "the command words, from --help" \
    "apikey config decode encode keys purge revoke sessions stats translate" \
    "$(complete_words sessionbridgectl "")"
check "a prefix" "sessions stats" "$(complete_words sessionbridgectl s)"
check "subcommands" "list show" "$(complete_words sessionbridgectl sessions "")"
check "a command's options, from its usage line" \
    "--all --dry-run --help --json --older-than --profile --session --user --yes" \
    "$(complete_words sessionbridgectl purge --)"
check "a subcommand's options" "--help --json --limit --profile --user" \
    "$(complete_words sessionbridgectl sessions list --)"
check "profile names from -c" "go_new legacy" \
    "$(complete_words sessionbridgectl -c "$SB_TMP/sb.ini" decode --profile "")"
check "profile names from --config, after --to" "legacy" \
    "$(complete_words sessionbridgectl --config "$SB_TMP/sb.ini" translate --to l)"
check "no profiles when the config is unreadable" "" \
    "$(complete_words sessionbridgectl -c "$SB_TMP/none.ini" decode --profile "")"
check "--alg values" "ES256 HS256 RS256" "$(complete_words sessionbridgectl keys generate --alg "")"
check "global options" "--config" "$(complete_words sessionbridgectl --c)"

sb_finish
