#!/bin/sh
# t0700: SIGTERM/SIGINT mid-deploy: stage stopped, policy applied, journal
# says interrupted, lock released, exit 130; --resume continues.
. "$top_srcdir/tests/lib.sh"

write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "first"; log = "calls"; outputs = ["first.out=one"]; },
  { stage = "tfix"; name = "slow"; action = "wait"; seconds = 300; log = "calls"; on_failure = "rollback"; },
  { stage = "tfix"; name = "last"; log = "calls"; expect_ctx = "first.out"; }
);
notify = ( { plugin = "tnotify"; file = "events"; } );
CFG

"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
kill -TERM "$bg"
wait "$bg"
rc=$?
BG_PIDS=""
cp "$TMP/bg.err" "$TMP/err"
expect_rc 130
expect_file_has calls "slow interrupted"
expect_file_has calls "first rollback one"
rec=$(last_record)
[ "$(json_get "$rec" 'd["result"]')" = "interrupted" ] || fail "journal says interrupted"
[ "$(json_get "$rec" 'd["stages"][1]["status"]')" = "interrupted" ] || fail "stage interrupted"
expect_file_has events "deploy.interrupted stage=slow"
run lock staging
expect_rc 0
expect_out "lock free"
ok "SIGTERM: stage stopped, rollback policy applied, journal + notifier say interrupted, lock released, exit 130"

# The interrupted deploy was rolled back: resuming it re-runs from the
# first stage that is not done (here: all of them).
id=$(json_get "$rec" 'd["id"]')
rm -f calls
sed -i 's/action = "wait"; seconds = 300; //' gantry.cfg
run deploy v1.0.0-rc.1 --resume "$id"
[ "$rc" = 0 ] || fail "resume exit $rc"
[ "$(cat calls)" = "first run ok
slow run ok
last run ok" ] || fail "resume after rollback: $(cat calls)"
ok "resuming a rolled-back deploy re-runs the stages that were undone"

[ "$(json_get "$(last_record)" 'd["result"]')" = "succeeded" ] || fail "resumed record succeeded"
[ "$(json_get "$(last_record)" 'd["resumed"]')" = "1" ] || fail "resumed count"
[ "$(json_get "$(last_record)" 'd["id"]')" = "$id" ] || fail "same id"
ok "the resumed deploy keeps its id and records the resume"

run deploy v1.0.0-rc.1 --resume "$id"
expect_rc 2
expect_err "succeeded; there is nothing to resume"
run deploy v1.0.0-rc.9 --resume "20990101T000000Z-abcdef"
expect_rc 2
expect_err "no deploy '20990101T000000Z-abcdef'"
ok "resume refuses finished or unknown deploys"

# SIGINT during a stage whose policy is abort; resume continues after
# the stages that finished, with their recorded outputs.
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "first"; log = "calls"; outputs = ["first.out=one"]; },
  { stage = "tfix"; name = "slow"; action = "wait"; seconds = 300; log = "calls"; },
  { stage = "tfix"; name = "last"; log = "calls"; expect_ctx = "first.out"; }
);
CFG
rm -f calls
"$top_builddir/gantry" deploy v1.0.0-rc.2 >"$TMP/bg.out" 2>"$TMP/bg.err" &
bg=$!
BG_PIDS="$bg"
wait_for calls "slow run wait"
kill -INT "$bg"
wait "$bg"
rc=$?
BG_PIDS=""
expect_rc 130
ok "SIGINT exits 130 too"

id=$(json_get "$(last_record)" 'd["id"]')
sed -i 's/action = "wait"; seconds = 300; //' gantry.cfg
rm -f calls
run deploy v1.0.0-rc.2 --resume "$id"
[ "$rc" = 0 ] || fail "resume exit $rc"
expect_err "first skipped (done before resume)"
expect_err "[last] first.out = one"
[ "$(cat calls)" = "slow run ok
last run ok" ] || fail "resume calls: $(cat calls)"
ok "--resume continues from the first unfinished stage with the recorded context"
