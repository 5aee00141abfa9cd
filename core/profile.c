/*
 * profile.c - loading gantry.cfg and the environment's profile: the
 * service, environments, pipeline and notify entries with their core
 * keys, and the rules for release tags.  Reading the files is
 * profile_read.c's job; checking entries against plugins is
 * profile_validate.c's.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_i.h"

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
	{ "approval.requested", NULL, EV_APPROVAL_REQUESTED },
	{ "approval.granted", NULL, EV_APPROVAL_GRANTED },
	{ "approval.rejected", NULL, EV_APPROVAL_REJECTED },
};

const char *event_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(events); i++)
		if (events[i].bit == bit)
			return events[i].name;
	return "?";
}

/* ---- checking trees --------------------------------------------------- */

const char *profile_type_word(enum gantry_option_type t)
{
	switch (t) {
	case GANTRY_OPT_STRING: return "a string";
	case GANTRY_OPT_INT: return "an integer";
	case GANTRY_OPT_BOOL: return "a boolean";
	case GANTRY_OPT_LIST: return "a list";
	case GANTRY_OPT_GROUP: return "a group";
	case GANTRY_OPT_DECIMAL: return "a decimal number";
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
				 g->where, what, key, profile_type_word(type), key);
			*bad = 1;
		}
		return NULL;
	}
	if (c->type != type) {
		errs_add(e, "%s: '%s' in %s must be %s, not %s", c->where,
			 key, what, profile_type_word(type), profile_type_word(c->type));
		*bad = 1;
		return NULL;
	}
	return c;
}

static char *abs_path(const char *dir, const char *p)
{
	return profile_join_path(dir, p);
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
			 "stage.succeeded, stage.failed, approval.requested, "
			 "approval.granted, approval.rejected", c->where,
			 c->text ? c->text : "?", dym ? "; did you mean '" : "",
			 dym ? dym : "", dym ? "'?" : "");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Core keys of pipeline and notify entries; the rest are plugin options. */
const char *const profile_core_keys[] = {
	"stage", "plugin", "name", "on_failure", "timeout", "retries",
	"events", NULL
};

static int is_core_key(const char *k)
{
	size_t i;

	for (i = 0; profile_core_keys[i]; i++)
		if (!strcmp(k, profile_core_keys[i]))
			return 1;
	return 0;
}

/* Applies core keys found in g (gantry.cfg entry or profile block). */
int profile_apply_core_keys(struct entry *en, const struct gantry_config *g,
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
	gc->entries = gantry_xrealloc(gc->entries, (gc->nentries + 1) *
					sizeof(*gc->entries));
	en = &gc->entries[gc->nentries++];
	memset(en, 0, sizeof(*en));
	en->notifier = notifier;
	en->where = gantry_xstrdup(g->where);
	en->events = EV_FINAL | EV_DEPLOY_STARTED | EV_APPROVAL;
	c = want(g, kind, GANTRY_OPT_STRING, 1,
		 notifier ? "notify entry" : "pipeline entry", e, &bad);
	en->stage = gantry_xstrdup(c ? c->text : "?");
	c = want(g, "name", GANTRY_OPT_STRING, 0, "entry", e, &bad);
	en->name = gantry_xstrdup(c ? c->text : en->stage);
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
	if (profile_apply_core_keys(en, g, e) < 0)
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
	gc->envs = gantry_xrealloc(gc->envs, (gc->nenvs + 1) *
				     sizeof(*gc->envs));
	env = &gc->envs[gc->nenvs++];
	memset(env, 0, sizeof(*env));
	env->where = gantry_xstrdup(g->where);
	c = want(g, "name", GANTRY_OPT_STRING, 1, "environment", e, &bad);
	env->name = gantry_xstrdup(c ? c->text : "?");
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
	env->tags = gantry_xstrdup(c ? c->text : "");
	c = want(g, "profile", GANTRY_OPT_STRING, 1, "environment", e, &bad);
	env->profile = c ? abs_path(gc->dir, c->text) : NULL;
	c = want(g, "approval", GANTRY_OPT_BOOL, 0, "environment", e, &bad);
	env->approval = c ? c->bval : 0;
	c = want(g, "promote_from", GANTRY_OPT_STRING, 0, "environment", e,
		 &bad);
	env->promote_from = c ? gantry_xstrdup(c->text) : NULL;
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
	gc->path = gantry_xstrdup(path);
	dir = gantry_i_dir_of(path);
	if (dir[0] != '/' && getcwd(cwd, sizeof(cwd))) {
		gc->dir = strcmp(dir, ".") ? gantry_xasprintf("%s/%s", cwd, dir)
					   : gantry_xstrdup(cwd);
		free(dir);
	} else {
		gc->dir = dir;
	}
	if (profile_read_tree(path, &root, e) < 0)
		return -1;
	if (check_keys(root, keys, path, e) < 0)
		bad = 1;
	c = want(root, "service", GANTRY_OPT_STRING, 1, path, e, &bad);
	gc->service = gantry_xstrdup(c ? c->text : "?");
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
	gc->tag_prefix = gantry_xstrdup(c ? c->text : "v");
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
				 k->where, k->name, profile_type_word(k->type));
			bad = 1;
		} else if (!want_int && k->type != GANTRY_OPT_STRING) {
			errs_add(e, "%s: aws.%s must be a string, not %s",
				 k->where, k->name, profile_type_word(k->type));
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
	names = gantry_xcalloc(gc->nentries + 1, sizeof(*names));
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
			const char **names = gantry_xcalloc(gc->nenvs + 1,
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
		return gantry_xstrdup(tag + n);
	return gantry_xstrdup(tag);
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
