#!/bin/sh
# t3000: `make demo`'s scenario (contrib/demo/run-demo) at a faster time
# scale: the seed's workflow run by gantry against the sandbox, with the
# example service really served.  Checks each step's exit code and the
# version answering /healthz (the driver's results.tsv), the journal
# records, the Slack messages the capture server received, and, for the
# blue/green steps, the load generator's count of production answers.
. "$top_srcdir/tests/lib.sh"

W="$TMP/demo"
bash "$top_srcdir/contrib/demo/run-demo" "$top_builddir" "$top_srcdir" \
	--time-scale 30 --workdir "$W" >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc = 77 ]; then
	grep "skipped" "$TMP/err" | sed 's/^demo: skipped/SKIP/'
	exit 77
fi
# fail shows out and err; the driver's output is long, so keep its tail,
# then the whole logs of the steps that failed (results.tsv), so that a
# failure under load can be diagnosed from the test's log alone.
tail -n 60 "$TMP/out" >"$TMP/out.tail"
tail -n 80 "$TMP/err" >"$TMP/err.tail"
mv "$TMP/out.tail" "$TMP/out"
mv "$TMP/err.tail" "$TMP/err"
# step_log N: step N's whole stderr, appended to what fail shows.
step_log() {
	[ -f "$W/logs/step$1.err" ] || return 0
	grep -qF -- "--- $W/logs/step$1.err" "$TMP/err" && return 0
	{
		echo "--- $W/logs/step$1.err:"
		cat "$W/logs/step$1.err"
	} >>"$TMP/err"
}
if [ -s "$W/results.tsv" ]; then
	for n in $(awk -F '\t' '$8 != "OK" { print $1 }' "$W/results.tsv"); do
		step_log "$n"
	done
fi
# fail_step N MESSAGE: fail, showing step N's whole stderr.
fail_step() { step_log "$1"; fail "$2"; }
[ -s "$W/results.tsv" ] || fail "the demo wrote no results (exit $rc)"

# step N WANT_RC WANT_VERSION: the driver's line for step N.
step() {
	line=$(awk -F '\t' -v n="$1" '$1 == n' "$W/results.tsv")
	[ -n "$line" ] || fail "step $1 did not run"
	got_rc=$(printf '%s\n' "$line" | cut -f4)
	got_ver=$(printf '%s\n' "$line" | cut -f6)
	[ "$got_rc" = "$2" ] || fail_step "$1" "step $1 ($(printf '%s\n' "$line" | cut -f2)): exit $got_rc, expected $2"
	[ "$got_ver" = "$3" ] || fail_step "$1" "step $1: /healthz answers $got_ver, expected $3"
}
step 0 0 0.0.9-rc.1
step 1 0 0.1.0-rc.1
step 2 2 0.0.0
step 3 0 0.1.0
step 4 3 0.1.0-rc.1
step 5 1 0.1.0
step 6 0 0.1.0-rc.1
step 7 0 -
step 8 0 v0.2.0
step 9 3 v0.2.0
[ "$rc" = 0 ] || fail "the demo exited $rc"
ok "every step exits as expected and /healthz answers the expected version"

grep -qF "demo: all 10 steps behaved as expected" "$TMP/out" || fail "no summary"
grep -qF "rolled back by ECS: ECS deployment circuit breaker" "$W/logs/step4.err" ||
	fail_step 4 "step 4 does not say 'rolled back by ECS'"
grep -qF "panic: failed to connect to database" "$W/logs/step4.err" ||
	fail_step 4 "step 4 does not show the crashed tasks' log lines"
grep -qF "promotion: v0.1.0-rc.1 passed staging" "$W/logs/step3.err" ||
	fail_step 3 "step 3 does not check the promotion"
grep -qF "needs a successful staging deploy of v0.1.1-rc.N" "$W/logs/step5.err" ||
	fail_step 5 "step 5 is not refused for want of a staging release"
grep -qF "needs approval" "$W/logs/step2.err" || fail_step 2 "step 2 is not refused for approval"
grep -qF "rollback: reusing image" "$W/logs/step6.err" || fail_step 6 "step 6 rebuilt the image"
grep -qF "already pushed" "$W/logs/step6.err" || fail_step 6 "step 6 pushed the image again"
grep -qF "check 'http://$(. "$W/sandbox/env.sh"; echo "$SANDBOX_TEST_LISTENER")/addresses' failed after" \
	"$W/logs/step9.err" || fail_step 9 "step 9's smoke did not fail on the test listener"
grep -qF "rolling back 'ecs-rolling'" "$W/logs/step9.err" ||
	fail_step 9 "step 9 did not roll the paused deployment back"
ok "the output explains: promotion, approval, ECS rollback with reasons and logs, image reuse, smoke on the test listener"

# The load generator on the production listener: answers throughout both
# blue/green steps, none failed; the good release took production traffic,
# the broken one none.
cat >"$TMP/load.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))
EOF
lq() { python3 "$TMP/load.py" "$W/logs/step$1.load.json" "$2"; }
[ "$(lq 8 'd["requests"] > 20 and d["failed"] == 0')" = True ] ||
	fail_step 8 "step 8's production requests: $(lq 8 'd["by_version_status"]')"
[ "$(lq 8 'sorted(d["by_version"])')" = "['v0.1.0', 'v0.2.0']" ] ||
	fail_step 8 "step 8's production answers: $(lq 8 'd["by_version_status"]')"
[ "$(lq 9 'd["requests"] > 20 and d["failed"] == 0')" = True ] ||
	fail_step 9 "step 9's production requests: $(lq 9 'd["by_version_status"]')"
[ "$(lq 9 'sorted(d["by_version"])')" = "['v0.2.0']" ] ||
	fail_step 9 "production reached the broken release: $(lq 9 'd["by_version_status"]')"
grep -q "^load: step 9, production listener: [0-9]* requests .*0 failed, 0 reached v0.2.1" "$TMP/out" ||
	fail "the summary lacks the load generator's counts of step 9"
ok "production listener under load: v0.1.0 then v0.2.0, nothing failed; the broken v0.2.1 reached no production request"

# The journal: one record per deploy that ran (the refused approval ran
# nothing), newest last.
J="$W/state/journal"
cat >"$TMP/journal.py" <<'EOF'
import glob, json, sys
recs = sorted((json.load(open(p)) for p in glob.glob(sys.argv[1] + "/*.json")),
              key=lambda d: d["started"])
print(eval(sys.argv[2]))
EOF
jq() { python3 "$TMP/journal.py" "$J" "$1"; }
[ "$(jq 'len(recs)')" = 8 ] || fail "$(jq 'len(recs)') journal records, expected 8"
[ "$(jq '[(d["tag"], d["environment"], d["result"], d["exit_code"]) for d in recs]')" = \
  "[('v0.0.9-rc.1', 'staging', 'succeeded', 0), ('v0.1.0-rc.1', 'staging', 'succeeded', 0), ('v0.1.0', 'production', 'succeeded', 0), ('v0.1.1-rc.1', 'staging', 'rolled_back', 3), ('v0.1.1', 'production', 'failed', 1), ('v0.1.0-rc.1', 'staging', 'succeeded', 0), ('v0.2.0', 'production-bg', 'succeeded', 0), ('v0.2.1', 'production-bg', 'rolled_back', 3)]" ] ||
	fail "journal: $(jq '[(d["tag"], d["environment"], d["result"], d["exit_code"]) for d in recs]')"
[ "$(jq '[s["status"] for s in recs[1]["stages"]]')" = \
  "['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']" ] ||
	fail "staging v0.1.0-rc.1: not every stage succeeded"
[ "$(jq '[s["name"] for s in recs[1]["stages"]]')" = \
  "['git-release', 'integration-tests', 'docker-build', 'ecr', 'terraform', 'ecs-rolling', 'smoke']" ] ||
	fail "the pipeline is not the shipped one"
jq 'recs[1]["image_digest"]' | grep -q '^sha256:' || fail "no image digest recorded"
[ "$(jq 'recs[1]["context"]["image.uri"].split("/", 1)[1]')" = "staging/address-api:v0.1.0-rc.1" ] ||
	fail "staging image uri: $(jq 'recs[1]["context"]["image.uri"]')"
[ "$(jq 'recs[2]["context"]["image.uri"].split("/", 1)[1]')" = "prod/address-api:v0.1.0" ] ||
	fail "production image uri: $(jq 'recs[2]["context"]["image.uri"]')"
[ "$(jq 'recs[2]["context"]["aws.account_id"]')" = 429032495558 ] || fail "production account"
[ "$(jq 'recs[2]["approved_by"]')" = "$GANTRY_ACTOR" ] || fail "approval not recorded"
[ "$(jq 'recs[3]["failed_stage"]')" = ecs-rolling ] || fail "the crash loop failed elsewhere"
jq 'recs[3]["reason"]' | grep -qF "rolled back by ECS" || fail "reason of the crash loop"
[ "$(jq 'recs[4]["failed_stage"]')" = git-release ] || fail "v0.1.1 failed elsewhere"
[ "$(jq 'recs[5]["context"].get("deploy.rollback")')" = true ] || fail "rollback not journaled"
[ "$(jq 'recs[5]["context"].get("deploy.rollback_of")')" = v0.1.1-rc.1 ] || fail "rollback_of"
[ "$(jq '[(s["name"], s["status"]) for s in recs[6]["stages"]][4:]')" = \
  "[('ecs-rolling', 'succeeded'), ('smoke', 'succeeded'), ('ecs-continue', 'succeeded')]" ] ||
	fail "blue/green v0.2.0: $(jq '[(s["name"], s["status"]) for s in recs[6]["stages"]]')"
[ "$(jq 'recs[7]["failed_stage"]')" = smoke ] || fail "v0.2.1 failed elsewhere: $(jq 'recs[7]["failed_stage"]')"
! grep -rqF "hook-token" "$J" || fail "the Slack webhook secret is in the journal"
ok "journal: results, exit codes, stages, image, approval, failed stages, rollback"

# Slack: start and an outcome for every deploy that ran, to each
# environment's webhook (read from Secrets Manager).
cat >"$TMP/slack.py" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
b = [json.loads(r["body"]) for r in c]
print(eval(sys.argv[2]))
EOF
sq() { python3 "$TMP/slack.py" "$W/slack.json" "$1"; }
[ "$(sq 'len(c)')" = 12 ] || fail "$(sq 'len(c)') Slack messages, expected 12"
# The failures' texts go on with ": stage 'NAME': reason".
[ "$(sq '[x["text"].split(": stage ")[0] for x in b]')" = \
  "['address-api v0.0.9-rc.1 to staging: started', 'address-api v0.0.9-rc.1 to staging: succeeded', 'address-api v0.1.0-rc.1 to staging: started', 'address-api v0.1.0-rc.1 to staging: succeeded', 'address-api v0.1.0 to production: started', 'address-api v0.1.0 to production: succeeded', 'address-api v0.1.1-rc.1 to staging: started', 'address-api v0.1.1-rc.1 to staging: failed, rolled back', 'address-api v0.1.1 to production: started', 'address-api v0.1.1 to production: failed', 'address-api v0.1.0-rc.1 to staging: started', 'address-api v0.1.0-rc.1 to staging: succeeded']" ] ||
	fail "Slack texts: $(sq '[x["text"] for x in b]')"
[ "$(sq 'sorted(set(r["path"] for r in c))')" = \
  "['/services/T0DEMO/B0production/production-hook-token', '/services/T0DEMO/B0staging/staging-hook-token']" ] ||
	fail "webhooks: $(sq 'sorted(set(r["path"] for r in c))')"
[ "$(sq 'all(("production" in r["path"]) == ("production" in x["text"]) for r, x in zip(c, b))')" = True ] ||
	fail "a message went to the other environment's webhook"
sq '[x for x in b if "rolled back" in x["text"]][0]' | grep -qF "ecs-rolling" ||
	fail "the rolled-back message does not name the stage"
ok "Slack: start, success, failure and rolled-back messages to each environment's webhook"

# Everything the demo started is gone.
for f in "$W"/sandbox/*.pid; do
	[ -f "$f" ] && fail "the sandbox's $(basename "$f") is left"
done
if [ -s "$W/slack.port" ] &&
   curl -s -m 1 "http://127.0.0.1:$(cat "$W/slack.port")/_captured" >/dev/null 2>&1; then
	fail "the Slack capture server still answers"
fi
. "$W/served.env"
for port in "$STAGING_PORT" "$PROD_PORT"; do
	! curl -s -m 1 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 ||
		fail "the example service still answers on $port"
done
left=$(python3 - "$W/logs/step" <<'EOF'
import os, sys
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open("/proc/%s/cmdline" % pid).read().split("\0")
    except OSError:
        continue
    if any(a.endswith("loadgen.py") for a in argv) and \
            any(a.startswith(sys.argv[1]) for a in argv):
        print(pid, " ".join(argv))
EOF
)
[ -z "$left" ] || fail "a load generator is left: $left"
ok "the demo stopped every process it started"
