#!/bin/sh
# t2600: the ecs-rolling stage against the sandbox's ECS simulator (time
# scale 60: a simulated minute lasts a second): a healthy rollout; a crash
# loop the circuit breaker stops (rolled back by ECS: exit 3 with the
# stopped reasons and log lines); failing health checks; a slow start
# inside the timeout; a rollout that never stabilises (timeout, the
# stage's own rollback: exit 3) and one whose rollback fails too (exit 4);
# throttling and 5xx bursts while waiting; follow mode (with and without a
# deployment to follow, after an ECS rollback, and when ECS's rollback
# fails too); SIGTERM while waiting;
# a later stage failing (this stage's rollback callback); the wrong
# account refused before any change; `gantry plan`; and every request
# of these runs checked against botocore's models.
. "$top_srcdir/tests/lib.sh"

PY=/usr/bin/python3
if ! [ -x /usr/bin/aws ] || ! $PY -c 'import awscli.botocore.session' 2>/dev/null; then
	echo "SKIP: the Debian AWS CLI (/usr/bin/aws, package awscli) is needed to set up ECS services"
	exit 77
fi

sandbox_start --no-registry --time-scale 60
export AWS_ACCESS_KEY_ID="$SANDBOX_STAGING_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SANDBOX_STAGING_SECRET"
unset AWS_SESSION_TOKEN AWS_PROFILE 2>/dev/null || true

# ecsctl: services set up and inspected with the AWS CLI's botocore,
# an independent client (one process for many calls).
cat >"$TMP/ecsctl.py" <<'EOF'
import os, sys, time
import awscli.botocore.session as bs

s = bs.get_session()
ecs = s.create_client("ecs", region_name="ap-south-1",
                      endpoint_url=os.environ["AWSSIM_URL"],
                      aws_access_key_id=os.environ["SANDBOX_STAGING_KEY_ID"],
                      aws_secret_access_key=os.environ["SANDBOX_STAGING_SECRET"])

def register(family, image):
    return ecs.register_task_definition(family=family, containerDefinitions=[{
        "name": "app", "image": image, "essential": True, "memory": 128,
        "portMappings": [{"containerPort": 8080}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/" + family,
            "awslogs-region": "ap-south-1",
            "awslogs-stream-prefix": "ecs"}}}])["taskDefinition"]["taskDefinitionArn"]

def service(name):
    return ecs.describe_services(cluster="c", services=[name])["services"][0]

def settled(name, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        d = service(name)["deployments"]
        if len(d) == 1 and d[0].get("rolloutState") == "COMPLETED":
            return d[0]["taskDefinition"]
        time.sleep(0.1)
    sys.exit("service %s did not settle" % name)

cmd, name = sys.argv[1], sys.argv[2]
if cmd == "create":        # create NAME IMAGE: a settled service of 2 tasks
    ecs.create_cluster(clusterName="c")
    arn = register(name, sys.argv[3])
    ecs.create_service(cluster="c", serviceName=name, taskDefinition=arn,
        desiredCount=2, healthCheckGracePeriodSeconds=0,
        loadBalancers=[{"targetGroupArn": "arn:aws:elasticloadbalancing:"
                        "ap-south-1:127214192604:targetgroup/%s/0a1b" % name,
                        "containerName": "app", "containerPort": 8080}],
        deploymentConfiguration={"deploymentCircuitBreaker":
                                 {"enable": True, "rollback": True}})
    print(settled(name))
elif cmd == "tf-apply":    # tf-apply NAME IMAGE: what terraform would do
    ecs.update_service(cluster="c", service=name,
                       taskDefinition=register(name, sys.argv[3]))
elif cmd == "settled":     # settled NAME: the one COMPLETED task definition
    print(settled(name))
elif cmd == "primary":     # primary NAME: the PRIMARY deployment's td
    print(service(name)["deployments"][0]["taskDefinition"])
elif cmd == "stop-primary":  # stop-primary NAME: stop the PRIMARY's tasks
    dep = service(name)["deployments"][0]["id"]
    for arn in ecs.list_tasks(cluster="c", serviceName=name)["taskArns"]:
        t = ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
        if t["startedBy"] == dep:
            ecs.stop_task(cluster="c", task=arn, reason="released by the test")
elif cmd == "rolling-back":  # rolling-back NAME: wait until ECS's rollback
    end = time.time() + 10     # (PRIMARY) runs beside the FAILED deployment
    while time.time() < end:
        d = service(name)["deployments"]
        if [x.get("rolloutState") for x in d[:2]] == ["IN_PROGRESS", "FAILED"]:
            sys.exit(0)
        time.sleep(0.1)
    sys.exit("service %s is not rolling back: %s" % (name, [(x["status"], x.get("rolloutState"), x["taskDefinition"]) for x in d]))
EOF
ecsctl() { $PY "$TMP/ecsctl.py" "$@"; }

# sim PATH JSON: a control call of the simulator.
sim() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data "$2" \
		"$AWSSIM_URL/_sim/$1" >"$TMP/sim" || fail "control call /_sim/$1"
}
# calls OP: how many calls of OP the simulator has seen.
calls() {
	sim calls '{}'
	json_get "$TMP/sim" "sum(1 for c in d['calls'] if c['operation'] == '$1')"
}
# gantry_calls OP: how many of them gantry made (not the test's own
# AWS CLI calls, which inspect and hold the service meanwhile).
gantry_calls() {
	sim calls '{"bodies": true}'
	json_get "$TMP/sim" "sum(1 for c in d['calls'] if c['operation'] == '$1' and c.get('user_agent', '').startswith('gantry/'))"
}
scenario() { sim ecs/scenario "{\"image\": \"$1\", \"scenario\": \"$2\"}"; }

# config NAME IMAGE TIMEOUT [STAGE_OPTS [LATER_ENTRIES [ACCOUNT]]]: a
# pipeline publishing IMAGE as image.uri, then ecs-rolling on service
# NAME with the entry's TIMEOUT.
config() {
	write_cfg <<EOF
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["image.uri=$2"]; },
  { stage = "ecs-rolling"; timeout = $3; }${5:-}
);
EOF
	cat >profiles/staging.cfg <<EOF
aws = { region = "ap-south-1"; account_id = "${6:-$SANDBOX_STAGING_ACCOUNT}";
        endpoint_url = "$AWSSIM_URL"; };
stages = { ecs-rolling = { cluster = "c"; service = "$1"; grace_period = 0; ${4:-} }; };
EOF
}
TD() { echo "arn:aws:ecs:ap-south-1:127214192604:task-definition/$1:$2"; }

# ------------------------------------------------------------- healthy
# The rollout is held IN_PROGRESS (its first tasks never pass their health
# checks) until the stage has reported it so; then the test stops those
# tasks and their healthy replacements complete it.  A simulated rollout
# takes a fraction of a second: without the hold, a loaded machine's
# first poll may already see it COMPLETED.
ecsctl create healthy repo/healthy:v1 >/dev/null || fail "setup healthy"
config healthy repo/healthy:v2 60
scenario repo/healthy:v2 never-stable
before=$(gantry_calls DescribeServices)
start=$(date +%s)
"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "2/2 running, 0 pending, 0 failed (IN_PROGRESS)"
scenario repo/healthy:v2 healthy
ecsctl stop-primary healthy || fail "stop the held tasks"
wait $pid
rc=$?
expect_rc 0
expect_err "registered $(TD healthy 2) (container 'app': repo/healthy:v1 -> repo/healthy:v2)"
expect_err "deployment ecs-svc/"
expect_err "2/2 running, 0 pending, 0 failed (COMPLETED)"
# one deployment tracked from IN_PROGRESS to COMPLETED, in that order
python3 - "$TMP/err" <<'PY' || fail "progress lines not one deployment from IN_PROGRESS to COMPLETED"
import re, sys
lines = re.findall(r'deployment (ecs-svc/\d+): \d+/2 running, \d+ pending, '
                   r'0 failed \((\w+)\)', open(sys.argv[1]).read())
states = [st for _, st in lines]
sys.exit(0 if len({d for d, _ in lines}) == 1 and states[-1] == 'COMPLETED'
         and 'COMPLETED' not in states[:-1] and 'IN_PROGRESS' in states
         else 1)
PY
expect_err "event: (service healthy) has reached a steady state."
[ "$(ecsctl settled healthy)" = "$(TD healthy 2)" ] || fail "service not on revision 2"
rec=$(last_record)
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["ecs.outcome"]')" = succeeded ] || fail "ecs.outcome"
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["ecs.previous_task_definition"]')" = "$(TD healthy 1)" ] || fail "ecs.previous_task_definition"
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["ecs.task_definition"]')" = "$(TD healthy 2)" ] || fail "ecs.task_definition"
json_get "$rec" 'd["stages"][1]["outputs"]["ecs.deployment_id"]' | grep -q '^ecs-svc/' || fail "ecs.deployment_id"
n=$(( $(gantry_calls DescribeServices) - before ))
secs=$(( $(date +%s) - start + 1 ))
[ "$n" -le $(( secs + 2 )) ] || fail "$n DescribeServices calls in ${secs} s: polling too often"
ok "healthy rollout: new revision registered, tracked by id to COMPLETED ($n status calls)"

run deploy v1.0.0-rc.2
expect_rc 0
expect_err "already runs $(TD healthy 2) with image repo/healthy:v2; nothing to deploy"
ok "the same image again changes nothing"

# ----------------------------------------------------------- crash loop
ecsctl create crash repo/crash:v1 >/dev/null || fail "setup crash"
scenario repo/crash:v2 crash-loop
config crash repo/crash:v2 60
run deploy v1.0.0-rc.1
expect_rc 3 "circuit breaker"
expect_err "rolled back by ECS: ECS deployment circuit breaker: tasks failed to start"
expect_err "stopped tasks ("
expect_err "Essential container in task exited (app: exit code 1)"
expect_err "log lines (/ecs/crash ecs/app/"
expect_err "panic: failed to connect to database: connection refused"
expect_err "deploy rolled_back at stage 'ecs-rolling' (exit 3"
[ "$(ecsctl settled crash)" = "$(TD crash 1)" ] || fail "service not back on revision 1"
ok "crash loop: circuit breaker, 'rolled back by ECS' with stopped reasons and log lines, exit 3"

# ------------------------------------------------------ failing health checks
ecsctl create sick repo/sick:v1 >/dev/null || fail "setup sick"
scenario repo/sick:v2 unhealthy
config sick repo/sick:v2 60
run deploy v1.0.0-rc.1
expect_rc 3 "health checks"
expect_err "rolled back by ECS: ECS deployment circuit breaker"
expect_err "Task failed ELB health checks in (target-group"
[ "$(ecsctl settled sick)" = "$(TD sick 1)" ] || fail "service not back on revision 1"
ok "failing health checks: the ELB reason is in the error, exit 3"

# --------------------------------------------------- no rolloutState
# A Classic Load Balancer service reports no rolloutState: success is then
# "one deployment, running == desired, our task definition" (docs/ecs.md).
ecsctl create classic repo/classic:v1 >/dev/null || fail "setup classic"
sim ecs/no-rollout-state '{"service": "classic"}'
config classic repo/classic:v2 60
run deploy v1.0.0-rc.1
expect_rc 0 "no rolloutState"
expect_err "2/2 running, 0 pending, 0 failed (no rolloutState)"
sim ecs/no-rollout-state '{"service": "classic", "enabled": false}'
[ "$(ecsctl settled classic)" = "$(TD classic 2)" ] || fail "classic service not on revision 2"
ok "without rolloutState the stage falls back to one deployment, running == desired, its task definition"

# ------------------------------------------------------------ slow start
ecsctl create slow repo/slow:v1 >/dev/null || fail "setup slow"
scenario repo/slow:v2 slow
config slow repo/slow:v2 30
run deploy v1.0.0-rc.1
expect_rc 0 "slow start"
[ "$(ecsctl settled slow)" = "$(TD slow 2)" ] || fail "slow service not on revision 2"
ok "a slow start inside the timeout succeeds"

# The same on a terminal: between polls a status line counts the seconds
# (gantry_status), and none is left on the screen at the end.
ecsctl create live repo/live:v1 >/dev/null || fail "setup live"
scenario repo/live:v2 slow
config live repo/live:v2 30
TERM=xterm python3 "$top_srcdir/tests/pty-run.py" --render 200 "$TMP/tty" \
	"$top_builddir/gantry" --no-color deploy v1.0.0-rc.1 </dev/null ||
	fail "deploy on a terminal: $(tail -c 2000 "$TMP/tty" | cat -v)"
python3 - "$TMP/tty" <<'PY' || fail "no status line, or one left on the screen: $(tail -c 2000 "$TMP/tty" | cat -v)"
import re, sys
raw = open(sys.argv[1], 'rb').read().decode('utf-8', 'replace')
drawn = re.findall(r'\r\x1b\[K  \[ecs-rolling\] deployment ecs-svc/\d+: '
                   r'\d+/\d+ running, \d+ pending, \d+ failed \(\w+\), \d+ s(?=\r)',
                   raw)
screen = open(sys.argv[1] + '.screen').read()
left = re.findall(r'\(\w+\), \d+ s$', screen, re.M)
sys.exit(0 if drawn and not left else 1)
PY
ok "on a terminal the wait shows a live status line, gone at the end"

# ------------------------------------------------ never stable: timeout
ecsctl create never repo/never:v1 >/dev/null || fail "setup never"
scenario repo/never:v2 never-stable
config never repo/never:v2 9
run deploy v1.0.0-rc.1
expect_rc 3 "timeout and rollback"
expect_err "timed out after"
expect_err "rolled back to $(TD never 1)"
expect_err "StopServiceDeployment ROLLBACK"
[ "$(ecsctl settled never)" = "$(TD never 1)" ] || fail "service not back on revision 1"
ok "never stable: timeout, the stage rolls back (StopServiceDeployment), exit 3"

config never repo/never:v2 6 "rollback = false;"
run deploy v1.0.0-rc.2
expect_rc 1 "timeout without rollback"
expect_err "nothing rolled back (rollback = false)"
ok "never stable with rollback = false: timed out, exit 1, nothing touched"

# --------------------------------------------- the rollback fails as well
ecsctl create rbfail repo/rbfail:v1 >/dev/null || fail "setup rbfail"
scenario repo/rbfail:v2 never-stable
scenario repo/rbfail:v1 crash-loop
config rbfail repo/rbfail:v2 12
run deploy v1.0.0-rc.1
expect_rc 4 "rollback failed"
expect_err "timed out after"
expect_err "rolling back to $(TD rbfail 1) failed"
expect_err "needs an operator"
ok "when the previous revision fails too: exit 4"

# ------------------------------------------------- throttling and 5xx
ecsctl create flaky repo/flaky:v1 >/dev/null || fail "setup flaky"
config flaky repo/flaky:v2 60
sim calls '{}'
skip_calls=$(json_get "$TMP/sim" 'len(d["calls"])')
sim fault '{"operation": "DescribeServices", "throttle_every": 2, "status_burst": [503, 500]}'
run deploy v1.0.0-rc.1
sim fault '{}'
expect_rc 0 "throttled"
sim calls '{}'
bad=$(json_get "$TMP/sim" "[c['status'] for c in d['calls'][$skip_calls:] if c['operation'] == 'DescribeServices' and c['status'] >= 400]")
echo "$bad" | grep -q 503 || fail "no 503 was injected: $bad"
echo "$bad" | grep -q 400 || fail "no throttling was injected: $bad"
[ "$(ecsctl settled flaky)" = "$(TD flaky 2)" ] || fail "flaky service not on revision 2"
ok "throttling and a 5xx burst while waiting: retried, still succeeds ($bad)"

# --------------------------------------------------------------- follow
ecsctl create follow repo/follow:v1 >/dev/null || fail "setup follow"
config follow repo/follow:v2 60 'mode = "follow";'
run deploy v1.0.0-rc.1
expect_rc 0
expect_err "service 'follow' already runs $(TD follow 1); nothing to follow"
ok "follow mode says plainly when no deployment was started"

# The apply may finish before the stage looks (a simulated rollout takes
# a fraction of a second): follow_since, in the simulator's clock, names
# the moment the apply began.
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
ecsctl tf-apply follow repo/follow:v2 || fail "tf-apply"
config follow repo/follow:v2 60 "mode = \"follow\"; follow_since = $since;"
regs=$(calls RegisterTaskDefinition)
ups=$(calls UpdateService)
run deploy v1.0.0-rc.2
expect_rc 0
expect_err "following deployment ecs-svc/"
expect_err "2/2 running, 0 pending, 0 failed (COMPLETED)"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "follow mode registered a task definition"
[ "$(calls UpdateService)" = "$ups" ] || fail "follow mode called UpdateService"
ok "follow mode follows the deployment terraform started, changes nothing itself"

scenario repo/follow:v3 crash-loop
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
ecsctl tf-apply follow repo/follow:v3 || fail "tf-apply v3"
config follow repo/follow:v3 60 "mode = \"follow\"; follow_since = $since;"
run deploy v1.0.0-rc.3
expect_rc 3
expect_err "rolled back by ECS"
expect_err "Terraform's state still describes the failed release"
expect_err "gantry rollback staging"
ok "follow mode after an ECS rollback says Terraform's state is stale and how to re-align"

# ECS got there first: the release terraform started was already rolled
# back when the stage looked (a slow start of gantry, or `--only
# ecs-rolling` run later).  The PRIMARY is then ECS's rollback, settled and
# COMPLETED; it must not pass for the release's success.
scenario repo/follow:v5 crash-loop
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
ecsctl tf-apply follow repo/follow:v5 || fail "tf-apply v5"
ecsctl settled follow >/dev/null || fail "ECS did not roll v5 back"
config follow repo/follow:v5 60 "mode = \"follow\"; follow_since = $since;"
run deploy v1.0.0-rc.5
expect_rc 3
expect_err "is ROLLBACK_SUCCESSFUL"
expect_err "back before gantry looked"
expect_err "rolled back by ECS: ECS deployment circuit breaker: tasks failed to start"
expect_err "gantry rollback staging"
expect_no_err "deploy succeeded"
ok "follow mode when ECS rolled back before the stage looked: a failure (exit 3), not the rollback's success"

# The same without follow_since, as the shipped pipeline runs it (the core
# publishes no deploy.started): a slow apply, and ECS's rollback is done,
# alone and COMPLETED, before the stage starts.  The current service
# deployment says ROLLBACK_SUCCESSFUL; the failed deployment, gone from
# the service, is named by its events, and explained as if watched.
scenario repo/follow:v6 crash-loop
ecsctl tf-apply follow repo/follow:v6 || fail "tf-apply v6"
[ "$(ecsctl settled follow)" = "$(TD follow 2)" ] || fail "ECS did not roll v6 back to revision 2"
config follow repo/follow:v6 60 'mode = "follow";'
run deploy v1.0.0-rc.6
expect_rc 3
expect_err "ECS rolled deployment ecs-svc/"
expect_err "of $(TD follow 5) back before gantry looked"
expect_err "is ROLLBACK_SUCCESSFUL"
expect_err "rolled back by ECS: ECS deployment circuit breaker: tasks failed to start"
expect_err "Essential container in task exited (app: exit code 1)"
expect_err "panic: failed to connect to database: connection refused"
expect_no_err "nothing to follow"
expect_no_err "deploy succeeded"
ok "follow mode, no follow_since, ECS's rollback finished before the stage looked: exit 3 'rolled back by ECS' with reasons and log lines"

# ECS's rollback still running when the stage looks: it is held (its
# tasks never pass their health checks) until the stage waits for it,
# then released (those tasks stopped, healthy ones replace them).
scenario repo/follow:v7 crash-loop
scenario repo/follow:v2 never-stable
ecsctl tf-apply follow repo/follow:v7 || fail "tf-apply v7"
ecsctl rolling-back follow || fail "ECS did not start rolling v7 back"
config follow repo/follow:v7 60 'mode = "follow";'
"$top_builddir/gantry" deploy v1.0.0-rc.7 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "waiting for ECS to roll back to $(TD follow 2)"
scenario repo/follow:v2 healthy
ecsctl stop-primary follow || fail "stop the held rollback tasks"
wait $pid
rc=$?
expect_rc 3
expect_err "of $(TD follow 6) back before gantry looked"
expect_err "is ROLLBACK_IN_PROGRESS"
expect_err "rolled back by ECS: ECS deployment circuit breaker: tasks failed to start"
expect_err "panic: failed to connect to database: connection refused"
expect_no_err "deploy succeeded"
[ "$(ecsctl settled follow)" = "$(TD follow 2)" ] || fail "v7 not rolled back to revision 2"
ok "follow mode, ECS's rollback in progress when the stage looked: waits for it, exit 3 'rolled back by ECS'"

# ECS's own rollback fails too: the previous release's tasks no longer
# start either (its image or something it needs is gone).  The service
# deployment ends ROLLBACK_FAILED: exit 4, an operator is needed - not 3.
scenario repo/follow:v8 crash-loop
scenario repo/follow:v2 crash-loop
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
ecsctl tf-apply follow repo/follow:v8 || fail "tf-apply v8"
config follow repo/follow:v8 60 "mode = \"follow\"; follow_since = $since;"
run deploy v1.0.0-rc.8
expect_rc 4 "ECS's rollback failed"
expect_err "following deployment ecs-svc/"
expect_err "and ECS's rollback to $(TD follow 2) failed"
expect_err "the service needs an operator"
expect_no_err "rolled back by ECS"
expect_no_err "deploy succeeded"
scenario repo/follow:v2 healthy
ok "follow mode, ECS's own rollback fails: exit 4 'needs an operator', not 'rolled back by ECS'"

# ------------------------------------------------------------- SIGTERM
ecsctl create term repo/term:v1 >/dev/null || fail "setup term"
scenario repo/term:v2 never-stable
config term repo/term:v2 60
"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "running, 0 pending"
kill -TERM $pid
wait $pid
rc=$?
expect_rc 130 "SIGTERM"
expect_err "interrupted while waiting for deployment ecs-svc/"
if nm -D "$top_builddir/sdk/.libs/libgantry.so" 2>/dev/null | grep -q ' T gantry_ctx_clear_interrupt$'; then
	expect_err "rolled back to $(TD term 1)"
	[ "$(ecsctl settled term)" = "$(TD term 1)" ] || fail "service not back on revision 1 after SIGTERM"
	ok "SIGTERM while waiting: exit 130, the previous revision restored"
else
	expect_err "cannot roll back"
	echo "# SIGTERM rollback not checked: libgantry lacks gantry_ctx_clear_interrupt"
	ok "SIGTERM while waiting: exit 130"
fi

# ------------------------------------------- an alarm during the bake time
ecsctl create alarm repo/alarm:v1 >/dev/null || fail "setup alarm"
sim alarm '{"account": "127214192604", "region": "ap-south-1", "name": "alarm-5xx", "state": "OK"}'
config alarm repo/alarm:v2 60 'alarms = ["alarm-5xx"]; bake_time = 30;'
"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "of bake time"
sim alarm '{"account": "127214192604", "region": "ap-south-1", "name": "alarm-5xx", "state": "ALARM"}'
wait $pid
rc=$?
expect_rc 3 "alarm"
expect_err "alarm 'alarm-5xx' is in ALARM"
expect_err "rolled back to $(TD alarm 1)"
[ "$(ecsctl settled alarm)" = "$(TD alarm 1)" ] || fail "service not back on revision 1 after the alarm"
ok "an alarm firing during the bake time rolls the service back, exit 3"

# ------------------------------------------------- a later stage fails
ecsctl create later repo/later:v1 >/dev/null || fail "setup later"
config later repo/later:v2 60 "" ',
  { stage = "tfix"; name = "smoke"; action = "fail"; on_failure = "rollback"; }'
run deploy v1.0.0-rc.1
expect_rc 3 "later stage failed"
expect_err "rolling service 'later' back to $(TD later 1)"
expect_err "service 'later' is back on $(TD later 1)"
[ "$(ecsctl settled later)" = "$(TD later 1)" ] || fail "service not back on revision 1"
ok "a later stage failing runs this stage's rollback: back on the previous revision"

# ------------------------------------------------------- wrong account
ecsctl create acct repo/acct:v1 >/dev/null || fail "setup acct"
config acct repo/acct:v2 60 "" "" "$SANDBOX_PRODUCTION_ACCOUNT"
regs=$(calls RegisterTaskDefinition)
ups=$(calls UpdateService)
run deploy v1.0.0-rc.1
[ "$rc" != 0 ] || fail "deploy into the wrong account succeeded"
expect_err "$SANDBOX_PRODUCTION_ACCOUNT"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "registered a task definition in the wrong account"
[ "$(calls UpdateService)" = "$ups" ] || fail "UpdateService in the wrong account"
[ "$(ecsctl primary acct)" = "$(TD acct 1)" ] || fail "service changed"
ok "the wrong account is refused before any change"

# ------------------------------------------------------------------ plan
ecsctl create plan repo/plan:v1 >/dev/null || fail "setup plan"
config plan repo/plan:v2 60 'image = "repo/plan:v2"; alarms = ["plan-5xx"]; bake_time = 30;'
regs=$(calls RegisterTaskDefinition)
run plan v1.0.0-rc.1
expect_rc 0
expect_err "runs $(TD plan 1), container 'app' image repo/plan:v1"
expect_err "- image: repo/plan:v1"
expect_err "+ image: repo/plan:v2"
expect_err "deployment configuration: minimum healthy 100 %, maximum 200 %, circuit breaker on, rollback on"
expect_err "alarms: 'plan-5xx'"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "plan registered a task definition"
[ "$(ecsctl primary plan)" = "$(TD plan 1)" ] || fail "plan changed the service"
ok "plan shows the current revision and image, the diff and the configuration, changes nothing"

# ------------------------------------------- every request against the model
# All the requests gantry sent above (ECS, CloudWatch, Logs, STS), checked
# against botocore's models (tests/sandbox/awsmodel.py).
if python3 -c "import sys; sys.path.insert(0, '$top_srcdir/tests/sandbox'); import awsmodel; awsmodel.load('ecs')" 2>/dev/null; then
	sim calls '{"bodies": true}'
	python3 "$top_srcdir/tests/sandbox/awsmodel.py" "$TMP/sim" --min 50 >"$TMP/model" 2>&1 ||
		fail "requests that do not match the AWS model:
$(cat "$TMP/model")"
	ok "every request of these runs matches botocore's models: $(tail -n 1 "$TMP/model")"
else
	echo "# no botocore ECS model: requests not checked against it"
fi
