#!/bin/sh
# t0910: the approval stage and gantry approve|reject (docs/approvals.md):
# a deploy waits until another actor decides; self-approval, approvers,
# timeout, rejection with rollback, wrong ids and a dead deploy's leftover
# request; events reach slack-notify with the exact command.
. "$top_srcdir/tests/lib.sh"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
cat >slack.json <<'JSON'
{"routes": {"/hook": [{"status": 200, "body": "ok"}]}}
JSON
start_httpd slack --script slack.json
SLACK=$PORT

# cfg GATE-OPTIONS [BUILD-OPTIONS]: build (tfix), gate (approval), after
# (tfix), and slack-notify on the capture server.
cfg() {
	write_cfg <<CFG
pipeline = (
  { stage = "tfix"; name = "build"; log = "calls"; ${2:-} },
  { stage = "approval"; name = "gate"; $1 },
  { stage = "tfix"; name = "after"; log = "calls"; }
);
notify = ( { plugin = "slack-notify"; webhook_url = "http://127.0.0.1:$SLACK/hook"; } );
CFG
	chmod 600 gantry.cfg	# the webhook URL is a secret
	rm -f calls
	httpd_call POST /_reset
}

httpd_call() {
	python3 -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
data = b"" if sys.argv[2] == "POST" else None
sys.stdout.write(opener.open(urllib.request.Request(sys.argv[1], data=data,
    method=sys.argv[2])).read().decode())' \
		"http://127.0.0.1:$SLACK$2" "$1" >"$TMP/cap.json" || fail "httpd $2"
}

# bodies: the captured webhook bodies' "text", one a line.
bodies() {
	httpd_call GET /_captured
	python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print(json.dumps(json.loads(r["body"])))' "$TMP/cap.json"
}

# start_deploy TAG: a deploy as tester in the background; its pid (the
# gantry process itself, not a subshell) in $DEPLOY, its output in
# $TMP/deploy.err.
start_deploy() {
	"$top_builddir/gantry" deploy "$1" >"$TMP/deploy.out" 2>"$TMP/deploy.err" &
	DEPLOY=$!
	BG_PIDS="$BG_PIDS $DEPLOY"
}

# waiting: gantry status says the deploy waits for approval.
waiting() {
	gantry status staging >"$TMP/st.out" 2>&1 && grep -q "approval 'gate': waiting since" "$TMP/st.out"
}
# wait_waiting: until the deploy waits (60 s; its log shown on failure).
wait_waiting() {
	ww_end=$(( $(date +%s) + 60 ))
	until waiting; do
		if [ "$(date +%s)" -ge "$ww_end" ] || ! kill -0 "$DEPLOY" 2>/dev/null; then
			cat "$TMP/deploy.err" >&2
			fail "the deploy did not come to wait for approval"
		fi
		sleep 0.1
	done
}

# finish: the background deploy's exit code in $drc.
finish() {
	wait "$DEPLOY"
	drc=$?
	BG_PIDS=$(echo "$BG_PIDS" | sed "s/ *\\b$DEPLOY\\b//")
}

as() { who=$1; shift; GANTRY_ACTOR=$who run "$@"; }

# ---- approve by another actor ----------------------------------------------
cfg 'message = "check https://test.example/health";'
start_deploy v1.0.0-rc.1
wait_waiting
id=$(json_get "$(last_record)" 'd["id"]')
grep -qF "gantry approve staging $id" "$TMP/deploy.err" || { cat "$TMP/deploy.err"; fail "the waiting stage prints the command"; }
grep -qF "message for approvers: check https://test.example/health" "$TMP/deploy.err" || fail "message shown"
[ ! -f calls ] || ! grep -q "^after " calls || fail "a stage after the gate ran before approval"
as other approve staging
expect_rc 0 "approve by other"
expect_err "approved deploy $id"
finish
[ "$drc" = 0 ] || { cat "$TMP/deploy.err"; fail "approved deploy exit $drc"; }
grep -q "^after run" calls || fail "the stage after the gate ran"
rec=$(last_record)
[ "$(json_get "$rec" 'd["approvals"][0]["by"]')" = other ] || fail "journal: by"
[ "$(json_get "$rec" 'd["approvals"][0]["verdict"]')" = approved ] || fail "journal: verdict"
[ "$(json_get "$rec" 'd["approvals"][0]["decided"] > 0')" = True ] || fail "journal: when"
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["approval.by"]')" = other ] || fail "approval.by output"
run history staging
expect_out "approval 'gate': approved by other at"
run --json history staging
[ "$(json_get "$TMP/out" 'd["deploys"][0]["approvals"][0]["by"]')" = other ] || fail "history --json"
run --json status staging
[ "$(json_get "$TMP/out" 'd["environments"][0]["current"]["approvals"][0]["state"]')" = approved ] || fail "status --json"
ok "a deploy waits at the gate until another actor approves; journal, history and status say who"

bodies >"$TMP/bodies"
python3 - "$TMP/bodies" "$id" <<'PY' || fail "slack: approval.requested and approval.granted"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
texts = [m["text"] for m in msgs]
want = "svc v1.0.0-rc.1 to staging: waits for approval (entry 'gate'): gantry approve staging %s" % sys.argv[2]
assert want in texts, texts
req = json.dumps(msgs[texts.index(want)])
assert "gantry reject staging %s --reason TEXT" % sys.argv[2] in req, req
assert "check https://test.example/health" in req, req
assert "svc v1.0.0-rc.1 to staging: approved (entry 'gate') by other" in texts, texts
PY
ok "slack-notify gets approval.requested with the message and both commands, and approval.granted with who"

# ---- self-approval, then another actor --------------------------------------
cfg ''
start_deploy v1.0.1-rc.1
wait_waiting
id=$(json_get "$(last_record)" 'd["id"]')
run approve staging
expect_rc 2 "self-approval"
expect_err "tester may not approve deploy $id: 'tester' started the deploy, and its approval entry does not allow self-approval (allow_self = false)"
as other --json approve staging "$id"
expect_rc 0
[ "$(json_get "$TMP/out" 'd["verdict"] + " " + d["by"] + " " + d["deploy"]')" = "approved other $id" ] || fail "approve --json"
finish
[ "$drc" = 0 ] || fail "exit $drc after approval"
as third approve staging "$id"
expect_rc 2 "second decision"
expect_err "deploy $id is not waiting for approval: entry 'gate' was already approved by other at"
ok "self-approval refused (exit 2), another actor approves; a second decision names the first"

cfg 'allow_self = true;'
start_deploy v1.0.2-rc.1
wait_waiting
run approve staging
expect_rc 0 "allow_self"
finish
[ "$drc" = 0 ] || fail "exit $drc"
ok "allow_self = true lets the deployer approve"

# ---- approvers --------------------------------------------------------------
cfg 'approvers = ["carol", "dave"];'
start_deploy v1.1.0-rc.1
wait_waiting
id=$(json_get "$(last_record)" 'd["id"]')
as other approve staging
expect_rc 2 "not an approver"
expect_err "other may not approve deploy $id: 'other' is not among the entry's approvers; ask one of the approvers"
as other reject staging
expect_rc 2 "not an approver rejects"
as dave approve staging
expect_rc 0
finish
[ "$drc" = 0 ] || fail "exit $drc"
[ "$(json_get "$(last_record)" 'd["approvals"][0]["by"]')" = dave ] || fail "by dave"
ok "approvers: others refused (exit 2), a listed approver decides"

# ---- reject -----------------------------------------------------------------
cfg ''
start_deploy v1.2.0-rc.1
wait_waiting
run approve staging --reason "x"
expect_rc 2
expect_err "--reason belongs to 'reject', not 'approve'"
as other reject staging --reason "$(printf 'two\nlines')"
expect_rc 2 "a reason over two lines"
expect_err "--reason contains a control character (byte 4: a newline or an escape); give it as one line of text"
as other reject staging --reason "$(printf 'clear \033[2J screen')"
expect_rc 2 "a reason with an escape"
as other reject staging --reason "$(python3 -c 'print("x" * 1001)')"
expect_rc 2 "a reason of 1001 bytes"
expect_err "--reason is 1001 bytes long, more than 1000"
as other reject staging --reason "error rate too high"
expect_rc 0
finish
[ "$drc" = 1 ] || fail "rejected deploy exit $drc"
grep -qF "rejected by other: error rate too high" "$TMP/deploy.err" || { cat "$TMP/deploy.err"; fail "rejection reason shown"; }
! grep -q "^after run" calls || fail "the stage after a rejected gate ran"
rec=$(last_record)
[ "$(json_get "$rec" 'd["approvals"][0]["verdict"] + "/" + d["approvals"][0]["by"] + "/" + d["approvals"][0]["reason"]')" = "rejected/other/error rate too high" ] || fail "journal: rejection"
[ "$(json_get "$rec" 'd["result"] + " " + d["failed_stage"]')" = "failed gate" ] || fail "journal: result"
run history staging
expect_out "approval 'gate': rejected by other at"
expect_out "error rate too high"
bodies >"$TMP/bodies"
grep -qF "svc v1.2.0-rc.1 to staging: rejected (entry 'gate') by other: error rate too high" "$TMP/bodies" || { cat "$TMP/bodies"; fail "slack: approval.rejected"; }
ok "reject with a reason: the stage fails (exit 1), later stages do not run; journal, history and slack say who and why"

cfg 'on_failure = "rollback";'
start_deploy v1.2.1-rc.1
wait_waiting
run reject staging --reason "my own mistake"
expect_rc 0 "the deployer may reject"
finish
[ "$drc" = 3 ] || { cat "$TMP/deploy.err"; fail "rejected with rollback: exit $drc"; }
grep -q "^build rollback" calls || fail "build's rollback ran"
ok "a rejection under on_failure = rollback rolls the earlier stages back (exit 3); the deployer may reject"

# ---- timeout ----------------------------------------------------------------
cfg 'timeout = 2;'
run deploy v1.3.0-rc.1
expect_rc 1 "timeout"
expect_err "no decision within 2 s; nobody approved deploy"
id=$(json_get "$(last_record)" 'd["id"]')
[ "$(json_get "$(last_record)" 'd["approvals"][0]["verdict"] + "/" + d["approvals"][0]["by"]')" = "rejected/gantry" ] || fail "journal: timeout"
as other approve staging "$id"
expect_rc 2
expect_err "deploy $id is not waiting for approval: entry 'gate' was already rejected by gantry at"
ok "no decision within the entry's timeout is a rejection (exit 1); a late approve is refused"

# ---- nothing to decide ------------------------------------------------------
as other approve staging
expect_rc 2
expect_err "no deploy of svc to staging is waiting for approval; see 'gantry status staging'"
as other approve staging 20990101T000000Z-abcdef
expect_rc 2
expect_err "no deploy '20990101T000000Z-abcdef' of svc to staging; see 'gantry history staging'"
as other approve staging ../../etc
expect_rc 2
expect_err "no deploy '../../etc' of svc to staging"
as other --json reject staging
expect_rc 2
[ "$(json_get "$TMP/out" 'd["command"] + " " + str(d["exit_code"])')" = "reject 2" ] || fail "--json error document"
run approve
expect_rc 2
expect_err "'approve' needs an environment ENV"
ok "no waiting deploy, an unknown id, a path for an id, no ENV: one line each, exit 2"

# A deploy killed while it waits leaves its request in the journal; nobody
# waits for a decision on it any more.
cfg ''
start_deploy v1.4.0-rc.1
wait_waiting
id=$(json_get "$(last_record)" 'd["id"]')
kill -9 "$DEPLOY"
finish
as other approve staging "$id"
expect_rc 2
expect_err "deploy $id is not waiting for approval: its process is gone; see 'gantry status staging'"
run status staging
expect_out "abandoned"
expect_out "approval 'gate': undecided (asked at"
ok "a killed deploy's request is not waiting"

# Decisions are files the state directory's trust rule covers.
chmod 777 "$STATE/approvals"
as other approve staging
expect_rc 2
expect_err "approvals directory '$STATE/approvals'"
chmod 700 "$STATE/approvals"
ok "an approvals directory others can write is refused"

# The stage is the core's: listed as built in, planned without waiting.
run plugins list
expect_rc 0
expect_out "approval         loaded    wait for another person's 'gantry approve' or 'gantry reject' (built in)"
cfg 'timeout = 90;'
run plan v1.5.0-rc.1
expect_rc 0
expect_err "no decision within 90 s is a rejection"
ok "plugins list shows the built-in stage; plan says what it would wait for"
