#!/bin/sh
# t3100: contrib/ pieces: the GitHub workflows validate, bash completion
# completes commands, environments and entries.
. "$top_srcdir/tests/lib.sh"

av="${GANTRY_NPM_DIR:-$top_srcdir/contrib/npm}/node_modules/.bin/action-validator"
if [ -x "$av" ]; then
	for wf in "$top_srcdir"/contrib/github/*.yml; do
		"$av" "$wf" >"$TMP/out" 2>"$TMP/err" || fail "action-validator rejects $wf"
	done
	ok "GitHub workflows in contrib/github validate with @action-validator/cli"
else
	echo "# action-validator not installed (contrib/install-deps installs it); workflow check skipped"
fi

command -v bash >/dev/null 2>&1 || { echo "SKIP: bash not found"; exit 77; }
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
