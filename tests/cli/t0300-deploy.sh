#!/bin/sh
# t0300: a successful deploy: context, outputs, journal, history, status,
# --json, --only/--skip, retries, plan has no side effects.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "build"; log = "calls"; outputs = ["image.uri=registry/svc:${release.tag}"]; },
  { stage = "exec"; name = "show"; command = ["sh", "-c", "echo \"uri=$URI id=$ID by=$BY\""];
    env = { URI = "${image.uri}"; ID = "${deploy.id}"; BY = "${deploy.actor}"; }; },
  { stage = "tfix"; name = "check"; log = "calls"; expect_ctx = "release.environment"; }
);
CFG

run plan v1.2.0-rc.1
expect_rc 0
expect_err "would ok"
[ ! -d "$STATE/journal" ] || fail "plan wrote a journal"
[ "$(cat calls)" = "build plan ok
check plan ok" ] || fail "plan calls: $(cat calls)"
rm -f calls
ok "plan runs every plan callback and writes nothing"

run deploy v1.2.0-rc.1 --dry-run
expect_rc 0
[ ! -d "$STATE/journal" ] || fail "dry run wrote a journal"
rm -f calls
ok "deploy --dry-run changes nothing"

run deploy v1.2.0-rc.1
expect_rc 0
expect_err "[show] uri=registry/svc:v1.2.0-rc.1 id=2"
expect_err "by=tester"
expect_err "[check] release.environment = staging"
expect_err "deploy succeeded"
[ "$(cat calls)" = "build run ok
check run ok" ] || fail "run calls: $(cat calls)"
rec=$(last_record)
[ "$(json_get "$rec" 'd["result"]')" = "succeeded" ] || fail "journal result"
[ "$(json_get "$rec" 'd["actor"]')" = "tester" ] || fail "journal actor"
[ "$(json_get "$rec" 'd["stages"][0]["outputs"]["image.uri"]')" = "registry/svc:v1.2.0-rc.1" ] || fail "journal outputs"
[ "$(json_get "$rec" 'd["context"]["release.version"]')" = "1.2.0-rc.1" ] || fail "release.version"
[ "$(json_get "$rec" '[s["status"] for s in d["stages"]]')" = "['succeeded', 'succeeded', 'succeeded']" ] || fail "statuses"
ok "deploy runs stages in order, passes outputs and context, journals it"

run --json deploy v1.2.0-rc.2
expect_rc 0
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out" || fail "stdout is not one JSON document"
[ "$(json_get "$TMP/out" 'd["result"]')" = "succeeded" ] || fail "json result"
expect_no_out "==>"
ok "--json deploy prints exactly the record on stdout"

run history
expect_rc 0
expect_out "v1.2.0-rc.2"
expect_out "v1.2.0-rc.1"
[ "$(grep -n 'v1.2.0-rc.2' "$TMP/out" | cut -d: -f1)" -lt "$(grep -n 'v1.2.0-rc.1' "$TMP/out" | cut -d: -f1)" ] || fail "newest first"
run --json history production
[ "$(json_get "$TMP/out" 'len(d["deploys"])')" = "0" ] || fail "production has none"
ok "history lists deploys newest first, filtered by environment"

run status staging
expect_rc 0
expect_out "current: v1.2.0-rc.2"
expect_out "lock free"
run --json status
[ "$(json_get "$TMP/out" '[e["current"]["tag"] for e in d["environments"] if e["environment"]=="staging"][0]')" = "v1.2.0-rc.2" ] || fail "json status"
ok "status shows the current release and the lock"

rm -f calls
run deploy v1.2.0-rc.3 --only check
expect_rc 0
[ "$(cat calls)" = "check run ok" ] || fail "--only: $(cat calls)"
rec=$(last_record)
[ "$(json_get "$rec" 'd["stages"][0]["status"]')" = "skipped" ] || fail "skipped recorded"
rm -f calls
ok "--only runs just the named entries"

run deploy v1.2.0-rc.4 --skip build
expect_rc 1
expect_err "'\${image.uri}' in stage 'show' is not known when the stage runs"
ok "--skip skips; a reference nothing published fails the stage that needs it"

run deploy v1.2.0-rc.5 --skip biuld
expect_rc 2
expect_err "--skip names 'biuld', which is no pipeline entry"
expect_err "did you mean 'build'?"
ok "--skip with an unknown name"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "flaky"; action = "flaky"; marker = "m"; retries = 2; log = "calls"; } );
CFG
rm -f calls m
run deploy v1.3.0-rc.1
expect_rc 0
expect_err "retrying 'flaky'"
[ "$(json_get "$(last_record)" 'd["stages"][0]["attempts"]')" = "2" ] || fail "attempts"
ok "retries re-run a failed stage"

# An unusable state directory: clear error, exit 2, no stage ran.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "a"; log = "calls"; } );
CFG
rm -f calls
echo "not a directory" > "$TMP/statefile"
run --state-dir "$TMP/statefile" deploy v1.4.0-rc.1
expect_rc 2
expect_err "$TMP/statefile"
[ ! -f calls ] || fail "a stage ran"
run --json --state-dir "$TMP/statefile" deploy v1.4.0-rc.1
expect_rc 2
[ "$(json_get "$TMP/out" 'd["exit_code"]')" = "2" ] || fail "json error document"
ok "an unusable state directory stops the deploy before any stage (exit 2)"
