# bash completion for gantry.  Install as
#   /usr/share/bash-completion/completions/gantry
# Completes commands, options, environment names and entry names from the
# gantry.cfg in use (-c FILE or ./gantry.cfg) and stage names from
# `gantry plugins list`.

_gantry_cfg() {
	local i
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -c || ${COMP_WORDS[i]} == --config ]]; then
			echo "${COMP_WORDS[i+1]}"
			return
		fi
	done
	[[ -f gantry.cfg ]] && echo gantry.cfg
}

# Environment names: the name = "..." of each environments entry.
_gantry_envs() {
	local cfg
	cfg=$(_gantry_cfg)
	[[ -n $cfg && -r $cfg ]] || return
	sed -n 's/.*name *= *"\([A-Za-z0-9_-]*\)".*tags *=.*/\1/p' "$cfg"
}

# Pipeline entry names (name = "..." or stage = "..." of pipeline entries).
_gantry_entries() {
	local cfg
	cfg=$(_gantry_cfg)
	[[ -n $cfg && -r $cfg ]] || return
	sed -n -e 's/.*stage *= *"\([A-Za-z0-9_-]*\)".*name *= *"\([A-Za-z0-9_-]*\)".*/\2/p' \
	       -e 's/.*stage *= *"\([A-Za-z0-9_-]*\)" *;[^n]*$/\1/p' "$cfg" | sort -u
}

_gantry() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	local commands="deploy plan rollback approve reject history status lock unlock batch report plugins config version help"
	local global="-c --config -e --env --plugin-path --state-dir -v --verbose -q --quiet --json --no-color --help"

	case $prev in
	-c|--config|-o|--output) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--plugin-path|--state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
	-e|--env) COMPREPLY=($(compgen -W "$(_gantry_envs)" -- "$cur")); return ;;
	--only|--skip) COMPREPLY=($(compgen -W "$(_gantry_entries)" -- "$cur")); return ;;
	--format) COMPREPLY=($(compgen -W "text json html" -- "$cur")); return ;;
	esac

	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-c|--config|-e|--env|--plugin-path|--state-dir|--only|--skip|--resume|--to|--reason|-o|--output|--format|--since|--until|-j|--jobs) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi
	case $cmd in
	deploy)
		COMPREPLY=($(compgen -W "--dry-run --only --skip --resume --approve --no-rollback --force-promotion --allow-destroy $global" -- "$cur")) ;;
	rollback)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--to --approve --only --skip $global" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_gantry_envs)" -- "$cur"))
		fi ;;
	approve|reject)
		# ENV, then the deploy ids of that environment's journal.
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$([[ $cmd == reject ]] && echo --reason) $global" -- "$cur"))
		elif [[ $prev == approve || $prev == reject ]]; then
			COMPREPLY=($(compgen -W "$(_gantry_envs)" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(gantry --json status "$prev" 2>/dev/null | sed -n 's/.*"id":"\([0-9TZ-]*[0-9a-f]*\)".*/\1/p' | sort -u)" -- "$cur"))
		fi ;;
	history|status|lock|unlock)
		COMPREPLY=($(compgen -W "$(_gantry_envs)" -- "$cur")) ;;
	config)
		COMPREPLY=($(compgen -W "check $(_gantry_envs)" -- "$cur")) ;;
	plugins)
		if [[ $prev == show ]]; then
			COMPREPLY=($(compgen -W "$(gantry plugins list 2>/dev/null | awk '{print $1}')" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "list show" -- "$cur"))
		fi ;;
	batch)
		COMPREPLY=($(compgen -f -W "-j --jobs --fail-fast --dry-run --matrix --approve" -- "$cur")) ;;
	report)
		COMPREPLY=($(compgen -W "--since --until --service --format -o --output $(_gantry_envs)" -- "$cur")) ;;
	help)
		COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	esac
}
complete -F _gantry gantry
