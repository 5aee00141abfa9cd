/*
 * pipeline_rollback.c - rolling back: undoing the completed stages of a
 * failed deploy (on_failure = rollback), and `gantry rollback`: choosing
 * the release to go back to and the context its redeploy starts from.
 * The redeploy itself runs through pipeline_deploy.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "pipeline_i.h"
#include "progress.h"

/* Runs the rollback callback of every completed stage, newest first.
   Returns how many were rolled back, or -1 when one of them failed. */
int deploy_roll_back(struct deploy *d, size_t upto)
{
	int bad = 0, done = 0;
	size_t i;

	for (i = upto; i-- > 0; ) {
		struct entry *en = &d->gc->entries[i];
		struct stage_record *sr = deploy_record_stage(&d->rec, en->name);
		struct run_result res;

		if (en->notifier || !sr || sr->status != ST_SUCCEEDED ||
		    !en->plugin->desc->rollback)
			continue;
		progress_note("rolling back '%s'", en->name);
		/* The deploy's context holds the outputs this stage
		   published, which its rollback needs. */
		deploy_call_entry(d, en, CB_ROLLBACK, &d->ctx, NULL, &res);
		if (res.rc == GANTRY_OK) {
			sr->status = ST_ROLLED_BACK;
			done++;
			progress_note("rolled back '%s'", en->name);
		} else {
			sr->status = ST_ROLLBACK_FAILED;
			free(sr->error);
			sr->error = gantry_xstrdup(res.error);
			gantry_log(NULL, GANTRY_LOG_ERROR, "rollback of '%s' "
				   "failed: %s", en->name, res.error);
			bad = 1;
		}
		run_result_release(&res);
		deploy_journal_save(d);
	}
	return bad ? -1 : done;
}
/*
 * A rollback redeploys an earlier release: its recorded outputs (image.*,
 * release.commit, ...) are published up front, so stages can reuse what
 * exists (docker-build skips the build when deploy.rollback is "true" and
 * image.uri is known; ecr then finds the tag already pushed).
 */
void deploy_rollback_context(struct deploy *d)
{
	const struct deploy_record *t = d->s->rollback_target;
	size_t i, k;

	if (!t)
		return;
	deploy_publish(d, "deploy.rollback", "true", 0);
	deploy_publish(d, "deploy.rollback_of", d->s->rollback_of, 0);
	deploy_publish(d, "deploy.rollback_to", t->id, 0);
	for (i = 0; i < t->nstages; i++) {
		const struct stage_record *sr = &t->stages[i];

		if (sr->status != ST_SUCCEEDED)
			continue;
		for (k = 0; k < sr->outputs.n; k++) {
			const struct gantry_kv *kv = &sr->outputs.v[k];

			if (!kv->secret && strcmp(kv->value, "***"))
				deploy_publish(d, kv->key, kv->value, 0);
		}
	}
}
int pipeline_rollback(struct session *s, const char *envname)
{
	struct deploy_record *list = NULL;
	struct errs e = { 0 }, bad_tag = { 0 };
	const struct deploy_record *current = NULL, *target = NULL;
	const char *to = s->opt->to;
	size_t n = 0, i;
	int code;

	if (to && profile_check_tag(to, &e) < 0)
		goto refuse;
	if (!session_state(s))
		return EXIT_USAGE;

	if (state_journal_list(session_state(s), s->conf.service, envname, &list,
			 &n, &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		return EXIT_USAGE;
	}
	for (i = 0; i < n && !current; i++)
		if (list[i].result && !strcmp(list[i].result, "succeeded"))
			current = &list[i];
	/*
	 * When the newest finished deploy failed (ECS rolled it back, smoke
	 * marked it failed), the environment is out of line with its last
	 * good release - Terraform's state, the task definition: rolling
	 * back means re-aligning on that release.  Otherwise it means the
	 * good release before the current one.
	 */
	for (i = 0; i < n && (!list[i].result ||
			      !strcmp(list[i].result, "running")); i++)
		;
	if (!to && i < n && &list[i] != current && current) {
		target = current;
		current = &list[i];
	}
	for (i = 0; i < n && !target; i++) {
		const struct deploy_record *r = &list[i];

		if (!r->result || strcmp(r->result, "succeeded"))
			continue;
		if (to ? !strcmp(r->tag, to) :
		    (current && strcmp(r->tag, current->tag)))
			target = r;
	}
	if (!target) {
		if (to)
			gantry_log(NULL, GANTRY_LOG_ERROR, "%s %s was never "
				   "deployed successfully to %s; roll back to a "
				   "release listed by 'gantry history %s', or "
				   "deploy it with 'gantry deploy %s -e %s'",
				   s->conf.service, to, envname, envname, to,
				   envname);
		else
			gantry_log(NULL, GANTRY_LOG_ERROR, "nothing to roll back "
				   "to: %s has %s successful release in %s; see "
				   "'gantry history %s'", s->conf.service,
				   current ? "only one" : "no", envname, envname);
		journal_list_free(list, n);
		if (s->opt->json)
			progress_json_error("rollback", EXIT_USAGE);
		return EXIT_USAGE;
	}
	/* The journal is data: a record's tag gets the same check as one
	   typed on the command line before anything runs with it. */
	if (profile_check_tag(target->tag, &bad_tag) < 0) {
		errs_add(&e, "journal record %s: %s; roll back with 'gantry "
			 "rollback %s --to TAG'", target->id, bad_tag.msg[0],
			 envname);
		errs_clear(&bad_tag);
		journal_list_free(list, n);
		goto refuse;
	}
	if (current && !strcmp(current->tag, target->tag))
		gantry_log(NULL, GANTRY_LOG_WARN, "%s is already the current "
			   "release of %s; redeploying it", target->tag,
			   envname);
	progress_note("rolling %s back from %s to %s (deploy %s)", envname,
		      current ? current->tag : "(none)", target->tag,
		      target->id);
	s->rollback_target = target;
	s->rollback_of = current ? current->tag : "";
	code = pipeline_deploy(s, target->tag);
	s->rollback_target = NULL;
	s->rollback_of = NULL;
	journal_list_free(list, n);
	return code;

refuse:
	errs_print(&e);
	errs_clear(&e);
	if (s->opt->json)
		progress_json_error("rollback", EXIT_USAGE);
	return EXIT_USAGE;
}
