/*
 * batch_file.c - `gantry batch FILE` before anything runs: reading the
 * batch file, its dependency graph, every deploy's configuration checked
 * as `gantry deploy` would check it, and the --matrix output.
 *
 * Every problem is collected and printed together, so one run shows all
 * that is wrong with a batch; nothing starts unless the list is empty.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_i.h"
#include "interp.h"

/* ---- the batch file ------------------------------------------------------ */

static int valid_name(const char *s)
{
	const char *p;

	if (!*s || *s == '.' || *s == '-')
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
		      *p == '-'))
			return 0;
	return 1;
}

/* The string key of deploy g, or NULL (a problem reported when required
   or of the wrong type). */
static const char *str_key(const struct gantry_config *g, const char *key,
			   int required, size_t idx, struct errs *e)
{
	const struct gantry_config *c = gantry_i_config_child(g, key);

	if (!c) {
		if (required)
			errs_add(e, "%s: deploy #%zu has no '%s'; add %s = "
				 "\"...\";", g->where, idx + 1, key, key);
		return NULL;
	}
	if (c->type != GANTRY_OPT_STRING || !*c->text) {
		errs_add(e, "%s: '%s' must be a non-empty string", c->where,
			 key);
		return NULL;
	}
	return c->text;
}

static void parse_deploy(struct batch *b, const struct gantry_config *g,
			 size_t idx, struct errs *e)
{
	static const char *const keys[] = { "name", "config", "tag", "env",
					     "after" };
	struct job *j = &b->jobs[idx];
	const struct gantry_config *after;
	size_t i;

	j->where = g->where;
	j->out_fd = j->log_rd = -1;
	if (g->type != GANTRY_OPT_GROUP) {
		errs_add(e, "%s: deploy #%zu must be a group { name = ...; "
			 "config = ...; tag = ...; }", g->where, idx + 1);
		return;
	}
	errs_unknown_keys(e, g, keys, GANTRY_ARRAY_SIZE(keys), "a deploy");
	j->name = str_key(g, "name", 1, idx, e);
	j->config = str_key(g, "config", 1, idx, e);
	j->tag = str_key(g, "tag", 1, idx, e);
	j->env_arg = str_key(g, "env", 0, idx, e);
	if (j->name && !valid_name(j->name)) {
		errs_add(e, "%s: deploy name '%s' may hold only letters, "
			 "digits, '.', '_' and '-' (it names the log file)",
			 g->where, j->name);
		j->name = NULL;
	}
	for (i = 0; j->name && i < idx; i++) {
		if (b->jobs[i].name && !strcmp(b->jobs[i].name, j->name)) {
			errs_add(e, "%s: duplicate deploy name '%s' (first at "
				 "%s); names must be unique", g->where,
				 j->name, b->jobs[i].where);
			break;
		}
	}
	after = gantry_i_config_child(g, "after");
	if (!after)
		return;
	if (after->type != GANTRY_OPT_LIST) {
		errs_add(e, "%s: 'after' must be a list of deploy names, like "
			 "after = [\"migrate\"];", after->where);
		return;
	}
	for (i = 0; i < after->nkids; i++) {
		if (after->kids[i]->type != GANTRY_OPT_STRING) {
			errs_add(e, "%s: 'after' must list deploy names "
				 "(strings)", after->kids[i]->where);
			return;
		}
	}
	j->after_list = after;
}

static int parse_file(struct batch *b, struct errs *e)
{
	static const char *const top[] = { "deploys" };
	const struct gantry_config *list;
	size_t i;

	if (profile_read_tree(b->file, &b->tree, e) < 0)
		return -1;
	errs_unknown_keys(e, b->tree, top, GANTRY_ARRAY_SIZE(top),
			  "a batch file");
	list = gantry_i_config_child(b->tree, "deploys");
	if (!list) {
		errs_add(e, "%s: no 'deploys' list; add deploys = ( { name = "
			 "\"api\"; config = \"api/gantry.cfg\"; tag = "
			 "\"v1.0.0\"; } );", b->file);
		return -1;
	}
	if (list->type != GANTRY_OPT_LIST || !list->nkids) {
		errs_add(e, "%s: 'deploys' must be a non-empty list ( { ... }, "
			 "... ) of deploys", list->where);
		return -1;
	}
	b->n = list->nkids;
	b->jobs = gantry_xcalloc(b->n, sizeof(*b->jobs));
	for (i = 0; i < b->n; i++)
		parse_deploy(b, list->kids[i], i, e);
	return e->n ? -1 : 0;
}

/* ---- the dependency graph ------------------------------------------------ */

static void resolve_after(struct batch *b, struct errs *e)
{
	const char **names = gantry_xcalloc(b->n, sizeof(*names));
	size_t i, k, m;

	for (i = 0; i < b->n; i++)
		names[i] = b->jobs[i].name;
	for (i = 0; i < b->n; i++) {
		struct job *j = &b->jobs[i];
		const struct gantry_config *l = j->after_list;

		if (!l)
			continue;
		j->after = gantry_xcalloc(l->nkids, sizeof(*j->after));
		for (k = 0; k < l->nkids; k++) {
			const char *want = l->kids[k]->text, *dym;

			for (m = 0; m < b->n && strcmp(names[m], want); m++)
				;
			if (m < b->n) {
				j->after[j->nafter++] = m;
				continue;
			}
			dym = did_you_mean(want, names, b->n);
			errs_add(e, "%s: deploy '%s' comes after '%s', which is "
				 "no deploy in %s%s%s%s", l->kids[k]->where,
				 j->name, want, b->file,
				 dym ? "; did you mean '" : "",
				 dym ? dym : "", dym ? "'?" : "");
		}
	}
	free(names);
}

/* Depth-first search; a dependency met again while still on the path
   closes a cycle, which is named in full. */
static void find_cycles(struct batch *b, size_t i, unsigned char *color,
			size_t *path, size_t depth, struct errs *e)
{
	struct job *j = &b->jobs[i];
	size_t k, m;

	color[i] = 1;
	path[depth] = i;
	for (k = 0; k < j->nafter; k++) {
		size_t d = j->after[k];

		if (color[d] == 0) {
			find_cycles(b, d, color, path, depth + 1, e);
		} else if (color[d] == 1) {
			struct gantry_buf cyc = GANTRY_BUF_INIT;

			for (m = 0; path[m] != d; m++)
				;
			for (; m <= depth; m++)
				gantry_buf_addf(&cyc, "%s -> ",
						  b->jobs[path[m]].name);
			gantry_buf_adds(&cyc, b->jobs[d].name);
			errs_add(e, "%s: dependency cycle: %s (each comes "
				 "'after' the next); remove one of these "
				 "'after' entries", b->jobs[d].where, cyc.buf);
			gantry_buf_release(&cyc);
		}
	}
	color[i] = 2;
}

static unsigned wave_of(struct batch *b, size_t i)
{
	struct job *j = &b->jobs[i];
	size_t k;

	if (j->wave)
		return j->wave;
	j->wave = 1;
	for (k = 0; k < j->nafter; k++) {
		unsigned w = wave_of(b, j->after[k]) + 1;

		if (w > j->wave)
			j->wave = w;
	}
	return j->wave;
}

static int waits_for(const struct batch *b, size_t i, size_t target)
{
	const struct job *j = &b->jobs[i];
	size_t k;

	for (k = 0; k < j->nafter; k++)
		if (j->after[k] == target || waits_for(b, j->after[k], target))
			return 1;
	return 0;
}

static void check_graph(struct batch *b, struct errs *e)
{
	unsigned char *color;
	size_t *path, i;
	size_t before = e->n;

	resolve_after(b, e);
	color = gantry_xcalloc(b->n, 1);
	path = gantry_xcalloc(b->n + 1, sizeof(*path));
	for (i = 0; i < b->n; i++)
		if (!color[i])
			find_cycles(b, i, color, path, 0, e);
	free(color);
	free(path);
	if (e->n == before)
		for (i = 0; i < b->n; i++)
			wave_of(b, i);
}

/* ---- each deploy's configuration --------------------------------------- */

static const char *plugin_path(const struct options *o, const struct gconf *c)
{
	const char *p = o->plugin_path;

	if (!p && (p = getenv("GANTRY_PLUGIN_PATH")) && !*p)
		p = NULL;
	return p ? p : c->plugin_path;
}

/* Validates what `gantry deploy` would validate before running anything.
   0, -1 (configuration problems), -2 (a plugin was refused). */
static int check_config(struct batch *b, struct job *j, const char *bdir,
			struct errs *e)
{
	const struct options *o = b->o;
	struct errs ce = { 0 };
	struct gconf c;
	struct loader l;
	int have_loader = 0, rc = -1;
	size_t i;

	if (j->config[0] == '/' || !strcmp(bdir, "."))
		j->shown = gantry_xstrdup(j->config);
	else
		j->shown = gantry_xasprintf("%s/%s", bdir, j->config);
	j->path = realpath(j->shown, NULL);
	if (!j->path) {
		errs_add(e, "%s: deploy '%s': config '%s' not found at '%s' "
			 "(%s); config paths are relative to the batch file",
			 j->where, j->name, j->config, j->shown,
			 strerror(errno));
		return -1;
	}
	j->dir = gantry_i_dir_of(j->path);
	if (profile_load(&c, j->path, &ce) < 0)
		goto out;
	if (profile_select_env(&c, j->tag, j->env_arg, &ce) < 0)
		goto out;
	j->env = gantry_xstrdup(c.env->name);
	j->service = gantry_xstrdup(c.service);
	if (loader_init(&l, plugin_path(o, &c), GANTRY_PLUGIN_DIR, &ce) < 0)
		goto out;
	have_loader = 1;
	rc = profile_validate(&c, &l, &ce);
	if (rc < 0)
		goto out;
	for (i = 0; i < c.nentries; i++)
		interp_resolve(c.entries[i].opts, NULL, INTERP_CHECK,
			       c.entries[i].name, c.dir, &ce);
	if (c.env->approval && !o->approve && !o->dry_run && !o->matrix)
		errs_add(&ce, "environment '%s' of %s needs approval; pass "
			 "--approve to 'gantry batch' (it approves every "
			 "deploy of the batch)", c.env->name, c.service);
	rc = ce.n ? -1 : 0;
out:
	for (i = 0; i < ce.n; i++)
		errs_add(e, "%s: deploy '%s': %s", j->where, j->name,
			 ce.msg[i]);
	errs_clear(&ce);
	if (have_loader)
		loader_release(&l);
	profile_unload(&c);
	return rc;
}

/* Two deploys of one service to one environment would fight over its
   lock unless one waits for the other. */
static void check_lock_clashes(struct batch *b, struct errs *e)
{
	size_t i, k;

	for (i = 0; i < b->n; i++) {
		struct job *x = &b->jobs[i];

		for (k = i + 1; x->service && k < b->n; k++) {
			struct job *y = &b->jobs[k];

			if (!y->service || strcmp(x->service, y->service) ||
			    strcmp(x->env, y->env) || waits_for(b, i, k) ||
			    waits_for(b, k, i))
				continue;
			errs_add(e, "%s: deploys '%s' and '%s' (%s) both deploy "
				 "%s to %s and neither comes after the other; "
				 "add after = [\"%s\"]; to '%s'", y->where,
				 x->name, y->name, x->where, x->service,
				 x->env, x->name, y->name);
		}
	}
}

int batch_validate(struct batch *b)
{
	struct errs e = { 0 };
	char *bdir = gantry_i_dir_of(b->file);
	int refused = 0, other = 1;
	size_t i, before;

	if (parse_file(b, &e) == 0) {
		check_graph(b, &e);
		other = e.n > 0;
		for (i = 0; i < b->n; i++) {
			before = e.n;
			if (check_config(b, &b->jobs[i], bdir, &e) == -2)
				refused = 1;
			else if (e.n > before)
				other = 1;
		}
		if (!e.n)
			check_lock_clashes(b, &e);
	}
	free(bdir);
	if (!e.n)
		return EXIT_OK;
	errs_print(&e);
	gantry_log(NULL, GANTRY_LOG_ERROR, "%s: %zu problem%s; nothing was "
		   "started", b->file, e.n, e.n == 1 ? "" : "s");
	errs_clear(&e);
	/* A refused plugin alone keeps deploy's exit code for it. */
	return refused && !other ? EXIT_REFUSED : EXIT_USAGE;
}

/* ---- --matrix ------------------------------------------------------------ */

void batch_print_doc(struct gantry_json *doc)
{
	char *text = gantry_i_redact(gantry_i_json_text_ex(doc,
						GANTRY_I_JSON_PRETTY));

	puts(text);
	fflush(stdout);
	free(text);
}

int batch_print_matrix(struct batch *b)
{
	struct gantry_json *doc = gantry_json_new_object(), *waves;
	unsigned w, last = 0;
	size_t i;

	waves = gantry_json_set_array(doc, "waves");
	for (i = 0; i < b->n; i++)
		if (b->jobs[i].wave > last)
			last = b->jobs[i].wave;
	for (w = 1; w <= last; w++) {
		struct gantry_json *wave = gantry_json_push_object(waves);
		struct gantry_json *inc = gantry_json_set_array(wave,
								"include");

		for (i = 0; i < b->n; i++) {
			struct job *j = &b->jobs[i];
			struct gantry_json *o;

			if (j->wave != w)
				continue;
			o = gantry_json_push_object(inc);
			gantry_json_set_string(o, "name", j->name);
			gantry_json_set_string(o, "config", j->shown);
			gantry_json_set_string(o, "tag", j->tag);
			gantry_json_set_string(o, "env", j->env);
		}
	}
	batch_print_doc(doc);
	gantry_json_free(doc);
	return EXIT_OK;
}
