/*
 * approval.c - the `approval` stage: waits, in the gantry process, for
 * another person's `gantry approve` or `gantry reject` (approval.h says
 * why it is the core's).
 *
 * What must stay true:
 *   - the request is in the journal before anyone is told about it, so
 *     the command the notifications show finds it;
 *   - a decision is read only through the state backend, and one that
 *     breaks the entry's rules (an approver not listed, a self-approval)
 *     never lets the deploy through, whoever wrote it;
 *   - the timeout is a decision like any other, written once: an approve
 *     racing it either wins (and counts) or learns it came too late;
 *   - the deploy lock's lease is renewed while the stage waits.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "pipeline_i.h"
#include "state.h"

/* How often the waiting stage reads the decision: a local file costs
   nothing; a DynamoDB GetItem every 3 s is 20 requests a minute. */
#define POLL_LOCAL 1.0
#define POLL_SHARED 3.0

static const struct gantry_option approval_options[] = {
	{ "approvers", GANTRY_OPT_LIST, 0, NULL,
	  "actors who may decide (as GANTRY_ACTOR or the user name gives "
	  "them); empty: anyone" },
	{ "allow_self", GANTRY_OPT_BOOL, 0, "false",
	  "let the actor who started the deploy approve it" },
	{ "message", GANTRY_OPT_STRING, 0, NULL,
	  "shown to approvers (log, notifications, status): what to check "
	  "before deciding" },
	{ NULL, 0, 0, NULL, NULL }
};

static int approval_plan(void *state, struct gantry_ctx *ctx)
{
	unsigned t = gantry_ctx_timeout(ctx);

	(void)state;
	gantry_plan_line(ctx, "wait for 'gantry approve' or 'gantry reject' "
			 "by another person%s", t ? "" : " (no timeout)");
	if (t)
		gantry_plan_line(ctx, "no decision within %u s is a "
				 "rejection", t);
	return GANTRY_OK;
}

/* Never called: the pipeline runs the stage in the core (approval_run). */
static int approval_stub(void *state, struct gantry_ctx *ctx)
{
	(void)state;
	return gantry_fail(ctx, GANTRY_EFAIL, "the approval stage runs in "
			   "the gantry process only");
}

const struct gantry_stage approval_stage = {
	GANTRY_STAGE_HEADER,
	.name = "approval",
	.version = PACKAGE_VERSION,
	.summary = "wait for another person's 'gantry approve' or "
		   "'gantry reject' (built in)",
	.kind = GANTRY_KIND_STAGE,
	.options = approval_options,
	.plan = approval_plan,
	.run = approval_stub,
};

int approval_may_decide(const struct approval_record *a,
			const char *deployer, const char *actor,
			const char *verdict, const char **why)
{
	int self = deployer && !strcmp(deployer, actor);

	/* Stopping one's own deploy is always allowed; letting it through
	   is what needs a second person. */
	if (!strcmp(verdict, "rejected") && self)
		return 1;
	if (a->approvers && *a->approvers &&
	    !core_in_list(a->approvers, actor)) {
		*why = "is not among the entry's approvers";
		return 0;
	}
	if (!strcmp(verdict, "approved") && self && !a->allow_self) {
		*why = "started the deploy, and its approval entry does not "
		       "allow self-approval (allow_self = false)";
		return 0;
	}
	return 1;
}

/* The fields every approval event carries. */
static void event_fields(struct deploy *d, const struct approval_record *a,
			 struct gantry_kvlist *f)
{
	const char *env = d->gc->env->name;
	char *cmd, num[32];

	cmd = gantry_xasprintf("gantry approve %s %s", env, d->rec.id);
	gantry_i_kv_set(f, "command", cmd, 0);
	free(cmd);
	cmd = gantry_xasprintf("gantry reject %s %s --reason TEXT", env,
			       d->rec.id);
	gantry_i_kv_set(f, "reject_command", cmd, 0);
	free(cmd);
	gantry_i_kv_set(f, "deploy_id", d->rec.id, 0);
	gantry_i_kv_set(f, "approvers", a->approvers, 0);
	if (a->message)
		gantry_i_kv_set(f, "message", a->message, 0);
	snprintf(num, sizeof(num), "%u", a->timeout);
	gantry_i_kv_set(f, "timeout", num, 0);
	if (a->by)
		gantry_i_kv_set(f, "by", a->by, 0);
}

static void announce(struct deploy *d, struct entry *en,
		     const struct approval_record *a, struct gantry_ctx *ctx)
{
	const char *env = d->gc->env->name;

	gantry_info(ctx, "waiting for approval of deploy %s (%s %s to %s "
		    "by %s): run 'gantry approve %s %s' or 'gantry reject %s "
		    "%s --reason TEXT'%s%s%s%s", d->rec.id, d->gc->service,
		    d->tag, env, d->rec.actor ? d->rec.actor : "?", env,
		    d->rec.id, env, d->rec.id,
		    *a->approvers ? " as one of: " : "",
		    *a->approvers ? a->approvers : "",
		    a->allow_self ? "" : "; not as ",
		    a->allow_self ? "" : (d->rec.actor ? d->rec.actor : "?"));
	if (a->message)
		gantry_info(ctx, "message for approvers: %s", a->message);
	(void)en;
}

/* Sleeps up to secs, renewing the lock's lease; stops early on a
   signal. */
static void wait_poll(struct state *st, double secs)
{
	double end = gantry_now() + secs;

	while (!gantry_i_interrupted && gantry_now() < end) {
		usleep(100000);
		state_tick(st);
	}
}

/* Waits for the decision of a; 0 with *dec, or a GANTRY_E* code with the
   error in *err (interrupted). */
static int await_decision(struct deploy *d, const struct approval_record *a,
			  struct gantry_ctx *ctx,
			  struct approval_decision *dec)
{
	struct state *st = session_state(d->s);
	double start = gantry_now(), poll;
	int warned = 0;

	poll = strcmp(st->ops->name, "local") ? POLL_SHARED : POLL_LOCAL;
	for (;;) {
		struct errs e = { 0 };
		double waited = gantry_now() - start;
		int rc;

		if (gantry_i_interrupted)
			return GANTRY_EINTERRUPTED;
		rc = state_decision_get(st, a->key, dec, &e);
		if (rc == 0)
			return 0;
		/* A backend that fails now may answer on the next poll: the
		   timeout (or a signal) ends the wait, not a hiccup. */
		if (rc < 0 && !warned++)
			gantry_warn(ctx, "cannot read the decision (will try "
				    "again): %s", e.msg[0]);
		errs_clear(&e);
		if (a->timeout && waited >= a->timeout) {
			struct approval_decision out = { 0 };
			char *why = gantry_xasprintf("no decision within %u s",
						     a->timeout);

			out.verdict = "rejected";
			out.by = "gantry";
			out.reason = why;
			out.decided = core_wall_now();
			rc = state_decision_put(st, a->key, &out, dec, &e);
			if (rc == 0) {
				dec->verdict = gantry_xstrdup(out.verdict);
				dec->by = gantry_xstrdup(out.by);
				dec->reason = why;
				dec->decided = out.decided;
				return 0;
			}
			free(why);
			if (rc == 1)
				return 0;
			gantry_warn(ctx, "cannot record the timeout (will try "
				    "again): %s", e.msg[0]);
			errs_clear(&e);
		}
		if (a->timeout)
			gantry_status(ctx, "waiting for approval: %.0f s of "
				      "%u s; gantry approve %s %s", waited,
				      a->timeout, d->gc->env->name,
				      d->rec.id);
		else
			gantry_status(ctx, "waiting for approval: %.0f s; "
				      "gantry approve %s %s", waited,
				      d->gc->env->name, d->rec.id);
		wait_poll(st, poll);
	}
}

static char *join_approvers(const struct gantry_config *opts)
{
	const struct gantry_config *l = gantry_config_lookup(opts,
							     "approvers");
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	gantry_buf_adds(&b, "");
	for (i = 0; i < gantry_config_length(l); i++) {
		const char *v = gantry_config_text(gantry_config_at(l, i));

		if (!v || !*v)
			continue;
		if (b.len)
			gantry_buf_addch(&b, ',');
		gantry_buf_adds(&b, v);
	}
	return gantry_buf_detach(&b);
}

void approval_run(struct deploy *d, struct entry *en,
		  const struct gantry_config *opts, struct run_result *res)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new(en->name);
	struct approval_decision dec = { 0 };
	struct approval_record *a;
	struct gantry_kvlist f = { 0 };
	const char *msg = gantry_config_string(opts, "message", NULL);
	const char *why = NULL;
	double t0 = gantry_now();
	int rc;

	memset(res, 0, sizeof(*res));
	a = deploy_record_add_approval(&d->rec);
	a->entry = gantry_xstrdup(en->name);
	a->key = gantry_xasprintf("%s.%s.%zu", d->rec.id, en->name,
				  d->rec.napprovals - 1);
	a->message = msg && *msg ? gantry_xstrdup(msg) : NULL;
	a->approvers = join_approvers(opts);
	a->allow_self = gantry_config_bool(opts, "allow_self", 0);
	a->requested = core_wall_now();
	a->timeout = en->timeout;
	deploy_journal_save(d);

	announce(d, en, a, ctx);
	event_fields(d, a, &f);
	deploy_notify_fields(d, EV_APPROVAL_REQUESTED, en->name, NULL,
			     "waiting", 0, &f);
	gantry_i_kv_clear(&f);

	rc = await_decision(d, a, ctx, &dec);
	gantry_i_status_end();
	res->seconds = gantry_now() - t0;
	if (rc == GANTRY_EINTERRUPTED) {
		res->rc = rc;
		res->interrupted = 1;
		res->error = gantry_xstrdup("interrupted while waiting for "
					    "approval");
		gantry_i_ctx_free(ctx);
		return;
	}
	/* Whoever wrote the decision, the entry's rules hold. */
	if (!strcmp(dec.verdict, "approved") &&
	    !approval_may_decide(a, d->rec.actor, dec.by, dec.verdict, &why)) {
		free(dec.verdict);
		dec.verdict = gantry_xstrdup("rejected");
		free(dec.reason);
		dec.reason = gantry_xasprintf("approval by '%s' not counted: "
					      "'%s' %s", dec.by, dec.by, why);
	}
	a->verdict = gantry_xstrdup(dec.verdict);
	a->by = gantry_xstrdup(dec.by);
	a->reason = dec.reason ? gantry_xstrdup(dec.reason) : NULL;
	a->decided = dec.decided;
	deploy_journal_save(d);

	event_fields(d, a, &f);
	if (!strcmp(a->verdict, "approved")) {
		gantry_info(ctx, "approved by %s", a->by);
		gantry_i_kv_set(&res->outputs, "approval.by", a->by, 0);
		deploy_notify_fields(d, EV_APPROVAL_GRANTED, en->name, NULL,
				     "approved", 0, &f);
		res->rc = GANTRY_OK;
	} else {
		if (!strcmp(a->by, "gantry"))
			res->error = gantry_xasprintf(
				"%s; nobody approved deploy %s in time: "
				"deploy again, or raise the entry's timeout",
				a->reason, d->rec.id);
		else
			res->error = gantry_xasprintf(
				"rejected by %s%s%s", a->by,
				a->reason ? ": " : "",
				a->reason ? a->reason : "");
		gantry_i_kv_set(&res->outputs, "approval.by", a->by, 0);
		deploy_notify_fields(d, EV_APPROVAL_REJECTED, en->name,
				     a->reason, "rejected", 0, &f);
		res->rc = GANTRY_EFAIL;
	}
	gantry_i_kv_clear(&f);
	approval_decision_release(&dec);
	gantry_i_ctx_free(ctx);
}
