# bash completion for tailkitctl(1)
_tailkitctl() {
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    }
    local globals="--node --port --json --proxy --source --timeout --socket --all --tag --match --parallel --quiet --help --version"
    local commands="health tools exec job vars files units journal docker metrics install-tool uninstall-tool peers sd"
    case $prev in
        --node|--port|--proxy|--source|--timeout|--tag|--match|--parallel) return ;;
        --socket|--dir) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    local i cmd= sub= n=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --node|--port|--proxy|--source|--timeout|--socket|--tag|--match|--parallel) ((i++)) ;;
            -*) ;;
            *) if [[ -z $cmd ]]; then cmd=${words[i]}; else ((n++)); [[ -z $sub ]] && sub=${words[i]}; fi ;;
        esac
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W "$globals $commands" -- "$cur")); return
    fi
    case $cmd in
        exec) COMPREPLY=($(compgen -W "--wait --help" -- "$cur")) ;;
        job) COMPREPLY=($(compgen -W "--cancel --wait --help" -- "$cur")) ;;
        vars) [[ $n -eq 0 ]] && COMPREPLY=($(compgen -W "list get set delete env" -- "$cur")) ;;
        files)
            if [[ $n -eq 0 ]]; then COMPREPLY=($(compgen -W "send get ls" -- "$cur"))
            elif [[ $sub == send && $n -eq 1 ]]; then COMPREPLY=($(compgen -f -- "$cur")); fi ;;
        units) [[ $n -eq 0 ]] && COMPREPLY=($(compgen -W "list status file start stop restart reload enable disable" -- "$cur")) ;;
        journal) COMPREPLY=($(compgen -W "-n -p -f --help" -- "$cur")) ;;
        docker)
            if [[ $n -eq 0 ]]; then
                COMPREPLY=($(compgen -W "ps inspect start stop restart rm logs stats images rmi pull networks volumes info compose swarm" -- "$cur"))
            elif [[ $sub == compose && $n -eq 1 ]]; then COMPREPLY=($(compgen -W "ls show up down pull restart build" -- "$cur"))
            elif [[ $sub == swarm && $n -eq 1 ]]; then COMPREPLY=($(compgen -W "info nodes services tasks" -- "$cur")); fi ;;
        metrics) [[ $n -eq 0 ]] && COMPREPLY=($(compgen -W "all host cpu memory disk network processes" -- "$cur")) ;;
        install-tool) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur") $(compgen -W "--dir" -- "$cur")) ;;
        uninstall-tool) COMPREPLY=($(compgen -W "--dir" -- "$cur")) ;;
    esac
}
complete -F _tailkitctl tailkitctl
