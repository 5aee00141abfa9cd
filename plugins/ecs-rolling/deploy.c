/*
 * deploy.c - the ecs-rolling stage's run: start the deployment (update
 * mode) or find the one Terraform started (follow mode), wait for it,
 * and turn the verdict into the stage's outcome and context values.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

static double elapsed(const struct ecs *e)
{
	return gantry_now() - e->t0;
}

void ecs_publish(struct ecs *e, const char *outcome)
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
	gantry_ctx_set(e->ctx, "ecs.strategy",
		       ecs_strategy_word(e->sd_strategy));
	gantry_ctx_set(e->ctx, "ecs.service_deployment",
		       e->sd_arn ? e->sd_arn : "");
	gantry_ctx_set(e->ctx, "ecs.lifecycle_stage", e->stage ? e->stage : "");
	/* Only a pause leaves a hook for the continue entry. */
	gantry_ctx_set(e->ctx, "ecs.hook_id", e->hook_id &&
		       !strcmp(outcome, "paused") ? e->hook_id : "");
}

int ecs_following(const struct ecs *e)
{
	return !strcmp(e->o.mode, "follow");
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
		double left = e->deadline - reserve - gantry_now();
		double bake = (double)e->o.bake_time;

		v = ecs_bake(e, bake < left ? bake : left, &alarm);
		if (v == V_DONE)
			gantry_info(e->ctx, "no alarm fired during the bake "
				    "time");
	}
	switch (v) {
	case V_DONE:
		ecs_publish(e, "succeeded");
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
			ecs_publish(e, "failed");
			return gantry_fail(e->ctx, GANTRY_EFAIL, "%s; nothing "
					   "rolled back (rollback = false)",
					   why);
		}
		return ecs_recovered(e, ecs_recover(e, e->deadline),
				     "rolled_back", why);
	case V_TIMEOUT:
		snprintf(why, sizeof(why), "timed out after %.0f s of the "
			 "%u s timeout waiting for deployment %s (last seen: "
			 "%s)%s", elapsed(e), e->budget, e->dep_id,
			 e->last_progress ? e->last_progress : "no progress",
			 e->o.rollback ? "; the rest is kept to roll back" :
			 "");
		gantry_error(e->ctx, "%s", why);
		if (!e->o.rollback) {
			ecs_publish(e, "timed_out");
			return gantry_fail(e->ctx, GANTRY_ETIMEOUT, "%s; "
				"nothing rolled back (rollback = false); raise "
				"the timeout or look at the service's events",
				why);
		}
		return ecs_recovered(e, ecs_recover(e, e->deadline),
				     "rolled_back", why);
	case V_INTERRUPTED:
		return ecs_interrupted(e);
	default:
		ecs_publish(e, "error");
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "lost track of "
				 "deployment %s: %s", e->dep_id,
				 gantry_aws_error_line(e->aws));
		return rc;
	}
}

/* The COMPLETED deployment's task definition (what to go back to), else
   the service's. */
const char *ecs_current_td(const struct ecs_snap *s)
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
	/* Before anything is registered: ECS would refuse the update. */
	e->sd_strategy = e->o.strategy;
	if ((rc = ecs_strategy_check_lb(e, s)) < 0)
		return rc;
	e->prev_td = gantry_xstrdup(ecs_current_td(s));
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
		e->td = gantry_xstrdup(e->prev_td);
		gantry_json_free(td);
		ecs_publish(e, "unchanged");
		return GANTRY_OK;
	}
	if (strcmp(old, image)) {
		rc = ecs_register(e, td, name, image, &e->td);
		if (rc == GANTRY_OK)
			gantry_info(e->ctx, "registered %s (container '%s': "
				    "%s -> %s)", e->td, name, old, image);
	} else {
		e->td = gantry_xstrdup(e->prev_td);
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
		    "(previous %s)%s%s%s", e->o.service, e->dep_id, e->td,
		    e->prev_td, e->sd_arn ? ", service deployment " : "",
		    e->sd_arn ? e->sd_arn : "", e->o.strategy == S_ROLLING ? ""
		    : e->o.strategy == S_BLUE_GREEN ? " (blue_green)" :
		    e->o.strategy == S_LINEAR ? " (linear)" : " (canary)");
	if (e->o.strategy == S_ROLLING)
		return watch(e);
	if (!e->sd_arn)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "UpdateService "
				   "returned no currentServiceDeployment for "
				   "strategy %s: cannot follow the outcome",
				   ecs_strategy_word(e->o.strategy));
	return ecs_sd_watch(e);
}

/*
 * Follow mode.  First, whether ECS rolled back the deployment the apply
 * started before the stage looked (ecs_rolled_back_first): then the
 * PRIMARY deployment is ECS's rollback, whose success is not the
 * release's.  Otherwise the deployment to follow is the service's
 * PRIMARY one when it is not settled (IN_PROGRESS, or older deployments
 * still running), or when it was created at or after `follow_since`
 * (default: the context's deploy.started, when the core publishes it).
 * A single COMPLETED deployment older than that means the apply started
 * none.  What to roll back to is the newest other deployment's task
 * definition.
 */
static int run_follow(struct ecs *e, struct ecs_snap *s)
{
	const struct ecs_dep *p = ecs_find(s, NULL);
	const char *sd, *started = gantry_ctx_get(e->ctx, "deploy.started");
	size_t i;
	int rc;

	if (!e->o.follow_since && started)
		e->o.follow_since = strtoll(started, NULL, 10);

	/* Follow mode takes the strategy from the service. */
	e->sd_strategy = ecs_strategy_of(e->svc_strategy);
	if (e->sd_strategy < 0)
		e->sd_strategy = S_ROLLING;
	if (e->sd_strategy != S_ROLLING)
		return ecs_sd_follow(e, s);
	if (e->o.pause_at)
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "pause_at = %s, and "
			"service '%s' deploys with strategy ROLLING, which runs "
			"no lifecycle hooks; remove pause_at or give the service "
			"a blue/green, linear or canary strategy (Terraform)",
			e->o.pause_at, e->o.service);
	if (!p)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "service '%s' has no "
				   "PRIMARY deployment", e->o.service);
	sd = gantry_json_string(s->svc, "currentServiceDeployment", NULL);
	e->sd_arn = sd ? gantry_xstrdup(sd) : NULL;
	e->sd_api = sd ? 1 : -1;
	if ((rc = ecs_rolled_back_first(e, s, p)) != 1)
		return rc;
	if (s->ndeps == 1 && strcmp(p->rollout, "IN_PROGRESS") &&
	    strcmp(p->rollout, "FAILED") &&
	    !(e->o.follow_since && p->created >= (double)e->o.follow_since)) {
		gantry_info(e->ctx, "service '%s' already runs %s; nothing to "
			    "follow (no deployment was started)", e->o.service,
			    p->td);
		e->td = gantry_xstrdup(p->td);
		e->dep_id = gantry_xstrdup(p->id);
		ecs_publish(e, "unchanged");
		return GANTRY_OK;
	}
	e->dep_id = gantry_xstrdup(p->id);
	e->td = gantry_xstrdup(p->td);
	for (i = 0; i < s->ndeps; i++)
		if (&s->deps[i] != p && strcmp(s->deps[i].td, p->td)) {
			e->prev_td = gantry_xstrdup(s->deps[i].td);
			break;
		}
	gantry_info(e->ctx, "following deployment %s of %s on service '%s' "
		    "(previous %s)", e->dep_id, e->td, e->o.service,
		    e->prev_td ? e->prev_td : "unknown");
	return watch(e);
}

int ecs_run(void *state, struct gantry_ctx *ctx)
{
	struct ecs *e = state;
	struct ecs_snap s;
	int rc;

	e->ctx = ctx;
	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc;
	ecs_events_seen(e, &s);
	if (!strcmp(e->o.mode, "continue"))
		rc = ecs_continue(e);
	else if ((rc = ecs_sd_inflight(e, &s)) != 1)
		;	/* gantry rollback while a deployment was in flight */
	else
		rc = ecs_following(e) ? run_follow(e, &s) : run_update(e, &s);
	ecs_snap_free(&s);
	return rc;
}
