/*
 * profile.c - reading gantry.cfg and environment profiles into trees,
 * and checking them against the plugins' option tables.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecheck.h"
#include "profile.h"

#define MAX_INCLUDE_DEPTH 10
/* What a configuration may read in all, @include files counted every time
   they are included: ten includes of a file nested eight deep would
   otherwise turn a few kB of files into gigabytes. */
#define MAX_INCLUDE_BYTES (16u << 20)
#define MAX_INCLUDE_FILES 4096

static const char *const policy_names[] = {
	"abort", "rollback", "mark-failed", "continue"
};

const char *policy_name(enum policy p)
{
	return policy_names[p];
}

static const struct {
	const char *name, *alias;
	unsigned bit;
} events[] = {
	{ "deploy.started", "start", EV_DEPLOY_STARTED },
	{ "deploy.succeeded", "success", EV_DEPLOY_SUCCEEDED },
	{ "deploy.failed", "failure", EV_DEPLOY_FAILED },
	{ "deploy.rolled_back", "rolled_back", EV_DEPLOY_ROLLED_BACK },
	{ "deploy.timed_out", "timed_out", EV_DEPLOY_TIMED_OUT },
	{ "deploy.interrupted", "interrupted", EV_DEPLOY_INTERRUPTED },
	{ "stage.started", NULL, EV_STAGE_STARTED },
	{ "stage.succeeded", NULL, EV_STAGE_SUCCEEDED },
	{ "stage.failed", NULL, EV_STAGE_FAILED },
};

const char *event_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(events); i++)
		if (events[i].bit == bit)
			return events[i].name;
	return "?";
}

/* ---- reading files ---------------------------------------------------- */

/*
 * The text handed to libconfig is the file with every @include expanded
 * in place; lines[] maps each line of that text back to its origin so
 * that errors name the file and line the user wrote.
 */
struct srcmap {
	char **files;
	size_t nfiles, afiles;
	struct origin { size_t file; unsigned line; } *lines;
	size_t nlines, alines;
	size_t bytes;		/* read so far, every inclusion counted */
};

static char *join_path(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return gantry_i_xstrdup(rel);
	return gantry_i_xasprintf("%s/%s", dir, rel);
}

/* Only a regular file is read: a FIFO named by @include or -c would
   block gantry forever (filecheck.h).  from: the @include line, or NULL. */
static char *read_file(const char *path, struct errs *e, const char *why,
		       const char *from)
{
	struct gantry_buf reason = GANTRY_BUF_INIT;
	char *text = file_read_regular(path, MAX_INCLUDE_BYTES, 0, NULL,
				       &reason);

	if (!text)
		errs_add(e, "%s%scannot read %s '%s': %s%s", from ? from : "",
			 from ? ": " : "", why, path, reason.buf,
			 errno == EINVAL ? "; name a regular file" : "");
	gantry_buf_release(&reason);
	return text;
}

/* Recognises `@include "path"`; returns the path (malloc'd) or NULL. */
static char *include_target(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *q;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 8 || memcmp(p, "@include", 8))
		return NULL;
	p += 8;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '"')
		return NULL;
	q = memchr(p + 1, '"', (size_t)(end - p - 1));
	if (!q)
		return NULL;
	return gantry_i_xstrndup(p + 1, (size_t)(q - p - 1));
}

static int expand(struct srcmap *m, struct gantry_buf *out, const char *path,
		  int depth, struct errs *e, const char *from)
{
	char *text, *dir;
	const char *p;
	size_t fileno;
	unsigned line = 0;
	int rc = 0;

	if (depth > MAX_INCLUDE_DEPTH) {
		errs_add(e, "%s: @include nested more than %d deep at '%s'; "
			 "look for an include cycle", from, MAX_INCLUDE_DEPTH,
			 path);
		return -1;
	}
	if (m->nfiles >= MAX_INCLUDE_FILES) {
		errs_add(e, "%s: @include of '%s' would read more than %d files "
			 "in all; look for an @include repeated in a loop, or "
			 "include fewer files", from, path, MAX_INCLUDE_FILES);
		return -1;
	}
	text = read_file(path, e, depth ? "included file" : "configuration",
			 depth ? from : NULL);
	if (!text)
		return -1;
	m->bytes += strlen(text);
	if (m->bytes > MAX_INCLUDE_BYTES) {
		errs_add(e, "%s: @include of '%s' takes the configuration past "
			 "%u MiB with its included files; look for an "
			 "@include repeated in a loop, or include fewer or "
			 "smaller files", from, path, MAX_INCLUDE_BYTES >> 20);
		free(text);
		return -1;
	}
	GANTRY_GROW(m->files, m->nfiles + 1, m->afiles);
	fileno = m->nfiles;
	m->files[m->nfiles++] = gantry_i_xstrdup(path);
	dir = gantry_i_dir_of(path);
	for (p = text; *p && !rc; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *inc = include_target(p, len);

		line++;
		if (inc) {
			char *full = join_path(dir, inc);
			char *here = gantry_i_xasprintf("%s:%u", path, line);

			rc = expand(m, out, full, depth + 1, e, here);
			free(here);
			free(full);
			free(inc);
		} else {
			gantry_buf_add(out, p, len);
			gantry_buf_addch(out, '\n');
			GANTRY_GROW(m->lines, m->nlines + 1, m->alines);
			m->lines[m->nlines].file = fileno;
			m->lines[m->nlines].line = line;
			m->nlines++;
		}
		p = nl ? nl + 1 : p + len;
	}
	free(dir);
	free(text);
	return rc;
}

static char *where_of(const struct srcmap *m, unsigned line)
{
	if (line == 0 || line > m->nlines)
		return gantry_i_xstrdup(m->nfiles ? m->files[0] : "?");
	return gantry_i_xasprintf("%s:%u", m->files[m->lines[line - 1].file],
				  m->lines[line - 1].line);
}

static struct gantry_config *convert(const config_setting_t *s,
				     const struct srcmap *m)
{
	const char *name = config_setting_name(s);
	char *where = where_of(m, config_setting_source_line(s));
	struct gantry_config *c = NULL;
	char num[64];
	int i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		snprintf(num, sizeof(num), "%d", config_setting_get_int(s));
		c = gantry_i_config_scalar(GANTRY_OPT_INT, name, num, where);
		break;
	case CONFIG_TYPE_INT64:
		snprintf(num, sizeof(num), "%lld",
			 config_setting_get_int64(s));
		c = gantry_i_config_scalar(GANTRY_OPT_INT, name, num, where);
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(num, sizeof(num), "%g", config_setting_get_float(s));
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name, num, where);
		break;
	case CONFIG_TYPE_BOOL:
		c = gantry_i_config_scalar(GANTRY_OPT_BOOL, name,
					   config_setting_get_bool(s) ?
					   "true" : "false", where);
		break;
	case CONFIG_TYPE_STRING:
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name,
					   config_setting_get_string(s), where);
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_GROUP:
		c = gantry_i_config_new(config_setting_type(s) ==
					CONFIG_TYPE_GROUP ? GANTRY_OPT_GROUP :
					GANTRY_OPT_LIST, name, where);
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			gantry_i_config_add(c, convert(
				config_setting_get_elem(s, (unsigned)i), m));
		break;
	default:
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name, "", where);
		break;
	}
	free(where);
	return c;
}

int profile_read_tree(const char *path, struct gantry_config **out,
		      struct errs *e)
{
	struct srcmap m = { 0 };
	struct gantry_buf text = GANTRY_BUF_INIT;
	config_t cfg;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (expand(&m, &text, path, 0, e, path) < 0)
		goto out;
	config_init(&cfg);
	if (config_read_string(&cfg, text.buf) != CONFIG_TRUE) {
		char *where = where_of(&m, (unsigned)config_error_line(&cfg));

		errs_add(e, "%s: syntax error: %s; see the libconfig syntax "
			 "in docs/configuration.md", where,
			 config_error_text(&cfg));
		free(where);
	} else {
		*out = convert(config_root_setting(&cfg), &m);
		rc = 0;
	}
	config_destroy(&cfg);
out:
	gantry_buf_release(&text);
	for (i = 0; i < m.nfiles; i++)
		free(m.files[i]);
	free(m.files);
	free(m.lines);
	return rc;
}

/* ---- checking trees --------------------------------------------------- */

static const char *type_word(enum gantry_option_type t)
{
	switch (t) {
	case GANTRY_OPT_STRING: return "a string";
	case GANTRY_OPT_INT: return "an integer";
	case GANTRY_OPT_BOOL: return "a boolean";
	case GANTRY_OPT_LIST: return "a list";
	case GANTRY_OPT_GROUP: return "a group";
	}
	return "?";
}

/* Reports every key of group g not in known[] (NULL-terminated). */
static int check_keys(const struct gantry_config *g, const char *const *known,
		      const char *what, struct errs *e)
{
	size_t n = 0;

	while (known[n])
		n++;
	return errs_unknown_keys(e, g, known, n, what) ? -1 : 0;
}

/* The scalar or NULL; a wrong type is reported. */
static const struct gantry_config *want(const struct gantry_config *g,
					const char *key,
					enum gantry_option_type type,
					int required, const char *what,
					struct errs *e, int *bad)
{
	const struct gantry_config *c = gantry_i_config_child(g, key);

	if (!c) {
		if (required) {
			errs_add(e, "%s: %s has no '%s'; add %s '%s'",
				 g->where, what, key, type_word(type), key);
			*bad = 1;
		}
		return NULL;
	}
	if (c->type != type) {
		errs_add(e, "%s: '%s' in %s must be %s, not %s", c->where,
			 key, what, type_word(type), type_word(c->type));
		*bad = 1;
		return NULL;
	}
	return c;
}

static char *abs_path(const char *dir, const char *p)
{
	return join_path(dir, p);
}

static int parse_policy(const struct gantry_config *c, enum policy *out,
			struct errs *e)
{
	size_t i;
	const char *dym;

	for (i = 0; i < GANTRY_ARRAY_SIZE(policy_names); i++) {
		if (!strcmp(c->text, policy_names[i])) {
			*out = (enum policy)i;
			return 0;
		}
	}
	dym = did_you_mean(c->text, policy_names,
			   GANTRY_ARRAY_SIZE(policy_names));
	errs_add(e, "%s: unknown on_failure policy '%s'; %s%s%suse abort, "
		 "rollback, mark-failed or continue", c->where, c->text,
		 dym ? "did you mean '" : "", dym ? dym : "",
		 dym ? "'? " : "");
	return -1;
}

static int parse_events(const struct gantry_config *list, unsigned *mask,
			struct errs *e)
{
	const char *names[2 * GANTRY_ARRAY_SIZE(events)];
	size_t i, j, nn = 0;
	int bad = 0;

	for (j = 0; j < GANTRY_ARRAY_SIZE(events); j++) {
		names[nn++] = events[j].name;
		if (events[j].alias)
			names[nn++] = events[j].alias;
	}
	*mask = 0;
	for (i = 0; i < gantry_config_length(list); i++) {
		const struct gantry_config *c = list->kids[i];
		const char *dym;

		for (j = 0; j < GANTRY_ARRAY_SIZE(events); j++) {
			if (c->text && (!strcmp(c->text, events[j].name) ||
					(events[j].alias &&
					 !strcmp(c->text, events[j].alias))))
				break;
		}
		if (j < GANTRY_ARRAY_SIZE(events)) {
			*mask |= events[j].bit;
			continue;
		}
		dym = c->text ? did_you_mean(c->text, names, nn) : NULL;
		errs_add(e, "%s: unknown event '%s'%s%s%s; events are "
			 "deploy.started|start, deploy.succeeded|success, "
			 "deploy.failed|failure, deploy.rolled_back, "
			 "deploy.timed_out, deploy.interrupted, stage.started, "
			 "stage.succeeded, stage.failed", c->where,
			 c->text ? c->text : "?", dym ? "; did you mean '" : "",
			 dym ? dym : "", dym ? "'?" : "");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Core keys of pipeline and notify entries; the rest are plugin options. */
static const char *const core_keys[] = {
	"stage", "plugin", "name", "on_failure", "timeout", "retries",
	"events", NULL
};

static int is_core_key(const char *k)
{
	size_t i;

	for (i = 0; core_keys[i]; i++)
		if (!strcmp(k, core_keys[i]))
			return 1;
	return 0;
}

/* Applies core keys found in g (gantry.cfg entry or profile block). */
static int apply_core_keys(struct entry *en, const struct gantry_config *g,
			   struct errs *e)
{
	const struct gantry_config *c;
	int bad = 0;
	const char *what = en->notifier ? "notify entry" : "pipeline entry";

	if ((c = want(g, "on_failure", GANTRY_OPT_STRING, 0, what, e, &bad)) &&
	    parse_policy(c, &en->on_failure, e) < 0)
		bad = 1;
	if ((c = want(g, "timeout", GANTRY_OPT_INT, 0, what, e, &bad))) {
		if (c->ival < 0 || c->ival > 7 * 86400) {
			errs_add(e, "%s: timeout %lld is out of range; give "
				 "seconds from 0 (none) to 604800", c->where,
				 c->ival);
			bad = 1;
		} else {
			en->timeout = (unsigned)c->ival;
		}
	}
	if ((c = want(g, "retries", GANTRY_OPT_INT, 0, what, e, &bad))) {
		if (c->ival < 0 || c->ival > 100) {
			errs_add(e, "%s: retries %lld is out of range; give 0 "
				 "to 100", c->where, c->ival);
			bad = 1;
		} else {
			en->retries = (unsigned)c->ival;
		}
	}
	if ((c = want(g, "events", GANTRY_OPT_LIST, 0, what, e, &bad))) {
		if (!en->notifier) {
			errs_add(e, "%s: 'events' belongs in a notify entry, "
				 "not in the pipeline", c->where);
			bad = 1;
		} else if (parse_events(c, &en->events, e) < 0) {
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int load_entry(struct gconf *gc, const struct gantry_config *g,
		      int notifier, struct errs *e)
{
	struct entry *en;
	const struct gantry_config *c;
	const char *kind = notifier ? "plugin" : "stage";
	int bad = 0;
	size_t i;

	if (g->type != GANTRY_OPT_GROUP) {
		errs_add(e, "%s: a %s entry must be a group { %s = \"...\"; }",
			 g->where, notifier ? "notify" : "pipeline", kind);
		return -1;
	}
	gc->entries = gantry_i_xrealloc(gc->entries, (gc->nentries + 1) *
					sizeof(*gc->entries));
	en = &gc->entries[gc->nentries++];
	memset(en, 0, sizeof(*en));
	en->notifier = notifier;
	en->where = gantry_i_xstrdup(g->where);
	en->events = EV_FINAL | EV_DEPLOY_STARTED;
	c = want(g, kind, GANTRY_OPT_STRING, 1,
		 notifier ? "notify entry" : "pipeline entry", e, &bad);
	en->stage = gantry_i_xstrdup(c ? c->text : "?");
	c = want(g, "name", GANTRY_OPT_STRING, 0, "entry", e, &bad);
	en->name = gantry_i_xstrdup(c ? c->text : en->stage);
	if (!gantry_i_kv_valid_key(en->name) || strchr(en->name, '.')) {
		errs_add(e, "%s: entry name '%s' is not a plain name; use "
			 "letters, digits, '-' and '_'", g->where, en->name);
		bad = 1;
	}
	if (notifier && gantry_i_config_child(g, "stage")) {
		errs_add(e, "%s: a notify entry names its 'plugin', not a "
			 "'stage'", g->where);
		bad = 1;
	} else if (!notifier && gantry_i_config_child(g, "plugin")) {
		errs_add(e, "%s: a pipeline entry names its 'stage', not a "
			 "'plugin'", g->where);
		bad = 1;
	}
	if (apply_core_keys(en, g, e) < 0)
		bad = 1;
	en->raw = gantry_i_config_new(GANTRY_OPT_GROUP, "", g->where);
	for (i = 0; i < g->nkids; i++)
		if (!is_core_key(g->kids[i]->name))
			gantry_i_config_add(en->raw,
					    gantry_i_config_clone(g->kids[i]));
	for (i = 0; i + 1 < gc->nentries; i++) {
		if (!strcmp(gc->entries[i].name, en->name)) {
			errs_add(e, "%s: entry name '%s' is already used at "
				 "%s; give one of them another name = \"...\"",
				 g->where, en->name, gc->entries[i].where);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

/* Bytes a release tag may hold: git ref and image tag alike. */
#define TAG_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
		  "0123456789_.-"

/* Letters, digits, '-' and '_', 1 to max bytes. */
static int plain_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "0123456789-_") == n;
}

static int load_env(struct gconf *gc, const struct gantry_config *g,
		    struct errs *e)
{
	static const char *const keys[] = { "name", "tags", "profile",
					    "approval", "promote_from", NULL };
	struct env_def *env;
	const struct gantry_config *c;
	int bad = 0;

	if (g->type != GANTRY_OPT_GROUP) {
		errs_add(e, "%s: an environment must be a group { name = "
			 "\"...\"; tags = \"...\"; profile = \"...\"; }",
			 g->where);
		return -1;
	}
	if (check_keys(g, keys, "an environment", e) < 0)
		bad = 1;
	gc->envs = gantry_i_xrealloc(gc->envs, (gc->nenvs + 1) *
				     sizeof(*gc->envs));
	env = &gc->envs[gc->nenvs++];
	memset(env, 0, sizeof(*env));
	env->where = gantry_i_xstrdup(g->where);
	c = want(g, "name", GANTRY_OPT_STRING, 1, "environment", e, &bad);
	env->name = gantry_i_xstrdup(c ? c->text : "?");
	/* The name becomes part of lock and journal paths and keys. */
	if (c && !plain_name(c->text, 64)) {
		char *shown = errs_shown(c->text, 64);

		errs_add(e, "%s: environment name '%s' is not a plain name; "
			 "use 1 to 64 letters, digits, '-' and '_'", c->where,
			 shown);
		free(shown);
		bad = 1;
	}
	c = want(g, "tags", GANTRY_OPT_STRING, 1, "environment", e, &bad);
	env->tags = gantry_i_xstrdup(c ? c->text : "");
	c = want(g, "profile", GANTRY_OPT_STRING, 1, "environment", e, &bad);
	env->profile = c ? abs_path(gc->dir, c->text) : NULL;
	c = want(g, "approval", GANTRY_OPT_BOOL, 0, "environment", e, &bad);
	env->approval = c ? c->bval : 0;
	c = want(g, "promote_from", GANTRY_OPT_STRING, 0, "environment", e,
		 &bad);
	env->promote_from = c ? gantry_i_xstrdup(c->text) : NULL;
	return bad ? -1 : 0;
}

const char *profile_find(const char *explicit_path)
{
	static const char sys[] = GANTRY_SYSCONFDIR "/gantry/gantry.cfg";

	if (explicit_path)
		return explicit_path;
	if (access("gantry.cfg", F_OK) == 0)
		return "gantry.cfg";
	if (access(sys, F_OK) == 0)
		return sys;
	return NULL;
}

int profile_load(struct gconf *gc, const char *path, struct errs *e)
{
	static const char *const keys[] = { "service", "environments",
					    "pipeline", "notify",
					    "plugin_path", "state_dir",
					    "kill_grace", "state",
					    "tag_prefix", NULL };
	struct gantry_config *root;
	const struct gantry_config *c, *list;
	char cwd[PATH_MAX], *dir;
	size_t i, j;
	int bad = 0;

	memset(gc, 0, sizeof(*gc));
	gc->kill_grace = 60;
	gc->path = gantry_i_xstrdup(path);
	dir = gantry_i_dir_of(path);
	if (dir[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		gc->dir = strcmp(dir, ".") ? gantry_i_xasprintf("%s/%s", cwd, dir)
					   : gantry_i_xstrdup(cwd);
		free(dir);
	} else {
		gc->dir = dir;
	}
	if (profile_read_tree(path, &root, e) < 0)
		return -1;
	if (check_keys(root, keys, path, e) < 0)
		bad = 1;
	c = want(root, "service", GANTRY_OPT_STRING, 1, path, e, &bad);
	gc->service = gantry_i_xstrdup(c ? c->text : "?");
	if (c && !plain_name(c->text, 128)) {
		errs_add(e, "%s: service name '%s' is not a plain name; use "
			 "letters, digits, '-' and '_'", c->where, c->text);
		bad = 1;
	}
	if ((c = want(root, "plugin_path", GANTRY_OPT_STRING, 0, path, e, &bad)))
		gc->plugin_path = abs_path(gc->dir, c->text);
	if ((c = want(root, "state_dir", GANTRY_OPT_STRING, 0, path, e, &bad)))
		gc->state_dir = abs_path(gc->dir, c->text);
	c = want(root, "tag_prefix", GANTRY_OPT_STRING, 0, path, e, &bad);
	gc->tag_prefix = gantry_i_xstrdup(c ? c->text : "v");
	if (c && (strlen(c->text) > 32 ||
		  strspn(c->text, TAG_CHARS) != strlen(c->text))) {
		char *shown = errs_shown(c->text, 32);

		errs_add(e, "%s: tag_prefix '%s' cannot start a release tag; "
			 "use up to 32 letters, digits, '_', '.' and '-' (or "
			 "\"\" for tags without a prefix)", c->where, shown);
		free(shown);
		bad = 1;
	}
	if ((c = want(root, "kill_grace", GANTRY_OPT_INT, 0, path, e, &bad)))
		gc->kill_grace = c->ival < 1 ? 1 : (unsigned)c->ival;
	if ((c = want(root, "state", GANTRY_OPT_GROUP, 0, path, e, &bad))) {
		static const char *const state_keys[] = {
			"backend", "bucket", "table", "prefix", "region",
			"role_arn", "endpoint_url", "lease_seconds", NULL
		};

		if (check_keys(c, state_keys, "state", e) < 0)
			bad = 1;
		gc->state_cfg = gantry_i_config_clone(c);
	}

	list = want(root, "environments", GANTRY_OPT_LIST, 1, path, e, &bad);
	for (i = 0; i < gantry_config_length(list); i++)
		if (load_env(gc, list->kids[i], e) < 0)
			bad = 1;
	if (list && !list->nkids) {
		errs_add(e, "%s: 'environments' is empty; define at least one",
			 list->where);
		bad = 1;
	}
	for (i = 0; i < gc->nenvs; i++) {
		const struct env_def *a = &gc->envs[i];

		for (j = 0; j < i; j++)
			if (!strcmp(a->name, gc->envs[j].name)) {
				errs_add(e, "%s: environment '%s' is already "
					 "defined at %s", a->where, a->name,
					 gc->envs[j].where);
				bad = 1;
			}
		if (a->promote_from && !profile_env(gc, a->promote_from)) {
			errs_add(e, "%s: promote_from names environment '%s', "
				 "which is not defined", a->where,
				 a->promote_from);
			bad = 1;
		}
	}

	list = want(root, "pipeline", GANTRY_OPT_LIST, 1, path, e, &bad);
	for (i = 0; i < gantry_config_length(list); i++)
		if (load_entry(gc, list->kids[i], 0, e) < 0)
			bad = 1;
	list = want(root, "notify", GANTRY_OPT_LIST, 0, path, e, &bad);
	for (i = 0; i < gantry_config_length(list); i++)
		if (load_entry(gc, list->kids[i], 1, e) < 0)
			bad = 1;
	gantry_i_config_free(root);
	return bad ? -1 : 0;
}

const struct env_def *profile_env(const struct gconf *gc, const char *name)
{
	size_t i;

	for (i = 0; i < gc->nenvs; i++)
		if (!strcmp(gc->envs[i].name, name))
			return &gc->envs[i];
	return NULL;
}

/* aws = { ... }: strings, but for the integers and endpoint_url, which
   is one URL or a group of URLs per service. */
static int check_aws_types(const struct gantry_config *aws, struct errs *e)
{
	static const char *const services[] = {
		"ecs", "ecr", "sts", "logs", "monitoring", "secretsmanager",
		"dynamodb", "s3", NULL
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < aws->nkids; i++) {
		const struct gantry_config *k = aws->kids[i];
		int want_int = !strcmp(k->name, "max_attempts") ||
			       !strcmp(k->name, "max_retry_seconds");

		if (!strcmp(k->name, "endpoint_url") &&
		    k->type == GANTRY_OPT_GROUP) {
			size_t j;

			if (check_keys(k, services, "aws.endpoint_url", e) < 0)
				bad = 1;
			for (j = 0; j < k->nkids; j++)
				if (k->kids[j]->type != GANTRY_OPT_STRING) {
					errs_add(e, "%s: aws.endpoint_url.%s must "
						 "be a URL string", k->kids[j]->where,
						 k->kids[j]->name);
					bad = 1;
				}
		} else if (want_int && k->type != GANTRY_OPT_INT) {
			errs_add(e, "%s: aws.%s must be an integer, not %s",
				 k->where, k->name, type_word(k->type));
			bad = 1;
		} else if (!want_int && k->type != GANTRY_OPT_STRING) {
			errs_add(e, "%s: aws.%s must be a string, not %s",
				 k->where, k->name, type_word(k->type));
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}

static int check_profile(struct gconf *gc, struct errs *e)
{
	static const char *const keys[] = { "aws", "stages", NULL };
	static const char *const aws_keys[] = {
		"region", "account_id", "role_arn", "external_id",
		"session_name", "endpoint_url", "profile", "max_attempts",
		"max_retry_seconds", NULL
	};
	const struct gantry_config *p = gc->profile, *c;
	char what[PATH_MAX + 32];
	const char **names;
	size_t i, j;
	int bad = 0;

	snprintf(what, sizeof(what), "profile '%s'", gc->env->profile);
	if (check_keys(p, keys, what, e) < 0)
		bad = 1;
	c = want(p, "aws", GANTRY_OPT_GROUP, 0, what, e, &bad);
	if (c && (check_keys(c, aws_keys, "aws", e) < 0 ||
		  check_aws_types(c, e) < 0))
		bad = 1;
	c = want(p, "stages", GANTRY_OPT_GROUP, 0, what, e, &bad);
	if (!c)
		return bad ? -1 : 0;
	names = gantry_i_xcalloc(gc->nentries + 1, sizeof(*names));
	for (j = 0; j < gc->nentries; j++)
		names[j] = gc->entries[j].name;
	for (i = 0; i < c->nkids; i++) {
		const struct gantry_config *s = c->kids[i];
		const char *dym;

		for (j = 0; j < gc->nentries; j++)
			if (!strcmp(s->name, names[j]))
				break;
		if (j < gc->nentries) {
			if (s->type != GANTRY_OPT_GROUP) {
				errs_add(e, "%s: stages.%s must be a group of "
					 "options", s->where, s->name);
				bad = 1;
			}
			continue;
		}
		dym = did_you_mean(s->name, names, gc->nentries);
		errs_add(e, "%s: stages.%s: no pipeline or notify entry is "
			 "named '%s'%s%s%s", s->where, s->name, s->name,
			 dym ? "; did you mean '" : "", dym ? dym : "",
			 dym ? "'?" : "");
		bad = 1;
	}
	free(names);
	return bad ? -1 : 0;
}

int profile_select_env(struct gconf *gc, const char *tag, const char *name,
		       struct errs *e)
{
	size_t i;

	if (tag && profile_check_tag(tag, e) < 0)
		return -1;
	if (name) {
		gc->env = profile_env(gc, name);
		if (!gc->env) {
			const char **names = gantry_i_xcalloc(gc->nenvs + 1,
							      sizeof(*names));
			const char *dym;

			for (i = 0; i < gc->nenvs; i++)
				names[i] = gc->envs[i].name;
			dym = did_you_mean(name, names, gc->nenvs);
			errs_add(e, "unknown environment '%s' in %s%s%s%s",
				 name, gc->path, dym ? "; did you mean '" : "",
				 dym ? dym : "", dym ? "'?" : "");
			free(names);
			return -1;
		}
	} else {
		for (i = 0; i < gc->nenvs && !gc->env; i++)
			if (tag && !fnmatch(gc->envs[i].tags, tag, 0))
				gc->env = &gc->envs[i];
		if (!gc->env) {
			errs_add(e, "tag '%s' matches no environment's tags in "
				 "%s; use a tag like %s1.2.3-rc.1 or %s1.2.3, "
				 "or pick one with -e ENV", tag ? tag : "",
				 gc->path, gc->tag_prefix, gc->tag_prefix);
			return -1;
		}
	}
	if (profile_read_tree(gc->env->profile, &gc->profile, e) < 0)
		return -1;
	return check_profile(gc, e);
}

/* ---- validating entries against plugins -------------------------------- */

static const struct gantry_option *find_option(const struct gantry_stage *d,
					       const char *key)
{
	const struct gantry_option *o;

	for (o = d->options; o && o->key; o++)
		if (!strcmp(o->key, key))
			return o;
	return NULL;
}

static int scalar_ok(const struct gantry_config *c)
{
	return c->type == GANTRY_OPT_STRING || c->type == GANTRY_OPT_INT ||
	       c->type == GANTRY_OPT_BOOL;
}

/* True when text holds a ${...} reference: the value then comes from
   elsewhere when the stage runs ($${ is a literal "${"). */
static int has_reference(const char *text)
{
	const char *p;

	for (p = text; (p = strstr(p, "${")); p += 2)
		if (p == text || p[-1] != '$')
			return 1;
	return 0;
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
	    has_reference(c->text) || !c->where ||
	    !(colon = strrchr(c->where, ':')))
		return bad ? -1 : 0;
	if (strlen(c->text) < 4) {
		errs_add(e, "%s: option '%s' of stage '%s' is a secret shorter "
			 "than 4 bytes, too short to keep out of logs; use a "
			 "longer secret", c->where, key, en->name);
		bad = 1;
	}
	path = gantry_i_xstrndup(c->where, (size_t)(colon - c->where));
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

		for (i = 0; core_keys[i]; i++)
			gantry_i_config_remove(copy, core_keys[i]);
		gantry_i_config_merge(en->opts, copy);
		gantry_i_config_free(copy);
	}
	for (i = 0; i < en->opts->nkids; i++) {
		struct gantry_config *c = en->opts->kids[i];
		const char *dym;

		o = find_option(d, c->name);
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
		if (o->type != c->type &&
		    !(o->type == GANTRY_OPT_LIST && c->type == GANTRY_OPT_LIST)) {
			errs_add(e, "%s: option '%s' of stage '%s' must be %s, "
				 "not %s", c->where, c->name, en->name,
				 type_word(o->type), type_word(c->type));
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
	if (en->timeout && find_option(d, "timeout")) {
		char num[32];

		snprintf(num, sizeof(num), "%u", en->timeout);
		gantry_i_config_add(en->opts, gantry_i_config_scalar(
			GANTRY_OPT_INT, "timeout", num, en->where));
	}
	for (o = d->options; o && o->key; o++) {
		if (gantry_i_config_child(en->opts, o->key))
			continue;
		if (o->flags & GANTRY_OPT_REQUIRED) {
			errs_add(e, "%s: stage '%s' (%s) needs option '%s' (%s: "
				 "%s); set it in the entry or in stages.%s of "
				 "the profile", en->where, en->name, en->stage,
				 o->key, type_word(o->type), o->help, en->name);
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

		if (over && apply_core_keys(en, over, e) < 0)
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

void profile_unload(struct gconf *gc)
{
	size_t i;

	for (i = 0; i < gc->nenvs; i++) {
		free(gc->envs[i].name);
		free(gc->envs[i].tags);
		free(gc->envs[i].profile);
		free(gc->envs[i].promote_from);
		free(gc->envs[i].where);
	}
	free(gc->envs);
	for (i = 0; i < gc->nentries; i++) {
		struct entry *en = &gc->entries[i];

		free(en->stage);
		free(en->name);
		free(en->where);
		gantry_i_config_free(en->raw);
		gantry_i_config_free(en->opts);
	}
	free(gc->entries);
	gantry_i_config_free(gc->profile);
	gantry_i_config_free(gc->state_cfg);
	free(gc->path);
	free(gc->dir);
	free(gc->service);
	free(gc->plugin_path);
	free(gc->state_dir);
	free(gc->tag_prefix);
	memset(gc, 0, sizeof(*gc));
}

char *profile_tag_version(const struct gconf *gc, const char *tag)
{
	size_t n = strlen(gc->tag_prefix);

	if (!strncmp(tag, gc->tag_prefix, n) && tag[n] >= '0' && tag[n] <= '9')
		return gantry_i_xstrdup(tag + n);
	return gantry_i_xstrdup(tag);
}

int profile_check_tag(const char *tag, struct errs *e)
{
	static const char rule[] = "a release tag is a git tag name and an "
		"image tag: 1 to 128 letters, digits, '_', '.' and '-', "
		"starting with a letter, digit or '_'";
	size_t n = strlen(tag), ok = strspn(tag, TAG_CHARS);
	char *shown, *bad_byte = NULL;
	const char *why;

	if (!n) {
		errs_add(e, "the release tag is empty; %s (e.g. v1.2.3)", rule);
		return -1;
	}
	if (n > 128) {
		why = "it is longer than 128 bytes";
	} else if (ok < n || tag[0] == '.' || tag[0] == '-') {
		size_t at = ok < n ? ok : 0;

		bad_byte = errs_shown((char[]){ tag[at], 0 }, 8);
		why = "";
	} else if (strstr(tag, "..")) {
		why = "git refuses '..' in a tag";
	} else if (tag[n - 1] == '.' ||
		   (n >= 5 && !strcmp(tag + n - 5, ".lock"))) {
		why = "git refuses a tag ending in '.' or '.lock'";
	} else {
		return 0;
	}
	shown = errs_shown(tag, 64);
	if (bad_byte)
		errs_add(e, "tag '%s' is not a valid release tag: '%s' at byte "
			 "%zu is not allowed; %s", shown, bad_byte,
			 ok < n ? ok + 1 : 1, rule);
	else
		errs_add(e, "tag '%s' is not a valid release tag: %s; %s",
			 shown, why, rule);
	free(bad_byte);
	free(shown);
	return -1;
}
