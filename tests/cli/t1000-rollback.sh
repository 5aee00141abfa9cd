#!/bin/sh
# t1000: gantry rollback ENV [--to TAG].
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "build"; log = "calls"; outputs = ["image.uri=reg/svc:${release.tag}"]; },
  { stage = "tfix"; name = "deploy"; log = "calls"; expect_ctx = "image.uri"; message = "${image.uri}"; }
);
CFG

run rollback staging
expect_rc 2
expect_err "nothing to roll back to: svc has no successful release in staging"
ok "nothing to roll back to without history"

run deploy v1.0.0-rc.1
expect_rc 0
run rollback staging
expect_rc 2
expect_err "has only one successful release in staging"
ok "nothing to roll back to with one release"

run deploy v1.1.0-rc.1
expect_rc 0
run deploy v1.2.0-rc.1 --skip build
expect_rc 1
run rollback staging
expect_rc 0
expect_err "rolling staging back from v1.2.0-rc.1 to v1.1.0-rc.1"
ok "after a failed deploy, rollback re-aligns on the last good release"

run rollback staging
expect_rc 0
expect_err "rolling staging back from v1.1.0-rc.1 to v1.0.0-rc.1"
expect_err "[deploy] image.uri = reg/svc:v1.0.0-rc.1"
rec=$(last_record)
[ "$(json_get "$rec" 'd["tag"]')" = "v1.0.0-rc.1" ] || fail "rollback deploys the previous tag"
[ "$(json_get "$rec" 'd["context"]["deploy.rollback"]')" = "true" ] || fail "journaled as rollback"
[ "$(json_get "$rec" 'd["context"]["deploy.rollback_of"]')" = "v1.1.0-rc.1" ] || fail "rollback_of"
run history staging
expect_out "(rollback)"
run --json history staging
[ "$(json_get "$TMP/out" 'd["deploys"][0]["rollback"]')" = "True" ] || fail "json rollback flag"
ok "rollback redeploys the last good release before the current one, journaled as a rollback"

run rollback staging --to v1.1.0-rc.1
expect_rc 0
[ "$(json_get "$(last_record)" 'd["tag"]')" = "v1.1.0-rc.1" ] || fail "--to"
ok "rollback --to TAG"

run rollback staging --to v9.9.9-rc.1
expect_rc 2
expect_err "v9.9.9-rc.1 was never deployed successfully to staging"
ok "rollback --to a release never deployed is refused"

run rollback
expect_rc 2
expect_err "'rollback' needs an environment ENV"
run rollback stagin
expect_rc 2
expect_err "did you mean 'staging'?"
run deploy v1.0.0-rc.1 --to v1
expect_rc 2
expect_err "--to belongs to 'rollback'"
ok "rollback usage errors"

# Production needs approval for a rollback too.
run deploy v1.0.0 --approve
run deploy v1.0.1 --approve
run rollback production </dev/null
expect_rc 2
expect_err "needs approval"
run rollback production --approve
expect_rc 0
[ "$(json_get "$(last_record)" 'd["tag"]')" = "v1.0.0" ] || fail "production rollback"
ok "rolling back an environment that needs approval needs --approve"
