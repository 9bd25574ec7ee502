# bash completion for sessionbridgectl.
#
# Commands and options are read from the program's own --help texts (the
# command table in src/cli/commands.c), so they never drift; profile names
# (--profile, --from, --to) are the [profile.NAME] sections of the config
# given with -c/--config, else of /etc/sessionbridge/sessionbridge.ini.
# Installed as /usr/share/bash-completion/completions/sessionbridgectl.

# The command lines under "Commands:" of `sessionbridgectl --help`.
_sessionbridgectl_commands() {
    "$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  //p'
}

# Sets COMPREPLY to the words of $1 that start with $2 (or to the file
# names starting with $2 when $1 is -f).
_sessionbridgectl_reply() {
    if [ "$1" = -f ]; then
        mapfile -t COMPREPLY < <(compgen -f -- "$2")
    else
        mapfile -t COMPREPLY < <(compgen -W "$1" -- "$2")
    fi
}

# The [profile.NAME] sections of the config file $1.
_sessionbridgectl_profiles() {
    [ -r "$1" ] || return 0
    sed -n 's/^[[:space:]]*\[profile\.\([^]]*\)\].*/\1/p' "$1" 2>/dev/null
}

_sessionbridgectl() {
    local cur prev ctl config i word cmd sub
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    ctl=${COMP_WORDS[0]}
    config=/etc/sessionbridge/sessionbridge.ini
    cmd="" sub=""

    # The config file and the command words typed so far.
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        case "$word" in
        -c | --config) config=${COMP_WORDS[i + 1]}; config=${config/#\~/$HOME}; ((i++)) ;;
        --redis) ((i++)) ;;
        -*) ;;
        *)
            if [ -z "$cmd" ]; then cmd=$word
            elif [ -z "$sub" ]; then sub=$word
            fi
            ;;
        esac
    done

    case "$prev" in
    -c | --config | --out | --pub)
        _sessionbridgectl_reply -f "$cur"
        return 0
        ;;
    --profile | --from | --to)
        _sessionbridgectl_reply "$(_sessionbridgectl_profiles "$config")" "$cur"
        return 0
        ;;
    --alg)
        _sessionbridgectl_reply "RS256 ES256 HS256" "$cur"
        return 0
        ;;
    --bits)
        _sessionbridgectl_reply "2048 3072 4096" "$cur"
        return 0
        ;;
    --rate)
        _sessionbridgectl_reply "max" "$cur"
        return 0
        ;;
    --redis | --now | --client-addr | --user-agent | --user | --session | \
        --older-than | --limit | --sample | --subject | --scope | --expires | --id)
        return 0
        ;;
    esac

    local lines
    lines=$(_sessionbridgectl_commands "$ctl")
    if [ -z "$cmd" ]; then
        if [[ "$cur" == -* ]]; then
            _sessionbridgectl_reply "-c --config --redis -h --help -V --version" "$cur"
        else
            _sessionbridgectl_reply "$(echo "$lines" | awk '{ print $1 }' | sort -u)" "$cur"
        fi
        return 0
    fi

    # A command with subcommands ("sessions list"): offer the second word.
    local subs
    subs=$(echo "$lines" | awk -v c="$cmd" '$1 == c && $2 ~ /^[a-z]+$/ { print $2 }')
    if [ -n "$subs" ] && [ -z "$sub" ]; then
        _sessionbridgectl_reply "$subs" "$cur"
        return 0
    fi

    # The options of this command's usage line.
    local usage
    usage=$(echo "$lines" | awk -v c="$cmd" -v s="$sub" \
        '$1 == c && (s == "" || $2 == s) { print; exit }')
    _sessionbridgectl_reply "$(echo "$usage" | grep -o -- '--[a-z][a-z-]*' | sort -u) --help" "$cur"
    return 0
}

complete -F _sessionbridgectl sessionbridgectl
