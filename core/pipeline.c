/*
 * pipeline.c - running a deploy: its record, lock, stages in order with
 * their policies, and notifiers.  Plans are pipeline_plan.c's job,
 * rolling back pipeline_rollback.c's.
 *
 * What must stay true:
 *   - nothing runs before the whole configuration validated;
 *   - the lock is held from before the first stage until after the
 *     journal's final write, and released on every path out;
 *   - the journal is written before each stage starts and after it ends,
 *     so a crash leaves a record that says where it stopped;
 *   - notifiers get the final event whatever happened, and their
 *     failures never change the result.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "interp.h"
#include "journal.h"
#include "lock.h"
#include "pipeline_i.h"
#include "progress.h"
#include "runner.h"

static void tick_state(void *arg)
{
	state_tick(arg);
}

void deploy_journal_save(struct deploy *d)
{
	struct errs e = { 0 };

	if (!d->journal_on)
		return;
	if (state_journal_write(session_state(d->s), &d->rec, &e) < 0) {
		size_t i;

		for (i = 0; i < e.n; i++)
			gantry_log(NULL, GANTRY_LOG_WARN, "%s", e.msg[i]);
	}
	errs_clear(&e);
}

void deploy_publish(struct deploy *d, const char *key, const char *value,
		    int secret)
{
	gantry_i_kv_set(&d->ctx, key, value, secret);
	gantry_i_kv_set(&d->rec.context, key, value, secret);
}

/*
 * Promotion evidence for git-release: when the environment names
 * promote_from, the successful deploys there of a release candidate of
 * this version ("v1.2.3" <- "v1.2.3-rc.N"), newest first.  The journal is
 * the core's, so the core looks; the stage decides.
 */
static void promotion_context(struct deploy *d, const char *version)
{
	const char *from = d->gc->env->promote_from;
	struct gantry_buf found = GANTRY_BUF_INIT;
	struct deploy_record *list = NULL;
	struct errs e = { 0 };
	char *prefix;
	size_t n = 0, i;

	if (!from)
		return;
	deploy_publish(d, "promotion.from", from, 0);
	prefix = gantry_xasprintf("%s%s-rc.", d->gc->tag_prefix, version);
	if (!session_state(d->s) ||
	    state_journal_list(session_state(d->s), d->gc->service, from,
			       &list, &n, &e) < 0)
		errs_print(&e);
	errs_clear(&e);
	for (i = 0; i < n; i++) {
		const struct deploy_record *r = &list[i];

		if (!r->result || strcmp(r->result, "succeeded") ||
		    strncmp(r->tag, prefix, strlen(prefix)))
			continue;
		if (found.len)
			gantry_buf_addch(&found, ',');
		gantry_buf_adds(&found, r->tag);
	}
	deploy_publish(d, "promotion.candidates", found.buf, 0);
	gantry_buf_release(&found);
	journal_list_free(list, n);
	free(prefix);
}

/* The context every stage starts from (docs/configuration.md,
   "References"). */
void deploy_base_context(struct deploy *d)
{
	struct gconf *gc = d->gc;
	char *version = profile_tag_version(d->gc, d->tag);
	const struct gantry_config *aws = gantry_i_config_child(gc->profile,
								"aws");
	size_t i;

	deploy_publish(d, "service", gc->service, 0);
	deploy_publish(d, "deploy.id", d->rec.id, 0);
	deploy_publish(d, "deploy.actor", d->s->actor, 0);
	deploy_publish(d, "release.tag", d->tag, 0);
	deploy_publish(d, "release.version", version, 0);
	deploy_publish(d, "release.tag_prefix", gc->tag_prefix, 0);
	deploy_publish(d, "release.environment", gc->env->name, 0);
	deploy_publish(d, "config.dir", gc->dir, 0);
	/* Command-line decisions stages act on (terraform's destroy guard,
	   git-release's promotion check). */
	deploy_publish(d, "deploy.allow_destroy",
		d->s->opt->allow_destroy ? "true" : "false", 0);
	deploy_publish(d, "deploy.force_promotion",
		d->s->opt->force_promotion ? "true" : "false", 0);
	deploy_publish(d, "deploy.no_rollback",
		d->s->opt->no_rollback ? "true" : "false", 0);

	d->rec.forced_promotion = d->s->opt->force_promotion;
	promotion_context(d, version);
	/* A private directory per deploy for stages' files (image layouts,
	   plans); created by the stages that need it, kept with the journal. */
	{
		char *work = gantry_xasprintf("%s/work/%s",
						session_state_dir(d->s),
						d->rec.id);

		deploy_publish(d, "deploy.state_dir", work, 0);
		free(work);
	}
	/* The profile's aws group, flattened: aws.region,
	   aws.endpoint_url.ecs, ... (libgantry's AWS client reads them). */
	for (i = 0; i < gantry_config_length(aws); i++) {
		const struct gantry_config *k = gantry_config_at(aws, i);
		size_t j;

		if (k->text) {
			char *key = gantry_xasprintf("aws.%s", k->name);

			deploy_publish(d, key, k->text, 0);
			free(key);
		}
		for (j = 0; j < k->nkids; j++) {
			char *key = gantry_xasprintf("aws.%s.%s", k->name,
						       k->kids[j]->name);

			if (k->kids[j]->text)
				deploy_publish(d, key, k->kids[j]->text, 0);
			free(key);
		}
	}
	free(version);
}

/* ---- notifiers ---------------------------------------------------------- */

/* Runs one callback of en with context ctx; resolves en's options first
   (a reference that cannot resolve fails the callback). */
void deploy_call_entry(struct deploy *d, struct entry *en, enum callback cb,
		       const struct gantry_kvlist *ctx,
		       const struct gantry_event *ev, struct run_result *res)
{
	struct run_request req = { 0 };
	struct gantry_config *opts = gantry_i_config_clone(en->opts);
	struct errs e = { 0 };

	if (interp_resolve(opts, ctx, INTERP_RUN, en->name, d->gc->dir,
			   &e) < 0) {
		memset(res, 0, sizeof(*res));
		res->rc = GANTRY_ECONFIG;
		res->error = gantry_xstrdup(e.msg[0]);
		errs_clear(&e);
		gantry_i_config_free(opts);
		return;
	}
	/* The core's own stages wait in the core: they need its state
	   backend and its notifiers (approval.c). */
	if (cb == CB_RUN && en->plugin->builtin) {
		approval_run(d, en, opts, res);
		gantry_i_config_free(opts);
		return;
	}
	req.plugin = en->plugin;
	req.entry = en->name;
	req.which = cb;
	req.opts = opts;
	req.context = ctx;
	req.event = ev;
	/* A notifier that hangs must not hold the deploy for long. */
	req.timeout = en->timeout ? en->timeout : en->notifier ? 30 : 0;
	req.kill_grace = en->notifier ? 1 : d->gc->kill_grace;
	runner_call(&req, res);
	gantry_i_config_free(opts);
}


void deploy_notify_fields(struct deploy *d, unsigned bit, const char *stage,
			  const char *reason, const char *result,
			  int exit_code, const struct gantry_kvlist *extra)
{
	struct gantry_event ev = { event_name(bit), { 0 } };
	char num[32];
	size_t i;

	for (i = 0; extra && i < extra->n; i++)
		gantry_i_kv_set(&ev.fields, extra->v[i].key,
				extra->v[i].value, extra->v[i].secret);
	gantry_i_kv_set(&ev.fields, "result", result ? result : "", 0);
	if (stage)
		gantry_i_kv_set(&ev.fields, "stage", stage, 0);
	if (reason)
		gantry_i_kv_set(&ev.fields, "reason", reason, 0);
	snprintf(num, sizeof(num), "%.1f", gantry_now() - d->t0);
	gantry_i_kv_set(&ev.fields, "duration", num, 0);
	snprintf(num, sizeof(num), "%d", exit_code);
	gantry_i_kv_set(&ev.fields, "exit_code", num, 0);

	for (i = 0; i < d->gc->nentries; i++) {
		struct entry *en = &d->gc->entries[i];
		struct run_result res;

		if (!en->notifier || !(en->events & bit))
			continue;
		deploy_call_entry(d, en, CB_EVENT, &d->ctx, &ev, &res);
		if (res.rc != GANTRY_OK)
			gantry_log(NULL, GANTRY_LOG_WARN, "notifier '%s' failed "
				   "on %s (the deploy is not affected): %s",
				   en->name, ev.name, res.error);
		run_result_release(&res);
	}
	gantry_i_kv_clear(&ev.fields);
}

static void notify(struct deploy *d, unsigned bit, const char *stage,
		   const char *reason, const char *result, int exit_code)
{
	deploy_notify_fields(d, bit, stage, reason, result, exit_code, NULL);
}

/* ---- stages ------------------------------------------------------------- */

static int check_names(struct gconf *gc, const char *list, const char *flag)
{
	const char **names = gantry_xcalloc(gc->nentries + 1, sizeof(*names));
	const char *p = list;
	size_t i, nn = 0;
	int bad = 0;

	for (i = 0; i < gc->nentries; i++)
		if (!gc->entries[i].notifier)
			names[nn++] = gc->entries[i].name;
	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char *word = gantry_xstrndup(p, len);

		for (i = 0; i < nn; i++)
			if (!strcmp(word, names[i]))
				break;
		if (i == nn) {
			const char *dym = did_you_mean(word, names, nn);

			gantry_log(NULL, GANTRY_LOG_ERROR, "%s names '%s', which "
				   "is no pipeline entry of %s%s%s%s", flag,
				   word, gc->path, dym ? "; did you mean '" : "",
				   dym ? dym : "", dym ? "'?" : "");
			bad = 1;
		}
		free(word);
		p = comma ? comma + 1 : NULL;
	}
	free(names);
	return bad ? -1 : 0;
}

int deploy_selected(const struct options *o, const struct entry *en)
{
	if (o->only && !core_in_list(o->only, en->name))
		return 0;
	if (o->skip && core_in_list(o->skip, en->name))
		return 0;
	return 1;
}

static enum stage_status status_of(int rc)
{
	switch (rc) {
	case GANTRY_OK: return ST_SUCCEEDED;
	case GANTRY_EROLLED_BACK: return ST_ROLLED_BACK;
	case GANTRY_EROLLBACK_FAILED: return ST_ROLLBACK_FAILED;
	case GANTRY_ETIMEOUT: return ST_TIMED_OUT;
	case GANTRY_EINTERRUPTED: return ST_INTERRUPTED;
	default: return ST_FAILED;
	}
}

static int run_stage(struct deploy *d, struct entry *en,
		     struct stage_record *sr, size_t idx, size_t total)
{
	struct run_result res;
	unsigned attempt;
	int rc = GANTRY_EFAIL;
	size_t i;

	progress_stage_start(idx, total, en->name, en->stage);
	sr->status = ST_RUNNING;
	sr->started = core_wall_now();
	deploy_journal_save(d);
	notify(d, EV_STAGE_STARTED, en->name, NULL, "running", 0);
	for (attempt = 0; attempt <= en->retries; attempt++) {
		if (attempt) {
			unsigned wait = 1u << (attempt - 1 > 4 ? 4 : attempt - 1);

			progress_note("retrying '%s' in %u s (attempt %u of %u)",
				      en->name, wait, attempt + 1,
				      en->retries + 1);
			for (i = 0; i < wait * 10 && !gantry_i_interrupted; i++)
				usleep(100000);
			if (gantry_i_interrupted)
				break;
		}
		sr->attempts = (int)attempt + 1;
		deploy_call_entry(d, en, CB_RUN, &d->ctx, NULL, &res);
		rc = res.interrupted ? GANTRY_EINTERRUPTED : res.rc;
		if (rc == GANTRY_OK) {
			for (i = 0; i < res.outputs.n; i++) {
				const struct gantry_kv *kv = &res.outputs.v[i];

				gantry_i_kv_set(&sr->outputs, kv->key,
						kv->value, kv->secret);
				deploy_publish(d, kv->key, kv->value, kv->secret);
			}
			free(sr->error);
			sr->error = NULL;
			run_result_release(&res);
			break;
		}
		free(sr->error);
		sr->error = gantry_xstrdup(res.error ? res.error : "failed");
		/* What a failed stage published is journaled (how it failed:
		   ecs.outcome, tls_verify...) but not passed on. */
		for (i = 0; i < res.outputs.n; i++)
			gantry_i_kv_set(&sr->outputs, res.outputs.v[i].key,
					res.outputs.v[i].value,
					res.outputs.v[i].secret);
		run_result_release(&res);
		if (rc == GANTRY_EINTERRUPTED || rc == GANTRY_ECONFIG ||
		    gantry_i_interrupted)
			break;
		if (attempt < en->retries)
			progress_note("stage '%s' failed: %s", en->name,
				      sr->error);
	}
	if (gantry_i_interrupted && rc != GANTRY_OK)
		rc = GANTRY_EINTERRUPTED;
	sr->status = status_of(rc);
	sr->finished = core_wall_now();
	progress_stage_end(idx, total, en->name, sr->status,
			   sr->finished - sr->started, sr->error);
	deploy_journal_save(d);
	notify(d, rc == GANTRY_OK ? EV_STAGE_SUCCEEDED : EV_STAGE_FAILED,
	       en->name, sr->error, stage_status_name(sr->status), 0);
	return rc;
}

/* ---- the deploy ---------------------------------------------------------- */

static int approve(struct deploy *d)
{
	const struct options *o = d->s->opt;
	char answer[16];

	if (!d->gc->env->approval || o->dry_run)
		return 0;
	if (o->approve) {
		d->rec.approved_by = gantry_xstrdup(d->s->actor);
		return 0;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO)) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "environment '%s' needs "
			   "approval; pass --approve (no terminal to ask on)",
			   d->gc->env->name);
		return -1;
	}
	gantry_i_term_printf(stderr, "deploy %s %s to %s? approval required "
			     "[y/N] ", d->gc->service, d->tag,
			     d->gc->env->name);
	fflush(stderr);
	if (!fgets(answer, sizeof(answer), stdin) ||
	    (answer[0] != 'y' && answer[0] != 'Y')) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy to '%s' not "
			   "approved; nothing ran", d->gc->env->name);
		return -1;
	}
	d->rec.approved_by = gantry_xstrdup(d->s->actor);
	return 0;
}

static int take_lock(struct deploy *d)
{
	struct lock_holder me = { 0 }, prev = { 0 };
	struct utsname u;
	struct errs e = { 0 };
	int stale = 0, rc;

	uname(&u);
	me.id = d->rec.id;
	me.user = d->s->actor;
	me.host = u.nodename;
	me.pid = (long)getpid();
	me.started = core_wall_now();
	rc = state_lock_acquire(session_state(d->s), d->gc->service,
				d->gc->env->name, &me, &prev, &stale, &e);
	if (rc < 0) {
		/* e.g. an unusable state directory: nothing ran. */
		errs_print(&e);
		errs_clear(&e);
		return EXIT_USAGE;
	}
	if (rc == 1) {
		time_t t = (time_t)prev.started;
		char when[64];

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
		gantry_log(NULL, GANTRY_LOG_ERROR, "%s/%s is locked by deploy "
			   "'%s' of %s on %s (pid %ld) since %s; wait for it, "
			   "or see 'gantry lock %s'", d->gc->service,
			   d->gc->env->name, prev.id ? prev.id : "?",
			   prev.user ? prev.user : "?",
			   prev.host ? prev.host : "?", prev.pid, when,
			   d->gc->env->name);
		lock_holder_release(&prev);
		return EXIT_LOCKED;
	}
	if (stale)
		gantry_log(NULL, GANTRY_LOG_WARN, "took over a stale lock of "
			   "%s/%s left by deploy '%s' (pid %ld on %s, gone)",
			   d->gc->service, d->gc->env->name,
			   prev.id ? prev.id : "?", prev.pid,
			   prev.host ? prev.host : "?");
	lock_holder_release(&prev);
	return EXIT_OK;
}

static int setup_record(struct deploy *d)
{
	struct utsname u;
	struct errs e = { 0 };
	const char *resume = d->s->opt->resume;
	size_t i, k;

	if (!resume) {
		d->rec.id = journal_new_id();
		d->rec.service = gantry_xstrdup(d->gc->service);
		d->rec.environment = gantry_xstrdup(d->gc->env->name);
		d->rec.tag = gantry_xstrdup(d->tag);
		d->rec.version = profile_tag_version(d->gc, d->tag);
		d->rec.actor = gantry_xstrdup(d->s->actor);
		uname(&u);
		d->rec.host = gantry_xstrdup(u.nodename);
		d->rec.started = core_wall_now();
		for (i = 0; i < d->gc->nentries; i++)
			if (!d->gc->entries[i].notifier)
				deploy_record_add_stage(&d->rec,
							d->gc->entries[i].name,
							d->gc->entries[i].stage);
		deploy_base_context(d);
		deploy_rollback_context(d);
		return 0;
	}
	if (state_journal_read(session_state(d->s), resume, &d->rec, &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		return -1;
	}
	if (strcmp(d->rec.service, d->gc->service) ||
	    strcmp(d->rec.environment, d->gc->env->name) ||
	    strcmp(d->rec.tag, d->tag)) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy '%s' was %s %s to "
			   "%s, not %s %s to %s; resume it with the same tag "
			   "and environment", resume, d->rec.service,
			   d->rec.tag, d->rec.environment, d->gc->service,
			   d->tag, d->gc->env->name);
		return -1;
	}
	if (d->rec.result && !strcmp(d->rec.result, "succeeded")) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "deploy '%s' succeeded; "
			   "there is nothing to resume", resume);
		return -1;
	}
	for (i = 0; i < d->gc->nentries; i++)
		if (!d->gc->entries[i].notifier &&
		    !deploy_record_stage(&d->rec, d->gc->entries[i].name))
			deploy_record_add_stage(&d->rec,
						d->gc->entries[i].name,
						d->gc->entries[i].stage);
	/* Context as recorded; secret values were never written and must
	   be published again by the stages that made them. */
	for (k = 0; k < d->rec.context.n; k++)
		if (!d->rec.context.v[k].secret &&
		    strcmp(d->rec.context.v[k].value, "***"))
			gantry_i_kv_set(&d->ctx, d->rec.context.v[k].key,
					d->rec.context.v[k].value, 0);
	gantry_i_kv_set(&d->ctx, "deploy.actor", d->s->actor, 0);
	gantry_i_kv_set(&d->ctx, "config.dir", d->gc->dir, 0);
	d->rec.resumed++;
	free(d->rec.result);
	d->rec.result = NULL;
	free(d->rec.reason);
	d->rec.reason = NULL;
	free(d->rec.failed_stage);
	d->rec.failed_stage = NULL;
	return 0;
}

static void finish(struct deploy *d, const char *result, int code,
		   const char *stage, const char *reason)
{
	free(d->rec.result);
	d->rec.result = gantry_xstrdup(result);
	d->rec.exit_code = code;
	d->rec.finished = core_wall_now();
	if (stage) {
		free(d->rec.failed_stage);
		d->rec.failed_stage = gantry_xstrdup(stage);
	}
	if (reason) {
		free(d->rec.reason);
		d->rec.reason = gantry_xstrdup(reason);
	}
	d->rec.commit = d->rec.commit ? d->rec.commit :
		(gantry_i_kv_find(&d->ctx, "release.commit") ?
		 gantry_xstrdup(gantry_i_kv_find(&d->ctx,
						   "release.commit")->value) : NULL);
	d->rec.image_digest = d->rec.image_digest ? d->rec.image_digest :
		(gantry_i_kv_find(&d->ctx, "image.digest") ?
		 gantry_xstrdup(gantry_i_kv_find(&d->ctx,
						   "image.digest")->value) : NULL);
	deploy_journal_save(d);
}

/* Secret outputs are journaled as "***": a stage that made one must run
   again on resume for later stages to get the real value. */
static int has_secret_output(const struct stage_record *sr)
{
	size_t i;

	for (i = 0; i < sr->outputs.n; i++)
		if (sr->outputs.v[i].secret ||
		    !strcmp(sr->outputs.v[i].value, "***"))
			return 1;
	return 0;
}

static unsigned final_event(const char *result)
{
	if (!strcmp(result, "succeeded"))
		return EV_DEPLOY_SUCCEEDED;
	if (!strcmp(result, "rolled_back"))
		return EV_DEPLOY_ROLLED_BACK;
	if (!strcmp(result, "timed_out"))
		return EV_DEPLOY_TIMED_OUT;
	if (!strcmp(result, "interrupted"))
		return EV_DEPLOY_INTERRUPTED;
	return EV_DEPLOY_FAILED;
}

static int run_pipeline(struct deploy *d)
{
	struct gconf *gc = d->gc;
	const struct options *o = d->s->opt;
	size_t i, total = 0, idx = 0;
	struct entry *failed = NULL;
	int failed_rc = GANTRY_OK, code;
	const char *result;

	for (i = 0; i < gc->nentries; i++)
		if (!gc->entries[i].notifier)
			total++;
	for (i = 0; i < gc->nentries && !failed; i++) {
		struct entry *en = &gc->entries[i];
		struct stage_record *sr;
		int rc;

		if (en->notifier)
			continue;
		idx++;
		sr = deploy_record_stage(&d->rec, en->name);
		if (sr->status == ST_SUCCEEDED && o->resume &&
		    !has_secret_output(sr)) {
			progress_stage_skip(idx, total, en->name,
					    "done before resume");
			continue;
		}
		if (!deploy_selected(o, en)) {
			sr->status = ST_SKIPPED;
			progress_stage_skip(idx, total, en->name,
					    o->only ? "not in --only" :
					    "in --skip");
			continue;
		}
		if (gantry_i_interrupted) {
			failed = en;
			failed_rc = GANTRY_EINTERRUPTED;
			sr->status = ST_INTERRUPTED;
			break;
		}
		rc = run_stage(d, en, sr, idx, total);
		if (rc == GANTRY_OK)
			continue;
		if (en->on_failure == POLICY_CONTINUE &&
		    rc != GANTRY_EINTERRUPTED) {
			progress_note("continuing: '%s' has on_failure = "
				      "continue", en->name);
			continue;
		}
		failed = en;
		failed_rc = rc;
	}

	if (!failed) {
		result = "succeeded";
		code = EXIT_OK;
	} else {
		struct stage_record *sr = deploy_record_stage(&d->rec,
							      failed->name);
		int interrupted = failed_rc == GANTRY_EINTERRUPTED;
		int rb = 0;

		/* Let the clean-up run; a second signal stops it. */
		gantry_i_interrupted = 0;
		if (failed->on_failure == POLICY_ROLLBACK && !o->no_rollback)
			rb = deploy_roll_back(d, (size_t)(failed - gc->entries));
		if (rb < 0 || (rb > 0 && failed_rc == GANTRY_EROLLBACK_FAILED)) {
			result = "rollback_failed";
			code = EXIT_ROLLBACK_FAILED;
		} else if (rb > 0) {
			result = "rolled_back";
			code = EXIT_ROLLED_BACK;
		} else if (failed_rc == GANTRY_EROLLED_BACK) {
			result = "rolled_back";
			code = EXIT_ROLLED_BACK;
		} else if (failed_rc == GANTRY_EROLLBACK_FAILED) {
			result = "rollback_failed";
			code = EXIT_ROLLBACK_FAILED;
		} else if (failed->on_failure == POLICY_MARK_FAILED) {
			result = "failed_deployed";
			code = EXIT_FAILED;
		} else if (failed_rc == GANTRY_ETIMEOUT) {
			result = "timed_out";
			code = EXIT_FAILED;
		} else {
			result = "failed";
			code = EXIT_FAILED;
		}
		if (interrupted) {
			result = "interrupted";
			code = EXIT_INTERRUPTED;
		}
		finish(d, result, code, failed->name,
		       sr && sr->error ? sr->error : "interrupted");
		progress_result(d->rec.result, code, gantry_now() - d->t0,
				failed->name, d->rec.reason);
		notify(d, final_event(result), failed->name, d->rec.reason,
		       result, code);
		return code;
	}
	finish(d, result, code, NULL, NULL);
	progress_result(result, code, gantry_now() - d->t0, NULL, NULL);
	notify(d, EV_DEPLOY_SUCCEEDED, NULL, NULL, result, code);
	return code;
}

static void print_json_record(struct deploy *d)
{
	char *text = deploy_record_to_json(&d->rec, 1);

	fputs(text, stdout);
	fputc('\n', stdout);
	free(text);
}

/*
 * Before anything runs: every ${secret:env:} and ${secret:file:} of the
 * entries that will run is set, readable and long enough to redact, so a
 * missing secret stops the deploy at once rather than at its stage.
 */
static int check_secrets(struct session *s)
{
	struct errs e = { 0 };
	size_t i;
	int bad = 0;

	for (i = 0; i < s->conf.nentries; i++) {
		struct entry *en = &s->conf.entries[i];
		struct gantry_config *opts;

		if (!en->notifier && !deploy_selected(s->opt, en))
			continue;
		opts = gantry_i_config_clone(en->opts);
		if (interp_resolve(opts, NULL, INTERP_SECRETS, en->name,
				   s->conf.dir, &e) < 0)
			bad = 1;
		gantry_i_config_free(opts);
	}
	errs_print(&e);
	errs_clear(&e);
	return bad ? -1 : 0;
}

int pipeline_deploy(struct session *s, const char *tag)
{
	struct deploy d;
	const struct options *o = s->opt;
	int code, printed = 0;

	if (o->dry_run && o->resume) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "--dry-run and --resume "
			   "do not go together; drop one");
		return EXIT_USAGE;
	}
	if ((o->only && check_names(&s->conf, o->only, "--only") < 0) ||
	    (o->skip && check_names(&s->conf, o->skip, "--skip") < 0))
		return EXIT_USAGE;
	if (o->dry_run)
		return pipeline_plan(s, tag);
	if (check_secrets(s) < 0) {
		if (o->json)
			progress_json_error("deploy", EXIT_USAGE);
		return EXIT_USAGE;
	}
	if (!session_state(s)) {
		if (o->json)
			progress_json_error("deploy", EXIT_USAGE);
		return EXIT_USAGE;
	}

	memset(&d, 0, sizeof(d));
	d.s = s;
	d.gc = &s->conf;
	d.tag = tag;
	d.t0 = gantry_now();
	if (setup_record(&d) < 0) {
		code = EXIT_USAGE;
		goto out;
	}
	if (approve(&d) < 0) {
		code = EXIT_USAGE;
		goto out;
	}
	code = take_lock(&d);
	if (code != EXIT_OK)
		goto out;
	runner_install_signals();
	runner_set_tick(tick_state, session_state(s));
	d.journal_on = 1;
	free(d.rec.result);
	d.rec.result = gantry_xstrdup("running");
	{
		struct errs e = { 0 };

		if (state_journal_write(session_state(s), &d.rec, &e) < 0) {
			errs_print(&e);
			errs_clear(&e);
			state_lock_release(session_state(s));
			code = EXIT_USAGE;
			goto out;
		}
	}
	progress_deploy_start(d.rec.id, s->conf.service, tag,
			      s->conf.env->name, s->actor, d.rec.resumed);
	notify(&d, EV_DEPLOY_STARTED, NULL, NULL, "running", 0);
	code = run_pipeline(&d);
	runner_set_tick(NULL, NULL);
	state_lock_release(session_state(s));
	if (o->json) {
		print_json_record(&d);
		printed = 1;
	}
out:
	if (!printed && o->json)
		progress_json_error("deploy", code);
	deploy_record_release(&d.rec);
	gantry_i_kv_clear(&d.ctx);
	return code;
}
