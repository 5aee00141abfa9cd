# aws.sh - the AWS peers, all against one sandbox (tests/sandbox): the ECR
# API and STS (throttling, 5xx bursts, wrong credentials, refused, a
# malformed answer), the registry (down, 401, 503), ECS (throttling, 5xx,
# a rollout that times out, the circuit breaker).  Faults come from the
# simulator's /_sim/fault; a registry or an endpoint that answers badly is
# a local server.  Sourced by matrix.sh.

SB="$TMP/sb"
AWS_ROWS="ecr-api sts registry ecs"
if ! "$top_srcdir/tests/sandbox/sandbox" start "$SB" --no-registry \
	--time-scale 60 --parent-pid $$ --max-lifetime 600 >"$TMP/sb.out" 2>&1; then
	for r in $AWS_ROWS; do
		cell_begin $r sandbox
		cell_na "the sandbox does not start: $(tail -n 1 "$TMP/sb.out")"
	done
	return 0 2>/dev/null || exit 0
fi
. "$SB/env.sh"
export AWS_ACCESS_KEY_ID="$SANDBOX_STAGING_KEY_ID"
export AWS_SECRET_ACCESS_KEY="$SANDBOX_STAGING_SECRET"
export AWS_CONFIG_FILE="$TMP/none" AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL 2>/dev/null || true

# sim PATH JSON: a control call of the simulator.
sim() {
	curl -sS -f -X POST -H 'Content-Type: application/json' --data "$2" \
		"$AWSSIM_URL/_sim/$1" >"$TMP/sim" 2>&1 || problem "control call /_sim/$1"
}

# A one-layer OCI image layout, as docker-build writes it.
LAYOUT="$TMP/layout"
python3 - "$LAYOUT" <<'PY'
import hashlib, io, json, os, sys, tarfile
d = sys.argv[1]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(data):
    h = hashlib.sha256(data).hexdigest()
    open("%s/blobs/sha256/%s" % (d, h), "wb").write(data)
    return {"digest": "sha256:" + h, "size": len(data)}
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    info = tarfile.TarInfo("hello")
    info.size = 3
    t.addfile(info, io.BytesIO(b"hi\n"))
layer = blob(buf.getvalue())
config = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
manifest = blob(json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")]}).encode())
json.dump({"schemaVersion": 2, "manifests": [dict(manifest,
    mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"org.opencontainers.image.ref.name": "v1.0.0-rc.1"})]},
    open(d + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(d + "/oci-layout", "w"))
PY

# ecr_cfg ENDPOINT [ECR_OPTIONS [AWS_KEYS]]: prev, then ecr pushing $LAYOUT
# through the AWS endpoint ENDPOINT.
ecr_cfg() {
	cfg_stage "stage = \"ecr\"; repository = \"staging/api\"; create_repository = true; layout = \"$LAYOUT\"; tag = \"$TAG\"; ${2:-}"
	cat >profiles/staging.cfg <<CFG
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT";
        endpoint_url = "$1"; ${3:-} };
CFG
}

# ------------------------------------------------------- ECR API and STS
start_garbage garbage
GARBAGE="http://127.0.0.1:$PORT"
start_httpd awsjson '{"default": {"status": 200, "body": "{\"authorizationData\": [{\"authorizationToken\": ", "headers": {"Content-Type": "application/x-amz-json-1.1"}}}'
CUTJSON="http://127.0.0.1:$PORT"
DEAD=$(free_port)

# aws_cell ROW FAULT FAULT-JSON FRAGMENT [ENDPOINT [AWS_KEYS]]
aws_cell() {
	cell_begin "$1" "$2"
	sim fault '{}'
	ecr_cfg "${5:-$AWSSIM_URL}" "${ECR_EXTRA:-}" "${6:-}"
	[ -n "$3" ] && sim fault "$3"
	run deploy $TAG
	sim fault '{}'
	cell_check 3 "$4"
}

aws_cell ecr-api throttle '{"operation": "GetAuthorizationToken", "throttle_every": 1}' \
	"stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: ThrottlingException: Rate exceeded (after 5 attempts)"
aws_cell ecr-api http-500 '{"operation": "GetAuthorizationToken", "status_burst": [500, 500, 500, 500, 500, 500, 500, 500]}' \
	"stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: InternalFailure: awssim: injected HTTP 500 (after 5 attempts)"
aws_cell ecr-api http-503 '{"operation": "DescribeRepositories", "status_burst": [503, 503, 503, 503, 503, 503, 503, 503]}' \
	"stage 'ecr': cannot look up repository 'staging/api' in $SANDBOX_STAGING_ACCOUNT/ap-south-1: ecr DescribeRepositories in $SANDBOX_STAGING_ACCOUNT/ap-south-1: ServiceUnavailableException"
AWS_SECRET_ACCESS_KEY="wrong/$FAULT_SECRET" aws_cell ecr-api bad-creds "" \
	"stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: InvalidSignatureException: "
aws_cell ecr-api refused "" "Couldn't connect to server (after 5 attempts)" "http://127.0.0.1:$DEAD"
aws_cell ecr-api malformed "" "stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: cannot reach $GARBAGE: Received HTTP/0.9" "$GARBAGE"
aws_cell ecr-api truncated "" "stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: malformed JSON in the answer" "$CUTJSON"
# An ECR API that never answers in time: libgantry cuts the request to
# what is left of the entry's timeout and the stage fails by itself with
# its own message, before the core's backstop (timeout + kill_grace)
# would kill it.
KILL_GRACE=1 ECR_EXTRA="timeout = 2;" aws_cell ecr-api timeout '{"operation": "GetAuthorizationToken", "delay_ms": 20000}' \
	"stage 'ecr': cannot get an ECR authorization token: ecr GetAuthorizationToken in $SANDBOX_STAGING_ACCOUNT/ap-south-1: no answer from $AWSSIM_URL within the entry's 2 s timeout (raise its \`timeout\`, or check the endpoint)"

ROLE="role_arn = \"$SANDBOX_STAGING_ROLE\"; session_name = \"faults\";"
sts_cell() {
	AWS_ACCESS_KEY_ID=AKIASANDBOXBASE00001 \
	AWS_SECRET_ACCESS_KEY="${STS_SECRET:-sandbox/base/secret/key/0000000000000000}" \
		aws_cell sts "$1" "$2" "$3" "${4:-$AWSSIM_URL}" "$ROLE"
}
sts_cell throttle '{"operation": "AssumeRole", "throttle_every": 1}' "sts AssumeRole in $SANDBOX_STAGING_ACCOUNT/ap-south-1: Throttling: Rate exceeded (after 5 attempts)"
sts_cell http-503 '{"operation": "AssumeRole", "status_burst": [503, 503, 503, 503, 503, 503, 503, 503]}' "sts AssumeRole in $SANDBOX_STAGING_ACCOUNT/ap-south-1: ServiceUnavailable: awssim: injected HTTP 503 (after 5 attempts)"
STS_SECRET="wrong/$FAULT_SECRET" sts_cell bad-creds "" "sts AssumeRole in $SANDBOX_STAGING_ACCOUNT/ap-south-1: SignatureDoesNotMatch: "
sts_cell malformed "" "sts AssumeRole in $SANDBOX_STAGING_ACCOUNT/ap-south-1: cannot reach $GARBAGE: Received HTTP/0.9" "$GARBAGE"

# ------------------------------------------------------------ registry
registry_cell() {
	cell_begin registry "$1"
	sim fault '{}'
	ecr_cfg "$AWSSIM_URL" "registry = \"http://127.0.0.1:$2\";"
	run deploy $TAG
	cell_check 3 "$3"
}
registry_cell down "$DEAD" "stage 'ecr': cannot reach registry '127.0.0.1:$DEAD'"
start_httpd reg401 '{"default": {"status": 401, "headers": {"WWW-Authenticate": "Basic realm=\"x\""}, "body": {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required"}]}}}'
registry_cell http-401 "$PORT" "stage 'ecr': registry '127.0.0.1:$PORT' refused the ECR credentials (401)"
start_httpd reg503 '{"default": {"status": 503, "body": "down for maintenance"}}'
registry_cell http-503 "$PORT" "stage 'ecr': registry '127.0.0.1:$PORT' answered 503"
registry_cell malformed "${GARBAGE##*:}" "stage 'ecr': registry '127.0.0.1:${GARBAGE##*:}' failed HEAD of manifest staging/api:$TAG: Received HTTP/0.9"

# ----------------------------------------------------------------- ECS
PY=/usr/bin/python3
if [ -x /usr/bin/aws ] && $PY -c 'import awscli.botocore.session' 2>/dev/null; then
	# Services created with the AWS CLI's botocore, an independent client.
	$PY - "$AWSSIM_URL" <<'PY' >"$TMP/ecs-setup.log" 2>&1 || echo "ECS setup failed: $(tail -n 3 "$TMP/ecs-setup.log")"
import os, sys, time
import awscli.botocore.session as bs
ecs = bs.get_session().create_client("ecs", region_name="ap-south-1",
    endpoint_url=sys.argv[1],
    aws_access_key_id=os.environ["SANDBOX_STAGING_KEY_ID"],
    aws_secret_access_key=os.environ["SANDBOX_STAGING_SECRET"])
ecs.create_cluster(clusterName="c")
for name in ["throttle", "http-5xx", "timeout", "circuit-breaker"]:
    arn = ecs.register_task_definition(family=name, containerDefinitions=[{
        "name": "app", "image": "repo/%s:v1" % name, "essential": True,
        "memory": 128}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="c", serviceName=name, taskDefinition=arn,
        desiredCount=2, deploymentConfiguration={"deploymentCircuitBreaker":
                                                 {"enable": True, "rollback": True}})
end = time.time() + 60
while time.time() < end:
    s = ecs.describe_services(cluster="c", services=["throttle", "http-5xx", "timeout", "circuit-breaker"])["services"]
    if all(len(x["deployments"]) == 1 and x["deployments"][0].get("rolloutState") == "COMPLETED" for x in s):
        break
    time.sleep(0.1)
else:
    sys.exit("the services did not settle within 60 s")
PY
	# ecs_cell FAULT FAULT-JSON RC FRAGMENT [TIMEOUT]
	ecs_cell() {
		cell_begin ecs "$1"
		sim fault '{}'
		{
			echo 'pipeline = ('
			prev_entry
			printf '  { stage = "tfix"; name = "build"; outputs = ["image.uri=repo/%s:v2"]; },\n' "$1"
			printf '  { stage = "ecs-rolling"; timeout = %s; on_failure = "rollback"; }\n' "${5:-30}"
			echo ');'
		} | write_cfg
		cat >profiles/staging.cfg <<CFG
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT";
        endpoint_url = "$AWSSIM_URL"; };
stages = { ecs-rolling = { cluster = "c"; service = "$1"; grace_period = 0; }; };
CFG
		[ -n "$2" ] && sim fault "$2"
		run deploy $TAG
		sim fault '{}'
		cell_check "$3" "$4"
	}
	ecs_cell throttle '{"operation": "*", "throttle_every": 1}' 3 "stage 'ecs-rolling': cannot describe the service: ecs DescribeServices in $SANDBOX_STAGING_ACCOUNT/ap-south-1: ThrottlingException: Rate exceeded (after 5 attempts)"
	ecs_cell http-5xx '{"operation": "UpdateService", "status_burst": [500, 503, 500, 503, 500, 503, 500, 503]}' 3 "stage 'ecs-rolling': cannot update the service: ecs UpdateService in $SANDBOX_STAGING_ACCOUNT/ap-south-1: InternalFailure"
	sim ecs/scenario '{"image": "repo/timeout:v2", "scenario": "never-stable"}'
	ecs_cell timeout "" 3 "the rest is kept to roll back; rolled back to arn:aws:ecs:ap-south-1:$SANDBOX_STAGING_ACCOUNT:task-definition/timeout:1" 6
	sim ecs/scenario '{"image": "repo/circuit-breaker:v2", "scenario": "crash-loop"}'
	ecs_cell circuit-breaker "" 3 "stage 'ecs-rolling': rolled back by ECS: ECS deployment circuit breaker"
else
	for c in throttle http-5xx timeout circuit-breaker; do
		cell_begin ecs $c
		cell_na "the Debian AWS CLI (/usr/bin/aws) is needed to set up ECS services"
	done
fi
"$top_srcdir/tests/sandbox/sandbox" stop "$SB" >/dev/null 2>&1
