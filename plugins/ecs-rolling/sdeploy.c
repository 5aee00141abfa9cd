/*
 * sdeploy.c - service deployments: the outcome of a blue/green, linear or
 * canary deployment, read from DescribeServiceDeployments alone (one call
 * per poll) - success only on SUCCESSFUL, whatever "stable" says; pauses
 * at a PAUSE lifecycle hook (option pause_at) and mode = "continue"; the
 * rollback of a paused or running service deployment; and `gantry
 * rollback` while one is in flight.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

/* One DescribeServiceDeployments answer. */
struct sdv {
	struct gantry_json *doc, *sd;
	const char *status, *reason, *stage;
	const char *awaiting;		/* a PAUSE hook AWAITING_ACTION */
};

static double elapsed(const struct ecs *e)
{
	return gantry_now() - e->t0;
}

static int in_flight(const char *st)
{
	return !strcmp(st, "PENDING") || !strcmp(st, "IN_PROGRESS");
}

static void sdv_free(struct sdv *v)
{
	gantry_json_free(v->doc);
	memset(v, 0, sizeof(*v));
	v->status = v->reason = v->stage = "";
}

/* The string at path, "" when absent: never NULL. */
static const char *text(const struct gantry_json *j, const char *path)
{
	const char *s = gantry_json_string(j, path, "");

	return s ? s : "";
}

static int sd_read(struct ecs *e, struct sdv *v)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *hooks;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	v->status = v->reason = v->stage = "";
	gantry_buf_adds(&b, "{\"serviceDeploymentArns\":[");
	gantry_buf_add_json(&b, e->sd_arn);
	gantry_buf_adds(&b, "]}");
	rc = ecs_call(e, "DescribeServiceDeployments", b.buf, &v->doc,
		      "cannot describe the service deployment");
	gantry_buf_release(&b);
	if (rc < 0)
		return rc;
	v->sd = gantry_json_get(v->doc, "serviceDeployments[0]");
	if (!v->sd) {
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "service deployment %s "
			"not found (%s) in %s/%s", e->sd_arn,
			gantry_json_string(v->doc, "failures[0].reason",
					   "no answer"),
			gantry_aws_account(e->aws), gantry_aws_region(e->aws));
		sdv_free(v);
		return rc;
	}
	v->status = text(v->sd, "status");
	v->reason = text(v->sd, "statusReason");
	v->stage = text(v->sd, "lifecycleStage");
	hooks = gantry_json_get(v->sd, "lifecycleHookDetails");
	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *h = gantry_json_at(hooks, i);

		if (!strcmp(gantry_json_string(h, "targetType", ""), "PAUSE") &&
		    !strcmp(gantry_json_string(h, "status", ""),
			    "AWAITING_ACTION"))
			v->awaiting = gantry_json_string(h, "hookId", NULL);
	}
	return GANTRY_OK;
}

/* The status of hook id in v, or NULL. */
static const char *hook_status(const struct sdv *v, const char *id)
{
	struct gantry_json *hooks = gantry_json_get(v->sd,
						    "lifecycleHookDetails");
	size_t i;

	for (i = 0; i < gantry_json_length(hooks); i++)
		if (!strcmp(gantry_json_string(gantry_json_at(hooks, i),
					       "hookId", ""), id))
			return gantry_json_string(gantry_json_at(hooks, i),
						  "status", "?");
	return NULL;
}

static const char *short_arn(const char *arn)
{
	const char *slash = arn ? strrchr(arn, '/') : NULL;

	return slash ? slash + 1 : arn ? arn : "?";
}

/* " production new 10 % old 90 %" when the weights are reported. */
static void weights(struct gantry_buf *b, const struct sdv *v,
		    const char *key, const char *word)
{
	struct gantry_json *t = gantry_json_get(v->sd, "targetServiceRevision");
	struct gantry_json *src = gantry_json_get(v->sd,
						  "sourceServiceRevisions");
	size_t i;

	if (!gantry_json_get(t, key))
		return;
	gantry_buf_addf(b, ", %s new %g %%", word,
			gantry_json_double(t, key, 0));
	for (i = 0; i < gantry_json_length(src); i++)
		if (gantry_json_get(gantry_json_at(src, i), key))
			gantry_buf_addf(b, " old %g %%", gantry_json_double(
					gantry_json_at(src, i), key, 0));
}

/* One info line per change: status, lifecycle stage, traffic split,
   the new revision's tasks and the hooks.  1 when it changed. */
static int sd_progress(struct ecs *e, const struct sdv *v)
{
	struct gantry_json *t = gantry_json_get(v->sd, "targetServiceRevision");
	struct gantry_json *hooks = gantry_json_get(v->sd,
						    "lifecycleHookDetails");
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;
	int changed;

	gantry_buf_addf(&b, "service deployment %s: %s", short_arn(e->sd_arn),
			v->status);
	if (*v->stage)
		gantry_buf_addf(&b, " %s", v->stage);
	weights(&b, v, "requestedProductionTrafficWeight", "production");
	weights(&b, v, "requestedTestTrafficWeight", "test");
	gantry_buf_addf(&b, ", new tasks %lld/%lld running, %lld pending",
			gantry_json_int(t, "runningTaskCount", 0),
			gantry_json_int(t, "requestedTaskCount", 0),
			gantry_json_int(t, "pendingTaskCount", 0));
	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *h = gantry_json_at(hooks, i);

		gantry_buf_addf(&b, "%s%s %s", i ? ", " : "; hooks: ",
				gantry_json_string(h, "targetType", "?"),
				gantry_json_string(h, "status", "?"));
	}
	changed = !e->last_progress || strcmp(e->last_progress, b.buf);
	if (changed) {
		gantry_info(e->ctx, "%s", b.buf);
		free(e->last_progress);
		e->last_progress = gantry_buf_detach(&b);
	}
	gantry_buf_release(&b);
	if (*v->stage && (!e->stage || strcmp(e->stage, v->stage))) {
		free(e->stage);
		e->stage = gantry_xstrdup(v->stage);
	}
	return changed;
}

static void set_reason(struct ecs *e, const struct sdv *v)
{
	struct gantry_json *hooks = gantry_json_get(v->sd,
						    "lifecycleHookDetails");
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	gantry_buf_adds(&b, *v->reason ? v->reason : v->status);
	while (b.len && b.buf[b.len - 1] == '.')
		b.buf[--b.len] = '\0';
	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *h = gantry_json_at(hooks, i);
		const char *st = gantry_json_string(h, "status", "");

		if (strcmp(st, "FAILED") && strcmp(st, "TIMED_OUT"))
			continue;
		gantry_buf_addf(&b, " (lifecycle hook %s%s%s %s)",
				gantry_json_string(h, "targetType", "?"),
				*gantry_json_string(h, "targetArn", "") ? " " : "",
				gantry_json_string(h, "targetArn", ""), st);
	}
	free(e->reason);
	e->reason = gantry_buf_detach(&b);
	gantry_buf_release(&b);
}

/* Waits for e->sd_arn until an outcome, a pause at pause (when set), or
   until.  One DescribeServiceDeployments per poll. */
static enum ecs_verdict sd_wait(struct ecs *e, double until,
				const char *pause)
{
	unsigned quiet = 0;

	for (;;) {
		enum ecs_verdict r = V_TIMEOUT;
		struct sdv v;
		int done = 1, rc, w;

		if (gantry_ctx_interrupted(e->ctx))
			return V_INTERRUPTED;
		rc = sd_read(e, &v);
		if (rc < 0)
			return rc == GANTRY_EINTERRUPTED ? V_INTERRUPTED
							 : V_ERROR;
		if (sd_progress(e, &v))
			quiet = 0;
		if (!strcmp(v.status, "SUCCESSFUL"))
			r = V_DONE;
		else if (!strcmp(v.status, "ROLLBACK_SUCCESSFUL"))
			r = V_ROLLED_BACK;
		else if (!strcmp(v.status, "ROLLBACK_FAILED"))
			r = V_ROLLBACK_FAILED;
		else if (!strcmp(v.status, "STOPPED"))
			r = V_STOPPED;
		else if (pause && v.awaiting && !strcmp(v.stage, pause))
			r = V_PAUSED;
		else
			done = 0;
		if (!done && v.awaiting && (!e->hook_id ||
					    strcmp(e->hook_id, v.awaiting)))
			gantry_warn(e->ctx, "service deployment %s is paused at "
				"%s (hook %s), where this entry does not stop: "
				"it waits until someone continues it (aws ecs "
				"continue-service-deployment) or the hook times "
				"out", short_arn(e->sd_arn), v.stage, v.awaiting);
		if (v.awaiting) {
			free(e->hook_id);
			e->hook_id = gantry_xstrdup(v.awaiting);
		}
		if (done && r != V_PAUSED) {
			set_reason(e, &v);
		}
		sdv_free(&v);
		if (done)
			return r;
		if ((w = ecs_next_poll(e, until, &quiet)) >= 0)
			return (enum ecs_verdict)w;
	}
}

/* Asks ECS to roll the service deployment back: the awaiting hook
   answered ROLLBACK when there is one, else StopServiceDeployment. */
static int request_rollback(struct ecs *e, const char *hook)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	int rc;

	gantry_buf_adds(&b, "{\"serviceDeploymentArn\":");
	gantry_buf_add_json(&b, e->sd_arn);
	if (hook) {
		gantry_buf_adds(&b, ",\"hookId\":");
		gantry_buf_add_json(&b, hook);
		gantry_buf_adds(&b, ",\"action\":\"ROLLBACK\"}");
	} else {
		gantry_buf_adds(&b, ",\"stopType\":\"ROLLBACK\"}");
	}
	rc = ecs_call(e, hook ? "ContinueServiceDeployment" :
		      "StopServiceDeployment", b.buf, &out,
		      "cannot ask ECS to roll the service deployment back");
	gantry_buf_release(&b);
	gantry_json_free(out);
	e->restore_started = rc == GANTRY_OK;
	if (rc == GANTRY_OK)
		gantry_info(e->ctx, "rollback requested: %s of service "
			    "deployment %s%s%s", hook ? "ContinueServiceDeployment "
			    "ROLLBACK" : "StopServiceDeployment ROLLBACK",
			    e->sd_arn, hook ? " at hook " : "", hook ? hook : "");
	return rc;
}

/* After a timeout: ECS rolls back (rollback on) within the reserve. */
static int timed_out(struct ecs *e)
{
	char why[1024];
	enum ecs_verdict r;

	snprintf(why, sizeof(why), "timed out after %.0f s of the %u s timeout "
		 "waiting for service deployment %s (last seen: %s)",
		 elapsed(e), e->budget, e->sd_arn,
		 e->last_progress ? e->last_progress : "no progress");
	gantry_error(e->ctx, "%s", why);
	if (!e->o.rollback) {
		ecs_publish(e, "timed_out");
		return gantry_fail(e->ctx, GANTRY_ETIMEOUT, "%s; nothing rolled "
			"back (rollback = false): ECS carries on with it", why);
	}
	if (request_rollback(e, NULL) < 0) {
		ecs_publish(e, "rollback_failed");
		return GANTRY_EROLLBACK_FAILED;
	}
	r = sd_wait(e, e->deadline, NULL);
	if (r == V_ROLLED_BACK) {
		ecs_publish(e, "rolled_back");
		return gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "%s; ECS rolled "
				   "it back", why);
	}
	ecs_publish(e, "rollback_failed");
	return gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "%s; ECS's rollback "
		"%s%s%s: the service needs an operator", why,
		r == V_ROLLBACK_FAILED ? "failed" : "did not finish in time",
		e->reason ? ": " : "", e->reason ? e->reason : "");
}

static int outcome(struct ecs *e, enum ecs_verdict v)
{
	switch (v) {
	case V_DONE:
		ecs_publish(e, "succeeded");
		gantry_info(e->ctx, "service deployment %s SUCCESSFUL in %.0f "
			    "s: %s is running", e->sd_arn, elapsed(e),
			    e->td ? e->td : "the new revision");
		return GANTRY_OK;
	case V_PAUSED:
		ecs_publish(e, "paused");
		gantry_info(e->ctx, "service deployment %s paused at %s: hook "
			    "%s awaits a continue or a rollback", e->sd_arn,
			    e->stage, e->hook_id);
		return GANTRY_OK;
	case V_ROLLED_BACK:
		ecs_publish(e, "rolled_back_by_ecs");
		return gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "rolled back by "
				   "ECS: %s (service deployment %s "
				   "ROLLBACK_SUCCESSFUL)", e->reason, e->sd_arn);
	case V_ROLLBACK_FAILED:
		ecs_publish(e, "rollback_failed");
		return gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "service "
			"deployment %s failed and ECS's rollback failed too: "
			"%s; the service needs an operator (aws ecs "
			"describe-service-deployments --service-deployment-arns "
			"%s)", e->sd_arn, e->reason, e->sd_arn);
	case V_STOPPED:
		ecs_publish(e, "stopped");
		return gantry_fail(e->ctx, GANTRY_EFAIL, "service deployment %s "
				   "was STOPPED: %s; nothing was rolled back",
				   e->sd_arn, e->reason);
	case V_TIMEOUT:
		return timed_out(e);
	case V_INTERRUPTED:
		return ecs_interrupted(e);
	default:
		ecs_publish(e, "error");
		return gantry_fail(e->ctx, GANTRY_EFAIL, "lost track of service "
				   "deployment %s: %s", e->sd_arn,
				   gantry_aws_error_line(e->aws));
	}
}

int ecs_sd_watch(struct ecs *e)
{
	double reserve = e->o.rollback ? e->budget / 3.0 : 0;

	return outcome(e, sd_wait(e, e->deadline - reserve, e->o.pause_at));
}

/* Whether the deployment's configuration has a PAUSE hook at stage. */
static int pauses_at(const struct sdv *v, const char *stage)
{
	struct gantry_json *hooks = gantry_json_get(v->sd,
				"deploymentConfiguration.lifecycleHooks");
	size_t i, j;

	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *h = gantry_json_at(hooks, i);
		struct gantry_json *st = gantry_json_get(h, "lifecycleStages");

		if (strcmp(gantry_json_string(h, "targetType", ""), "PAUSE"))
			continue;
		for (j = 0; j < gantry_json_length(st); j++)
			if (!strcmp(gantry_json_string(gantry_json_at(st, j),
						       NULL, ""), stage))
				return 1;
	}
	return 0;
}

int ecs_sd_follow(struct ecs *e, const struct ecs_snap *s)
{
	const char *arn = gantry_json_string(s->svc, "currentServiceDeployment",
					     NULL);
	const struct ecs_dep *p = ecs_find(s, NULL);
	struct sdv v;
	int rc, fresh;

	if (!arn)
		return gantry_fail(e->ctx, GANTRY_EFAIL, "service '%s' (strategy "
				   "%s) has no current service deployment to "
				   "follow", e->o.service, e->svc_strategy);
	e->sd_arn = gantry_xstrdup(arn);
	e->sd_api = 1;
	rc = sd_read(e, &v);
	if (rc < 0)
		return rc;
	if (e->o.pause_at && !pauses_at(&v, e->o.pause_at)) {
		sdv_free(&v);
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "pause_at = %s, and "
			"service deployment %s has no PAUSE hook there; follow "
			"mode does not change the service: add a PAUSE "
			"lifecycle hook at %s where the service is defined "
			"(Terraform), or remove pause_at", e->o.pause_at,
			e->sd_arn, e->o.pause_at);
	}
	fresh = e->o.follow_since ?
		gantry_json_double(v.sd, "createdAt", 0) >=
		(double)e->o.follow_since : strcmp(v.status, "SUCCESSFUL") != 0;
	if (!in_flight(v.status) && !fresh) {
		gantry_info(e->ctx, "service '%s' already runs %s; nothing to "
			    "follow (service deployment %s is %s)", e->o.service,
			    p ? p->td : "its revision", e->sd_arn, v.status);
		e->td = gantry_xstrdup(p ? p->td : "");
		sdv_free(&v);
		ecs_publish(e, "unchanged");
		return GANTRY_OK;
	}
	sdv_free(&v);
	e->td = ecs_sd_target_td(e);
	e->prev_td = gantry_xstrdup(ecs_current_td(s));
	if (e->td && e->prev_td && !strcmp(e->td, e->prev_td)) {
		free(e->prev_td);
		e->prev_td = NULL;
	}
	e->dep_id = p ? gantry_xstrdup(p->id) : NULL;
	gantry_info(e->ctx, "following service deployment %s (%s) of %s on "
		    "service '%s'", e->sd_arn, e->svc_strategy,
		    e->td ? e->td : "?", e->o.service);
	return ecs_sd_watch(e);
}

static const char *ctx_str(struct ecs *e, const char *key)
{
	const char *v = gantry_ctx_get(e->ctx, key);

	return v && *v ? v : NULL;
}

int ecs_continue(struct ecs *e)
{
	const char *arn = ctx_str(e, "ecs.service_deployment");
	const char *hook = ctx_str(e, "ecs.hook_id");
	const char *was = ctx_str(e, "ecs.outcome"), *st;
	struct sdv v;
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *out = NULL;
	int rc;

	e->sd_strategy = ecs_strategy_of(ctx_str(e, "ecs.strategy"));
	if (ctx_str(e, "ecs.task_definition"))
		e->td = gantry_xstrdup(ctx_str(e, "ecs.task_definition"));
	if (ctx_str(e, "ecs.previous_task_definition"))
		e->prev_td = gantry_xstrdup(ctx_str(e,
					"ecs.previous_task_definition"));
	if (ctx_str(e, "ecs.deployment_id"))
		e->dep_id = gantry_xstrdup(ctx_str(e, "ecs.deployment_id"));
	if (was && (!strcmp(was, "unchanged") ||
		    !strcmp(was, "rolled_back_in_flight"))) {
		gantry_info(e->ctx, "nothing to continue: the pausing entry's "
			    "outcome was %s", was);
		ecs_publish(e, was);
		return GANTRY_OK;
	}
	if (!arn || !hook)
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "mode = \"continue\" "
			"found no paused deployment: the context has no %s; "
			"an ecs-rolling entry with pause_at must run (and "
			"pause) before this one in the pipeline",
			!arn && !hook ? "ecs.service_deployment nor ecs.hook_id"
			: !arn ? "ecs.service_deployment" : "ecs.hook_id");
	e->sd_arn = gantry_xstrdup(arn);
	e->sd_api = 1;
	rc = sd_read(e, &v);
	if (rc < 0)
		return rc;
	st = hook_status(&v, hook);
	if (strcmp(v.status, "IN_PROGRESS") || !st ||
	    strcmp(st, "AWAITING_ACTION")) {
		rc = gantry_fail(e->ctx, GANTRY_EFAIL, "cannot continue service "
			"deployment %s: its hook %s is %s and the deployment "
			"%s (continued, rolled back or timed out meanwhile); "
			"look at it with aws ecs describe-service-deployments",
			arn, hook, st ? st : "unknown to it", v.status);
		sdv_free(&v);
		return rc;
	}
	free(e->stage);
	e->stage = gantry_xstrdup(v.stage);
	sdv_free(&v);
	gantry_buf_adds(&b, "{\"serviceDeploymentArn\":");
	gantry_buf_add_json(&b, arn);
	gantry_buf_adds(&b, ",\"hookId\":");
	gantry_buf_add_json(&b, hook);
	gantry_buf_adds(&b, ",\"action\":\"CONTINUE\"}");
	rc = ecs_call(e, "ContinueServiceDeployment", b.buf, &out,
		      "cannot continue the service deployment");
	gantry_buf_release(&b);
	gantry_json_free(out);
	if (rc < 0)
		return rc;
	gantry_info(e->ctx, "continued service deployment %s at %s (hook %s)",
		    arn, e->stage, hook);
	return ecs_sd_watch(e);
}

/* Requests the rollback of an in-flight deployment and waits for it. */
static enum ecs_verdict roll_back(struct ecs *e, const struct sdv *v,
				  int answer_hook)
{
	if (in_flight(v->status) &&
	    request_rollback(e, answer_hook ? v->awaiting : NULL) < 0)
		return V_ERROR;
	return sd_wait(e, e->deadline, NULL);
}

int ecs_sd_rollback(struct ecs *e)
{
	const char *arn = ctx_str(e, "ecs.service_deployment");
	const char *strategy = ctx_str(e, "ecs.strategy");
	enum ecs_verdict r;
	struct sdv v;
	int rc;

	if (!arn || !strategy || !strcmp(strategy, "rolling"))
		return 1;
	e->sd_arn = gantry_xstrdup(arn);
	e->sd_api = 1;
	rc = sd_read(e, &v);
	if (rc < 0)
		return rc;
	if (!strcmp(v.status, "SUCCESSFUL")) {
		sdv_free(&v);
		return 1;
	}
	if (!strcmp(v.status, "ROLLBACK_SUCCESSFUL") ||
	    !strcmp(v.status, "STOPPED")) {
		gantry_info(e->ctx, "nothing to roll back: service deployment "
			    "%s is %s", arn, v.status);
		sdv_free(&v);
		return GANTRY_OK;
	}
	r = roll_back(e, &v, 1);
	sdv_free(&v);
	if (r == V_ROLLED_BACK) {
		gantry_info(e->ctx, "service '%s' is back on its previous "
			    "revision: service deployment %s ROLLBACK_SUCCESSFUL "
			    "after %.0f s", e->o.service, arn, elapsed(e));
		return GANTRY_OK;
	}
	if (r == V_INTERRUPTED)
		return gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
				   "while ECS rolled service deployment %s "
				   "back", arn);
	return gantry_fail(e->ctx, GANTRY_EFAIL, "rolling service deployment "
		"%s back: it ended %s%s%s; check the service", arn,
		r == V_ROLLBACK_FAILED ? "ROLLBACK_FAILED" : r == V_TIMEOUT ?
		"not in time" : r == V_ERROR ? "in an error" : "otherwise",
		e->reason ? ": " : "", e->reason ? e->reason : "");
}

int ecs_sd_inflight(struct ecs *e, const struct ecs_snap *s)
{
	const char *rb = gantry_ctx_get(e->ctx, "deploy.rollback");
	const char *arn = gantry_json_string(s->svc, "currentServiceDeployment",
					     NULL);
	enum ecs_verdict r;
	struct sdv v;
	int rc;

	if (!rb || strcmp(rb, "true") || !arn)
		return 1;
	e->sd_arn = gantry_xstrdup(arn);
	e->sd_api = 1;
	rc = sd_read(e, &v);
	if (rc < 0)
		return rc;
	if (!in_flight(v.status)) {
		sdv_free(&v);
		return 1;
	}
	/* ECS's rollback returns the service to what ran before: the
	   release this rollback run would deploy, or older. */
	e->sd_strategy = ecs_strategy_of(e->svc_strategy);
	e->td = gantry_xstrdup(ecs_current_td(s));
	gantry_info(e->ctx, "service '%s' has service deployment %s in flight "
		    "(%s%s%s): asking ECS to roll it back instead of deploying",
		    e->o.service, arn, v.status, *v.stage ? " " : "", v.stage);
	r = roll_back(e, &v, 0);
	sdv_free(&v);
	if (r == V_ROLLED_BACK) {
		ecs_publish(e, "rolled_back_in_flight");
		gantry_info(e->ctx, "service '%s' is back on what it ran before "
			    "service deployment %s (ROLLBACK_SUCCESSFUL)",
			    e->o.service, arn);
		return GANTRY_OK;
	}
	ecs_publish(e, "rollback_failed");
	return gantry_fail(e->ctx, r == V_ROLLBACK_FAILED ?
		GANTRY_EROLLBACK_FAILED : GANTRY_EFAIL, "rolling back service "
		"deployment %s in flight: it %s%s%s; the service needs an "
		"operator", arn, r == V_ROLLBACK_FAILED ? "ended ROLLBACK_FAILED"
		: r == V_TIMEOUT ? "did not finish in time" : "failed",
		e->reason ? ": " : "", e->reason ? e->reason : "");
}
