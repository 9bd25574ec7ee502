#!/bin/bash
# test_completion.sh - the bash and zsh completions of sessionbridgectl
# (contrib/completion/) offer the commands and options of the built
# program's help and the profile names of the config given with -c.
# Cost: about a second (no servers).
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
    "--all --dry-run --help --json --older-than --profile --rate --session --user --yes" \
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
check "--rate offers max (a number is typed)" "max" "$(complete_words sessionbridgectl purge --all --rate "")"
check "global options" "--config" "$(complete_words sessionbridgectl --c)"

# The zsh completion (contrib/completion/_sessionbridgectl) from the same
# sources: compadd and _files are stubbed to print what they are offered.
zcomplete() {
    zsh -f -c '
        compadd() { [[ $1 == -- ]] && shift; print -r -- "${(j: :)${(o)@}}"; }
        _files() { print files; }
        source "$1" >/dev/null; shift
        PATH=$SB_BUILD_DIR:$PATH
        words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
        _sessionbridgectl
    ' _ "$SB_SOURCE_DIR/contrib/completion/_sessionbridgectl" "$@"
}
check "zsh: the command words" "apikey config decode encode keys purge revoke sessions stats translate" \
    "$(zcomplete sessionbridgectl "")"
check "zsh: subcommands" "list show" "$(zcomplete sessionbridgectl sessions "")"
check "zsh: a command's options" \
    "--all --dry-run --help --json --older-than --profile --rate --session --user --yes" \
    "$(zcomplete sessionbridgectl purge --)"
check "zsh: profile names from -c" "go_new legacy" \
    "$(zcomplete sessionbridgectl -c "$SB_TMP/sb.ini" translate --from "")"
check "zsh: file names after --out" "files" "$(zcomplete sessionbridgectl keys generate --out "")"
check "zsh: --rate offers max" "max" "$(zcomplete sessionbridgectl purge --all --rate "")"

sb_finish
