#!/bin/sh
# t3200: the stage documentation is generated from the descriptors and is
# current: every option in the code appears in docs/stages.md and in
# gantry-stages(7).
. "$top_srcdir/tests/lib.sh"

"$top_srcdir/docs/gen-stages.sh" "$top_builddir" "$TMP/gen" || fail "generator failed"
diff -u "$top_srcdir/docs/stages.md" "$TMP/gen/stages.md" >"$TMP/out" ||
	fail "docs/stages.md is out of date; run docs/gen-stages.sh BUILDDIR"
diff -u "$top_srcdir/docs/man/gantry-stages.7" "$TMP/gen/man/gantry-stages.7" >"$TMP/out" ||
	fail "docs/man/gantry-stages.7 is out of date; run docs/gen-stages.sh BUILDDIR"
ok "generated stage docs are current"

# Every option of every shipped stage, read from --json, is documented.
n=0
for s in git-release exec docker-build ecr terraform ecs-rolling smoke slack-notify betterstack-notify; do
	run --json plugins show "$s"
	expect_rc 0 "plugins show $s"
	for key in $(json_get "$TMP/out" '" ".join(o["key"] for o in d["options"])'); do
		grep -q "^| \`$key\` |" "$top_srcdir/docs/stages.md" || fail "option '$key' of $s missing from docs/stages.md"
		n=$((n + 1))
	done
done
[ "$n" -gt 40 ] || fail "only $n options found"
ok "all $n options of the shipped stages are documented"

run plugins show exec --format pdf
expect_rc 2
expect_err "unknown format 'pdf'"
ok "unknown doc format"
