# lib-ecs-requests.sh - what t2610 and t2611 share: the sandbox (no
# registry), ecsctl (services set up with the AWS CLI's botocore, an
# independent client), deploy_taskdef and check_requests (every request
# checked against botocore's models, tests/sandbox/awsmodel.py).  Sourced
# after lib.sh; skips the test without the Debian AWS CLI or a model.

PY=/usr/bin/python3
[ -x /usr/bin/aws ] && $PY -c 'import awscli.botocore.session' 2>/dev/null ||
	skip "the Debian AWS CLI (/usr/bin/aws with its botocore) is needed to set up ECS services (apt-get install awscli)"
MODEL="$top_srcdir/tests/sandbox/awsmodel.py"
python3 -c "import sys; sys.path.insert(0, '$top_srcdir/tests/sandbox'); import awsmodel; awsmodel.load('ecs')" 2>/dev/null ||
	skip "no botocore ECS model to check requests against (apt-get install awscli, or pip install botocore)"

sandbox_start --no-registry --time-scale 60
export AWS_ACCESS_KEY_ID="$SANDBOX_STAGING_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SANDBOX_STAGING_SECRET"
unset AWS_SESSION_TOKEN AWS_PROFILE 2>/dev/null || true

# ecsctl: the simulator's control API and services set up with the AWS
# CLI's botocore (an independent client).
cat >"$TMP/ecsctl.py" <<'EOF'
import json, os, sys, time, urllib.error, urllib.request
import awscli.botocore.session as bs

ACCOUNT, REGION = os.environ["SANDBOX_STAGING_ACCOUNT"], "ap-south-1"
# Tags every seeded revision carries besides its own: what a deploy
# must not drop (cost allocation, access control).
TAGS = [{"key": "cost-center", "value": "cc-4711"},
        {"key": "team", "value": "payments"}]
# Response-only members of TaskDefinition: DescribeTaskDefinition returns
# them, RegisterTaskDefinitionRequest has none of them.
EXTRA = {"requiresAttributes": [
             {"name": "com.amazonaws.ecs.capability.task-iam-role"}],
         "registeredBy": "arn:aws:iam::%s:role/admin" % ACCOUNT,
         "deleteRequestedAt": 1700000000.0}
RESPONSE_ONLY = {"taskDefinitionArn", "revision", "status", "registeredAt",
                 "registeredBy", "deregisteredAt", "deleteRequestedAt",
                 "requiresAttributes", "compatibilities"}

s = bs.get_session()
ecs = s.create_client("ecs", region_name=REGION,
                      endpoint_url=os.environ["AWSSIM_URL"],
                      aws_access_key_id=os.environ["SANDBOX_STAGING_KEY_ID"],
                      aws_secret_access_key=os.environ["SANDBOX_STAGING_SECRET"])

def control(path, body):
    req = urllib.request.Request(os.environ["AWSSIM_URL"] + "/_sim/" + path,
                                 json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)

def fill(doc):
    """The AWS docs' skeleton (every field, empty strings) made
    registrable: names, images and tag keys must not be empty."""
    td = doc.get("taskDefinition", doc)
    for i, c in enumerate(td.get("containerDefinitions") or []):
        c["name"] = c.get("name") or "c%d" % i
        c["image"] = c.get("image") or "repo/%s:v1" % c["name"]
    return doc

def settled(name, seconds=10):
    end = time.time() + seconds
    while time.time() < end:
        d = ecs.describe_services(cluster="c", services=[name])["services"][0]["deployments"]
        if len(d) == 1 and d[0].get("rolloutState") == "COMPLETED":
            return d[0]["taskDefinition"]
        time.sleep(0.1)
    sys.exit("service %s did not settle" % name)

cmd, name = sys.argv[1], sys.argv[2]
if cmd == "seed":          # seed NAME FILE: a service on FILE's revision
    text = open(sys.argv[3], encoding="utf-8").read()
    try:
        doc = fill(json.loads(text))
        text = json.dumps({"taskDefinition": doc.get("taskDefinition", doc),
                           "tags": [t for t in doc.get("tags") or []
                                    if t.get("key")] + TAGS})
    except ValueError:
        pass               # sent as it is: the simulator must refuse it
    status, out = control("ecs/task-definition", {
        "account": ACCOUNT, "region": REGION,
        "name": os.path.basename(sys.argv[3]), "family": name,
        "text": text, "extra": EXTRA})
    if status != 200:
        print("refused (%d): %s" % (status, out.get("error")))
        sys.exit(3)
    arn = out["taskDefinition"]["taskDefinitionArn"]
    ecs.create_cluster(clusterName="c")
    ecs.create_service(cluster="c", serviceName=name, taskDefinition=arn,
                       desiredCount=1)
    settled(name)
    print(out["taskDefinition"]["containerDefinitions"][0]["name"])
elif cmd == "compare":     # compare NAME OLD NEW CONTAINER IMAGE
    old = ecs.describe_task_definition(taskDefinition=sys.argv[3], include=["TAGS"])
    new = ecs.describe_task_definition(taskDefinition=sys.argv[4], include=["TAGS"])
    bad = []
    if new.get("tags") != old.get("tags") or not old.get("tags"):
        bad.append("tags: %s became %s" % (old.get("tags"), new.get("tags")))
    a = {k: v for k, v in old["taskDefinition"].items() if k not in RESPONSE_ONLY}
    b = {k: v for k, v in new["taskDefinition"].items() if k not in RESPONSE_ONLY}
    for c in a["containerDefinitions"]:
        if c["name"] == sys.argv[5]:
            c["image"] = sys.argv[6]
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            bad.append("%s: %s became %s" % (k, json.dumps(a.get(k))[:200],
                                              json.dumps(b.get(k))[:200]))
    if bad:
        sys.exit("\n".join(bad))
EOF
ecsctl() { $PY "$TMP/ecsctl.py" "$@"; }
TD() { echo "arn:aws:ecs:ap-south-1:127214192604:task-definition/$1:$2"; }

# deploy_taskdef FILE NAME: service NAME in cluster c starts on the
# revision FILE holds (a DescribeTaskDefinition answer or a task
# definition, tagged); a deploy of repo/NAME:v2 must register a revision
# with the old one's tags and members, only the image changed.  A FILE
# whose name says MALFORMED must be refused by the simulator, clearly.
deploy_taskdef() {
	f=$1 name=$2
	base=$(basename "$f" .json)
	case $base in
	*MALFORMED*)
		ecsctl seed "$name" "$f" >"$TMP/seed" 2>&1
		[ $? = 3 ] || fail "$base: the simulator took a malformed task definition: $(cat "$TMP/seed")"
		grep -q "is not valid JSON: Expecting ',' delimiter: line [0-9]* column [0-9]*.*; fix the file" "$TMP/seed" ||
			fail "$base: unclear refusal: $(cat "$TMP/seed")"
		ok "$base: refused with a clear error ($(cat "$TMP/seed"))"
		return ;;
	esac
	container=$(ecsctl seed "$name" "$f") || fail "$base: cannot seed: $container"
	write_cfg <<EOF
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["image.uri=repo/$name:v2"]; },
  { stage = "ecs-rolling"; timeout = 60; }
);
EOF
	cat >profiles/staging.cfg <<EOF
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT";
        endpoint_url = "$AWSSIM_URL"; };
stages = { ecs-rolling = { cluster = "c"; service = "$name"; container = "$container"; grace_period = 0; }; };
EOF
	run deploy v1.0.0-rc.1
	expect_rc 0 "$base"
	expect_err "registered $(TD "$name" 2) (container '$container': "
	ecsctl compare "$name" "$(TD "$name" 1)" "$(TD "$name" 2)" "$container" "repo/$name:v2" 2>"$TMP/cmp" ||
		fail "$base: the new revision differs from the old one: $(cat "$TMP/cmp")"
	ok "$base: new revision with the old one's tags and members, only the image changed"
}

# check_requests MIN: every request gantry sent to the simulator (at
# least MIN) matches botocore's model, and DescribeTaskDefinition asked
# for the tags.
check_requests() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data '{"bodies": true}' \
		"$AWSSIM_URL/_sim/calls" >"$TMP/calls.json" || fail "cannot read the calls"
	python3 "$MODEL" "$TMP/calls.json" --min "$1" >"$TMP/model" 2>&1
	mrc=$?
	[ $mrc = 0 ] || fail "requests that do not match the AWS model:
$(cat "$TMP/model")"
	json_get "$TMP/calls.json" "sum(1 for c in d['calls'] if c['operation'] == 'DescribeTaskDefinition' and c['user_agent'].startswith('gantry/') and c['params'].get('include') == ['TAGS'])" >"$TMP/n"
	[ "$(cat "$TMP/n")" -ge 1 ] || fail "DescribeTaskDefinition never asked for TAGS"
	ok "every request gantry sent matches botocore's model: $(tail -n 1 "$TMP/model")"
}
