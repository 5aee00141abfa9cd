#!/bin/sh
# The simulator checked with the real AWS CLI (Debian's /usr/bin/aws v2) as
# an independent client: its SigV4 signing, request shapes and response
# parsing must all agree with the simulator's.  (ECR and the registry:
# t-awscli-registry.sh.)
. "${top_srcdir:-$(dirname "$0")/../..}/tests/sandbox/lib-sandbox.sh"

[ -x /usr/bin/aws ] || skip "/usr/bin/aws is missing (Debian package awscli)"
need curl "apt-get install curl"
sandbox_start --no-registry

. "$SANDBOX_SRC/lib-awscli.sh"

# --- STS: the three direct identities -------------------------------------
must sts get-caller-identity
expect "$T/out" 'd["Account"], d["Arn"]' "('111122223333', 'arn:aws:iam::111122223333:user/ci')" "base identity"
AWS_ACCESS_KEY_ID=$SANDBOX_STAGING_KEY_ID AWS_SECRET_ACCESS_KEY=$SANDBOX_STAGING_SECRET \
	must sts get-caller-identity
expect "$T/out" 'd["Account"], d["Arn"]' "('$SANDBOX_STAGING_ACCOUNT', 'arn:aws:iam::127214192604:user/deployer')" "staging key"
AWS_ACCESS_KEY_ID=$SANDBOX_PRODUCTION_KEY_ID AWS_SECRET_ACCESS_KEY=$SANDBOX_PRODUCTION_SECRET \
	must sts get-caller-identity
expect "$T/out" 'd["Account"]' "$SANDBOX_PRODUCTION_ACCOUNT" "production key"
ok "sts get-caller-identity names the account of each of the three keys"

# --- STS: assume-role into both roles ---------------------------------------
for env in staging production; do
	case $env in
	staging) role=$SANDBOX_STAGING_ROLE; acct=$SANDBOX_STAGING_ACCOUNT ;;
	*) role=$SANDBOX_PRODUCTION_ROLE; acct=$SANDBOX_PRODUCTION_ACCOUNT ;;
	esac
	must sts assume-role --role-arn "$role" --role-session-name "gantry-$env" \
		--external-id "gantry-$env" --duration-seconds 900
	cp "$T/out" "$T/creds-$env.json"
	expect "$T/out" 'd["AssumedRoleUser"]["Arn"]' "arn:aws:sts::$acct:assumed-role/gantry-deploy/gantry-$env"
	expect "$T/out" 'len(d["Credentials"]["AccessKeyId"]), d["Credentials"]["AccessKeyId"][:4]' "(20, 'ASIA')"
	expect "$T/out" '__import__("datetime").datetime.fromisoformat(d["Credentials"]["Expiration"]).timestamp() - __import__("time").time() < 905' True "expiration"
	AWS_ACCESS_KEY_ID=$(jget "$T/out" 'd["Credentials"]["AccessKeyId"]') \
	AWS_SECRET_ACCESS_KEY=$(jget "$T/out" 'd["Credentials"]["SecretAccessKey"]') \
	AWS_SESSION_TOKEN=$(jget "$T/out" 'd["Credentials"]["SessionToken"]') \
		must sts get-caller-identity
	expect "$T/out" 'd["Account"], d["Arn"]' "('$acct', 'arn:aws:sts::$acct:assumed-role/gantry-deploy/gantry-$env')" "$env session"
done
ok "sts assume-role into both roles; the temporary credentials are the assumed role"

must_fail AccessDenied sts assume-role --role-arn arn:aws:iam::429032495558:role/admin \
	--role-session-name x1
has "$T/err" "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::429032495558:role/admin"
must_fail AccessDenied sts assume-role --role-arn "$SANDBOX_PRODUCTION_ROLE" \
	--role-session-name x1 --external-id gantry-staging
AWS_ACCESS_KEY_ID=$SANDBOX_STAGING_KEY_ID AWS_SECRET_ACCESS_KEY=$SANDBOX_STAGING_SECRET \
	must_fail AccessDenied sts assume-role --role-arn "$SANDBOX_PRODUCTION_ROLE" --role-session-name x1
ok "assume-role of an unknown role, with a wrong external id, or across accounts: AccessDenied"

# --- STS: web identity (unsigned) --------------------------------------------
must sts assume-role-with-web-identity --role-arn "$SANDBOX_STAGING_ROLE" \
	--role-session-name ci-run --web-identity-token "$SANDBOX_WEB_IDENTITY_TOKEN"
expect "$T/out" 'd["AssumedRoleUser"]["Arn"], d["Audience"]' "('arn:aws:sts::127214192604:assumed-role/gantry-deploy/ci-run', 'sts.amazonaws.com')"
must_fail InvalidIdentityToken sts assume-role-with-web-identity --role-arn "$SANDBOX_STAGING_ROLE" \
	--role-session-name ci-run --web-identity-token "$SANDBOX_WEB_IDENTITY_TOKEN.x"
ok "assume-role-with-web-identity: the sandbox token works, another is InvalidIdentityToken"

# --- Authentication failures ---------------------------------------------------
AWS_SECRET_ACCESS_KEY=not/the/secret/key/0000000000000000000000 \
	must_fail SignatureDoesNotMatch sts get-caller-identity
AWS_SECRET_ACCESS_KEY=not/the/secret/key/0000000000000000000000 \
	must_fail InvalidSignatureException secretsmanager get-secret-value --secret-id x
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000001 must_fail InvalidClientTokenId sts get-caller-identity
AWS_ACCESS_KEY_ID=AKIAUNKNOWNKEY000001 must_fail UnrecognizedClientException logs describe-log-groups
AWS_ACCESS_KEY_ID=$(jget "$T/creds-staging.json" 'd["Credentials"]["AccessKeyId"]') \
AWS_SECRET_ACCESS_KEY=$(jget "$T/creds-staging.json" 'd["Credentials"]["SecretAccessKey"]') \
	must_fail UnrecognizedClientException ecr describe-repositories
ok "wrong secret, unknown key id, temporary key without its session token: rejected per protocol"

# --- Secrets Manager -----------------------------------------------------------
sim secret '{"account":"111122223333","region":"ap-south-1","name":"address-api/db","value":"{\"password\":\"s3cr3t\"}"}'
arn=$(jget "$T/sim" 'd["ARN"]')
must secretsmanager get-secret-value --secret-id address-api/db
expect "$T/out" 'd["Name"], d["SecretString"], d["VersionStages"], d["ARN"]' \
	"('address-api/db', '{\"password\":\"s3cr3t\"}', ['AWSCURRENT'], '$arn')"
must secretsmanager get-secret-value --secret-id "$arn"
expect "$T/out" 'd["Name"]' address-api/db "by ARN"
must_fail ResourceNotFoundException secretsmanager get-secret-value --secret-id address-api/missing
has "$T/err" "Secrets Manager can't find the specified secret."
AWS_ACCESS_KEY_ID=$SANDBOX_STAGING_KEY_ID AWS_SECRET_ACCESS_KEY=$SANDBOX_STAGING_SECRET \
	must_fail ResourceNotFoundException secretsmanager get-secret-value --secret-id address-api/db
ok "secretsmanager get-secret-value by name and ARN; missing (or another account's) secret: ResourceNotFoundException"

# --- CloudWatch Logs -----------------------------------------------------------
sim log '{"account":"111122223333","region":"ap-south-1","group":"/ecs/address-api","stream":"ecs/app/t1","message":"listening on :8080"}'
sim log '{"account":"111122223333","region":"ap-south-1","group":"/ecs/address-api","stream":"ecs/app/t1","message":"panic: nil map"}'
sim log '{"account":"111122223333","region":"ap-south-1","group":"/ecs/address-api","stream":"ecs/app/t2","message":"panic: out of memory"}'
must logs get-log-events --log-group-name /ecs/address-api --log-stream-name ecs/app/t1 --start-from-head
expect "$T/out" '[e["message"] for e in d["events"]]' "['listening on :8080', 'panic: nil map']"
must logs filter-log-events --log-group-name /ecs/address-api --filter-pattern panic
expect "$T/out" '[(e["logStreamName"], e["message"]) for e in d["events"]]' \
	"[('ecs/app/t1', 'panic: nil map'), ('ecs/app/t2', 'panic: out of memory')]"
expect "$T/out" 'all(e["eventId"] and e["ingestionTime"] for e in d["events"])' True
must_fail ResourceNotFoundException logs filter-log-events --log-group-name /ecs/nothing
has "$T/err" "The specified log group does not exist."
ok "logs get-log-events and filter-log-events return what /_sim/log appended"

# --- CloudWatch alarms -------------------------------------------------------------
sim alarm '{"account":"111122223333","region":"ap-south-1","name":"address-api-5xx","state":"OK"}'
sim alarm '{"account":"111122223333","region":"ap-south-1","name":"address-api-latency","state":"ALARM"}'
must cloudwatch describe-alarms --alarm-names address-api-5xx address-api-latency
expect "$T/out" '[(a["AlarmName"], a["StateValue"]) for a in d["MetricAlarms"]]' \
	"[('address-api-5xx', 'OK'), ('address-api-latency', 'ALARM')]"
expect "$T/out" 'd["MetricAlarms"][0]["AlarmArn"]' "arn:aws:cloudwatch:ap-south-1:111122223333:alarm:address-api-5xx"
must cloudwatch describe-alarms --state-value ALARM
expect "$T/out" '[a["AlarmName"] for a in d["MetricAlarms"]]' "['address-api-latency']"
ok "cloudwatch describe-alarms by name and by state after /_sim/alarm"

# --- Faults --------------------------------------------------------------------------
sim reset
sim fault '{"operation":"DescribeRepositories","throttle_every":1}'
AWS_MAX_ATTEMPTS=1 must_fail ThrottlingException ecr describe-repositories
has "$T/err" "Rate exceeded"
sim calls
expect "$T/sim" '[(c["operation"], c["status"], c["account"]) for c in d["calls"]]' "[('DescribeRepositories', 400, '111122223333')]"
sim fault '{"operation":"DescribeRepositories"}'
sim fault '{"operation":"GetSecretValue","status_burst":[503]}'
sim secret '{"account":"111122223333","region":"ap-south-1","name":"k","value":"v"}'
must secretsmanager get-secret-value --secret-id k
sim calls
expect "$T/sim" '[(c["service"], c["operation"], c["status"]) for c in d["calls"]][1:]' \
	"[('secretsmanager', 'GetSecretValue', 503), ('secretsmanager', 'GetSecretValue', 200)]"
ok "/_sim/fault: throttling is ThrottlingException to the CLI; a 503 burst is retried; /_sim/calls counts attempts"

# --- Lifetime -----------------------------------------------------------------------
orphan_check --no-registry
ok "awssim stops by itself when the starting process is gone"
