/*
 * cli_approve.c - `gantry approve ENV [ID]` and `gantry reject ENV [ID]
 * [--reason TEXT]`: find the deploy whose approval entry waits, check
 * that the actor may decide, write the decision once (approval.h).
 *
 * Exit codes: 0 the decision is recorded; 2 it was refused and nothing
 * was written (no such deploy, none or several waiting, not waiting, a
 * decision already there, an actor who may not decide); 1 the state
 * backend failed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval.h"
#include "commands.h"
#include "progress.h"
#include "state.h"

/* Waiting: running, its last approval undecided, and its process alive
   (it holds the lock): a record left by a killed deploy waits for
   nobody. */
static int waiting(const struct deploy_record *r,
		   const struct lock_holder *h, int lrc)
{
	return r->result && !strcmp(r->result, "running") &&
	       deploy_record_pending_approval(r) && lrc == 1 && h->id &&
	       !strcmp(h->id, r->id);
}

static void not_waiting(const struct deploy_record *r, const char *env)
{
	const struct approval_record *a = r->napprovals ?
		&r->approvals[r->napprovals - 1] : NULL;
	char when[32];

	if (a && a->verdict) {
		cli_fmt_time(a->decided, when, sizeof(when));
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy %s is not waiting "
			   "for approval: entry '%s' was already %s by %s at "
			   "%s%s%s; a decision is written once", r->id,
			   a->entry, a->verdict, a->by ? a->by : "?", when,
			   a->reason ? " - " : "", a->reason ? a->reason : "");
	} else if (!r->result || strcmp(r->result, "running")) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy %s is not waiting "
			   "for approval: it has ended (%s); see 'gantry "
			   "history %s'", r->id, r->result ? r->result : "?",
			   env);
	} else {
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy %s is not waiting "
			   "for approval%s; see 'gantry status %s'", r->id,
			   a ? ": its process is gone" :
			   ": no approval entry of it is running", env);
	}
}

static void print_json(const struct deploy_record *r,
		       const struct approval_record *a,
		       const struct approval_decision *d)
{
	struct gantry_json *j = gantry_json_new_object();

	gantry_json_set_string(j, "environment", r->environment);
	gantry_json_set_string(j, "deploy", r->id);
	gantry_json_set_string(j, "entry", a->entry);
	gantry_json_set_string(j, "verdict", d->verdict);
	gantry_json_set_string(j, "by", d->by);
	if (d->reason)
		gantry_json_set_string(j, "reason", d->reason);
	else
		gantry_json_set_null(j, "reason");
	gantry_json_set_double(j, "decided", d->decided);
	progress_print_json(j);
}

/* The deploy to decide on: by id, or the one that waits.  NULL with the
   error logged. */
static const struct deploy_record *pick(const struct deploy_record *list,
					size_t n, const char *id,
					const char *service, const char *env,
					const char *cmd,
					const struct lock_holder *h, int lrc)
{
	const struct deploy_record *found = NULL;
	struct gantry_buf ids = GANTRY_BUF_INIT;
	size_t i, nwait = 0;

	if (id) {
		for (i = 0; i < n && !found; i++)
			if (!strcmp(list[i].id, id))
				found = &list[i];
		if (!found) {
			char *shown = errs_shown(id, 64);

			gantry_log(NULL, GANTRY_LOG_ERROR, "no deploy '%s' of "
				   "%s to %s; see 'gantry history %s'", shown,
				   service, env, env);
			free(shown);
			return NULL;
		}
		if (!waiting(found, h, lrc)) {
			not_waiting(found, env);
			return NULL;
		}
		return found;
	}
	for (i = 0; i < n; i++) {
		if (!waiting(&list[i], h, lrc))
			continue;
		found = &list[i];
		gantry_buf_addf(&ids, "%s%s (%s by %s)", nwait ? ", " : "",
				list[i].id, list[i].tag ? list[i].tag : "?",
				list[i].actor ? list[i].actor : "?");
		nwait++;
	}
	if (nwait == 1) {
		gantry_buf_release(&ids);
		return found;
	}
	if (!nwait)
		gantry_log(NULL, GANTRY_LOG_ERROR, "no deploy of %s to %s is "
			   "waiting for approval; see 'gantry status %s'",
			   service, env, env);
	else
		gantry_log(NULL, GANTRY_LOG_ERROR, "%zu deploys of %s to %s "
			   "are waiting for approval: %s; name one: 'gantry "
			   "%s %s ID'", nwait, service, env, ids.buf, cmd, env);
	gantry_buf_release(&ids);
	return NULL;
}

#define REASON_MAX 1000

/* A reason goes to the journal, notifications and history: one line of
   text, refused (not cut or escaped) otherwise, as an actor is. */
static int reason_ok(const char *reason)
{
	size_t i, len = reason ? strlen(reason) : 0;

	for (i = 0; i < len && ((unsigned char)reason[i] >= 0x20 &&
				reason[i] != 0x7f); i++)
		;
	if (len > REASON_MAX)
		gantry_log(NULL, GANTRY_LOG_ERROR, "--reason is %zu bytes long, "
			   "more than %d; say why in one line and link to the "
			   "rest", len, REASON_MAX);
	else if (i < len)
		gantry_log(NULL, GANTRY_LOG_ERROR, "--reason contains a control "
			   "character (byte %zu: a newline or an escape); give "
			   "it as one line of text", i + 1);
	return len <= REASON_MAX && i == len;
}

int cmd_decide(struct session *s, const char *envname, const char *id,
	       const char *verdict)
{
	const char *cmd = strcmp(verdict, "approved") ? "reject" : "approve";
	struct state *st = session_state(s);
	const struct env_def *env;
	const struct deploy_record *r;
	struct approval_record *a;
	struct deploy_record *list = NULL;
	struct approval_decision d = { 0 }, first = { 0 };
	struct lock_holder h = { 0 };
	struct errs e = { 0 };
	const char *why = NULL;
	size_t n = 0;
	int code = EXIT_USAGE, lrc, rc;

	if (!reason_ok(s->opt->reason))
		return EXIT_USAGE;
	if (!st)
		return EXIT_USAGE;
	if (!(env = session_env_arg(s, envname)))
		return EXIT_USAGE;
	if (state_journal_list(st, s->conf.service, env->name, &list, &n,
			       &e) < 0 ||
	    (lrc = state_lock_inspect(st, s->conf.service, env->name, &h,
				      &e)) < 0) {
		errs_print(&e);
		errs_clear(&e);
		journal_list_free(list, n);
		return EXIT_FAILED;
	}
	r = pick(list, n, id, s->conf.service, env->name, cmd, &h, lrc);
	if (!r)
		goto out;
	a = deploy_record_pending_approval(r);
	if (!approval_may_decide(a, r->actor, s->actor, verdict, &why)) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "%s may not %s deploy %s: "
			   "'%s' %s; %s", s->actor, cmd, r->id, s->actor, why,
			   *a->approvers ? "ask one of the approvers" :
			   "ask another person");
		goto out;
	}
	d.verdict = (char *)verdict;
	d.by = s->actor;
	d.reason = (char *)s->opt->reason;
	d.decided = core_wall_now();
	rc = state_decision_put(st, a->key, &d, &first, &e);
	if (rc < 0) {
		errs_print(&e);
		code = EXIT_FAILED;
		goto out;
	}
	if (rc == 1) {
		char when[32];

		cli_fmt_time(first.decided, when, sizeof(when));
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy %s was already %s "
			   "by %s at %s%s%s; a decision is written once",
			   r->id, first.verdict, first.by, when,
			   first.reason ? " - " : "",
			   first.reason ? first.reason : "");
		goto out;
	}
	gantry_log(NULL, GANTRY_LOG_INFO, "%s deploy %s (%s %s to %s by %s, "
		   "entry '%s')%s%s", verdict, r->id, r->service,
		   r->tag ? r->tag : "?", r->environment,
		   r->actor ? r->actor : "?", a->entry, d.reason ? ": " : "",
		   d.reason ? d.reason : "");
	if (s->opt->json)
		print_json(r, a, &d);
	code = EXIT_OK;
out:
	errs_clear(&e);
	approval_decision_release(&first);
	lock_holder_release(&h);
	journal_list_free(list, n);
	return code;
}
