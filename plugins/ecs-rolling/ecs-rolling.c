/*
 * ecs-rolling.c - the `ecs-rolling` stage: a rolling deployment of an ECS
 * service, judged the way docs/ecs.md says it must be.
 *
 * mode = "update": clone the service's task definition with the new
 * image, register it, UpdateService with the deployment configuration,
 * and follow the deployment UpdateService created (by id).  mode =
 * "follow": Terraform (or someone) already updated the service; follow
 * the deployment it started.  Outcomes: succeeded; rolled back by ECS
 * (circuit breaker or alarm: GANTRY_EROLLED_BACK, even though the service
 * is stable again); timed out, interrupted or alarmed, and rolled back by
 * the stage itself (option `rollback`); or the rollback failed too.
 *
 * Time: the whole callback lives inside the entry's timeout (or option
 * `timeout`).  With rollback = true the wait for the new deployment gets
 * the first two thirds of it and the stage's own recovery the rest, so
 * that the recovery finishes before the core's deadline.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

/* Kept free at the end of the budget for reporting. */
#define MARGIN 2.0

static const struct gantry_option ecs_options[] = {
	{ "cluster", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the ECS cluster (name or ARN)" },
	{ "service", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the ECS service (name or ARN)" },
	{ "mode", GANTRY_OPT_STRING, 0, "update",
	  "update (register a task definition and update the service), "
	  "follow (follow the deployment terraform started) or continue "
	  "(continue the deployment an earlier entry paused with pause_at)" },
	{ "strategy", GANTRY_OPT_STRING, 0, "rolling",
	  "ECS deployment strategy: rolling, blue_green, linear or canary "
	  "(the last three need the service's advancedConfiguration; follow "
	  "mode reads it from the service)" },
	{ "container", GANTRY_OPT_STRING, 0, NULL,
	  "the container whose image changes (default: the only one, or the "
	  "one named like the service)" },
	{ "image", GANTRY_OPT_STRING, 0, NULL,
	  "the image to deploy (default: the image.uri context value)" },
	{ "min_healthy_percent", GANTRY_OPT_INT, 0, "100",
	  "minimum healthy percent during the rollout" },
	{ "max_percent", GANTRY_OPT_INT, 0, "200",
	  "maximum percent of desired tasks running during the rollout" },
	{ "circuit_breaker", GANTRY_OPT_BOOL, 0, "true",
	  "let ECS fail a deployment whose tasks keep failing" },
	{ "rollback", GANTRY_OPT_BOOL, 0, "true",
	  "roll back on failure: ECS on a circuit-breaker failure, the "
	  "stage on timeout, interrupt or alarm" },
	{ "grace_period", GANTRY_OPT_INT, 0, "60",
	  "seconds health checks are ignored after a task starts (services "
	  "with a load balancer)" },
	{ "timeout", GANTRY_OPT_INT, 0, "600",
	  "seconds for the rollout and any rollback (the entry's timeout "
	  "when set)" },
	{ "poll_interval", GANTRY_OPT_INT, 0, "0",
	  "seconds between status calls (0: adaptive, 1 s growing to 10 s)" },
	{ "force_new_deployment", GANTRY_OPT_BOOL, 0, "false",
	  "start a deployment even when the image is unchanged" },
	{ "desired_count", GANTRY_OPT_INT, 0, NULL,
	  "set the service's desired count (default: unchanged)" },
	{ "alarms", GANTRY_OPT_LIST, 0, NULL,
	  "cloudwatch alarm names: ECS deployment alarms, watched by the "
	  "stage too" },
	{ "bake_time", GANTRY_OPT_INT, 0, "0",
	  "rolling: seconds to keep watching the alarms after the rollout "
	  "completed; blue_green, linear, canary: ECS's bake time after the "
	  "production shift (seconds, rounded up to minutes)" },
	{ "canary_percent", GANTRY_OPT_STRING, 0, NULL,
	  "canary: percent of production traffic to the canary, 0.1 to "
	  "100 with one decimal (\"2.5\", 2.5 or \"5\"; default ECS's 5)" },
	{ "canary_bake_time", GANTRY_OPT_INT, 0, NULL,
	  "canary: seconds the canary bakes before the full shift (rounded "
	  "up to minutes; default ECS's 10 minutes)" },
	{ "linear_step_percent", GANTRY_OPT_STRING, 0, NULL,
	  "linear: percent of production traffic added per step, 3 to 100 "
	  "with one decimal (\"12.5\", 12.5 or \"25\"; default ECS's 10)" },
	{ "linear_step_bake_time", GANTRY_OPT_INT, 0, NULL,
	  "linear: seconds between steps (rounded up to minutes; default "
	  "ECS's 6 minutes)" },
	{ "pause_at", GANTRY_OPT_STRING, 0, NULL,
	  "blue_green, linear, canary: a lifecycle stage where the "
	  "deployment pauses (a PAUSE hook); the stage succeeds once paused "
	  "and a later entry with mode = \"continue\" resumes it" },
	{ "follow_since", GANTRY_OPT_INT, 0, NULL,
	  "follow mode: a deployment created at or after this epoch second "
	  "is followed even when completed (default: deploy.started)" },
	{ NULL, 0, 0, NULL, NULL }
};

/* The core enforces these before init: read_options never sees a value
   outside them. */
static const struct gantry_option_rule ecs_rules[] = {
	{ .key = "mode", GANTRY_CHOICES("update", "follow", "continue") },
	{ .key = "strategy", GANTRY_CHOICES("rolling", "blue_green", "linear",
					    "canary") },
	{ .key = "pause_at", GANTRY_CHOICES("RECONCILE_SERVICE",
		"PRE_SCALE_UP", "POST_SCALE_UP", "POST_TEST_TRAFFIC_SHIFT",
		"PRE_PRODUCTION_TRAFFIC_SHIFT",
		"POST_PRODUCTION_TRAFFIC_SHIFT") },
	{ .key = "canary_bake_time", GANTRY_RANGE(0, 86400) },
	{ .key = "linear_step_bake_time", GANTRY_RANGE(0, 86400) },
	{ .key = "min_healthy_percent", GANTRY_RANGE(0, 100) },
	{ .key = "max_percent", GANTRY_RANGE(100, 1000) },
	{ .key = "grace_period", GANTRY_RANGE(0, INT_MAX) },
	{ .key = "timeout", GANTRY_RANGE(1, 86400) },
	{ .key = "poll_interval", GANTRY_RANGE(0, 300) },
	{ .key = "desired_count", GANTRY_AT_LEAST(0) },
	{ .key = "bake_time", GANTRY_RANGE(0, 86400) },
	{ .key = NULL }
};

static void ecs_fini(void *state)
{
	struct ecs *e = state;
	size_t i;

	if (!e)
		return;
	gantry_aws_free(e->aws);
	free(e->o.alarms);
	free(e->dep_id);
	free(e->td);
	free(e->prev_td);
	free(e->sd_arn);
	free(e->reason);
	free(e->stage);
	free(e->hook_id);
	free(e->svc_hooks);
	free(e->svc_strategy);
	for (i = 0; i < e->nseen; i++)
		free(e->seen[i]);
	free(e->seen);
	free(e->last_progress);
	gantry_buf_release(&e->events);
	free(e);
}

static int read_alarms(struct ecs *e, const struct gantry_config *cfg)
{
	const struct gantry_config *list = gantry_config_lookup(cfg, "alarms");
	size_t i, n = gantry_config_length(list);

	e->o.alarms = calloc(n + 1, sizeof(*e->o.alarms));
	if (!e->o.alarms)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "out of memory");
	for (i = 0; i < n; i++) {
		const char *name = gantry_config_text(gantry_config_at(list,
								       i));

		if (!name || !*name)
			return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: "
				"alarms[%zu] must be an alarm name",
				gantry_config_where(list), i);
		e->o.alarms[e->o.nalarms++] = name;
	}
	return GANTRY_OK;
}

static int read_options(struct ecs *e, const struct gantry_config *cfg)
{
	struct ecs_opts *o = &e->o;

	/* mode and the numbers are within ecs_rules: the core checked. */
	o->cluster = gantry_config_string(cfg, "cluster", "");
	o->service = gantry_config_string(cfg, "service", "");
	o->mode = gantry_config_string(cfg, "mode", "update");
	o->container = gantry_config_string(cfg, "container", NULL);
	o->image = gantry_config_string(cfg, "image", NULL);
	o->min_healthy = gantry_config_int(cfg, "min_healthy_percent", 100);
	o->max_percent = gantry_config_int(cfg, "max_percent", 200);
	o->circuit_breaker = gantry_config_bool(cfg, "circuit_breaker", 1);
	o->rollback = gantry_config_bool(cfg, "rollback", 1);
	o->grace = gantry_config_int(cfg, "grace_period", 60);
	o->timeout = gantry_config_int(cfg, "timeout", 600);
	o->poll_interval = gantry_config_int(cfg, "poll_interval", 0);
	o->force_new = gantry_config_bool(cfg, "force_new_deployment", 0);
	o->desired_count = gantry_config_int(cfg, "desired_count", -1);
	o->bake_time = gantry_config_int(cfg, "bake_time", 0);
	o->follow_since = gantry_config_int(cfg, "follow_since", 0);
	if (o->container && !*o->container)
		o->container = NULL;
	if (o->image && !*o->image)
		o->image = NULL;

	if (!*o->cluster || !*o->service)
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: options "
				   "'cluster' and 'service' must not be empty",
				   gantry_config_where(cfg));
	if (ecs_strategy_read(e, cfg) < 0)
		return GANTRY_ECONFIG;
	return read_alarms(e, cfg);
}

static int ecs_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		    void **state)
{
	struct ecs *e = gantry_xcalloc(1, sizeof(*e));
	unsigned t;
	int rc;

	*state = NULL;
	e->ctx = ctx;
	gantry_buf_init(&e->events);
	rc = read_options(e, cfg);
	if (rc < 0) {
		ecs_fini(e);
		return rc;
	}
	/* The entry's timeout reaches us as option `timeout` too; the
	   context's is the one the core enforces. */
	t = gantry_ctx_timeout(ctx);
	e->budget = t ? t : (unsigned)e->o.timeout;
	e->t0 = gantry_now();
	e->deadline = e->t0 + e->budget - (e->budget > 4 * MARGIN ? MARGIN
								   : 0);
	e->aws = gantry_aws_new(ctx);
	*state = e;
	return GANTRY_OK;
}

static void plan_config(struct ecs *e)
{
	struct gantry_buf al = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < e->o.nalarms; i++)
		gantry_buf_addf(&al, "%s'%s'", i ? ", " : "", e->o.alarms[i]);
	gantry_plan_line(e->ctx, "deployment configuration: minimum healthy "
		"%lld %%, maximum %lld %%, circuit breaker %s, rollback %s, "
		"grace period %lld s%s, desired count %s", e->o.min_healthy,
		e->o.max_percent, e->o.circuit_breaker ? "on" : "off",
		e->o.rollback ? "on" : "off", e->o.grace,
		e->has_lb ? "" : " (not applied: no load balancer)",
		e->o.desired_count >= 0 ? "set" : "unchanged");
	if (e->o.desired_count >= 0)
		gantry_plan_line(e->ctx, "  desired count -> %lld",
				 e->o.desired_count);
	gantry_plan_line(e->ctx, "alarms: %s%s", e->o.nalarms ? al.buf :
			 "none", e->o.nalarms && e->o.bake_time ?
			 " (watched during the rollout and the bake time)" :
			 "");
	if (e->o.nalarms && e->o.bake_time)
		gantry_plan_line(e->ctx, "  bake time %lld s", e->o.bake_time);
	gantry_plan_line(e->ctx, "would wait up to %.0f s for the new "
			 "deployment%s", e->budget - (e->o.rollback ?
			 e->budget / 3.0 : 0), e->o.rollback ?
			 ", keeping the rest of the timeout to roll back" : "");
	gantry_buf_release(&al);
}

/* Follow mode: the strategy and settings the service deploys with. */
static void plan_follow(struct ecs *e, const struct ecs_snap *s)
{
	static const char *const keys[] = {
		"bakeTimeInMinutes", "canaryConfiguration",
		"linearConfiguration", "lifecycleHooks", NULL
	};
	struct gantry_json *dc = gantry_json_get(s->svc,
						 "deploymentConfiguration");
	size_t i;

	gantry_plan_line(e->ctx, "the service deploys with strategy %s "
			 "(read from it)", e->svc_strategy ? e->svc_strategy
			 : "ROLLING");
	for (i = 0; keys[i]; i++)
		if (gantry_json_get(dc, keys[i]))
			gantry_plan_line(e->ctx, "  %s: %s", keys[i],
				gantry_json_text(gantry_json_get(dc, keys[i]),
						 0));
	if (e->o.pause_at)
		gantry_plan_line(e->ctx, "  would return once the deployment "
				 "pauses at %s (the service needs a PAUSE hook "
				 "there)", e->o.pause_at);
}

/* The container definition's members that differ, as "key: a -> b". */
static void plan_diff(struct ecs *e, struct gantry_json *c, const char *image)
{
	const char *old = gantry_json_string(c, "image", "");

	gantry_plan_line(e->ctx, "task definition diff (container '%s'):",
			 gantry_json_string(c, "name", ""));
	if (strcmp(old, image))
		gantry_plan_line(e->ctx, "  - image: %s", old);
	if (strcmp(old, image))
		gantry_plan_line(e->ctx, "  + image: %s", image);
	else
		gantry_plan_line(e->ctx, "  (no change%s)", e->o.force_new ?
				 "; force_new_deployment restarts the tasks" :
				 "");
}

static int ecs_plan(void *state, struct gantry_ctx *ctx)
{
	struct ecs *e = state;
	const char *image = e->o.image ? e->o.image
				       : gantry_ctx_get(ctx, "image.uri");
	struct gantry_json *td = NULL, *c;
	struct ecs_snap s;
	const char *cur;
	int rc;

	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc;
	cur = ecs_current_td(&s);
	rc = ecs_describe_td(e, cur, 0, &td);
	if (rc < 0)
		goto out;
	c = ecs_pick_container(e, gantry_json_get(td, "taskDefinition"));
	if (!c) {
		rc = GANTRY_ECONFIG;
		goto out;
	}
	gantry_plan_line(ctx, "service '%s' in cluster '%s' (%s/%s) runs %s, "
			 "container '%s' image %s (%lld/%lld running)",
			 e->o.service, e->o.cluster,
			 gantry_aws_account(e->aws), gantry_aws_region(e->aws),
			 cur, gantry_json_string(c, "name", ""),
			 gantry_json_string(c, "image", ""), s.running,
			 s.desired);
	if (!strcmp(e->o.mode, "continue")) {
		gantry_plan_line(ctx, "would continue the deployment an earlier "
				 "entry paused (ecs.service_deployment, "
				 "ecs.hook_id: ContinueServiceDeployment "
				 "CONTINUE) and wait for its outcome");
		goto out;
	}
	if (ecs_following(e)) {
		gantry_plan_line(ctx, "would follow the deployment an earlier "
				 "stage (terraform) starts; no task definition "
				 "is registered, no UpdateService is made");
		plan_follow(e, &s);
		gantry_plan_line(ctx, "would wait up to %u s; rollback %s",
				 e->budget, e->o.rollback ? "on" : "off");
		goto out;
	}
	if (!image || !*image) {
		gantry_plan_line(ctx, "would set the image an earlier stage "
				 "publishes as image.uri (not known before "
				 "the deploy)");
	} else {
		gantry_plan_line(ctx, "would register a new revision of '%s' "
				 "with image %s and update the service",
				 gantry_json_string(td, "taskDefinition.family",
						    "?"), image);
		plan_diff(e, c, image);
	}
	if (e->o.strategy == S_ROLLING)
		plan_config(e);
	else
		ecs_strategy_plan(e, &s);
out:
	gantry_json_free(td);
	ecs_snap_free(&s);
	return rc;
}

static const struct gantry_stage ecs_stage = {
	GANTRY_STAGE_HEADER,
	.name = "ecs-rolling",
	.version = PACKAGE_VERSION,
	.summary = "roll an ECS service out to a new image and tell success "
		   "from an ECS rollback",
	.kind = GANTRY_KIND_STAGE,
	.options = ecs_options,
	.option_rules = ecs_rules,
	.init = ecs_init,
	.plan = ecs_plan,
	.run = ecs_run,
	.rollback = ecs_rollback,
	.fini = ecs_fini,
};

GANTRY_STAGE_EXPORT(ecs_stage)
