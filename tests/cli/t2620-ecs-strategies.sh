#!/bin/sh
# t2620: ecs-rolling's ECS-native strategies against the sandbox's ECS
# simulator with its production and test listeners (time scale 60): a
# blue/green deployment that succeeds (production then serves the new
# version, one DescribeServiceDeployments per poll); canary and linear; a
# Lambda hook answering FAILED (rolled back by ECS, exit 3); back to
# rolling; a broken release paused at POST_TEST_TRAFFIC_SHIFT whose smoke
# test on the test listener fails (the pause answered ROLLBACK, exit 3,
# production never served it); a pause continued by a later entry, and a
# failure after it; continue without a pause, and of a hook answered
# meanwhile; `gantry rollback` while a paused deployment is in flight
# (StopServiceDeployment ROLLBACK); follow mode (the strategy read from the
# service; a pause where the entry does not stop: timeout and ECS's
# rollback; pause_at without the service's hook); a STOPPED deployment;
# plan; a non-rolling strategy on a service without advancedConfiguration
# and options that do not belong together (refused before any change);
# and every request checked against botocore's model.
. "$top_srcdir/tests/lib.sh"

# Services are set up with botocore >= 1.43 (an independent client that
# knows the strategies, advancedConfiguration and the hooks).
python3 -c 'import botocore.session as s; c = s.get_session().create_client("ecs", region_name="ap-south-1", aws_access_key_id="a", aws_secret_access_key="b"); c.continue_service_deployment' 2>/dev/null ||
	skip "botocore >= 1.43 (it knows ContinueServiceDeployment) is needed to set up blue/green services (pip install 'botocore>=1.43')"
MODEL="$top_srcdir/tests/sandbox/awsmodel.py"
python3 -c "import sys; sys.path.insert(0, '$top_srcdir/tests/sandbox'); import awsmodel; awsmodel.load('ecs')" 2>/dev/null ||
	skip "no botocore ECS model to check requests against (pip install botocore)"

sandbox_start --no-registry --time-scale 60
export AWS_ACCESS_KEY_ID="$SANDBOX_STAGING_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SANDBOX_STAGING_SECRET"
unset AWS_SESSION_TOKEN AWS_PROFILE 2>/dev/null || true
ACCT=$SANDBOX_STAGING_ACCOUNT

cat >"$TMP/ecsctl.py" <<'EOF'
import json, os, sys, time
import botocore.session as bs

ACCOUNT, REGION = os.environ["SANDBOX_STAGING_ACCOUNT"], "ap-south-1"
TG = "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%%s/0123456789abcdef" % (REGION, ACCOUNT)
RULE = "arn:aws:elasticloadbalancing:%s:%s:listener-rule/app/web/01/23/%%s" % (REGION, ACCOUNT)
ROLE = "arn:aws:iam::%s:role/ecs-blue-green" % ACCOUNT
LAMBDA = "arn:aws:lambda:%s:%s:function:smoke-hook" % (REGION, ACCOUNT)

ecs = bs.get_session().create_client(
    "ecs", region_name=REGION, endpoint_url=os.environ["AWSSIM_URL"],
    aws_access_key_id=os.environ["SANDBOX_STAGING_KEY_ID"],
    aws_secret_access_key=os.environ["SANDBOX_STAGING_SECRET"])

def register(family, image):
    return ecs.register_task_definition(family=family, containerDefinitions=[{
        "name": "app", "image": image, "essential": True, "memory": 128,
        "portMappings": [{"containerPort": 8080}]}])["taskDefinition"]["taskDefinitionArn"]

def service(name):
    return ecs.describe_services(cluster="c", services=[name])["services"][0]

def current(name):
    arn = service(name)["currentServiceDeployment"]
    return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]

def settled(name, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        if current(name)["status"] == "SUCCESSFUL":
            return
        time.sleep(0.1)
    sys.exit("service %s did not settle: %s" % (name, current(name)["status"]))

cmd, name = sys.argv[1], sys.argv[2]
if cmd == "create":   # create NAME IMAGE [plain|lambda]: one task, blue/green
    kind = sys.argv[4] if len(sys.argv) > 4 else "bg"
    ecs.create_cluster(clusterName="c")
    lb = {"targetGroupArn": TG % (name + "-blue"), "containerName": "app",
          "containerPort": 8080}
    dc = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    if kind != "plain":
        lb["advancedConfiguration"] = {
            "alternateTargetGroupArn": TG % (name + "-green"),
            "productionListenerRule": RULE % (name + "-prod"),
            "testListenerRule": RULE % (name + "-test"), "roleArn": ROLE}
        dc.update({"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0})
    if kind.startswith("lambda"):
        dc["lifecycleHooks"] = [{"targetType": "AWS_LAMBDA",
                                 "hookTargetArn": LAMBDA, "roleArn": ROLE,
                                 "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}]
    if kind == "pause-first":   # the first deployment held at PRE_SCALE_UP
        dc["lifecycleHooks"] = [{"targetType": "PAUSE",
                                 "lifecycleStages": ["PRE_SCALE_UP"]}]
    ecs.create_service(cluster="c", serviceName=name,
        taskDefinition=register(name, sys.argv[3]), desiredCount=1,
        healthCheckGracePeriodSeconds=0, loadBalancers=[lb],
        deploymentConfiguration=dc)
    if kind in ("bg", "lambda"):
        settled(name)
elif cmd == "tf-apply":  # tf-apply NAME IMAGE: what terraform would do
    ecs.update_service(cluster="c", service=name,
                       taskDefinition=register(name, sys.argv[3]))
elif cmd == "status":    # status NAME: the current service deployment's status
    print(current(name)["status"])
elif cmd == "config":    # config NAME: the service's deploymentConfiguration
    print(json.dumps(service(name)["deploymentConfiguration"], sort_keys=True, default=str))
elif cmd == "abort":     # abort NAME: StopServiceDeployment ABORT
    ecs.stop_service_deployment(serviceDeploymentArn=current(name)["serviceDeploymentArn"],
                                stopType="ABORT")
elif cmd == "tf-pause":  # tf-pause NAME STAGE: terraform puts a PAUSE hook there
    ecs.update_service(cluster="c", service=name, deploymentConfiguration={
        "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": [sys.argv[3]]}]})
elif cmd == "continue":  # continue NAME: continue its awaiting pause
    sd = current(name)
    hook = [h for h in sd["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION"][0]
    ecs.continue_service_deployment(serviceDeploymentArn=sd["serviceDeploymentArn"],
                                    hookId=hook["hookId"], action="CONTINUE")
EOF
ecsctl() { python3 "$TMP/ecsctl.py" "$@"; }

sim() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data "$2" \
		"$AWSSIM_URL/_sim/$1" >"$TMP/sim" || fail "control call /_sim/$1"
}
calls() {
	sim calls '{}'
	json_get "$TMP/sim" "sum(1 for c in d['calls'] if c['operation'] == '$1')"
}
# bind NAME: the listeners route to service NAME; served counts reset.
bind() {
	sim traffic/bind "{\"account\": \"$ACCT\", \"region\": \"ap-south-1\", \"cluster\": \"c\", \"service\": \"$1\"}"
	sim traffic/status '{"reset_counts": true}'
}
# served KIND: {version: {status: count}} the listener KIND served.
served() {
	sim traffic/status '{}'
	json_get "$TMP/sim" "d['served']['$1']"
}
# answers LISTENER: the body GET / through it answers now.
answers() { curl -sS "http://$1/" 2>/dev/null; }

# config NAME IMAGE ENTRY_OPTS [LATER_ENTRIES [PROFILE_OPTS]]: a pipeline
# publishing IMAGE, then ecs-rolling (entry "deploy") on service NAME.
config() {
	write_cfg <<EOF
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["image.uri=$2"]; },
  { stage = "ecs-rolling"; name = "deploy"; timeout = 90; $3 }${4:-}
);
EOF
	go=
	case "${4:-}" in *'name = "go"'*) go="go = { cluster = \"c\"; service = \"$1\"; };" ;; esac
	cat >profiles/staging.cfg <<EOF
aws = { region = "ap-south-1"; account_id = "$ACCT"; endpoint_url = "$AWSSIM_URL"; };
stages = { deploy = { cluster = "c"; service = "$1"; grace_period = 0; ${5:-} }; $go };
EOF
}
TD() { echo "arn:aws:ecs:ap-south-1:$ACCT:task-definition/$1:$2"; }
output() { json_get "$(last_record)" "[s for s in d['stages'] if s['name'] == '${2:-deploy}'][0]['outputs'].get('$1', '')"; }

# ------------------------------------------------------ blue/green succeeds
ecsctl create bg repo/bg:v1 || fail "setup bg"
bind bg
config bg repo/bg:v2 'strategy = "blue_green"; bake_time = 121;'
sds=$(calls DescribeServiceDeployments)
dss=$(calls DescribeServices)
run deploy v1.0.0-rc.1
expect_rc 0 "blue/green"
expect_err "updated service 'bg': deployment ecs-svc/"
expect_err "(blue_green)"

expect_err ": IN_PROGRESS BAKE_TIME, production new 100 % old 0 %"
expect_err "SUCCESSFUL in"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v2 ] || fail "production does not serve v2: $(answers "$SANDBOX_PROD_LISTENER")"
[ "$(output ecs.outcome)" = succeeded ] || fail "ecs.outcome $(output ecs.outcome)"
[ "$(output ecs.strategy)" = blue_green ] || fail "ecs.strategy $(output ecs.strategy)"
output ecs.service_deployment | grep -q ':service-deployment/' || fail "ecs.service_deployment $(output ecs.service_deployment)"
ecsctl config bg | grep -q '"bakeTimeInMinutes": 3' || fail "bake time 121 s not sent as 3 minutes: $(ecsctl config bg)"
# one DescribeServiceDeployments per poll, no DescribeServices meanwhile
n=$(( $(calls DescribeServices) - dss ))
[ "$n" -le 2 ] || fail "$n DescribeServices calls while following a service deployment"
m=$(( $(calls DescribeServiceDeployments) - sds ))
ok "blue/green: SUCCESSFUL, production serves v2, stages shown live ($m DescribeServiceDeployments, $n DescribeServices)"

# ------------------------------------------------------- canary and linear
ecsctl create can repo/can:v1 || fail "setup can"
bind can
config can repo/can:v2 'strategy = "canary"; canary_percent = 20; canary_bake_time = 120;'
run deploy v1.0.0-rc.1
expect_rc 0 "canary"
expect_err "production new 20 % old 80 %"
ecsctl config can | grep -q '"canaryConfiguration": {"canaryBakeTimeInMinutes": 2, "canaryPercent": 20.0}' || fail "canary configuration: $(ecsctl config can)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v2 ] || fail "production does not serve the canary's v2"
ok "canary 20 %: production took 20 % then all, SUCCESSFUL"

ecsctl create lin repo/lin:v1 || fail "setup lin"
bind lin
config lin repo/lin:v2 'strategy = "linear"; linear_step_percent = 50.0; linear_step_bake_time = 60;'
run deploy v1.0.0-rc.1
expect_rc 0 "linear"
expect_err "production new 50 % old 50 %"
ecsctl config lin | grep -q '"linearConfiguration": {"stepBakeTimeInMinutes": 1, "stepPercent": 50.0}' || fail "linear configuration: $(ecsctl config lin)"
ok "linear 50 %: two steps, SUCCESSFUL"

# Going back on a canary service is not another canary: the rollback's
# redeploy moves all production traffic in one step (canaryPercent 100,
# no step bake); the next deploy sends the configured steps again.
config can repo/can:v3 'strategy = "canary"; canary_percent = 20; canary_bake_time = 120;' ",
  { stage = \"tfix\"; name = \"late\"; action = \"fail\"; on_failure = \"rollback\"; }"
run deploy v1.0.0-rc.3
expect_rc 3 "canary, then a later entry fails"
expect_err "rolling service 'can' back to $(TD can 2)"
expect_err "service 'can' is back on $(TD can 2)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v2 ] || fail "production not back on v2"
ecsctl config can | grep -q '"canaryConfiguration": {"canaryBakeTimeInMinutes": 0, "canaryPercent": 100.0}' || fail "the rollback's redeploy went as a canary: $(ecsctl config can)"
config can repo/can:v4 'strategy = "canary"; canary_percent = 20; canary_bake_time = 120;'
run deploy v1.0.0-rc.4
expect_rc 0 "canary after a rollback"
expect_err "production new 20 % old 80 %"
ecsctl config can | grep -q '"canaryConfiguration": {"canaryBakeTimeInMinutes": 2, "canaryPercent": 20.0}' || fail "the next deploy did not restore the canary steps: $(ecsctl config can)"
ok "rollback on a canary service: all traffic back in one step, the next deploy a canary again"

# ------------------------------------------------- a Lambda hook FAILED
ecsctl create lam repo/lam:v1 lambda || fail "setup lam"
bind lam
sim ecs/lambda-hook '{"function": "smoke-hook", "hookStatus": "FAILED"}'
config lam repo/lam:v2 'strategy = "blue_green";'
run deploy v1.0.0-rc.1
expect_rc 3 "Lambda hook FAILED"
expect_err "rolled back by ECS:"
expect_err "lifecycle hook AWS_LAMBDA arn:aws:lambda:ap-south-1:$ACCT:function:smoke-hook FAILED"
expect_err "ROLLBACK_SUCCESSFUL"
ecsctl config lam | grep -q 'AWS_LAMBDA' || fail "the service's Lambda hook was dropped"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v1 ] || fail "production not back on v1"
ok "a Lambda hook answering FAILED: exit 3 'rolled back by ECS', the service's hook kept"

# Back to rolling: ROLLING named (it was BLUE_GREEN), the hooks ECS
# refuses with it cleared; the outcome read from deployments[] as before.
config lam repo/lam:v3 ''
run deploy v1.0.0-rc.2
expect_rc 0 "back to rolling"
expect_err "1/1 running, 0 pending, 0 failed (COMPLETED)"
ecsctl config lam | grep -q '"strategy": "ROLLING"' || fail "not switched to ROLLING: $(ecsctl config lam)"
ecsctl config lam | grep -q 'AWS_LAMBDA' && fail "hooks left with ROLLING: $(ecsctl config lam)"
[ "$(output ecs.strategy)" = rolling ] || fail "ecs.strategy $(output ecs.strategy)"
ok "strategy rolling on a blue/green service: switched back to ROLLING, hooks cleared, judged as a rolling deployment"

# ---------------- pause, smoke on the test listener fails, ECS rolls back
ecsctl create bad repo/bad:v1 || fail "setup bad"
bind bad
config bad repo/bad:v2-bad 'strategy = "blue_green"; bake_time = 60; pause_at = "POST_TEST_TRAFFIC_SHIFT";' ",
  { stage = \"exec\"; name = \"load\"; command = [\"sh\", \"-c\", \"for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do curl -sS http://$SANDBOX_PROD_LISTENER/ >/dev/null || exit 1; done\"]; },
  { stage = \"smoke\"; name = \"smoke\"; url = \"http://$SANDBOX_TEST_LISTENER/\"; attempts = 1; on_failure = \"rollback\"; },
  { stage = \"ecs-rolling\"; name = \"go\"; mode = \"continue\"; }"
# stderr time-stamped: how soon after the smoke failed the rollback was
# requested (what the benchmark measures).
{ "$top_builddir/gantry" deploy v1.0.0-rc.1 2>&1 >"$TMP/out"; echo $? >"$TMP/rc"; } |
	python3 -c 'import sys, time
for line in sys.stdin:
    sys.stdout.write("%.3f %s" % (time.time(), line)); sys.stdout.flush()' >"$TMP/err"
rc=$(cat "$TMP/rc")
expect_rc 3 "smoke failed on the paused release"
lag=$(python3 - "$TMP/err" <<'PY'
import sys
t = {}
for line in open(sys.argv[1]):
    stamp, text = line.split(" ", 1)
    if "smoke failed" in text and "fail" not in t:
        t["fail"] = float(stamp)
    if "rollback requested:" in text:
        t["req"] = float(stamp)
print("%.2f" % (t["req"] - t["fail"]) if len(t) == 2 else "none")
PY
)
[ "$lag" != none ] || fail "no smoke failure or rollback request line: $(cat "$TMP/err")"
python3 -c "import sys; sys.exit(0 if $lag < 5 else 1)" || fail "the rollback was requested $lag s after the smoke failed"
expect_err "paused at POST_TEST_TRAFFIC_SHIFT: hook ecs-pause-"
expect_err "rollback requested: ContinueServiceDeployment ROLLBACK of service deployment"
expect_err "ROLLBACK_SUCCESSFUL"
[ "$(ecsctl status bad)" = ROLLBACK_SUCCESSFUL ] || fail "service deployment $(ecsctl status bad)"
prod=$(served production)
echo "$prod" | grep -q "v2-bad" && fail "production served the broken release: $prod"
python3 -c "import sys; d = $prod; sys.exit(0 if d.get('v1', {}).get('200', 0) >= 20 else 1)" ||
	fail "production did not serve v1 during the pause: $prod"
test=$(served test)
echo "$test" | grep -q "v2-bad" || fail "the smoke test never reached the broken release on the test listener: $test"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v1 ] || fail "production not on v1"
ecsctl config bad | grep -q '"lifecycleStages": \["POST_TEST_TRAFFIC_SHIFT"\], "targetType": "PAUSE", "timeoutConfiguration": {"action": "ROLLBACK", "timeoutInMinutes": 1440}' ||
	fail "the PAUSE hook sent: $(ecsctl config bad)"
ok "paused release failing its smoke test: hook answered ROLLBACK, exit 3, production never served it (production: $prod; test: $test); rollback requested $lag s after the smoke failed"

# ---------------------------------------------- pause, smoke passes, continue
config bad repo/bad:v3 'strategy = "blue_green"; pause_at = "POST_TEST_TRAFFIC_SHIFT";' ",
  { stage = \"smoke\"; name = \"smoke\"; checks = ( { url = \"http://$SANDBOX_TEST_LISTENER/\"; expect_body = \"v3\"; } ); attempts = 1; on_failure = \"rollback\"; },
  { stage = \"ecs-rolling\"; name = \"go\"; mode = \"continue\"; }"
run deploy v1.0.0-rc.2
expect_rc 0 "pause and continue"
expect_err "continued service deployment"
[ "$(output ecs.outcome)" = paused ] || fail "pausing entry's outcome $(output ecs.outcome)"
[ "$(output ecs.lifecycle_stage)" = POST_TEST_TRAFFIC_SHIFT ] || fail "ecs.lifecycle_stage $(output ecs.lifecycle_stage)"
output ecs.hook_id | grep -q '^ecs-pause-' || fail "ecs.hook_id"
[ "$(output ecs.outcome go)" = succeeded ] || fail "continue entry's outcome $(output ecs.outcome go)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v3 ] || fail "production not on v3"
ok "paused, smoke passed on the test listener, continued: SUCCESSFUL, production on v3"

# ------------------------- pause, a second person rejects: ECS rolls back
# The approval stage at the pause (DESIGN §10): another actor's `gantry
# reject` fails the entry, its on_failure = "rollback" answers the paused
# deployment's hook ROLLBACK; production stays on v3 throughout.
config bad repo/bad:v4 'strategy = "blue_green"; pause_at = "POST_TEST_TRAFFIC_SHIFT";' ",
  { stage = \"approval\"; name = \"review\"; timeout = 60; on_failure = \"rollback\";
    message = \"compare the test listener with production\"; },
  { stage = \"ecs-rolling\"; name = \"go\"; mode = \"continue\"; }"
"$top_builddir/gantry" deploy v1.0.0-rc.3 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "run 'gantry approve staging "
[ "$(ecsctl status bad)" = IN_PROGRESS ] || fail "the deployment is not paused while the approval waits: $(ecsctl status bad)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v3 ] || fail "production moved before the approval"
GANTRY_ACTOR=reviewer "$top_builddir/gantry" reject staging --reason "test listener answers too slowly" \
	>"$TMP/rej.out" 2>"$TMP/rej.err" || fail "reject: $(cat "$TMP/rej.err")"
wait $pid
rc=$?
expect_rc 3 "rejected at the pause"
expect_err "rejected by reviewer: test listener answers too slowly"
expect_err "rollback requested: ContinueServiceDeployment ROLLBACK of service deployment"
[ "$(ecsctl status bad)" = ROLLBACK_SUCCESSFUL ] || fail "service deployment $(ecsctl status bad)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v3 ] || fail "production not on v3 after the rejection"
[ "$(json_get "$(last_record)" 'd["approvals"][0]["by"]')" = reviewer ] || fail "journal: who rejected"
ok "approval at the pause rejected by another actor: hook answered ROLLBACK, exit 3, production stayed on v3"

# A later entry fails after the continue: the continue entry's rollback
# redeploys the previous revision (without the pause), the pausing entry's
# finds the service there already.
config bad repo/bad:v3b 'strategy = "blue_green"; pause_at = "POST_TEST_TRAFFIC_SHIFT";' ",
  { stage = \"ecs-rolling\"; name = \"go\"; mode = \"continue\"; },
  { stage = \"tfix\"; name = \"late\"; action = \"fail\"; on_failure = \"rollback\"; }"
run deploy v1.0.0-rc.2b
expect_rc 3 "a later entry fails after the continue"
expect_err "rolling service 'bad' back to $(TD bad 3)"
expect_err "service 'bad' is back on $(TD bad 3)"
expect_err "service 'bad' already runs $(TD bad 3)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v3 ] || fail "production not back on v3"
ecsctl config bad | grep -q PAUSE && fail "the rollback's redeploy kept the PAUSE hook: $(ecsctl config bad)"
ok "a failure after the continue: back on the previous revision, no pause left on the service"

# --------------------------------------------- continue with nothing paused
write_cfg <<EOF
pipeline = ( { stage = "ecs-rolling"; name = "go"; mode = "continue"; cluster = "c"; service = "bad"; } );
EOF
cat >profiles/staging.cfg <<EOF
aws = { region = "ap-south-1"; account_id = "$ACCT"; endpoint_url = "$AWSSIM_URL"; };
EOF
run deploy v1.0.0-rc.3
expect_rc 1 "continue without a pause"
expect_err "mode = \"continue\" found no paused deployment: the context has no ecs.service_deployment nor ecs.hook_id"
ok "continue without a pausing entry: exit 1 naming what is missing"

# A pause the continue entry finds answered already (by someone else).
config bad repo/bad:v4 'strategy = "blue_green"; pause_at = "POST_TEST_TRAFFIC_SHIFT";' ",
  { stage = \"exec\"; name = \"meddle\"; command = [\"python3\", \"$TMP/ecsctl.py\", \"continue\", \"bad\"]; },
  { stage = \"ecs-rolling\"; name = \"go\"; mode = \"continue\"; }"
run deploy v1.0.0-rc.4
expect_rc 1 "continue of a continued hook"
expect_err "cannot continue service deployment"
expect_err "is SUCCEEDED"
ok "continue of a hook no longer AWAITING_ACTION: a clear failure"

# ----------------------- gantry rollback while a paused deployment is in flight
ecsctl create rb repo/rb:v1 || fail "setup rb"
bind rb
config rb repo/rb:v2 'strategy = "blue_green";'
run deploy v1.0.0-rc.1
expect_rc 0 "rb v2"
config rb repo/rb:v3 'strategy = "blue_green"; pause_at = "POST_TEST_TRAFFIC_SHIFT";'
run deploy v1.0.0-rc.2
expect_rc 0 "rb v3 paused"
[ "$(ecsctl status rb)" = IN_PROGRESS ] || fail "v3 not in flight"
stops=$(calls StopServiceDeployment)
regs=$(calls RegisterTaskDefinition)
run rollback staging
expect_rc 0 "rollback in flight"
expect_err "asking ECS to roll it back instead of deploying"
expect_err "rollback requested: StopServiceDeployment ROLLBACK"
[ "$(( $(calls StopServiceDeployment) - stops ))" = 1 ] || fail "no StopServiceDeployment"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "the rollback registered a task definition"
[ "$(ecsctl status rb)" = ROLLBACK_SUCCESSFUL ] || fail "v3 is $(ecsctl status rb)"
[ "$(answers "$SANDBOX_PROD_LISTENER")" = v2 ] || fail "production not back on v2"
[ "$(output ecs.outcome)" = rolled_back_in_flight ] || fail "ecs.outcome $(output ecs.outcome)"
ok "gantry rollback with a paused deployment in flight: StopServiceDeployment ROLLBACK, back on v2"

# ------------------------------------------------------------------ follow
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
bind can
ecsctl tf-apply can repo/can:v5 || fail "tf-apply"
config can repo/can:v5 "mode = \"follow\"; follow_since = $since;"
regs=$(calls RegisterTaskDefinition)
ups=$(calls UpdateService)
run deploy v1.0.0-rc.5
expect_rc 0 "follow blue/green"
expect_err "following service deployment"
expect_err "(CANARY) of $(TD can 5)"
[ "$(output ecs.strategy)" = canary ] || fail "follow ecs.strategy $(output ecs.strategy)"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "follow registered"
[ "$(calls UpdateService)" = "$ups" ] || fail "follow updated"
ok "follow mode reads the strategy from the service and follows its service deployment"

# Terraform's PAUSE hook where the entry does not stop: a warning, then
# the timeout and ECS's rollback (exit 3).
ecsctl tf-pause lin PRE_SCALE_UP || fail "tf-pause"
bind lin
ecsctl tf-apply lin repo/lin:v3 || fail "tf-apply lin"
config lin repo/lin:v3 'mode = "follow";'
sed -i 's/timeout = 90;/timeout = 9;/' gantry.cfg
run deploy v1.0.0-rc.6
expect_rc 3 "a pause nobody continues"
expect_err "is paused at PRE_SCALE_UP (hook ecs-pause-"
expect_err "where this entry does not stop"
expect_err "timed out after"
expect_err "rollback requested: StopServiceDeployment ROLLBACK"
expect_err "ECS rolled it back"
[ "$(ecsctl status lin)" = ROLLBACK_SUCCESSFUL ] || fail "lin is $(ecsctl status lin)"
ok "follow mode, paused where the entry does not stop: warned, timed out, ECS rolled back (exit 3)"

# pause_at in follow mode needs the service's PAUSE hook there.
ecsctl tf-apply lin repo/lin:v4 || fail "tf-apply lin v4"
config lin repo/lin:v4 'mode = "follow"; pause_at = "POST_SCALE_UP";'
run deploy v1.0.0-rc.7
expect_rc 1 "follow pause_at without the hook"
expect_err "pause_at = POST_SCALE_UP, and service deployment"
expect_err "has no PAUSE hook there; follow mode does not change the service"
ecsctl continue lin 2>/dev/null || true
ok "follow mode with pause_at where the service has no PAUSE hook: a failure naming it"

# A deployment STOPPED (aborted) while the stage waits: a failure.
ecsctl create stop repo/stop:v1 || fail "setup stop"
bind stop
config stop repo/stop:v2 'strategy = "blue_green"; bake_time = 1200;'
"$top_builddir/gantry" deploy v1.0.0-rc.1 >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for "$TMP/err" "IN_PROGRESS BAKE_TIME"
ecsctl abort stop || fail "abort"
wait $pid
rc=$?
expect_rc 1 "STOPPED"
expect_err "was STOPPED: Service deployment stopped by StopServiceDeployment; nothing was rolled back"
[ "$(output ecs.outcome)" = stopped ] || fail "ecs.outcome $(output ecs.outcome)"
ok "a service deployment STOPPED while waited for: exit 1"

# A service's first deployment has nothing to go back to: ECS's rollback
# fails (ROLLBACK_FAILED), exit 4.  The Lambda hook still answers FAILED.
sim now '{}'
since=$(json_get "$TMP/sim" 'int(d["now"])')
ecsctl create first repo/first:v1 lambda-first || fail "setup first"
config first repo/first:v1 "mode = \"follow\"; follow_since = $since;"
run deploy v1.0.0-rc.1
expect_rc 4 "ROLLBACK_FAILED"
expect_err "failed and ECS's rollback failed too"
expect_err "the service needs an operator"
[ "$(output ecs.outcome)" = rollback_failed ] || fail "ecs.outcome $(output ecs.outcome)"
ok "ROLLBACK_FAILED (a first deployment's hook failed): exit 4"

# The pausing entry's rollback when ECS cannot roll back: the callback
# fails, exit 4.
ecsctl create held repo/held:v1 pause-first || fail "setup held"
config held repo/held:v1 'mode = "follow"; pause_at = "PRE_SCALE_UP";' ',
  { stage = "tfix"; name = "late"; action = "fail"; on_failure = "rollback"; }'
run deploy v1.0.0-rc.1
expect_rc 4 "the pausing entry's rollback fails"
expect_err "paused at PRE_SCALE_UP"
expect_err "rollback requested: ContinueServiceDeployment ROLLBACK"
expect_err "it ended ROLLBACK_FAILED"
ok "the pausing entry's rollback ending ROLLBACK_FAILED: the callback fails, exit 4"

# -------------------------------------------------------------------- plan
config can repo/can:v3 'strategy = "canary"; canary_percent = 2.5; canary_bake_time = 90; pause_at = "PRE_SCALE_UP";'
run plan v1.0.0-rc.9
expect_rc 0 "plan"
expect_err "deployment strategy: canary (CANARY), bake time 0 min"
expect_err "canary: 2.5 % of production traffic"
expect_err "canary bake time 2 min"
expect_err "lifecycle hooks: PAUSE at PRE_SCALE_UP (timeout 1440 min, then ROLLBACK)"
expect_err "production listener rule arn:aws:elasticloadbalancing:ap-south-1:$ACCT:listener-rule/app/web/01/23/can-prod"
expect_err "target groups arn:aws:elasticloadbalancing:ap-south-1:$ACCT:targetgroup/can-blue/0123456789abcdef (primary)"
ok "plan shows the strategy, its steps, the hooks and the service's traffic settings"

# ------------------------------------- no advancedConfiguration: refused
ecsctl create plain repo/plain:v1 plain || fail "setup plain"
config plain repo/plain:v2 'strategy = "blue_green";'
regs=$(calls RegisterTaskDefinition)
run deploy v1.0.0-rc.1
expect_rc 1 "no advancedConfiguration"
expect_err "strategy blue_green needs the service's load balancer traffic settings, and service 'plain' lacks loadBalancers[].advancedConfiguration (alternateTargetGroupArn, productionListenerRule, roleArn)"
[ "$(calls RegisterTaskDefinition)" = "$regs" ] || fail "registered before refusing"
run plan v1.0.0-rc.1
expect_err "would refuse: service 'plain' lacks loadBalancers[].advancedConfiguration"
ok "a non-rolling strategy on a service without advancedConfiguration: refused before any change (exit 1; plan says so), naming what is missing"

# ---------------------------------------------------------- option misuse
# Choices (strategy, pause_at's stages), the percents' ranges and which
# strategy (or mode) an option belongs to are option rules (ABI 1.2):
# `gantry config check` refuses them (exit 2), and so does deploy before
# anything runs.  Only what a rule cannot say stays at init (exit 1,
# before any ECS request): pause_at with a rolling strategy in update mode
# (follow mode takes the strategy from the service).
config bg repo/bg:v9 'strategy = "blue_green"; pause_at = "TEST_TRAFFIC_SHIFT";'
run config check staging
expect_rc 2 "pause_at at a traffic shift"
expect_err "pause_at"
config bg repo/bg:v9 'strategy = "blue-green";'
run config check staging
expect_rc 2 "strategy misspelt"
expect_err "blue_green"
ecs_calls() {
	sim calls '{}'
	json_get "$TMP/sim" "sum(1 for c in d['calls'] if c['service'] == 'ecs')"
}
refused() {	# refused WHAT ENTRY_OPTS MESSAGE: exit 2 at config check and deploy
	config bg repo/bg:v9 "$2"
	run config check staging
	expect_rc 2 "$1 (config check)"
	expect_err "$3"
	before=$(ecs_calls)
	run deploy v1.0.0-rc.9
	expect_rc 2 "$1 (deploy)"
	expect_err "$3"
	[ "$(ecs_calls)" = "$before" ] || fail "$1: ECS requests before the refusal"
}
misuse() {	# misuse WHAT ENTRY_OPTS MESSAGE: exit 1 at init
	config bg repo/bg:v9 "$2"
	before=$(ecs_calls)
	run deploy v1.0.0-rc.9
	expect_rc 1 "$1"
	expect_err "$3"
	[ "$(ecs_calls)" = "$before" ] || fail "$1: ECS requests before the refusal"
}
refused "canary_percent with blue_green" 'strategy = "blue_green"; canary_percent = 5;' \
	"option 'canary_percent' of stage 'deploy' applies only when 'strategy' is 'canary', and 'strategy' is 'blue_green' ("
expect_err "); remove 'canary_percent' or set strategy = \"canary\""
refused "linear_step_bake_time with canary" 'strategy = "canary"; linear_step_bake_time = 60;' \
	"option 'linear_step_bake_time' of stage 'deploy' applies only when 'strategy' is 'linear', and 'strategy' is 'canary'"
refused "canary_bake_time with the default strategy" 'canary_bake_time = 60;' \
	"option 'canary_bake_time' of stage 'deploy' applies only when 'strategy' is 'canary', and 'strategy' is 'rolling' (default)"
misuse "pause_at with rolling" 'pause_at = "POST_TEST_TRAFFIC_SHIFT";' \
	"option 'pause_at' needs strategy blue_green, linear or canary, and strategy is rolling"
refused "step below 3 %" 'strategy = "linear"; linear_step_percent = 2.5;' \
	"option 'linear_step_percent' of stage 'deploy' must be 3.0 to 100.0 with at most 1 decimal place, not '2.5'"
refused "pause_at with continue" 'mode = "continue"; strategy = "blue_green"; pause_at = "PRE_SCALE_UP";' \
	"option 'pause_at' of stage 'deploy' applies only when 'mode' is 'update' or 'follow', and 'mode' is 'continue'"
config plain repo/plain:v2 'mode = "follow"; pause_at = "PRE_SCALE_UP";'
run deploy v1.0.0-rc.8
expect_rc 1 "follow pause_at on a rolling service"
expect_err "pause_at = PRE_SCALE_UP, and service 'plain' deploys with strategy ROLLING"
refused "two decimals" 'strategy = "canary"; canary_percent = "2.55";' \
	"option 'canary_percent' of stage 'deploy' must be 0.1 to 100.0 with at most 1 decimal place, not '2.55'"
refused "a percent that is no number" 'strategy = "canary"; canary_percent = "five";' \
	"option 'canary_percent' of stage 'deploy' must be 0.1 to 100.0 with at most 1 decimal place, not 'five'"
ok "choices, percents and options of another strategy or mode refused by config check and deploy (exit 2); pause_at with rolling in update mode at init (exit 1); no ECS request"

# ------------------------------------------- every request against the model
sim calls '{"bodies": true}'
python3 "$MODEL" "$TMP/sim" --min 30 >"$TMP/model" 2>&1 ||
	fail "requests that do not match the AWS model:
$(cat "$TMP/model")"
ok "every request of these runs matches botocore's models: $(tail -n 1 "$TMP/model")"
