/*
 * ecsapi.c - the ECS, CloudWatch calls of the ecs-rolling stage: the
 * service as it is, cloning a task definition with a new image,
 * UpdateService, rolling back, service deployments and alarms.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

int ecs_call(struct ecs *e, const char *op, const char *body,
	     struct gantry_json **out, const char *what)
{
	int rc = gantry_aws_json(e->aws, "ecs", op, body, out);

	if (rc < 0)
		return gantry_fail(e->ctx, rc, "%s: %s", what,
				   gantry_aws_error_line(e->aws));
	return GANTRY_OK;
}

/* {"cluster": C, "service": S  (no closing brace) */
static void target(struct ecs *e, struct gantry_buf *b, const char *skey)
{
	gantry_buf_adds(b, "{\"cluster\":");
	gantry_buf_add_json(b, e->o.cluster);
	gantry_buf_addf(b, ",\"%s\":", skey);
	if (!strcmp(skey, "services")) {
		gantry_buf_adds(b, "[");
		gantry_buf_add_json(b, e->o.service);
		gantry_buf_adds(b, "]");
	} else {
		gantry_buf_add_json(b, e->o.service);
	}
}

static void fill_dep(struct ecs_dep *d, const struct gantry_json *j)
{
	d->id = gantry_json_string(j, "id", "");
	d->status = gantry_json_string(j, "status", "");
	d->td = gantry_json_string(j, "taskDefinition", "");
	/* Absent for Classic Load Balancers and some EC2 services: "" then,
	   and the caller falls back on counts (docs/ecs.md). */
	d->rollout = gantry_json_string(j, "rolloutState", "");
	d->reason = gantry_json_string(j, "rolloutStateReason", "");
	d->desired = gantry_json_int(j, "desiredCount", 0);
	d->running = gantry_json_int(j, "runningCount", 0);
	d->pending = gantry_json_int(j, "pendingCount", 0);
	d->failed = gantry_json_int(j, "failedTasks", 0);
	d->created = gantry_json_double(j, "createdAt", 0);
}

/* The service's strategy and lifecycle hooks, which an update keeps or
   changes (strategy.c). */
static void svc_config(struct ecs *e, struct gantry_json *svc)
{
	struct gantry_json *hooks = gantry_json_get(svc,
				"deploymentConfiguration.lifecycleHooks");
	const char *st = gantry_json_string(svc,
				"deploymentConfiguration.strategy", NULL);
	size_t i;

	free(e->svc_hooks);
	free(e->svc_strategy);
	e->svc_hooks = gantry_json_type(hooks) == GANTRY_JSON_ARRAY ?
		gantry_xstrdup(gantry_json_text(hooks, 0)) : NULL;
	e->svc_strategy = st ? gantry_xstrdup(st) : NULL;
	e->svc_pauses = 0;
	for (i = 0; i < gantry_json_length(hooks); i++)
		if (!strcmp(gantry_json_string(gantry_json_at(hooks, i),
					       "targetType", ""), "PAUSE"))
			e->svc_pauses++;
}

int ecs_describe(struct ecs *e, struct ecs_snap *snap)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *deps;
	size_t i;
	int rc;

	memset(snap, 0, sizeof(*snap));
	target(e, &b, "services");
	gantry_buf_adds(&b, "}");
	rc = ecs_call(e, "DescribeServices", b.buf, &snap->doc,
		      "cannot describe the service");
	gantry_buf_release(&b);
	if (rc < 0)
		return rc;
	snap->svc = gantry_json_get(snap->doc, "services[0]");
	if (!snap->svc || strcmp(gantry_json_string(snap->svc, "status",
						    "ACTIVE"), "ACTIVE")) {
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "service '%s' not found "
			"(or not ACTIVE) in cluster '%s' of %s/%s; check "
			"cluster and service in the profile", e->o.service,
			e->o.cluster, gantry_aws_account(e->aws),
			gantry_aws_region(e->aws));
		ecs_snap_free(snap);
		return rc;
	}
	svc_config(e, snap->svc);
	/* The grace period applies only with a load balancer. */
	e->has_lb = gantry_json_length(gantry_json_get(snap->svc,
						       "loadBalancers")) > 0;
	snap->desired = gantry_json_int(snap->svc, "desiredCount", 0);
	snap->running = gantry_json_int(snap->svc, "runningCount", 0);
	deps = gantry_json_get(snap->svc, "deployments");
	for (i = 0; i < gantry_json_length(deps) && i < ECS_MAX_DEPS; i++)
		fill_dep(&snap->deps[snap->ndeps++], gantry_json_at(deps, i));
	return GANTRY_OK;
}

void ecs_snap_free(struct ecs_snap *snap)
{
	gantry_json_free(snap->doc);
	memset(snap, 0, sizeof(*snap));
}

const struct ecs_dep *ecs_find(const struct ecs_snap *snap, const char *id)
{
	size_t i;

	for (i = 0; i < snap->ndeps; i++)
		if (id ? !strcmp(snap->deps[i].id, id)
		       : !strcmp(snap->deps[i].status, "PRIMARY"))
			return &snap->deps[i];
	return NULL;
}

int ecs_describe_td(struct ecs *e, const char *td, int with_tags,
		    struct gantry_json **out)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int rc;

	gantry_buf_adds(&b, "{\"taskDefinition\":");
	gantry_buf_add_json(&b, td);
	/* The tags come back beside taskDefinition, not inside it. */
	gantry_buf_adds(&b, with_tags ? ",\"include\":[\"TAGS\"]}" : "}");
	rc = ecs_call(e, "DescribeTaskDefinition", b.buf, out,
		      "cannot read the task definition");
	gantry_buf_release(&b);
	return rc;
}

struct gantry_json *ecs_pick_container(struct ecs *e, struct gantry_json *td)
{
	struct gantry_json *cds = gantry_json_get(td, "containerDefinitions");
	size_t i, n = gantry_json_length(cds);
	struct gantry_buf names = GANTRY_BUF_INIT;
	struct gantry_json *hit = NULL;

	for (i = 0; i < n && !hit; i++) {
		struct gantry_json *c = gantry_json_at(cds, i);
		const char *name = gantry_json_string(c, "name", "");

		if (e->o.container ? !strcmp(name, e->o.container)
				   : !strcmp(name, e->o.service))
			hit = c;
	}
	if (!hit && !e->o.container && n == 1)
		hit = gantry_json_at(cds, 0);
	if (hit)
		return hit;
	for (i = 0; i < n; i++)
		gantry_buf_addf(&names, "%s'%s'", i ? ", " : "",
			gantry_json_string(gantry_json_at(cds, i), "name", ""));
	if (e->o.container)
		gantry_fail(e->ctx, GANTRY_ECONFIG, "container '%s' not found "
			    "in task definition '%s' (it has %s); fix option "
			    "'container'", e->o.container,
			    gantry_json_string(td, "taskDefinitionArn", "?"),
			    names.buf);
	else
		gantry_fail(e->ctx, GANTRY_ECONFIG, "task definition '%s' has "
			    "%zu containers (%s) and none is named like the "
			    "service; set option 'container'",
			    gantry_json_string(td, "taskDefinitionArn", "?"), n,
			    names.buf);
	gantry_buf_release(&names);
	return NULL;
}

/*
 * The members of RegisterTaskDefinitionRequest that a TaskDefinition also
 * has, from botocore's ECS model (data/ecs/2014-11-13/service-2.json):
 * an allow-list, so that the response-only members (taskDefinitionArn,
 * revision, status, requiresAttributes, compatibilities, registeredAt,
 * registeredBy, deregisteredAt, deleteRequestedAt and whatever a later
 * API adds) are never sent back.  tags is the one other request member;
 * it comes from the top level of the DescribeTaskDefinition answer.
 * tests/sandbox/test_aws_model.py checks this list against the model.
 */
static const char *const register_members[] = {
	/* BEGIN register_members */
	"family", "taskRoleArn", "executionRoleArn", "networkMode",
	"containerDefinitions", "volumes", "placementConstraints",
	"requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
	"proxyConfiguration", "inferenceAccelerators", "ephemeralStorage",
	"runtimePlatform", "enableFaultInjection",
	/* END register_members */
	NULL
};

static int register_member(const char *key)
{
	size_t i;

	for (i = 0; register_members[i]; i++)
		if (!strcmp(key, register_members[i]))
			return 1;
	return 0;
}

/* The members of object o, with image replaced when image is set. */
static void copy_object(struct gantry_buf *b, struct gantry_json *o,
			const char *image)
{
	size_t i, n = gantry_json_keys(o);
	int first = 1;

	gantry_buf_adds(b, "{");
	for (i = 0; i < n; i++) {
		const char *key = gantry_json_key_at(o, i);

		if (!first)
			gantry_buf_adds(b, ",");
		first = 0;
		gantry_buf_add_json(b, key);
		gantry_buf_adds(b, ":");
		if (image && !strcmp(key, "image"))
			gantry_buf_add_json(b, image);
		else
			gantry_buf_adds(b, gantry_json_text(gantry_json_value_at(o, i),
						   0));
	}
	gantry_buf_adds(b, "}");
}

int ecs_register(struct ecs *e, struct gantry_json *doc, const char *container,
		 const char *image, char **arn)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	struct gantry_json *td = gantry_json_get(doc, "taskDefinition");
	struct gantry_json *tags = gantry_json_get(doc, "tags");
	size_t i, j, n = gantry_json_keys(td);
	int rc, first = 1, tagged = 0;

	*arn = NULL;
	gantry_buf_adds(&b, "{");
	for (i = 0; i < n; i++) {
		const char *key = gantry_json_key_at(td, i);
		struct gantry_json *v = gantry_json_value_at(td, i);

		if (!register_member(key) ||
		    gantry_json_type(v) == GANTRY_JSON_NULL)
			continue;
		if (!first)
			gantry_buf_adds(&b, ",");
		first = 0;
		gantry_buf_add_json(&b, key);
		gantry_buf_adds(&b, ":");
		if (strcmp(key, "containerDefinitions")) {
			gantry_buf_adds(&b, gantry_json_text(v, 0));
			continue;
		}
		gantry_buf_adds(&b, "[");
		for (j = 0; j < gantry_json_length(v); j++) {
			struct gantry_json *c = gantry_json_at(v, j);
			const char *name = gantry_json_string(c, "name", "");

			if (j)
				gantry_buf_adds(&b, ",");
			copy_object(&b, c, strcmp(name, container) ? NULL
								  : image);
		}
		gantry_buf_adds(&b, "]");
	}
	/* The old revision's tags (cost allocation, access control) go on
	   the new one; an empty list is left out rather than sent. */
	if (gantry_json_type(tags) == GANTRY_JSON_ARRAY &&
	    gantry_json_length(tags)) {
		gantry_buf_adds(&b, first ? "\"tags\":" : ",\"tags\":");
		gantry_buf_adds(&b, gantry_json_text(tags, 0));
		tagged = 1;
	}
	gantry_buf_adds(&b, "}");
	rc = gantry_aws_json(e->aws, "ecs", "RegisterTaskDefinition", b.buf,
			     &out);
	gantry_buf_release(&b);
	/* Tagging on create is authorised apart (ecs:TagResource): a role
	   that could register untagged revisions may be refused now. */
	if (rc < 0 && tagged && !strcmp(gantry_aws_error_code(e->aws),
					"AccessDeniedException"))
		rc = gantry_fail(e->ctx, rc, "cannot register the new task "
			"definition in %s/%s: AccessDeniedException: %s; the "
			"new revision carries the tags of '%s', and tagging on "
			"create needs ecs:TagResource (condition "
			"ecs:CreateAction = RegisterTaskDefinition) in the "
			"deploy role's policy", gantry_aws_account(e->aws),
			gantry_aws_region(e->aws),
			gantry_aws_error_message(e->aws),
			gantry_json_string(td, "taskDefinitionArn", "?"));
	else if (rc < 0)
		rc = gantry_fail(e->ctx, rc, "cannot register the new task "
				 "definition: %s",
				 gantry_aws_error_line(e->aws));
	if (rc == GANTRY_OK)
		*arn = gantry_xstrdup(gantry_json_string(out,
				"taskDefinition.taskDefinitionArn", ""));
	gantry_json_free(out);
	return rc;
}

static void deployment_config(struct ecs *e, struct gantry_buf *b)
{
	size_t i;
	const char *rb = e->o.rollback ? "true" : "false";

	/* The percents bound a rolling replacement; blue/green, linear and
	   canary start the whole new revision beside the old one. */
	gantry_buf_adds(b, ",\"deploymentConfiguration\":{");
	if (e->o.strategy == S_ROLLING)
		gantry_buf_addf(b, "\"minimumHealthyPercent\":%lld,"
				"\"maximumPercent\":%lld,", e->o.min_healthy,
				e->o.max_percent);
	gantry_buf_addf(b, "\"deploymentCircuitBreaker\":{\"enable\":%s,"
		"\"rollback\":%s}", e->o.circuit_breaker ? "true" : "false",
		e->o.circuit_breaker ? rb : "false");
	ecs_strategy_members(e, b);
	if (e->o.nalarms) {
		gantry_buf_adds(b, ",\"alarms\":{\"alarmNames\":[");
		for (i = 0; i < e->o.nalarms; i++) {
			if (i)
				gantry_buf_adds(b, ",");
			gantry_buf_add_json(b, e->o.alarms[i]);
		}
		gantry_buf_addf(b, "],\"enable\":true,\"rollback\":%s}", rb);
	}
	gantry_buf_adds(b, "}");
}

int ecs_update(struct ecs *e, const char *td, int with_config, int track)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL, *deps;
	const char *sd;
	size_t i;
	int rc, shift = 0;

	/* A redeploy (rollback) on a canary or linear service. */
	if (!with_config && e->svc_strategy &&
	    (ecs_strategy_of(e->svc_strategy) == S_CANARY ||
	     ecs_strategy_of(e->svc_strategy) == S_LINEAR))
		shift = ecs_strategy_of(e->svc_strategy);
	target(e, &b, "service");
	if (td) {
		gantry_buf_adds(&b, ",\"taskDefinition\":");
		gantry_buf_add_json(&b, td);
	}
	if (with_config) {
		deployment_config(e, &b);
		/* ECS refuses a grace period on a service without a load
		   balancer. */
		if (e->has_lb)
			gantry_buf_addf(&b, ",\"healthCheckGracePeriodSeconds\":%lld",
				e->o.grace);
		if (e->o.desired_count >= 0)
			gantry_buf_addf(&b, ",\"desiredCount\":%lld",
				e->o.desired_count);
		if (e->o.force_new)
			gantry_buf_adds(&b, ",\"forceNewDeployment\":true");
	} else if (e->o.nalarms || e->svc_pauses || shift) {
		gantry_buf_adds(&b, ",\"deploymentConfiguration\":{");
		/* Going back while an alarm fires: ECS would fail the
		   rollback itself and return to the release that fired it.
		   The next deploy turns the alarms on again. */
		if (e->o.nalarms) {
			gantry_buf_adds(&b, "\"alarms\":{\"alarmNames\":[");
			for (i = 0; i < e->o.nalarms; i++) {
				if (i)
					gantry_buf_adds(&b, ",");
				gantry_buf_add_json(&b, e->o.alarms[i]);
			}
			gantry_buf_adds(&b, "],\"enable\":false,"
					"\"rollback\":false}");
		}
		/* Going back must not stop at a pause nobody continues. */
		if (e->svc_pauses) {
			gantry_buf_adds(&b, e->o.nalarms ? ",\"lifecycleHooks\":"
					: "\"lifecycleHooks\":");
			ecs_strategy_hooks(e, &b, 0);
		}
		/* Going back to a known-good revision is not a canary: all
		   production traffic moves in one step, without a step bake.
		   The next deploy sends the configured steps again. */
		if (shift)
			gantry_buf_addf(&b, "%s\"%s\":{\"%s\":100.0,\"%s\":0}",
				e->o.nalarms || e->svc_pauses ? "," : "",
				shift == S_CANARY ? "canaryConfiguration"
						  : "linearConfiguration",
				shift == S_CANARY ? "canaryPercent"
						  : "stepPercent",
				shift == S_CANARY ? "canaryBakeTimeInMinutes"
						  : "stepBakeTimeInMinutes");
		gantry_buf_adds(&b, "}");
	}
	gantry_buf_adds(&b, "}");
	rc = ecs_call(e, "UpdateService", b.buf, &out,
		      "cannot update the service");
	gantry_buf_release(&b);
	if (rc == GANTRY_OK && track) {
		deps = gantry_json_get(out, "service.deployments");
		for (i = 0; i < gantry_json_length(deps); i++) {
			struct gantry_json *d = gantry_json_at(deps, i);

			if (strcmp(gantry_json_string(d, "status", ""),
				   "PRIMARY"))
				continue;
			free(e->dep_id);
			e->dep_id = gantry_xstrdup(gantry_json_string(d,
								"id", ""));
			break;
		}
		sd = gantry_json_string(out, "service.currentServiceDeployment",
					NULL);
		free(e->sd_arn);
		e->sd_arn = sd ? gantry_xstrdup(sd) : NULL;
		e->sd_api = sd ? 1 : -1;
	}
	gantry_json_free(out);
	return rc;
}

/* StopServiceDeployment with a rollback; 0 when ECS took it. */
static int stop_with_rollback(struct ecs *e)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	int rc;

	gantry_buf_adds(&b, "{\"serviceDeploymentArn\":");
	gantry_buf_add_json(&b, e->sd_arn);
	gantry_buf_adds(&b, ",\"stopType\":\"ROLLBACK\"}");
	rc = gantry_aws_json(e->aws, "ecs", "StopServiceDeployment",
			     b.buf, &out);
	gantry_buf_release(&b);
	gantry_json_free(out);
	if (rc < 0)
		gantry_info(e->ctx, "StopServiceDeployment refused (%s); "
			    "redeploying '%s' instead",
			    gantry_aws_error_line(e->aws), e->prev_td);
	return rc;
}

int ecs_restore(struct ecs *e)
{
	int rc;

	e->restore_started = 1;
	if (e->sd_arn && e->sd_api > 0 && !e->completed &&
	    stop_with_rollback(e) == 0) {
		gantry_info(e->ctx, "asked ECS to roll deployment %s back "
			    "(StopServiceDeployment ROLLBACK)", e->dep_id);
		return GANTRY_OK;
	}
	rc = ecs_update(e, e->prev_td, 0, 0);
	if (rc == GANTRY_OK)
		gantry_info(e->ctx, "redeploying the previous task definition "
			    "%s", e->prev_td);
	return rc;
}

char *ecs_sd_status(struct ecs *e, char **reason, double *created)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	char *status = NULL;

	if (reason)
		*reason = NULL;
	if (created)
		*created = 0;
	if (!e->sd_arn || e->sd_api <= 0)
		return NULL;
	gantry_buf_adds(&b, "{\"serviceDeploymentArns\":[");
	gantry_buf_add_json(&b, e->sd_arn);
	gantry_buf_adds(&b, "]}");
	if (gantry_aws_json(e->aws, "ecs", "DescribeServiceDeployments",
			    b.buf, &out) == 0) {
		status = gantry_xstrdup(gantry_json_string(out,
				"serviceDeployments[0].status", ""));
		if (reason)
			*reason = gantry_xstrdup(gantry_json_string(out,
				"serviceDeployments[0].statusReason", ""));
		if (created)
			*created = gantry_json_double(out,
				"serviceDeployments[0].createdAt", 0);
	} else if (!strcmp(gantry_aws_error_code(e->aws),
			   "UnknownOperationException")) {
		e->sd_api = -1;
	}
	gantry_buf_release(&b);
	gantry_json_free(out);
	if (status && !*status) {
		free(status);
		status = NULL;
	}
	return status;
}

/* One request of the service deployments API naming one ARN in list;
   the answer's string at path (malloc'd), or NULL. */
static char *sd_api_string(struct ecs *e, const char *op, const char *list,
			   const char *arn, const char *path)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	char *v = NULL;

	gantry_buf_addf(&b, "{\"%s\":[", list);
	gantry_buf_add_json(&b, arn);
	gantry_buf_adds(&b, "]}");
	if (gantry_aws_json(e->aws, "ecs", op, b.buf, &out) == 0 &&
	    *gantry_json_string(out, path, ""))
		v = gantry_xstrdup(gantry_json_string(out, path, ""));
	gantry_buf_release(&b);
	gantry_json_free(out);
	return v;
}

char *ecs_sd_target_td(struct ecs *e)
{
	char *rev, *td;

	if (!e->sd_arn || e->sd_api <= 0)
		return NULL;
	rev = sd_api_string(e, "DescribeServiceDeployments",
			    "serviceDeploymentArns", e->sd_arn,
			    "serviceDeployments[0].targetServiceRevision.arn");
	if (!rev)
		return NULL;
	td = sd_api_string(e, "DescribeServiceRevisions", "serviceRevisionArns",
			   rev, "serviceRevisions[0].taskDefinition");
	free(rev);
	return td;
}

#define ALARMS_PER_CALL 10

/* One DescribeAlarms call for alarms[from..]; the first in ALARM. */
static char *alarm_chunk(struct ecs *e, size_t from, int *rc)
{
	char keys[ALARMS_PER_CALL][32];
	const char *k[ALARMS_PER_CALL] = { 0 }, *v[ALARMS_PER_CALL] = { 0 };
	struct gantry_json *out = NULL, *list;
	char *hit = NULL;
	size_t i;

	for (i = 0; i < ALARMS_PER_CALL && from + i < e->o.nalarms; i++) {
		snprintf(keys[i], sizeof(keys[i]), "AlarmNames.member.%zu",
			 i + 1);
		k[i] = keys[i];
		v[i] = e->o.alarms[from + i];
	}
	/* The list ends at the first NULL name. */
	*rc = gantry_aws_query(e->aws, "monitoring", "DescribeAlarms", &out,
			       k[0], v[0], k[1], v[1], k[2], v[2], k[3], v[3],
			       k[4], v[4], k[5], v[5], k[6], v[6], k[7], v[7],
			       k[8], v[8], k[9], v[9], (const char *)NULL);
	if (*rc < 0) {
		gantry_warn(e->ctx, "cannot read the alarms: %s",
			    gantry_aws_error_line(e->aws));
		return NULL;
	}
	list = gantry_json_get(out, "DescribeAlarmsResult.MetricAlarms");
	for (i = 0; i < gantry_json_length(list) && !hit; i++) {
		struct gantry_json *a = gantry_json_at(list, i);

		if (!strcmp(gantry_json_string(a, "StateValue", ""), "ALARM"))
			hit = gantry_xstrdup(gantry_json_string(a,
							"AlarmName", "?"));
	}
	gantry_json_free(out);
	return hit;
}

char *ecs_alarm_firing(struct ecs *e)
{
	size_t from;
	char *hit = NULL;
	int rc;

	for (from = 0; from < e->o.nalarms && !hit; from += ALARMS_PER_CALL)
		hit = alarm_chunk(e, from, &rc);
	return hit;
}
