#!/bin/sh
# t3100: contrib/ pieces: bash completion completes commands,
# environments and entries.  (The GitHub workflows: t3110.)
. "$top_srcdir/tests/lib.sh"

need bash "apt-get install bash"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "build"; }, { stage = "exec"; name = "integration-tests"; command = ["true"]; } );
CFG
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _gantry; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$top_srcdir/contrib/completion/gantry.bash" "$@"
}
[ "$(complete_words gantry dep | tr '\n' ' ')" = "deploy " ] || fail "command completion"
[ "$(complete_words gantry history "" | sort | tr '\n' ' ')" = "production staging " ] || fail "environment completion: $(complete_words gantry history '')"
complete_words gantry deploy v1 --only "" | grep -qx integration-tests || fail "entry completion"
complete_words gantry deploy --dry | grep -qx -- --dry-run || fail "deploy option completion"
ok "bash completion: commands, environments, entries, options"
