#!/bin/sh
# ecs-deploy.sh - what the aws_ecs_task_definition and aws_ecs_service
# resources would do, for main.tf's offline stand-in: register a task
# definition revision of $CONTAINERS (with the DATABASE_URL secret's ARN
# from Secrets Manager) and update the service to it with the seed's
# rolling-deployment settings.  Prints the revision and the deployment it
# started.  Uses the AWS CLI v2 (/usr/bin/aws), the caller's credentials,
# $ROLE_ARN assumed when set, and $ENDPOINT_URL when set.
set -eu

AWS=${AWS_CLI:-/usr/bin/aws}
set -- --region "$REGION" --output text
[ -n "${ENDPOINT_URL:-}" ] && set -- "$@" --endpoint-url "$ENDPOINT_URL"

if [ -n "${ROLE_ARN:-}" ]; then
	creds=$("$AWS" "$@" sts assume-role --role-arn "$ROLE_ARN" \
		--role-session-name terraform-address-api \
		--query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]')
	read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<-EOT
	$creds
	EOT
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
	echo "ecs-deploy: assumed $ROLE_ARN"
fi

secret_arn=$("$AWS" "$@" secretsmanager describe-secret \
	--secret-id "$DATABASE_SECRET" --query ARN)
containers=$(printf '%s' "$CONTAINERS" | sed "s|\"environment\":|\"secrets\":[{\"name\":\"DATABASE_URL\",\"valueFrom\":\"$secret_arn\"}],\"environment\":|")

td=$("$AWS" "$@" ecs register-task-definition --family "$FAMILY" \
	--container-definitions "$containers" \
	--query taskDefinition.taskDefinitionArn)
echo "ecs-deploy: registered $td"

dep=$("$AWS" "$@" ecs update-service --cluster "$CLUSTER" \
	--service "$SERVICE" --task-definition "$td" \
	--desired-count "$DESIRED_COUNT" \
	--health-check-grace-period-seconds 60 \
	--deployment-configuration 'minimumHealthyPercent=100,maximumPercent=200,deploymentCircuitBreaker={enable=true,rollback=true}' \
	--query 'service.deployments[0].id')
echo "ecs-deploy: service $SERVICE on $CLUSTER is rolling out $dep"
