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

# Promotion evidence: the core lists the successful release candidates of
# the same version in promote_from for the stages (git-release) to judge.
cat > gantry.cfg <<'CFG'
service = "svc";
environments = (
  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "v*"; profile = "profiles/production.cfg"; promote_from = "staging"; }
);
pipeline = ( { stage = "tfix"; name = "a"; expect_ctx = "promotion.candidates"; } );
CFG
run deploy v3.0.0
expect_rc 0
expect_err "[a] promotion.candidates = "
expect_no_err "v3.0.0-rc"
ACT=ok run deploy v3.0.0-rc.1
cat > gantry.cfg <<'CFG'
service = "svc";
environments = (
  { name = "staging"; tags = "v*-rc.*"; profile = "profiles/staging.cfg"; },
  { name = "production"; tags = "v*"; profile = "profiles/production.cfg"; promote_from = "staging"; }
);
pipeline = ( { stage = "tfix"; name = "a"; expect_ctx = "promotion.candidates"; action = "${env:ACT}"; } );
CFG
ACT=ok run deploy v3.0.0-rc.3
ACT=fail run deploy v3.0.0-rc.4
ACT=ok run deploy v3.0.1-rc.1
ACT=ok run deploy v3.0.0
expect_rc 0
expect_err "[a] promotion.candidates = v3.0.0-rc.3,v3.0.0-rc.1"
ok "promotion.candidates lists successful staging candidates of the same version, newest first"
