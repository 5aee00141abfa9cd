#!/bin/sh
# t0911: the approval stage across machines: the deploy runs with one
# state directory, the approver with another, both on the shared state
# backend (journal in S3 via s3rver, decisions and lock in DynamoDB via
# dynalite; npm emulators on loopback, as t1100).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/servers/emulators.sh"

shared_state_start

write_cfg <<'CFG'
state = { backend = "aws"; bucket = "gantry-journal"; table = "gantry-locks"; prefix = "teams/web"; lease_seconds = 10; };
pipeline = (
  { stage = "tfix"; name = "build"; log = "calls"; },
  { stage = "approval"; name = "gate"; approvers = ["bob"]; message = "look at the canary"; },
  { stage = "tfix"; name = "after"; log = "calls"; }
);
CFG

# Two machines: each its own state directory (nothing shared locally).
A="$TMP/machine-a"
B="$TMP/machine-b"
on() { m=$1; who=$2; shift 2; GANTRY_STATE_DIR=$m GANTRY_ACTOR=$who run "$@"; }

start_deploy() {
	GANTRY_STATE_DIR=$A "$top_builddir/gantry" deploy "$1" >"$TMP/deploy.out" 2>"$TMP/deploy.err" &
	DEPLOY=$!
	BG_PIDS="$BG_PIDS $DEPLOY"
}
finish() {
	wait "$DEPLOY"
	drc=$?
	BG_PIDS=$(echo "$BG_PIDS" | sed "s/ *\\b$DEPLOY\\b//")
}
# waiting: machine B sees the deploy wait.
waiting() {
	GANTRY_STATE_DIR=$B "$top_builddir/gantry" status staging >"$TMP/st.out" 2>&1 &&
		grep -q "approval 'gate': waiting since" "$TMP/st.out"
}
wait_waiting() {
	ww_end=$(( $(date +%s) + 90 ))
	until waiting; do
		if [ "$(date +%s)" -ge "$ww_end" ] || ! kill -0 "$DEPLOY" 2>/dev/null; then
			cat "$TMP/deploy.err" "$TMP/st.out" >&2
			fail "machine B did not see the deploy wait for approval"
		fi
		sleep 0.2
	done
}

start_deploy v1.0.0-rc.1
wait_waiting
id=$(sed -n 's/.*waiting for approval of deploy \([0-9TZ]*-[0-9a-f]*\) .*/\1/p' "$TMP/deploy.err" | head -n 1)
[ -n "$id" ] || fail "no deploy id in the waiting line"
on "$B" carol approve staging
expect_rc 2 "carol is no approver"
expect_err "carol may not approve deploy $id: 'carol' is not among the entry's approvers"
on "$B" bob approve staging
expect_rc 0 "bob approves from machine B"
finish
[ "$drc" = 0 ] || { cat "$TMP/deploy.err"; fail "deploy exit $drc"; }
grep -q "^after run" calls || fail "the stage after the gate ran"
[ ! -d "$B/approvals" ] || [ -z "$(ls "$B/approvals")" ] || fail "machine B wrote a local decision"
awsc dynamodb get-item --endpoint-url "$DYNAMODB_URL" --table-name gantry-locks \
	--consistent-read --key "{\"id\": {\"S\": \"approval@$id.gate.0\"}}" || fail "get-item"
grep -q '\\"by\\":\\"bob\\"' "$TMP/aws.out" || { cat "$TMP/aws.out"; fail "the decision is the DynamoDB item"; }
on "$A" alice history staging
expect_out "approval 'gate': approved by bob at"
on "$B" bob --json history staging
[ "$(json_get "$TMP/out" 'd["deploys"][0]["approvals"][0]["by"]')" = bob ] || fail "history --json on B"
ok "a deploy on machine A waits until bob approves on machine B; the decision is one DynamoDB item; both machines' history says who"

on "$A" alice approve staging "$id"
expect_rc 2
expect_err "deploy $id is not waiting for approval: entry 'gate' was already approved by bob at"
ok "a second decision from another machine names the first"

start_deploy v1.1.0-rc.1
wait_waiting
on "$B" bob reject staging --reason "canary errors"
expect_rc 0
finish
[ "$drc" = 1 ] || fail "rejected deploy exit $drc"
grep -qF "rejected by bob: canary errors" "$TMP/deploy.err" || { cat "$TMP/deploy.err"; fail "the rejection reaches machine A"; }
ok "a rejection on machine B fails the deploy on machine A (exit 1) with who and why"
