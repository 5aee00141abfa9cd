#!/bin/sh
# t2610: what ecs-rolling sends, checked against botocore's ECS model.
# A task definition written here with every response-only member the API
# returns is a service's starting revision in the simulator, tagged; a
# deploy registers a new revision from it.  The new revision must carry
# the old one's tags and every member it had (only the image changes),
# and every request gantry sent in the run (ECS, ECR's API calls, STS)
# must match the models (tests/sandbox/awsmodel.py): operation, members
# at every depth, types, enums, required members, lengths.  (Real-world
# task definitions: t2611.)
. "$top_srcdir/tests/lib.sh"

. "$top_srcdir/tests/cli/lib-ecs-requests.sh"

# A task definition as DescribeTaskDefinition returns one: response-only
# members (RegisterTaskDefinition has none of them) seeded as "extra".
cat >"$TMP/gantry-all-members.taskdef.json" <<'EOF'
{"taskDefinition": {
  "family": "all-members", "networkMode": "awsvpc",
  "taskRoleArn": "arn:aws:iam::127214192604:role/app",
  "executionRoleArn": "arn:aws:iam::127214192604:role/ecsTaskExecutionRole",
  "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
  "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
  "ephemeralStorage": {"sizeInGiB": 30}, "enableFaultInjection": false,
  "containerDefinitions": [{"name": "app", "image": "repo/app:v1",
    "essential": true, "portMappings": [{"containerPort": 8080}],
    "environment": [{"name": "MODE", "value": "web"}],
    "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:ap-south-1:127214192604:secret:db"}],
    "logConfiguration": {"logDriver": "awslogs", "options": {
      "awslogs-group": "/ecs/all-members", "awslogs-region": "ap-south-1",
      "awslogs-stream-prefix": "ecs"}}}],
  "volumes": [{"name": "scratch", "host": {}}],
  "placementConstraints": []},
 "tags": [{"key": "owner", "value": "platform"}]}
EOF

deploy_taskdef "$TMP/gantry-all-members.taskdef.json" td1

# Tagging on create needs ecs:TagResource: a deploy role without it was
# enough before the tags were carried over; the refusal says what to add.
container=$(ecsctl seed denied "$TMP/gantry-all-members.taskdef.json") || fail "cannot seed 'denied'"
sed -i 's/service = "[^"]*"; container = "[^"]*"/service = "denied"; container = "app"/' profiles/staging.cfg
curl -sS -f -X POST -H 'Content-Type: application/json' \
	--data "{\"account\": \"$SANDBOX_STAGING_ACCOUNT\"}" \
	"$AWSSIM_URL/_sim/ecs/deny-tag-on-create" >/dev/null || fail "deny-tag-on-create"
run deploy v1.0.0-rc.2
expect_rc 1 "tag on create denied"
expect_err "cannot register the new task definition in $SANDBOX_STAGING_ACCOUNT/ap-south-1: AccessDeniedException: User: "
expect_err "the new revision carries the tags of '$(TD denied 1)', and tagging on create needs ecs:TagResource (condition ecs:CreateAction = RegisterTaskDefinition) in the deploy role's policy"
curl -sS -f -X POST -H 'Content-Type: application/json' \
	--data "{\"account\": \"$SANDBOX_STAGING_ACCOUNT\", \"enabled\": false}" \
	"$AWSSIM_URL/_sim/ecs/deny-tag-on-create" >/dev/null || fail "deny-tag-on-create off"
ok "without ecs:TagResource the refusal names the permission to add"

# The ecr stage's API calls too (no registry here: the push itself fails).
write_cfg <<EOF
pipeline = ( { stage = "ecr"; repository = "staging/t2610"; tag = "v1"; create_repository = true; } );
EOF
cat >profiles/staging.cfg <<EOF
aws = { region = "ap-south-1"; account_id = "$SANDBOX_STAGING_ACCOUNT";
        endpoint_url = "$AWSSIM_URL"; };
EOF
run plan v1.0.0-rc.3
expect_err "would create it"
run deploy v1.0.0-rc.3
ok "ecr: token, repository look-up and creation requested (exit $rc without a registry)"

check_requests 10
