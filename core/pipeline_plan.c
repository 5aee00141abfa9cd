/*
 * pipeline_plan.c - `gantry plan`: every selected stage's plan callback
 * with the deploy's context, dry-run, printed or as one JSON document.
 * Nothing is locked, journalled or changed.
 */
#include "config.h"

#include <json-c/json.h>
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
	json_object *doc = NULL, *stages = NULL;
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
		doc = json_object_new_object();
		json_object_object_add(doc, "service",
				       json_object_new_string(s->conf.service));
		json_object_object_add(doc, "environment",
				       json_object_new_string(s->conf.env->name));
		json_object_object_add(doc, "tag", json_object_new_string(tag));
		json_object_object_add(doc, "approval",
			json_object_new_boolean(s->conf.env->approval));
		stages = json_object_new_array();
		json_object_object_add(doc, "stages", stages);
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
			json_object *st = json_object_new_object();

			json_object_object_add(st, "name",
					       json_object_new_string(en->name));
			json_object_object_add(st, "stage",
					       json_object_new_string(en->stage));
			json_object_object_add(st, "selected",
					       json_object_new_boolean(sel));
			json_object_object_add(st, "on_failure",
				json_object_new_string(policy_name(en->on_failure)));
			json_object_object_add(st, "timeout",
					       json_object_new_int((int)en->timeout));
			gantry_i_config_to_json(opts, &js);
			json_object_object_add(st, "options",
					       json_tokener_parse(js.buf));
			if (res.plan)
				json_object_object_add(st, "plan",
					json_object_new_string(res.plan));
			if (res.error)
				json_object_object_add(st, "error",
					json_object_new_string(res.error));
			json_object_array_add(stages, st);
		}
		gantry_buf_release(&js);
		errs_clear(&e);
		run_result_release(&res);
		gantry_i_config_free(opts);
	}
	if (doc) {
		char *text;

		json_object_object_add(doc, "ok", json_object_new_boolean(!bad));
		text = gantry_i_redact(gantry_i_json_text(doc,
				JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		puts(text);
		free(text);
		json_object_put(doc);
	}
	deploy_record_release(&d.rec);
	gantry_i_kv_clear(&d.ctx);
	return bad ? EXIT_FAILED : EXIT_OK;
}
