#!/bin/sh
# t0900: environments that need approval.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; } );
CFG

run deploy v1.0.0 </dev/null
expect_rc 2
expect_err "environment 'production' needs approval; pass --approve"
[ ! -f calls ] || fail "a stage ran without approval"
ok "no approval, no terminal: refused with exit 2, nothing ran"

run deploy v1.0.0 --approve
expect_rc 0
[ "$(json_get "$(last_record)" 'd["approved_by"]')" = "tester" ] || fail "approved_by"
ok "--approve is recorded with who approved"

run --json plan v1.0.0
[ "$(json_get "$TMP/out" 'd["approval"]')" = "True" ] || fail "plan shows approval"
ok "plan says approval is required"
