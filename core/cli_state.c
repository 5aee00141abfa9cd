/*
 * cli_state.c - gantry history, status, lock and unlock: what the journal
 * and the lock say.
 */
#include "config.h"

#include <json-c/json.h>
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

static json_object *record_summary(const struct deploy_record *r)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "id", json_object_new_string(r->id));
	json_object_object_add(j, "environment",
			       json_object_new_string(r->environment));
	json_object_object_add(j, "tag", json_object_new_string(r->tag));
	json_object_object_add(j, "rollback",
			       json_object_new_boolean(is_rollback(r)));
	json_object_object_add(j, "result", json_object_new_string(
		r->result ? r->result : "running"));
	json_object_object_add(j, "exit_code", json_object_new_int(r->exit_code));
	json_object_object_add(j, "actor", json_object_new_string(
		r->actor ? r->actor : ""));
	json_object_object_add(j, "started", json_object_new_double(r->started));
	json_object_object_add(j, "finished",
			       json_object_new_double(r->finished));
	if (r->failed_stage)
		json_object_object_add(j, "failed_stage",
				       json_object_new_string(r->failed_stage));
	if (r->reason)
		json_object_object_add(j, "reason",
				       json_object_new_string(r->reason));
	return j;
}

int cmd_history(struct session *s, const char *envname)
{
	struct state *st = session_state(s);
	const struct env_def *env = NULL;
	struct deploy_record *list = NULL;
	struct errs e = { 0 };
	size_t n = 0, i;
	json_object *arr = NULL;

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
		arr = json_object_new_array();
	else if (n)
		cli_printf("%-24s %-12s %-16s %-16s %-10s %s\n", "ID", "ENV",
			   "TAG", "RESULT", "BY", "STARTED");
	for (i = 0; i < n; i++) {
		const struct deploy_record *r = &list[i];
		char when[32];

		if (arr) {
			json_object_array_add(arr, record_summary(r));
			continue;
		}
		cli_fmt_time(r->started, when, sizeof(when));
		cli_printf("%-24s %-12s %-16s %-16s %-10s %s%s\n", r->id,
			   r->environment, r->tag,
			   r->result ? r->result : "running",
			   r->actor ? r->actor : "", when,
			   is_rollback(r) ? "  (rollback)" : "");
	}
	if (arr) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "service",
				       json_object_new_string(s->conf.service));
		json_object_object_add(j, "deploys", arr);
		cli_print_json(j);
	} else if (!n) {
		gantry_i_term_printf(stderr, "no deploys of %s%s%s recorded "
				     "in %s\n", s->conf.service,
				     env ? " to " : "", env ? env->name : "",
				     st->where);
	}
	journal_list_free(list, n);
	return EXIT_OK;
}

static json_object *holder_json(const struct lock_holder *h, int rc)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "state", json_object_new_string(
		rc == 0 ? "free" : rc == 1 ? "held" : "stale"));
	if (rc > 0) {
		json_object_object_add(j, "id", json_object_new_string(
			h->id ? h->id : "?"));
		json_object_object_add(j, "user", json_object_new_string(
			h->user ? h->user : "?"));
		json_object_object_add(j, "host", json_object_new_string(
			h->host ? h->host : "?"));
		json_object_object_add(j, "pid", json_object_new_int64(h->pid));
		json_object_object_add(j, "started",
				       json_object_new_double(h->started));
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
	json_object *arr = NULL;
	size_t i;
	int bad = 0;

	if (!st)
		return EXIT_USAGE;
	if ((envname || s->opt->env) && !(only = session_env_arg(s, envname)))
		return EXIT_USAGE;
	if (s->opt->json)
		arr = json_object_new_array();
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
			json_object *j = json_object_new_object();

			json_object_object_add(j, "environment",
					       json_object_new_string(env->name));
			json_object_object_add(j, "current", current ?
				record_summary(current) : NULL);
			json_object_object_add(j, "last", last ?
				record_summary(last) : NULL);
			json_object_object_add(j, "lock",
					       holder_json(&h, lrc < 0 ? 0 : lrc));
			json_object_array_add(arr, j);
		} else {
			cli_printf("%s:\n", env->name);
			if (current)
				cli_printf("  current: %s (deploy %s by %s)\n",
					   current->tag, current->id,
					   current->actor ? current->actor :
					   "?");
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
			}
			cli_printf("  ");
			print_holder("lock", &h, lrc < 0 ? 0 : lrc);
		}
		lock_holder_release(&h);
		journal_list_free(list, n);
	}
	if (arr) {
		json_object *j = json_object_new_object();

		json_object_object_add(j, "service",
				       json_object_new_string(s->conf.service));
		json_object_object_add(j, "environments", arr);
		cli_print_json(j);
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
			json_object *j = json_object_new_object();

			json_object_object_add(j, "environment",
					       json_object_new_string(env->name));
			json_object_object_add(j, "unlocked",
					       json_object_new_boolean(1));
			cli_print_json(j);
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
		json_object *j = holder_json(&h, rc);

		json_object_object_add(j, "environment",
				       json_object_new_string(env->name));
		cli_print_json(j);
	} else {
		print_holder(env->name, &h, rc);
	}
	lock_holder_release(&h);
	return rc == 1 ? EXIT_LOCKED : EXIT_OK;
}
