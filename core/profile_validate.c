/*
 * profile_validate.c - checking every pipeline and notify entry against
 * its plugin's option table (unknown keys, types, secrets in clear,
 * ranges and choices) and building the merged options: stage defaults < gantry.cfg entry <
 * profile `stages.<entry name>`.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "optrules.h"
#include "profile_i.h"

static int scalar_ok(const struct gantry_config *c)
{
	return c->type == GANTRY_OPT_STRING || c->type == GANTRY_OPT_INT ||
	       c->type == GANTRY_OPT_BOOL;
}

/*
 * A secret option's value written in clear into a file others can read
 * is a leaked secret already: refuse it.  The file is the one `where`
 * names ("path:line", an @included file included), as it is now.
 */
static int check_clear_secret(const struct entry *en, const char *key,
			      const struct gantry_config *c, struct errs *e)
{
	const char *colon;
	struct stat st;
	char *path;
	size_t i;
	int bad = 0;

	for (i = 0; i < c->nkids; i++)
		if (check_clear_secret(en, key, c->kids[i], e) < 0)
			bad = 1;
	if (c->type != GANTRY_OPT_STRING || !c->text || !*c->text ||
	    optrules_has_reference(c->text) || !c->where ||
	    !(colon = strrchr(c->where, ':')))
		return bad ? -1 : 0;
	if (strlen(c->text) < 4) {
		errs_add(e, "%s: option '%s' of stage '%s' is a secret shorter "
			 "than 4 bytes, too short to keep out of logs; use a "
			 "longer secret", c->where, key, en->name);
		bad = 1;
	}
	path = gantry_xstrndup(c->where, (size_t)(colon - c->where));
	if (!stat(path, &st) && (st.st_mode & (S_IRGRP | S_IROTH))) {
		errs_add(e, "%s: option '%s' of stage '%s' holds a secret in "
			 "clear in a file readable by group or others (mode "
			 "%04o); use ${secret:env:NAME} or "
			 "${secret:file:PATH}, or chmod go-r %s", c->where,
			 key, en->name, (unsigned)(st.st_mode & 07777), path);
		bad = 1;
	}
	free(path);
	return bad ? -1 : 0;
}

static int validate_entry(struct entry *en, const struct gantry_config *over,
			  struct errs *e)
{
	const struct gantry_stage *d = en->plugin->desc;
	const struct gantry_option *o;
	const char *names[256];
	size_t nn = 0, i;
	int bad = 0;

	for (o = d->options; o && o->key && nn < GANTRY_ARRAY_SIZE(names); o++)
		names[nn++] = o->key;
	en->opts = gantry_i_config_clone(en->raw);
	if (over) {
		struct gantry_config *copy = gantry_i_config_clone(over);

		for (i = 0; profile_core_keys[i]; i++)
			gantry_i_config_remove(copy, profile_core_keys[i]);
		gantry_i_config_merge(en->opts, copy);
		gantry_i_config_free(copy);
	}
	for (i = 0; i < en->opts->nkids; i++) {
		struct gantry_config *c = en->opts->kids[i];
		const char *dym;

		o = optrules_option(d, c->name);
		if (!o) {
			dym = did_you_mean(c->name, names, nn);
			errs_add(e, "%s: stage '%s' (%s) has no option '%s'%s%s%s; "
				 "see 'gantry plugins show %s'", c->where,
				 en->name, en->stage, c->name,
				 dym ? "; did you mean '" : "", dym ? dym : "",
				 dym ? "'?" : "", en->stage);
			bad = 1;
			continue;
		}
		/* A decimal is written as an integer, a float (which
		   reaches us as text) or a string: one type from here on,
		   its text normalised ("2.50" -> "2.5"); its syntax is
		   checked with the rules below. */
		if (o->type == GANTRY_OPT_DECIMAL &&
		    (c->type == GANTRY_OPT_INT ||
		     c->type == GANTRY_OPT_STRING)) {
			struct gantry_buf norm = GANTRY_BUF_INIT;

			c->type = GANTRY_OPT_DECIMAL;
			if (!optrules_decimal_normalise(c->text, &norm))
				gantry_i_config_set_text(c, norm.buf);
			gantry_buf_release(&norm);
		}
		if (o->type != c->type &&
		    !(o->type == GANTRY_OPT_LIST && c->type == GANTRY_OPT_LIST)) {
			errs_add(e, "%s: option '%s' of stage '%s' must be %s, "
				 "not %s", c->where, c->name, en->name,
				 profile_type_word(o->type), profile_type_word(c->type));
			bad = 1;
			continue;
		}
		if (o->type == GANTRY_OPT_GROUP) {
			size_t k;

			for (k = 0; k < c->nkids; k++)
				if (!scalar_ok(c->kids[k])) {
					errs_add(e, "%s: '%s.%s' of stage '%s' "
						 "must be a string, integer or "
						 "boolean", c->kids[k]->where,
						 c->name, c->kids[k]->name,
						 en->name);
					bad = 1;
				}
		}
		if (o->flags & GANTRY_OPT_SECRET) {
			c->secret = 1;
			if (check_clear_secret(en, c->name, c, e) < 0)
				bad = 1;
		}
	}
	/* `timeout` is a core key; a stage that declares it gets the
	   entry's value. */
	if (en->timeout && optrules_option(d, "timeout")) {
		char num[32];

		snprintf(num, sizeof(num), "%u", en->timeout);
		gantry_i_config_add(en->opts, gantry_i_config_scalar(
			GANTRY_OPT_INT, "timeout", num, en->where));
	}
	/* Ranges and choices (ABI 1.1); a value holding a ${...} reference
	   is checked once resolved, before the stage's init (runner.c).
	   Defaults passed when the plugin was loaded. */
	if (optrules_check_options(d, en->opts, en->name, 1, e) < 0)
		bad = 1;
	for (o = d->options; o && o->key; o++) {
		if (gantry_i_config_child(en->opts, o->key))
			continue;
		if (o->flags & GANTRY_OPT_REQUIRED) {
			errs_add(e, "%s: stage '%s' (%s) needs option '%s' (%s: "
				 "%s); set it in the entry or in stages.%s of "
				 "the profile", en->where, en->name, en->stage,
				 o->key, profile_type_word(o->type), o->help, en->name);
			bad = 1;
		} else if (o->def && o->type != GANTRY_OPT_LIST &&
			   o->type != GANTRY_OPT_GROUP) {
			struct gantry_config *c = gantry_i_config_scalar(
				o->type, o->key, o->def, "default");

			c->secret = !!(o->flags & GANTRY_OPT_SECRET);
			gantry_i_config_add(en->opts, c);
		}
	}
	return bad ? -1 : 0;
}

/* True when an entry before i uses the same stage. */
static int reported(const struct gconf *gc, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(gc->entries[j].stage, gc->entries[i].stage))
			return 1;
	return 0;
}

int profile_validate(struct gconf *gc, struct loader *l, struct errs *e)
{
	const struct gantry_config *stages = gc->profile ?
		gantry_i_config_child(gc->profile, "stages") : NULL;
	int bad = 0, refused_any = 0;
	size_t i;

	for (i = 0; i < gc->nentries; i++) {
		struct entry *en = &gc->entries[i];
		const struct gantry_config *over =
			gantry_i_config_child(stages, en->name);
		struct errs why = { 0 };
		int refused = 0;

		if (over && profile_apply_core_keys(en, over, e) < 0)
			bad = 1;
		if (reported(gc, i)) {
			/* Same stage as an earlier entry: reported once. */
			en->plugin = NULL;
			continue;
		}
		if (!loader_get(l, en->stage, &refused, &why)) {
			/* A refusal names the plugin file; a missing plugin
			   is named by the entry that asked for it. */
			if (refused)
				errs_add(e, "%s", why.msg[0]);
			else
				errs_add(e, "%s: %s", en->where, why.msg[0]);
			errs_clear(&why);
			if (refused)
				refused_any = 1;
			else
				bad = 1;
		}
	}
	for (i = 0; i < gc->nentries; i++) {
		struct entry *en = &gc->entries[i];
		const struct gantry_config *over =
			gantry_i_config_child(stages, en->name);
		unsigned kind;

		/* loader_get pointers stay valid only until the next lookup
		   of a new name: take them once every name was looked up. */
		en->plugin = loader_get(l, en->stage, NULL, NULL);
		if (!en->plugin)
			continue;
		kind = en->plugin->desc->kind ? en->plugin->desc->kind :
						GANTRY_KIND_STAGE;
		if (en->notifier && !(kind & GANTRY_KIND_NOTIFIER)) {
			errs_add(e, "%s: '%s' is a pipeline stage, not a "
				 "notifier; move it to pipeline", en->where,
				 en->stage);
			bad = 1;
			continue;
		}
		if (!en->notifier && !(kind & GANTRY_KIND_STAGE)) {
			errs_add(e, "%s: '%s' is a notifier, not a pipeline "
				 "stage; move it to notify", en->where,
				 en->stage);
			bad = 1;
			continue;
		}
		gantry_i_config_free(en->opts);
		en->opts = NULL;
		if (validate_entry(en, over, e) < 0)
			bad = 1;
	}
	if (refused_any)
		return -2;
	return bad ? -1 : 0;
}
