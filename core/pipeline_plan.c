/*
 * pipeline_plan.c - `gantry plan`: every selected stage's plan callback
 * with the deploy's context, dry-run, printed or as one JSON document.
 * Nothing is locked, journalled or changed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "interp.h"
#include "journal.h"
#include "pipeline_i.h"
#include "progress.h"
#include "runner.h"

int pipeline_plan(struct session *s, const char *tag)
{
	struct deploy d;
	struct gantry_json *doc = NULL, *stages = NULL;
	size_t i, idx = 0, total = 0;
	int bad = 0;

	memset(&d, 0, sizeof(d));
	d.s = s;
	d.gc = &s->conf;
	d.tag = tag;
	d.rec.id = gantry_xstrdup("(plan)");
	deploy_base_context(&d);
	for (i = 0; i < s->conf.nentries; i++)
		if (!s->conf.entries[i].notifier)
			total++;
	if (s->opt->json) {
		doc = gantry_json_new_object();
		gantry_json_set_string(doc, "service", s->conf.service);
		gantry_json_set_string(doc, "environment", s->conf.env->name);
		gantry_json_set_string(doc, "tag", tag);
		gantry_json_set_bool(doc, "approval", s->conf.env->approval);
		stages = gantry_json_set_array(doc, "stages");
	}
	progress_plan_start(s->conf.service, tag, s->conf.env->name,
			    s->conf.env->approval, &d.ctx);
	for (i = 0; i < s->conf.nentries; i++) {
		struct entry *en = &s->conf.entries[i];
		struct gantry_config *opts;
		struct run_request req = { 0 };
		struct run_result res;
		struct errs e = { 0 };
		struct gantry_buf js = GANTRY_BUF_INIT;
		int sel;

		if (en->notifier)
			continue;
		idx++;
		sel = deploy_selected(s->opt, en);
		opts = gantry_i_config_clone(en->opts);
		memset(&res, 0, sizeof(res));
		if (!sel) {
			progress_stage_skip(idx, total, en->name, "not selected");
		} else if (interp_resolve(opts, &d.ctx, INTERP_PLAN, en->name,
					  s->conf.dir, &e) < 0) {
			errs_print(&e);
			bad = 1;
		} else {
			req.plugin = en->plugin;
			req.entry = en->name;
			req.which = CB_PLAN;
			req.opts = opts;
			req.context = &d.ctx;
			req.timeout = en->timeout ? en->timeout : 60;
			req.kill_grace = s->conf.kill_grace;
			req.dry_run = 1;
			runner_call(&req, &res);
			progress_plan_stage(idx, total, en, opts, &res);
			if (res.rc != GANTRY_OK)
				bad = 1;
		}
		if (doc) {
			struct gantry_json *st = gantry_json_push_object(
				stages);

			gantry_json_set_string(st, "name", en->name);
			gantry_json_set_string(st, "stage", en->stage);
			gantry_json_set_bool(st, "selected", sel);
			gantry_json_set_string(st, "on_failure",
					       policy_name(en->on_failure));
			gantry_json_set_int(st, "timeout", (int)en->timeout);
			gantry_i_config_to_json(opts, &js);
			gantry_json_set_json(st, "options",
					     gantry_json_parse(js.buf, js.len,
							       NULL, 0));
			if (res.plan)
				gantry_json_set_string(st, "plan", res.plan);
			if (res.error)
				gantry_json_set_string(st, "error", res.error);
		}
		gantry_buf_release(&js);
		errs_clear(&e);
		run_result_release(&res);
		gantry_i_config_free(opts);
	}
	if (doc) {
		gantry_json_set_bool(doc, "ok", !bad);
		progress_print_json(doc);
	}
	deploy_record_release(&d.rec);
	gantry_i_kv_clear(&d.ctx);
	return bad ? EXIT_FAILED : EXIT_OK;
}
