/*
 * cli_state.c - gantry history, status, lock and unlock: what the journal
 * and the lock say.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "progress.h"
#include "state.h"

/* ---- history / status / lock ------------------------------------------------ */

static int is_rollback(const struct deploy_record *r)
{
	const struct gantry_kv *kv = gantry_i_kv_find(&r->context,
						      "deploy.rollback");

	return kv && !strcmp(kv->value, "true");
}

/* The approvals of r as JSON: who decided, when and why. */
static void approvals_json(struct gantry_json *j,
			   const struct deploy_record *r)
{
	struct gantry_json *arr = gantry_json_set_array(j, "approvals");
	size_t i;

	for (i = 0; i < r->napprovals; i++) {
		const struct approval_record *a = &r->approvals[i];
		struct gantry_json *o = gantry_json_push_object(arr);

		gantry_json_set_string(o, "entry", a->entry);
		gantry_json_set_string(o, "state", a->verdict ? a->verdict :
				       "waiting");
		gantry_json_set_double(o, "requested", a->requested);
		if (a->message)
			gantry_json_set_string(o, "message", a->message);
		if (a->by)
			gantry_json_set_string(o, "by", a->by);
		if (a->reason)
			gantry_json_set_string(o, "reason", a->reason);
		gantry_json_set_double(o, "decided", a->decided);
	}
}

/* "approval 'gate': approved by bob at <time>: why" lines under a
   record (indent first); an undecided request "waiting" only while its
   deploy runs (live), else "undecided". */
static void print_approvals(const struct deploy_record *r, const char *indent,
			    int live)
{
	size_t i;

	for (i = 0; i < r->napprovals; i++) {
		const struct approval_record *a = &r->approvals[i];
		char when[32];

		if (!a->verdict && !live) {
			cli_fmt_time(a->requested, when, sizeof(when));
			cli_printf("%sapproval '%s': undecided (asked at %s; "
				   "its deploy no longer waits)\n", indent,
				   a->entry, when);
			continue;
		}
		if (!a->verdict) {
			cli_fmt_time(a->requested, when, sizeof(when));
			cli_printf("%sapproval '%s': waiting since %s%s%s%s; "
				   "gantry approve %s %s\n", indent, a->entry,
				   when, a->message ? " (" : "",
				   a->message ? a->message : "",
				   a->message ? ")" : "", r->environment,
				   r->id);
			continue;
		}
		cli_fmt_time(a->decided, when, sizeof(when));
		cli_printf("%sapproval '%s': %s by %s at %s%s%s\n", indent,
			   a->entry, a->verdict, a->by ? a->by : "?", when,
			   a->reason ? ": " : "", a->reason ? a->reason : "");
	}
}

static struct gantry_json *record_summary(const struct deploy_record *r)
{
	struct gantry_json *j = gantry_json_new_object();

	gantry_json_set_string(j, "id", r->id);
	gantry_json_set_string(j, "environment", r->environment);
	gantry_json_set_string(j, "tag", r->tag);
	gantry_json_set_bool(j, "rollback", is_rollback(r));
	gantry_json_set_string(j, "result", r->result ? r->result : "running");
	gantry_json_set_int(j, "exit_code", r->exit_code);
	gantry_json_set_string(j, "actor", r->actor ? r->actor : "");
	gantry_json_set_double(j, "started", r->started);
	gantry_json_set_double(j, "finished", r->finished);
	if (r->failed_stage)
		gantry_json_set_string(j, "failed_stage", r->failed_stage);
	if (r->reason)
		gantry_json_set_string(j, "reason", r->reason);
	if (r->napprovals)
		approvals_json(j, r);
	return j;
}

int cmd_history(struct session *s, const char *envname)
{
	struct state *st = session_state(s);
	const struct env_def *env = NULL;
	struct deploy_record *list = NULL;
	struct errs e = { 0 };
	size_t n = 0, i;
	struct gantry_json *arr = NULL;

	if (!st)
		return EXIT_USAGE;
	if ((envname || s->opt->env) && !(env = session_env_arg(s, envname)))
		return EXIT_USAGE;
	if (state_journal_list(st, s->conf.service,
			       env ? env->name : NULL, &list, &n, &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		return EXIT_FAILED;
	}
	if (s->opt->json)
		arr = gantry_json_new_array();
	else if (n)
		cli_printf("%-24s %-12s %-16s %-16s %-10s %s\n", "ID", "ENV",
			   "TAG", "RESULT", "BY", "STARTED");
	for (i = 0; i < n; i++) {
		const struct deploy_record *r = &list[i];
		char when[32];

		if (arr) {
			gantry_json_push_json(arr, record_summary(r));
			continue;
		}
		cli_fmt_time(r->started, when, sizeof(when));
		cli_printf("%-24s %-12s %-16s %-16s %-10s %s%s\n", r->id,
			   r->environment, r->tag,
			   r->result ? r->result : "running",
			   r->actor ? r->actor : "", when,
			   is_rollback(r) ? "  (rollback)" : "");
		print_approvals(r, "    ", r->result &&
				!strcmp(r->result, "running"));
	}
	if (arr) {
		struct gantry_json *j = gantry_json_new_object();

		gantry_json_set_string(j, "service", s->conf.service);
		gantry_json_set_json(j, "deploys", arr);
		progress_print_json(j);
	} else if (!n) {
		gantry_i_term_printf(stderr, "no deploys of %s%s%s recorded "
				     "in %s\n", s->conf.service,
				     env ? " to " : "", env ? env->name : "",
				     st->where);
	}
	journal_list_free(list, n);
	return EXIT_OK;
}

static struct gantry_json *holder_json(const struct lock_holder *h, int rc)
{
	struct gantry_json *j = gantry_json_new_object();

	gantry_json_set_string(j, "state",
			       rc == 0 ? "free" : rc == 1 ? "held" : "stale");
	if (rc > 0) {
		gantry_json_set_string(j, "id", h->id ? h->id : "?");
		gantry_json_set_string(j, "user", h->user ? h->user : "?");
		gantry_json_set_string(j, "host", h->host ? h->host : "?");
		gantry_json_set_int(j, "pid", h->pid);
		gantry_json_set_double(j, "started", h->started);
	}
	return j;
}

static void print_holder(const char *env, const struct lock_holder *h, int rc)
{
	char when[32];

	if (rc == 0) {
		cli_printf("%s: lock free\n", env);
		return;
	}
	cli_fmt_time(h->started, when, sizeof(when));
	cli_printf("%s: lock %s by deploy %s of %s on %s (pid %ld) since %s%s\n",
		   env, rc == 1 ? "held" : "STALE, left", h->id ? h->id : "?",
		   h->user ? h->user : "?", h->host ? h->host : "?", h->pid,
		   when, rc == 2 ? "; the holder is gone: 'gantry unlock' "
		   "removes it, the next deploy takes it over" : "");
}

int cmd_status(struct session *s, const char *envname)
{
	struct state *st = session_state(s);
	const struct env_def *only = NULL;
	struct gantry_json *arr = NULL;
	size_t i;
	int bad = 0;

	if (!st)
		return EXIT_USAGE;
	if ((envname || s->opt->env) && !(only = session_env_arg(s, envname)))
		return EXIT_USAGE;
	if (s->opt->json)
		arr = gantry_json_new_array();
	for (i = 0; i < s->conf.nenvs; i++) {
		const struct env_def *env = &s->conf.envs[i];
		struct deploy_record *list = NULL;
		const struct deploy_record *current = NULL, *last = NULL;
		struct lock_holder h = { 0 };
		struct errs e = { 0 };
		size_t n = 0, k;
		int lrc;

		if (only && only != env)
			continue;
		if (state_journal_list(st, s->conf.service,
				 env->name, &list, &n, &e) < 0)
			bad = 1;
		errs_print(&e);
		errs_clear(&e);
		for (k = 0; k < n && !current; k++)
			if (list[k].result && !strcmp(list[k].result, "succeeded"))
				current = &list[k];
		last = n ? &list[0] : NULL;
		lrc = state_lock_inspect(st, s->conf.service,
				   env->name, &h, &e);
		errs_print(&e);
		errs_clear(&e);
		if (arr) {
			struct gantry_json *j = gantry_json_push_object(arr);

			gantry_json_set_string(j, "environment", env->name);
			gantry_json_set_json(j, "current", current ?
					     record_summary(current) : NULL);
			gantry_json_set_json(j, "last", last ?
					     record_summary(last) : NULL);
			gantry_json_set_json(j, "lock", holder_json(&h,
					     lrc < 0 ? 0 : lrc));
		} else {
			cli_printf("%s:\n", env->name);
			if (current)
				cli_printf("  current: %s (deploy %s by %s)\n",
					   current->tag, current->id,
					   current->actor ? current->actor :
					   "?");
			if (current)
				print_approvals(current, "           ", 0);
			else
				cli_printf("  current: none recorded\n");
			if (last && last != current) {
				const char *res = last->result ? last->result :
						  "running";

				cli_printf("  last:    %s %s (deploy %s)%s\n",
					   last->tag, res, last->id,
					   !strcmp(res, "running") && lrc != 1 ?
					   " - abandoned: its process is gone; "
					   "resume it with 'gantry deploy TAG "
					   "--resume ID'" : "");
				print_approvals(last, "           ",
						!strcmp(res, "running") &&
						lrc == 1);
			}
			cli_printf("  ");
			print_holder("lock", &h, lrc < 0 ? 0 : lrc);
		}
		lock_holder_release(&h);
		journal_list_free(list, n);
	}
	if (arr) {
		struct gantry_json *j = gantry_json_new_object();

		gantry_json_set_string(j, "service", s->conf.service);
		gantry_json_set_json(j, "environments", arr);
		progress_print_json(j);
	}
	return bad ? EXIT_FAILED : EXIT_OK;
}

int cmd_lock(struct session *s, const char *envname, int remove)
{
	struct state *st = session_state(s);
	const struct env_def *env;
	struct lock_holder h = { 0 };
	struct errs e = { 0 };
	int rc;

	if (!st)
		return EXIT_USAGE;
	if (!envname && !s->opt->env) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "'gantry %s' needs an "
			   "environment; give ENV", remove ? "unlock" : "lock");
		return EXIT_USAGE;
	}
	env = session_env_arg(s, envname);
	if (!env)
		return EXIT_USAGE;
	if (remove) {
		rc = state_lock_remove(st, s->conf.service,
				 env->name, &h, &e);
		if (rc < 0) {
			errs_print(&e);
			errs_clear(&e);
			return EXIT_FAILED;
		}
		if (rc == 1) {
			gantry_log(NULL, GANTRY_LOG_ERROR, "%s/%s is held by "
				   "running deploy '%s' (pid %ld on %s); not "
				   "removed: stop that deploy (kill -TERM %ld) "
				   "and it releases the lock itself",
				   s->conf.service, env->name,
				   h.id ? h.id : "?", h.pid, h.host ? h.host : "?",
				   h.pid);
			lock_holder_release(&h);
			return EXIT_LOCKED;
		}
		if (s->opt->json) {
			struct gantry_json *j = gantry_json_new_object();

			gantry_json_set_string(j, "environment", env->name);
			gantry_json_set_bool(j, "unlocked", 1);
			progress_print_json(j);
		} else {
			cli_printf("%s: lock free\n", env->name);
		}
		lock_holder_release(&h);
		return EXIT_OK;
	}
	rc = state_lock_inspect(st, s->conf.service, env->name,
			  &h, &e);
	if (rc < 0) {
		errs_print(&e);
		errs_clear(&e);
		return EXIT_FAILED;
	}
	if (s->opt->json) {
		struct gantry_json *j = holder_json(&h, rc);

		gantry_json_set_string(j, "environment", env->name);
		progress_print_json(j);
	} else {
		print_holder(env->name, &h, rc);
	}
	lock_holder_release(&h);
	return rc == 1 ? EXIT_LOCKED : EXIT_OK;
}
