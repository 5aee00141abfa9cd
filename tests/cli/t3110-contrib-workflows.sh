#!/bin/sh
# t3110: the GitHub workflows in contrib/github validate with
# @action-validator/cli (from contrib/npm, or GANTRY_NPM_DIR).
. "$top_srcdir/tests/lib.sh"

av="${GANTRY_NPM_DIR:-$top_srcdir/contrib/npm}/node_modules/.bin/action-validator"
[ -x "$av" ] || skip "action-validator is not installed ($av is missing; contrib/install-deps, or npm ci --prefix contrib/npm)"

n=0
for wf in "$top_srcdir"/contrib/github/*.yml; do
	"$av" "$wf" >"$TMP/out" 2>"$TMP/err" || fail "action-validator rejects $wf"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no workflows in contrib/github"
ok "the $n GitHub workflows in contrib/github validate with @action-validator/cli"
