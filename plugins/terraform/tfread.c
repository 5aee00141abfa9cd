/*
 * tfread.c - what the terraform stage reads back from terraform: the
 * saved plan as JSON (`show -json`), summarised and checked against the
 * destroy guard, and the outputs (`output -json`) published into the
 * context.
 *
 * Both commands print sensitive values in clear on stdout: tf_exec's
 * TF_CAPTURE keeps that stdout out of the log, and sensitive outputs are
 * registered as secrets before they are published.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/gantry.h>

#include "tfcmd.h"
#include "tfread.h"

#include "banned.h"

/* Addresses named in a destroy-guard message; the rest are elided. */
#define TF_MAX_NAMED 10

enum tf_change { TF_OTHER, TF_ADD, TF_CHANGE, TF_REPLACE, TF_DESTROY };

static int action_is(const struct gantry_json *actions, const char *a0,
		     const char *a1)
{
	size_t n = gantry_json_length(actions);

	if (n != (a1 ? 2u : 1u))
		return 0;
	if (strcmp(gantry_json_string(gantry_json_at(actions, 0), NULL, ""),
		   a0))
		return 0;
	return !a1 || !strcmp(gantry_json_string(gantry_json_at(actions, 1),
						 NULL, ""), a1);
}

/* What one entry of resource_changes does; read, no-op and forget
   change no infrastructure and count as TF_OTHER. */
static enum tf_change classify(const struct gantry_json *change)
{
	const struct gantry_json *act = gantry_json_get(change,
							"change.actions");

	if (action_is(act, "create", NULL))
		return TF_ADD;
	if (action_is(act, "update", NULL))
		return TF_CHANGE;
	if (action_is(act, "delete", "create") ||
	    action_is(act, "create", "delete"))
		return TF_REPLACE;
	if (action_is(act, "delete", NULL))
		return TF_DESTROY;
	return TF_OTHER;
}

static void guard_note(struct tf_summary *sum, const char *address)
{
	size_t have, len;
	char *s;

	if (++sum->named > TF_MAX_NAMED)
		return;
	have = sum->guarded ? strlen(sum->guarded) : 0;
	len = have + strlen(address) + 3;
	s = gantry_xrealloc(sum->guarded, len);
	snprintf(s + have, len - have, "%s%s", have ? ", " : "", address);
	sum->guarded = s;
}

/* Whether allow_replace lets address be replaced. */
static int replace_allowed(const struct tf_job *job, const char *address)
{
	size_t i;

	for (i = 0; i < gantry_config_length(job->allow_replace); i++) {
		const char *glob = gantry_config_text(
			gantry_config_at(job->allow_replace, i));

		if (glob && !fnmatch(glob, address, 0))
			return 1;
	}
	return 0;
}

/* One line of the summary: a plan line in plan mode, else logged. */
static void say(struct tf_job *job, int plan_lines, const char *a,
		const char *b)
{
	if (plan_lines)
		gantry_plan_line(job->ctx, "%s%s", a, b);
	else
		gantry_info(job->ctx, "%s%s", a, b);
}

/* The counts, then the addresses the destroy guard is about. */
static void summarise(struct tf_job *job, const struct gantry_json *changes,
		      struct tf_summary *sum, int plan_lines)
{
	char text[160];
	size_t i;

	for (i = 0; i < gantry_json_length(changes); i++) {
		switch (classify(gantry_json_at(changes, i))) {
		case TF_ADD:     sum->add++; break;
		case TF_CHANGE:  sum->change++; break;
		case TF_REPLACE: sum->replace++; break;
		case TF_DESTROY: sum->destroy++; break;
		default:         break;
		}
	}
	snprintf(text, sizeof(text), "plan: %d to add, %d to change, %d to "
		 "replace, %d to destroy", sum->add, sum->change,
		 sum->replace, sum->destroy);
	say(job, plan_lines, text, "");
	for (i = 0; i < gantry_json_length(changes); i++) {
		const struct gantry_json *c = gantry_json_at(changes, i);
		enum tf_change what = classify(c);
		const char *addr = gantry_json_string(c, "address", "?");

		if (what != TF_REPLACE && what != TF_DESTROY)
			continue;
		if (what == TF_REPLACE && replace_allowed(job, addr)) {
			sum->replace_allowed++;
			snprintf(text, sizeof(text), "%.120s (allow_replace)",
				 addr);
			say(job, plan_lines, "  replace ", text);
			continue;
		}
		guard_note(sum, addr);
		say(job, plan_lines, what == TF_REPLACE ? "  replace "
						       : "  destroy ", addr);
	}
}

/*
 * Terraform's own verdict on the saved plan (format 1.1 and later): an
 * errored plan is incomplete, and one that is not applyable must not be
 * applied, whatever the plan's exit code said (a wrapper, or a plan that
 * was saved despite its errors).  Only plans with changes are read here,
 * so "applyable": false is never the no-changes case.  Older formats
 * have neither member and pass.
 */
static int applyable(struct tf_job *job, const struct gantry_json *doc)
{
	if (gantry_json_bool(doc, "errored", 0))
		return gantry_fail(job->ctx, GANTRY_EFAIL, "the saved plan is "
			"not applyable: terraform reported errors while "
			"planning (\"errored\": true in 'terraform show -json'); "
			"fix the errors terraform printed and deploy again");
	if (!gantry_json_bool(doc, "applyable", 1))
		return gantry_fail(job->ctx, GANTRY_EFAIL, "the saved plan is "
			"not applyable (\"applyable\": false in 'terraform show "
			"-json'%s); run 'terraform plan' in '%s' to see why, "
			"then deploy again",
			gantry_json_bool(doc, "complete", 1) ? ""
				: ", \"complete\": false",
			job->dir ? job->dir : ".");
	return GANTRY_OK;
}

int tf_summarise(struct tf_job *job, const char *planfile,
		 struct tf_summary *sum, int plan_lines)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	struct gantry_json *doc = NULL;
	char err[160];
	int rc;

	memset(sum, 0, sizeof(*sum));
	tf_args_add(&a, "show");
	tf_args_add(&a, "-json");
	tf_args_add(&a, "-no-color");
	tf_args_add(&a, planfile);
	rc = tf_must(job, "show", &a, TF_CAPTURE | TF_WORKSPACE, &res);
	if (rc == GANTRY_OK) {
		doc = gantry_json_parse(res.out, strlen(res.out), err,
					sizeof(err));
		if (!doc)
			rc = gantry_fail(job->ctx, GANTRY_EFAIL,
				"cannot read the plan that 'terraform show "
				"-json' printed: %s; is '%s' Terraform 0.12 or "
				"later?", err, job->binary);
	}
	if (doc)
		rc = applyable(job, doc);
	if (doc && rc == GANTRY_OK)
		summarise(job, gantry_json_get(doc, "resource_changes"), sum,
			  plan_lines);
	gantry_json_free(doc);
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}

int tf_guard(struct tf_job *job, int allowed, const struct tf_summary *sum)
{
	int n = sum->replace - sum->replace_allowed + sum->destroy;

	if (!n || allowed)
		return GANTRY_OK;
	return gantry_fail(job->ctx, GANTRY_EFAIL, "plan would destroy or "
		"replace %d resource%s (%s%s); if that is meant, list what "
		"may be replaced in allow_replace, or set allow_destroy = true "
		"in stage '%s' or pass --allow-destroy", n, n == 1 ? "" : "s",
		sum->guarded ? sum->guarded : "",
		sum->named > TF_MAX_NAMED ? ", ..." : "",
		gantry_ctx_stage(job->ctx));
}

/* Registers every string inside a sensitive value as a secret. */
static void hide_leaves(struct gantry_json *v)
{
	size_t i;

	switch (gantry_json_type(v)) {
	case GANTRY_JSON_STRING:
		gantry_secret_add(gantry_json_string(v, NULL, ""));
		break;
	case GANTRY_JSON_ARRAY:
		for (i = 0; i < gantry_json_length(v); i++)
			hide_leaves(gantry_json_at(v, i));
		break;
	case GANTRY_JSON_OBJECT:
		for (i = 0; i < gantry_json_keys(v); i++)
			hide_leaves(gantry_json_value_at(v, i));
		break;
	default:
		break;
	}
}

static void publish_output(struct gantry_ctx *ctx, const char *name,
			   struct gantry_json *o)
{
	struct gantry_json *v = gantry_json_get(o, "value");
	int sensitive = gantry_json_bool(o, "sensitive", 0);
	char key[256], num[32];
	const char *text;

	if (sensitive)
		hide_leaves(v);
	switch (gantry_json_type(v)) {
	case GANTRY_JSON_STRING:
		text = gantry_json_string(v, NULL, "");
		break;
	case GANTRY_JSON_INT:
		snprintf(num, sizeof(num), "%lld", gantry_json_int(v, NULL, 0));
		text = num;
		break;
	case GANTRY_JSON_BOOL:
		text = gantry_json_bool(v, NULL, 0) ? "true" : "false";
		break;
	case GANTRY_JSON_NULL:
		text = "";
		break;
	default:	/* numbers with a fraction, lists, maps, objects */
		text = gantry_json_text(v, 0);
		break;
	}
	if ((size_t)snprintf(key, sizeof(key), "terraform.outputs.%s",
			     name) >= sizeof(key) ||
	    (sensitive ? gantry_ctx_set_secret(ctx, key, text)
		       : gantry_ctx_set(ctx, key, text)) < 0)
		gantry_warn(ctx, "output '%s' cannot be a context key; not "
			    "published", name);
}

int tf_publish_outputs(struct tf_job *job)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	struct gantry_json *doc = NULL;
	char err[160];
	size_t i;
	int rc;

	tf_args_add(&a, "output");
	tf_args_add(&a, "-json");
	tf_args_add(&a, "-no-color");
	rc = tf_must(job, "output", &a, TF_CAPTURE | TF_WORKSPACE, &res);
	if (rc == GANTRY_OK) {
		doc = gantry_json_parse(res.out, strlen(res.out), err,
					sizeof(err));
		if (!doc)
			rc = gantry_fail(job->ctx, GANTRY_EFAIL, "cannot read "
				"what 'terraform output -json' printed: %s",
				err);
	}
	for (i = 0; i < gantry_json_keys(doc); i++)
		publish_output(job->ctx, gantry_json_key_at(doc, i),
			       gantry_json_value_at(doc, i));
	if (doc)
		gantry_info(job->ctx, "published %zu output%s as "
			    "terraform.outputs.*", gantry_json_keys(doc),
			    gantry_json_keys(doc) == 1 ? "" : "s");
	gantry_json_free(doc);
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}
