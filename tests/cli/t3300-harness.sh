#!/bin/sh
# t3300: gantry-stage-test, the SDK's harness: one plugin run through gantry
# with options and context given on the command line.
. "$top_srcdir/tests/lib.sh"

h="$top_builddir/sdk/harness/gantry-stage-test"
fix="$top_builddir/tests/fixtures/pipeline/.libs/tfix.so"
cp "$top_builddir/plugins/.libs/exec.so" "$TMP/" && cp "$fix" "$TMP/tfix.so"

"$h" --gantry "$top_builddir/gantry" -o message=hi -o 'outputs=["a.b=1"]' \
	-c image.uri=repo/app:v9 -o expect_ctx=image.uri "$TMP/tfix.so" >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0
expect_out "a.b=1"
expect_err "[tfix] message: hi"
expect_err "[tfix] image.uri = repo/app:v9"
ok "run: options, context and the stage's outputs"

"$h" --gantry "$top_builddir/gantry" -o action=fail "$TMP/tfix.so" >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 1
expect_err "told to fail"
ok "a failing stage gives gantry's exit code and message"

"$h" --gantry "$top_builddir/gantry" -o action=crash "$TMP/tfix.so" plan >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 0
expect_err "would crash"
ok "plan runs only the plan callback"

"$h" --gantry "$top_builddir/gantry" -o nosuch=1 "$TMP/tfix.so" >"$TMP/out" 2>"$TMP/err"
rc=$?
expect_rc 2
expect_err "has no option 'nosuch'"
ok "option mistakes are gantry's configuration errors"
