# bash completion for allocsim                                -*- shell-script -*-
#
# Installed as PREFIX/share/bash-completion/completions/allocsim (loaded on
# demand by the bash-completion package), or sourced by hand:
#   source docs/completion/allocsim.bash
#
# Completes subcommands, each subcommand's options, and the values of
# --policy, --predictor (and WRAPPER:INNER), --shadow-predictor, --param
# NAME.KEY=, --thp, --thread-cache, --format, --unwind, gen's workloads,
# and files. Every list
# comes from the allocsim binary being completed, at completion time, so it
# never goes stale: names (the simulated OS's os.KEY parameters included)
# from the hidden `allocsim --list WHAT`, options from `allocsim CMD --help`.
# Self-contained: it needs bash only, not the bash-completion package.

# _allocsim_words CMD ARGS...: the output of allocsim ARGS, or nothing.
_allocsim_words()
{
    local bin=$1
    shift
    "$bin" "$@" 2>/dev/null
}

# _allocsim_options BIN SUBCOMMAND: the long and short options SUBCOMMAND's
# --help names.
_allocsim_options()
{
    _allocsim_words "$1" "$2" --help |
        grep -oE '(^|[ ,[])--?[a-zA-Z][a-zA-Z0-9-]*' |
        sed -E 's/^[ ,[]//' | sort -u
}

# _allocsim_params BIN SUBCOMMAND: NAME.KEY names for --param.
_allocsim_params()
{
    if [[ $2 == gen ]]; then
        _allocsim_words "$1" --list workload-params
    else
        _allocsim_words "$1" --list params
    fi
}

_allocsim()
{
    # The word being completed, whole: readline splits --opt=VALUE and
    # WRAPPER:INNER at = and :, so take it from the line itself.
    local line=${COMP_LINE:0:COMP_POINT}
    local cur=${line##*[[:space:]]}
    local -a words
    read -r -a words <<<"${line%"$cur"}"
    local bin=${words[0]:-allocsim} prev=${words[${#words[@]} - 1]:-}
    bin=${bin/#\~/$HOME}

    # The subcommand: the first word after the program not starting with -.
    local cmd="" i dashdash=0
    for ((i = 1; i < ${#words[@]}; i++)); do
        if [[ -z $cmd && ${words[i]} != -* ]]; then
            cmd=${words[i]}
        elif [[ ${words[i]} == -- ]]; then
            dashdash=1
        fi
    done

    # --opt=VALUE: complete VALUE as if it followed --opt.
    local opt=$prev prefix=""
    if [[ $cur == --*=* ]]; then
        opt=${cur%%=*}
        prefix=$opt=
    elif [[ $cur == -* ]]; then
        opt=""
    fi
    local value=${cur#"$prefix"}

    local -a cands=()
    local files="" dirs="" nospace=0
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            cands=(--help --version)
        else
            mapfile -t cands < <(_allocsim_words "$bin" --list commands)
        fi
    elif [[ $cmd == record && $dashdash == 1 ]]; then
        if [[ $prev == -- ]]; then
            mapfile -t cands < <(compgen -c -- "$cur")
        else
            files=1
        fi
    else
        case $opt in
        --policy | -p)
            if [[ $cmd == run || $cmd == demo ]]; then
                mapfile -t cands < <(_allocsim_words "$bin" --list policies)
            else
                mapfile -t cands < <(_allocsim_params "$bin" "$cmd" | sed 's/$/=/')
                nospace=1
            fi
            ;;
        --predictor | --shadow-predictor)
            local wrap=""
            [[ $value == *:* ]] && wrap=${value%:*}:
            mapfile -t cands < <(_allocsim_words "$bin" --list predictors |
                sed "s/^/$wrap/")
            ;;
        --param | -P)
            mapfile -t cands < <(_allocsim_params "$bin" "$cmd" | sed 's/$/=/')
            nospace=1
            ;;
        --thp) cands=(always madvise never) ;;
        --thread-cache) cands=(off on) ;;
        --format) mapfile -t cands < <(_allocsim_words "$bin" --list formats) ;;
        --unwind) cands=(auto fp libunwind) ;;
        --match) cands=(fifo lifo) ;;
        -o | --output)
            if [[ $cmd == run || $cmd == demo ]]; then dirs=1; else files=1; fi
            ;;
        --trace | --predictor-load | --predictor-save | --preload | --classes)
            files=1
            ;;
        --events | --seed | --sample-bytes | --max-depth | --time-resolution | \
            --sample-interval | --chunk-events | --max-events)
            return 0
            ;;
        *)
            if [[ $cur == -* ]]; then
                mapfile -t cands < <(_allocsim_options "$bin" "$cmd")
            elif [[ $cmd == gen && $prev == gen ]]; then
                mapfile -t cands < <(_allocsim_words "$bin" --list workloads)
            else
                files=1
            fi
            ;;
        esac
    fi

    if [[ -n $files || -n $dirs ]]; then
        compopt -o filenames 2>/dev/null
        if [[ -n $dirs ]]; then
            mapfile -t COMPREPLY < <(compgen -d -- "$value")
        else
            mapfile -t COMPREPLY < <(compgen -f -- "$value")
        fi
        return 0
    fi
    [[ $nospace == 1 ]] && compopt -o nospace 2>/dev/null
    # Keep the candidates that extend the word, then drop what readline
    # already holds in front of its own word (up to the last = or :).
    local c brk=""
    [[ $COMP_WORDBREAKS == *[=:]* ]] && [[ $cur == *[=:]* ]] &&
        brk=${cur%"${cur##*[=:]}"}
    COMPREPLY=()
    for c in "${cands[@]}"; do
        c=$prefix$c
        [[ $c == "$cur"* ]] && COMPREPLY+=("${c#"$brk"}")
    done
    return 0
}

complete -F _allocsim allocsim
