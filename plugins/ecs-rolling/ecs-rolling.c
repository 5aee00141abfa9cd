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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

/* The core sends SIGKILL 5 s after SIGTERM (core/runner.c): an
   interrupted stage requests its rollback and waits this long for it. */
#define INTERRUPT_WAIT 4.0
/* Kept free at the end of the budget for reporting. */
#define MARGIN 2.0

/*
 * Proposed for libgantry: after an interrupt, every AWS call refuses to
 * run ("interrupted before an answer came"), so a stage cannot roll
 * back.  This acknowledges the interrupt so that the stage's own
 * clean-up can make its calls; a second signal sets it again.  Weak:
 * the stage loads without it and then cannot roll back on interrupt.
 */
extern void gantry_ctx_clear_interrupt(struct gantry_ctx *ctx)
	__attribute__((weak));

static const struct gantry_option ecs_options[] = {
	{ "cluster", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the ECS cluster (name or ARN)" },
	{ "service", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the ECS service (name or ARN)" },
	{ "mode", GANTRY_OPT_STRING, 0, "update",
	  "update (register a task definition and update the service) or "
	  "follow (follow the deployment terraform started)" },
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
	  "seconds to keep watching the alarms after the rollout completed" },
	{ "follow_since", GANTRY_OPT_INT, 0, NULL,
	  "follow mode: a deployment created at or after this epoch second "
	  "is followed even when completed (default: deploy.started)" },
	{ NULL, 0, 0, NULL, NULL }
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
	for (i = 0; i < e->nseen; i++)
		free(e->seen[i]);
	free(e->seen);
	free(e->last_progress);
	gantry_buf_release(&e->events);
	free(e);
}

static int bad_int(struct gantry_ctx *ctx, const struct gantry_config *cfg,
		   const char *key, const char *want)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	return gantry_fail(ctx, GANTRY_ECONFIG, "%s: option '%s' is %lld; "
			   "give %s", gantry_config_where(c ? c : cfg), key,
			   gantry_config_int(cfg, key, 0), want);
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
	if (strcmp(o->mode, "update") && strcmp(o->mode, "follow"))
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: option 'mode' "
			"is '%s'; give \"update\" or \"follow\"",
			gantry_config_where(gantry_config_lookup(cfg, "mode")),
			o->mode);
	if (o->min_healthy < 0 || o->min_healthy > 100)
		return bad_int(e->ctx, cfg, "min_healthy_percent",
			       "a percentage from 0 to 100");
	if (o->max_percent < 100 || o->max_percent > 1000)
		return bad_int(e->ctx, cfg, "max_percent",
			       "a percentage from 100 to 1000");
	if (o->grace < 0 || o->grace > 2147483647)
		return bad_int(e->ctx, cfg, "grace_period",
			       "a number of seconds");
	if (o->timeout < 1 || o->timeout > 86400)
		return bad_int(e->ctx, cfg, "timeout",
			       "seconds from 1 to 86400");
	if (o->poll_interval < 0 || o->poll_interval > 300)
		return bad_int(e->ctx, cfg, "poll_interval",
			       "0 (adaptive) or seconds up to 300");
	if (gantry_config_lookup(cfg, "desired_count") && o->desired_count < 0)
		return bad_int(e->ctx, cfg, "desired_count",
			       "a count of tasks, 0 or more");
	if (o->bake_time < 0 || o->bake_time > 86400)
		return bad_int(e->ctx, cfg, "bake_time",
			       "seconds from 0 to 86400");
	return read_alarms(e, cfg);
}

static int ecs_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		    void **state)
{
	struct ecs *e = calloc(1, sizeof(*e));
	unsigned t;
	int rc;

	*state = NULL;
	if (!e)
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
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
	e->t0 = ecs_now();
	e->deadline = e->t0 + e->budget - (e->budget > 4 * MARGIN ? MARGIN
								   : 0);
	e->aws = gantry_aws_new(ctx);
	*state = e;
	return GANTRY_OK;
}

static double elapsed(const struct ecs *e)
{
	return ecs_now() - e->t0;
}

static void publish(struct ecs *e, const char *outcome)
{
	char secs[32];

	gantry_ctx_set(e->ctx, "ecs.task_definition", e->td ? e->td : "");
	gantry_ctx_set(e->ctx, "ecs.previous_task_definition",
		       e->prev_td ? e->prev_td : "");
	gantry_ctx_set(e->ctx, "ecs.deployment_id",
		       e->dep_id ? e->dep_id : "");
	gantry_ctx_set(e->ctx, "ecs.outcome", outcome);
	snprintf(secs, sizeof(secs), "%.0f", elapsed(e));
	gantry_ctx_set(e->ctx, "ecs.seconds", secs);
}

static int following(const struct ecs *e)
{
	return !strcmp(e->o.mode, "follow");
}

/* The note for follow mode after a rollback: Terraform's state is now
   ahead of the service. */
static const char *tf_note(const struct ecs *e)
{
	return following(e) ? "; Terraform's state still describes the "
	       "failed release: run 'gantry rollback <environment>' to "
	       "re-align it" : "";
}

static const char *env_name(const struct ecs *e)
{
	const char *env = gantry_ctx_get(e->ctx, "release.environment");

	return env && *env ? env : "ENV";
}

/* The stage's own recovery: back to prev_td within until.  Returns
   V_DONE, V_FAILED, V_TIMEOUT, V_INTERRUPTED or V_ERROR. */
static enum ecs_verdict restore(struct ecs *e, double until)
{
	if (!e->prev_td || !*e->prev_td) {
		free(e->reason);
		e->reason = ecs_strdup("no previous task definition is known");
		return V_FAILED;
	}
	if (ecs_restore(e) < 0)
		return V_ERROR;
	return ecs_wait_restored(e, e->prev_td, until);
}

/* Follow mode after ECS rolled the release back: the way back for
   Terraform's state. */
static void warn_tf_state(const struct ecs *e)
{
	gantry_warn(e->ctx, "Terraform's state still describes the failed "
		    "release; run 'gantry rollback %s' to re-align it",
		    env_name(e));
}

static const char *verdict_word(enum ecs_verdict v)
{
	switch (v) {
	case V_FAILED: return "failed";
	case V_TIMEOUT: return "did not finish in time";
	case V_INTERRUPTED: return "was interrupted";
	case V_ERROR: return "could not be checked";
	default: return "finished";
	}
}

/* After our own recovery: rolled back, or the recovery failed. */
static int recovered(struct ecs *e, enum ecs_verdict r, const char *outcome,
		     const char *why)
{
	if (r == V_DONE) {
		publish(e, outcome);
		return gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "%s; rolled "
				   "back to %s%s", why, e->prev_td,
				   tf_note(e));
	}
	publish(e, "rollback_failed");
	return gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "%s; rolling back "
		"to %s %s%s%s: the service needs an operator (aws ecs "
		"describe-services --cluster %s --services %s)", why,
		e->prev_td ? e->prev_td : "(unknown)", verdict_word(r),
		e->reason ? ": " : "", e->reason ? e->reason : "",
		e->o.cluster, e->o.service);
}

/* The deployment failed in ECS: find out whether ECS rolled back. */
static int ecs_failed(struct ecs *e)
{
	char *why = ecs_explain(e, e->dep_id, e->td);
	char *reason, *sd_reason = NULL;
	enum ecs_verdict r;
	char *sd;
	int rc;

	/* The deployment may be gone already (ECS finished its rollback
	   between two polls): the service deployment keeps the reason. */
	sd = ecs_sd_status(e, &sd_reason, NULL);
	reason = ecs_strdup(sd_reason && *sd_reason ? sd_reason
			    : e->reason ? e->reason : "failed");
	free(sd_reason);
	if (*reason && reason[strlen(reason) - 1] == '.')
		reason[strlen(reason) - 1] = '\0';
	free(sd);

	gantry_error(e->ctx, "deployment %s failed: %s", e->dep_id, reason);
	if (!e->o.rollback || !e->prev_td || !*e->prev_td) {
		publish(e, "failed");
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "deployment %s failed: "
			"%s%s; nothing was rolled back (rollback = false): the "
			"service may be running a mix of old and new tasks",
			e->dep_id, reason, why);
		goto out;
	}
	gantry_info(e->ctx, "waiting for ECS to roll back to %s",
		    e->prev_td);
	r = ecs_wait_restored(e, e->prev_td, e->deadline);
	sd = ecs_sd_status(e, NULL, NULL);
	if (r == V_DONE && (!sd || strcmp(sd, "ROLLBACK_FAILED"))) {
		publish(e, "rolled_back_by_ecs");
		rc = gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "rolled back by "
				 "ECS: %s%s%s", reason, why, tf_note(e));
		if (following(e))
			warn_tf_state(e);
	} else if (r == V_INTERRUPTED) {
		publish(e, "interrupted");
		rc = gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while ECS rolled deployment %s back: %s%s", e->dep_id,
			reason, why);
	} else {
		publish(e, "rollback_failed");
		rc = gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "deployment "
			"%s failed (%s) and ECS's rollback to %s %s%s%s%s; the "
			"service needs an operator", e->dep_id, reason,
			e->prev_td, sd && !strcmp(sd, "ROLLBACK_FAILED") ?
			"failed" : verdict_word(r), e->reason &&
			strcmp(e->reason, reason) ? " (" : "",
			e->reason && strcmp(e->reason, reason) ? e->reason : "",
			why);
	}
	free(sd);
out:
	free(why);
	free(reason);
	return rc;
}

static int interrupted(struct ecs *e)
{
	const char *no = gantry_ctx_get(e->ctx, "deploy.no_rollback");
	enum ecs_verdict r;
	double until;

	publish(e, "interrupted");
	if (!e->o.rollback || (no && !strcmp(no, "true")))
		return gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while waiting for deployment %s; nothing rolled back "
			"(ECS carries on with it)", e->dep_id);
	if (!gantry_ctx_clear_interrupt)
		return gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while waiting for deployment %s; cannot roll back: "
			"this libgantry cannot resume calls after an interrupt",
			e->dep_id);
	gantry_ctx_clear_interrupt(e->ctx);
	until = ecs_now() + INTERRUPT_WAIT;
	r = restore(e, until < e->deadline ? until : e->deadline);
	if (r == V_DONE) {
		publish(e, "interrupted_rolled_back");
		return gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while waiting for deployment %s; rolled back to %s",
			e->dep_id, e->prev_td);
	}
	return gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted while "
		"waiting for deployment %s; the rollback to %s %s%s; check "
		"the service", e->dep_id, e->prev_td ? e->prev_td : "(unknown)",
		e->restore_started ? "was requested and is still running"
				   : "could not start",
		r == V_TIMEOUT ? "" : " (it failed)");
}

/* Waits for the tracked deployment and turns the verdict into the
   stage's outcome. */
static int watch(struct ecs *e)
{
	double reserve = e->o.rollback ? e->budget / 3.0 : 0;
	enum ecs_verdict v;
	char *alarm = NULL, why[1024];
	int rc;

	v = ecs_wait(e, e->deadline - reserve, &alarm);
	e->completed = v == V_DONE;
	if (v == V_DONE && e->o.bake_time && e->o.nalarms) {
		double left = e->deadline - reserve - ecs_now();
		double bake = (double)e->o.bake_time;

		v = ecs_bake(e, bake < left ? bake : left, &alarm);
		if (v == V_DONE)
			gantry_info(e->ctx, "no alarm fired during the bake "
				    "time");
	}
	switch (v) {
	case V_DONE:
		publish(e, "succeeded");
		gantry_info(e->ctx, "deployment %s completed in %.0f s: %s is "
			    "running", e->dep_id, elapsed(e), e->td);
		return GANTRY_OK;
	case V_FAILED:
		return ecs_failed(e);
	case V_ALARM:
		snprintf(why, sizeof(why), "alarm '%s' is in ALARM during "
			 "deployment %s", alarm, e->dep_id);
		free(alarm);
		gantry_error(e->ctx, "%s", why);
		if (!e->o.rollback) {
			publish(e, "failed");
			return gantry_fail(e->ctx, GANTRY_EFAIL, "%s; nothing "
					   "rolled back (rollback = false)",
					   why);
		}
		return recovered(e, restore(e, e->deadline), "rolled_back",
				 why);
	case V_TIMEOUT:
		snprintf(why, sizeof(why), "timed out after %.0f s of the "
			 "%u s timeout waiting for deployment %s (last seen: "
			 "%s)%s", elapsed(e), e->budget, e->dep_id,
			 e->last_progress ? e->last_progress : "no progress",
			 e->o.rollback ? "; the rest is kept to roll back" :
			 "");
		gantry_error(e->ctx, "%s", why);
		if (!e->o.rollback) {
			publish(e, "timed_out");
			return gantry_fail(e->ctx, GANTRY_ETIMEOUT, "%s; "
				"nothing rolled back (rollback = false); raise "
				"the timeout or look at the service's events",
				why);
		}
		return recovered(e, restore(e, e->deadline), "rolled_back",
				 why);
	case V_INTERRUPTED:
		return interrupted(e);
	default:
		publish(e, "error");
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "lost track of "
				 "deployment %s: %s", e->dep_id,
				 gantry_aws_error_line(e->aws));
		return rc;
	}
}

/* The COMPLETED deployment's task definition (what to go back to), else
   the service's. */
static const char *current_td(const struct ecs_snap *s)
{
	size_t i;

	for (i = 0; i < s->ndeps; i++)
		if (!strcmp(s->deps[i].rollout, "COMPLETED"))
			return s->deps[i].td;
	return gantry_json_string(s->svc, "taskDefinition", "");
}

static int run_update(struct ecs *e, struct ecs_snap *s)
{
	const char *image = e->o.image ? e->o.image
				       : gantry_ctx_get(e->ctx, "image.uri");
	struct gantry_json *td = NULL, *c;
	const char *name, *old;
	int rc;

	if (!image || !*image)
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "no image to "
			"deploy: set option 'image' or run a stage that "
			"publishes image.uri (ecr) before this one");
	e->prev_td = ecs_strdup(current_td(s));
	if (s->ndeps > 1)
		gantry_warn(e->ctx, "service '%s' has %zu deployments in "
			    "progress; the new one replaces them",
			    e->o.service, s->ndeps);
	rc = ecs_describe_td(e, e->prev_td, 1, &td);
	if (rc < 0)
		return rc;
	c = ecs_pick_container(e, gantry_json_get(td, "taskDefinition"));
	if (!c) {
		gantry_json_free(td);
		return GANTRY_ECONFIG;
	}
	name = gantry_json_string(c, "name", "");
	old = gantry_json_string(c, "image", "");
	if (!strcmp(old, image) && !e->o.force_new) {
		gantry_info(e->ctx, "service '%s' already runs %s with image "
			    "%s; nothing to deploy", e->o.service, e->prev_td,
			    image);
		e->td = ecs_strdup(e->prev_td);
		gantry_json_free(td);
		publish(e, "unchanged");
		return GANTRY_OK;
	}
	if (strcmp(old, image)) {
		rc = ecs_register(e, td, name, image, &e->td);
		if (rc == GANTRY_OK)
			gantry_info(e->ctx, "registered %s (container '%s': "
				    "%s -> %s)", e->td, name, old, image);
	} else {
		e->td = ecs_strdup(e->prev_td);
	}
	gantry_json_free(td);
	if (rc < 0)
		return rc;
	rc = ecs_update(e, e->td, 1, 1);
	if (rc < 0)
		return rc;
	if (!e->dep_id || !*e->dep_id)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "UpdateService "
				   "started no deployment on '%s'",
				   e->o.service);
	gantry_info(e->ctx, "updated service '%s': deployment %s of %s "
		    "(previous %s)", e->o.service, e->dep_id, e->td,
		    e->prev_td);
	return watch(e);
}

/*
 * Follow mode, when ECS got there first: the service deployment the apply
 * started is rolling back, or rolled back, by the time we look, so the
 * PRIMARY deployment is ECS's rollback, and its success is not the
 * release's.  1 when that is not the case (follow as usual); otherwise
 * the stage's result.
 */
static int rolled_back_first(struct ecs *e, const struct ecs_dep *p)
{
	char *reason = NULL, *sd;
	enum ecs_verdict r = V_DONE;
	double created;
	int rc = 1;

	sd = ecs_sd_status(e, &reason, &created);
	if (!sd || strncmp(sd, "ROLLBACK_", 9) ||
	    (e->o.follow_since && created < (double)e->o.follow_since))
		goto out;
	gantry_error(e->ctx, "service deployment %s is %s: %s", e->sd_arn,
		     sd, reason && *reason ? reason : "no reason given");
	if (!strcmp(sd, "ROLLBACK_FAILED")) {
		r = V_FAILED;
	} else if (strcmp(sd, "ROLLBACK_SUCCESSFUL")) {
		gantry_info(e->ctx, "waiting for ECS to roll back to %s",
			    p->td);
		r = ecs_wait_restored(e, p->td, e->deadline);
		free(sd);
		sd = ecs_sd_status(e, NULL, NULL);
		if (sd && !strcmp(sd, "ROLLBACK_FAILED"))
			r = V_FAILED;
	}
	if (r == V_DONE) {
		publish(e, "rolled_back_by_ecs");
		rc = gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "rolled back by "
			"ECS before gantry looked: %s; the service runs %s "
			"again%s", reason && *reason ? reason : "the "
			"deployment failed", p->td, tf_note(e));
		warn_tf_state(e);
	} else if (r == V_INTERRUPTED) {
		publish(e, "interrupted");
		rc = gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while ECS rolled the release back to %s", p->td);
	} else {
		publish(e, "rollback_failed");
		rc = gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "the release "
			"failed (%s) and ECS's rollback to %s %s; the service "
			"needs an operator (aws ecs describe-services "
			"--cluster %s --services %s)", reason && *reason ?
			reason : "no reason given", p->td, verdict_word(r),
			e->o.cluster, e->o.service);
	}
out:
	free(sd);
	free(reason);
	return rc;
}

/*
 * Follow mode.  The deployment to follow is the service's PRIMARY one
 * when it is not settled (IN_PROGRESS, or older deployments still
 * running), or when it was created at or after `follow_since` (default:
 * the context's deploy.started, when the core publishes it).  A single
 * COMPLETED deployment older than that means the apply started none.
 * What to roll back to is the newest other deployment's task definition.
 */
static int run_follow(struct ecs *e, struct ecs_snap *s)
{
	const struct ecs_dep *p = ecs_find(s, NULL);
	const char *sd, *started = gantry_ctx_get(e->ctx, "deploy.started");
	size_t i;
	int rc;

	if (!e->o.follow_since && started)
		e->o.follow_since = strtoll(started, NULL, 10);

	if (!p)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "service '%s' has no "
				   "PRIMARY deployment", e->o.service);
	if (s->ndeps == 1 && strcmp(p->rollout, "IN_PROGRESS") &&
	    strcmp(p->rollout, "FAILED") &&
	    !(e->o.follow_since && p->created >= (double)e->o.follow_since)) {
		gantry_info(e->ctx, "service '%s' already runs %s; nothing to "
			    "follow (no deployment was started)", e->o.service,
			    p->td);
		e->td = ecs_strdup(p->td);
		e->dep_id = ecs_strdup(p->id);
		publish(e, "unchanged");
		return GANTRY_OK;
	}
	e->dep_id = ecs_strdup(p->id);
	e->td = ecs_strdup(p->td);
	for (i = 0; i < s->ndeps; i++)
		if (&s->deps[i] != p && strcmp(s->deps[i].td, p->td)) {
			e->prev_td = ecs_strdup(s->deps[i].td);
			break;
		}
	sd = gantry_json_string(s->svc, "currentServiceDeployment", NULL);
	e->sd_arn = sd ? ecs_strdup(sd) : NULL;
	e->sd_api = sd ? 1 : -1;
	if ((rc = rolled_back_first(e, p)) != 1)
		return rc;
	gantry_info(e->ctx, "following deployment %s of %s on service '%s' "
		    "(previous %s)", e->dep_id, e->td, e->o.service,
		    e->prev_td ? e->prev_td : "unknown");
	return watch(e);
}

static int ecs_run(void *state, struct gantry_ctx *ctx)
{
	struct ecs *e = state;
	struct ecs_snap s;
	int rc;

	e->ctx = ctx;
	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc;
	e->has_lb = gantry_json_length(gantry_json_get(s.svc,
						       "loadBalancers")) > 0;
	ecs_events_seen(e, &s);
	rc = following(e) ? run_follow(e, &s) : run_update(e, &s);
	ecs_snap_free(&s);
	return rc;
}

static int ecs_rollback(void *state, struct gantry_ctx *ctx)
{
	struct ecs *e = state;
	const char *prev = gantry_ctx_get(ctx, "ecs.previous_task_definition");
	const char *now = gantry_ctx_get(ctx, "ecs.task_definition");
	struct ecs_snap s;
	const struct ecs_dep *p;
	enum ecs_verdict r;
	int rc, there;

	if (!prev || !*prev || (now && !strcmp(prev, now))) {
		gantry_info(ctx, "nothing to roll back: this stage changed no "
			    "task definition");
		return GANTRY_OK;
	}
	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc;
	e->has_lb = gantry_json_length(gantry_json_get(s.svc,
						       "loadBalancers")) > 0;
	ecs_events_seen(e, &s);
	p = ecs_find(&s, NULL);
	there = p && s.ndeps == 1 && !strcmp(p->td, prev) &&
		!strcmp(p->rollout, "COMPLETED");
	ecs_snap_free(&s);
	if (there) {
		gantry_info(ctx, "service '%s' already runs %s", e->o.service,
			    prev);
		return GANTRY_OK;
	}
	e->prev_td = ecs_strdup(prev);
	gantry_info(ctx, "rolling service '%s' back to %s", e->o.service,
		    prev);
	rc = ecs_update(e, prev, 0, 0);
	if (rc < 0)
		return rc;
	r = ecs_wait_restored(e, prev, e->deadline);
	if (r == V_DONE) {
		gantry_info(ctx, "service '%s' is back on %s", e->o.service,
			    prev);
		return GANTRY_OK;
	}
	if (r == V_INTERRUPTED)
		return gantry_fail(ctx, GANTRY_EINTERRUPTED, "interrupted "
				   "while rolling service '%s' back to %s",
				   e->o.service, prev);
	return gantry_fail(ctx, GANTRY_EFAIL, "rolling service '%s' back to "
			   "%s %s%s%s; check the service", e->o.service, prev,
			   verdict_word(r), e->reason ? ": " : "",
			   e->reason ? e->reason : "");
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
	e->has_lb = gantry_json_length(gantry_json_get(s.svc,
						       "loadBalancers")) > 0;
	cur = current_td(&s);
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
	if (following(e)) {
		gantry_plan_line(ctx, "would follow the deployment an earlier "
				 "stage (terraform) starts; no task definition "
				 "is registered, no UpdateService is made");
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
	plan_config(e);
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
	.init = ecs_init,
	.plan = ecs_plan,
	.run = ecs_run,
	.rollback = ecs_rollback,
	.fini = ecs_fini,
};

GANTRY_STAGE_EXPORT(ecs_stage)
