/*
 * rollback.c - the ecs-rolling stage going back: the stage's own
 * recovery to the previous task definition (timeout, alarm, interrupt),
 * telling ECS's rollback from a success, and the stage's rollback
 * callback.
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

/*
 * Proposed for libgantry: after an interrupt, every AWS call refuses to
 * run ("interrupted before an answer came"), so a stage cannot roll
 * back.  This acknowledges the interrupt so that the stage's own
 * clean-up can make its calls; a second signal sets it again.  Weak:
 * the stage loads without it and then cannot roll back on interrupt.
 */
extern void gantry_ctx_clear_interrupt(struct gantry_ctx *ctx)
	__attribute__((weak));

/* The note for follow mode after a rollback: Terraform's state is now
   ahead of the service. */
static const char *tf_note(const struct ecs *e)
{
	return ecs_following(e) ? "; Terraform's state still describes the "
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
enum ecs_verdict ecs_recover(struct ecs *e, double until)
{
	if (!e->prev_td || !*e->prev_td) {
		free(e->reason);
		e->reason = gantry_xstrdup("no previous task definition is "
					   "known");
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
int ecs_recovered(struct ecs *e, enum ecs_verdict r, const char *outcome,
		  const char *why)
{
	if (r == V_DONE) {
		ecs_publish(e, outcome);
		return gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "%s; rolled "
				   "back to %s%s", why, e->prev_td,
				   tf_note(e));
	}
	ecs_publish(e, "rollback_failed");
	return gantry_fail(e->ctx, GANTRY_EROLLBACK_FAILED, "%s; rolling back "
		"to %s %s%s%s: the service needs an operator (aws ecs "
		"describe-services --cluster %s --services %s)", why,
		e->prev_td ? e->prev_td : "(unknown)", verdict_word(r),
		e->reason ? ": " : "", e->reason ? e->reason : "",
		e->o.cluster, e->o.service);
}

/* The deployment failed in ECS: find out whether ECS rolled back. */
int ecs_failed(struct ecs *e)
{
	char *why = ecs_explain(e, e->dep_id, e->td);
	char *reason, *sd_reason = NULL;
	enum ecs_verdict r;
	char *sd;
	int rc;

	/* The deployment may be gone already (ECS finished its rollback
	   between two polls): the service deployment keeps the reason. */
	sd = ecs_sd_status(e, &sd_reason, NULL);
	reason = gantry_xstrdup(sd_reason && *sd_reason ? sd_reason
				: e->reason ? e->reason : "failed");
	free(sd_reason);
	if (*reason && reason[strlen(reason) - 1] == '.')
		reason[strlen(reason) - 1] = '\0';
	free(sd);

	gantry_error(e->ctx, "deployment %s failed: %s", e->dep_id, reason);
	if (!e->o.rollback || !e->prev_td || !*e->prev_td) {
		ecs_publish(e, "failed");
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
		ecs_publish(e, "rolled_back_by_ecs");
		rc = gantry_fail(e->ctx, GANTRY_EROLLED_BACK, "rolled back by "
				 "ECS: %s%s%s", reason, why, tf_note(e));
		if (ecs_following(e))
			warn_tf_state(e);
	} else if (r == V_INTERRUPTED) {
		ecs_publish(e, "interrupted");
		rc = gantry_fail(e->ctx, GANTRY_EINTERRUPTED, "interrupted "
			"while ECS rolled deployment %s back: %s%s", e->dep_id,
			reason, why);
	} else {
		ecs_publish(e, "rollback_failed");
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

int ecs_interrupted(struct ecs *e)
{
	const char *no = gantry_ctx_get(e->ctx, "deploy.no_rollback");
	enum ecs_verdict r;
	double until;

	ecs_publish(e, "interrupted");
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
	until = gantry_now() + INTERRUPT_WAIT;
	r = ecs_recover(e, until < e->deadline ? until : e->deadline);
	if (r == V_DONE) {
		ecs_publish(e, "interrupted_rolled_back");
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

/* The id of the newest deployment the service's events say failed,
   other than skip ("(service S) (deployment ecs-svc/N) deployment
   failed: ..."), malloc'd, or NULL. */
static char *failed_in_events(const struct ecs_snap *s, const char *skip)
{
	struct gantry_json *ev = gantry_json_get(s->svc, "events");
	static const char tag[] = "(deployment ";
	size_t i;

	for (i = 0; i < gantry_json_length(ev); i++) {
		const char *msg = gantry_json_string(gantry_json_at(ev, i),
						     "message", "");
		const char *id = strstr(msg, tag), *end;

		if (!id || !strstr(msg, ") deployment failed"))
			continue;
		id += sizeof(tag) - 1;
		end = strchr(id, ')');
		if (!end || end == id || ((size_t)(end - id) == strlen(skip) &&
					  !strncmp(id, skip, strlen(skip))))
			continue;
		return gantry_xstrndup(id, (size_t)(end - id));
	}
	return NULL;
}

/*
 * Follow mode, when ECS got there first: the deployment the apply started
 * failed and ECS rolled it back before the stage looked (a slow apply, a
 * slow start of gantry, `gantry deploy --only ecs-rolling` run later).
 * The PRIMARY deployment is then ECS's rollback, still running or already
 * alone and COMPLETED - a service that looks as if nothing had happened -
 * and its success is not the release's.  The current service deployment
 * tells: ROLLBACK_IN_PROGRESS, _SUCCESSFUL or _FAILED (with follow_since,
 * only one created at or after it; ROLLBACK_REQUESTED is left to the
 * usual follow, whose PRIMARY is still the failed deployment).  The
 * release's deployment, still listed beside the rollback or else named
 * by the service's events, is then judged as a failed one (ecs_failed):
 * the same outcome, exit code and explanation as when the stage saw it
 * fail.  1 when that is not the case (follow as usual).
 */
int ecs_rolled_back_first(struct ecs *e, const struct ecs_snap *s,
			  const struct ecs_dep *p)
{
	double created;
	char *sd;
	size_t i;

	sd = ecs_sd_status(e, NULL, &created);
	if (!sd || (strcmp(sd, "ROLLBACK_IN_PROGRESS") &&
		    strcmp(sd, "ROLLBACK_SUCCESSFUL") &&
		    strcmp(sd, "ROLLBACK_FAILED")) ||
	    (e->o.follow_since && created < (double)e->o.follow_since)) {
		free(sd);
		return 1;
	}
	for (i = 0; i < s->ndeps; i++)
		if (&s->deps[i] != p && strcmp(s->deps[i].td, p->td)) {
			e->dep_id = gantry_xstrdup(s->deps[i].id);
			e->td = gantry_xstrdup(s->deps[i].td);
			break;
		}
	if (!e->dep_id)
		e->dep_id = failed_in_events(s, p->id);
	if (!e->td)
		e->td = ecs_sd_target_td(e);
	if (!e->dep_id)
		e->dep_id = gantry_xstrdup(e->sd_arn);
	e->prev_td = gantry_xstrdup(p->td);
	gantry_info(e->ctx, "ECS rolled deployment %s%s%s back before gantry "
		    "looked: service deployment %s is %s", e->dep_id,
		    e->td ? " of " : "", e->td ? e->td : "", e->sd_arn, sd);
	free(sd);
	return ecs_failed(e);
}

int ecs_rollback(void *state, struct gantry_ctx *ctx)
{
	struct ecs *e = state;
	const char *prev = gantry_ctx_get(ctx, "ecs.previous_task_definition");
	const char *now = gantry_ctx_get(ctx, "ecs.task_definition");
	struct ecs_snap s;
	const struct ecs_dep *p;
	enum ecs_verdict r;
	int rc, there;

	/* A blue/green, linear or canary deployment (a paused one above
	   all) goes back through ECS. */
	e->ctx = ctx;
	if ((rc = ecs_sd_rollback(e)) != 1)
		return rc;
	if (!prev || !*prev || (now && !strcmp(prev, now))) {
		gantry_info(ctx, "nothing to roll back: this stage changed no "
			    "task definition");
		return GANTRY_OK;
	}
	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc;
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
	e->prev_td = gantry_xstrdup(prev);
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
