/*
 * cli_info.c - gantry version, plugins list|show, config check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "interp.h"
#include "optrules.h"
#include "progress.h"

/* ---- version / plugins -------------------------------------------------- */

int cmd_version(const struct options *o)
{
	if (o->json) {
		struct gantry_json *j = gantry_json_new_object();
		char abi[32];

		snprintf(abi, sizeof(abi), "%d.%d", GANTRY_ABI_MAJOR,
			 GANTRY_ABI_MINOR);
		gantry_json_set_string(j, "version", PACKAGE_VERSION);
		gantry_json_set_string(j, "abi", abi);
		gantry_json_set_string(j, "plugin_dir", GANTRY_PLUGIN_DIR);
		progress_print_json(j);
	} else {
		printf("gantry %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
		       GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR);
	}
	return EXIT_OK;
}

static const char *state_word(enum plugin_state st)
{
	return st == PLUGIN_LOADED ? "loaded" :
	       st == PLUGIN_REFUSED ? "refused" : "shadowed";
}

static const char *type_name(enum gantry_option_type t)
{
	static const char *const names[] = { "?", "string", "int", "bool",
					     "list", "group", "decimal" };
	return (unsigned)t < GANTRY_ARRAY_SIZE(names) ? names[t] : "?";
}

int cmd_plugins_list(struct session *s)
{
	struct gantry_json *doc = NULL, *arr = NULL;
	size_t i;

	loader_add_builtins(&s->loader);
	loader_scan(&s->loader);
	if (s->opt->json) {
		doc = gantry_json_new_object();
		arr = gantry_json_set_array(doc, "plugins");
	}
	for (i = 0; i < s->loader.n; i++) {
		const struct plugin *p = &s->loader.plugins[i];
		const struct gantry_stage *d = p->desc;

		if (arr) {
			struct gantry_json *j = gantry_json_push_object(arr);

			gantry_json_set_string(j, "name", p->name);
			gantry_json_set_string(j, "path", p->path);
			gantry_json_set_string(j, "state",
					       state_word(p->state));
			if (p->refusal)
				gantry_json_set_string(j, "reason", p->refusal);
			if (d && d->summary)
				gantry_json_set_string(j, "summary",
						       d->summary);
			continue;
		}
		if (p->state == PLUGIN_LOADED)
			cli_printf("%-16s loaded    %s\n", p->name,
				   d->summary ? d->summary : "");
		else
			cli_printf("%-16s %-9s %s\n", p->name,
				   state_word(p->state), p->refusal);
	}
	if (doc) {
		progress_print_json(doc);
	} else if (!s->loader.n) {
		gantry_log(NULL, GANTRY_LOG_WARN, "no plugins found; set "
			   "--plugin-path or install them into %s",
			   GANTRY_PLUGIN_DIR);
	}
	return EXIT_OK;
}

/* What option key of d allows, "0 to 3600" (malloc'd), or NULL. */
static char *allowed(const struct gantry_stage *d, const char *key)
{
	const struct gantry_option_rule *r = optrules_find(d, key);
	struct gantry_option_rule full;
	struct gantry_buf b = GANTRY_BUF_INIT;

	if (!r)
		return NULL;
	optrules_full(d, r, &full);
	if (full.bounds || full.choices)
		optrules_describe(d, r, &b);
	if (full.when) {
		if (b.len)
			gantry_buf_adds(&b, "; ");
		optrules_describe_when(d, r, &b);
	}
	return gantry_buf_detach(&b);
}

/* The rule of option key as JSON members: min, max, choices. */
static void add_rule_json(struct gantry_json *o, const struct gantry_stage *d,
			  const char *key)
{
	const struct gantry_option_rule *r = optrules_find(d, key);
	struct gantry_option_rule full;
	const char *const *c;
	struct gantry_json *arr;

	if (!r)
		return;
	optrules_full(d, r, &full);
	if (full.decimal_min || full.decimal_max) {
		/* Decimal bounds as their exact text. */
		if (full.bounds & GANTRY_BOUND_MIN)
			gantry_json_set_string(o, "min", full.decimal_min);
		if (full.bounds & GANTRY_BOUND_MAX)
			gantry_json_set_string(o, "max", full.decimal_max);
		gantry_json_set_int(o, "decimal_places", full.decimal_places);
	} else {
		if (r->bounds & GANTRY_BOUND_MIN)
			gantry_json_set_int(o, "min", r->min);
		if (r->bounds & GANTRY_BOUND_MAX)
			gantry_json_set_int(o, "max", r->max);
	}
	if (r->choices) {
		arr = gantry_json_set_array(o, "choices");
		for (c = r->choices; *c; c++)
			gantry_json_push_string(arr, *c);
	}
	if (full.when) {
		struct gantry_json *w = gantry_json_set_object(o, "only_when");

		gantry_json_set_string(w, "option", full.when);
		arr = gantry_json_set_array(w, "values");
		for (c = full.when_values; *c; c++)
			gantry_json_push_string(arr, *c);
	}
}

/* Escapes text for roff: a leading dot or quote, and backslashes. */
static void roff(const char *t)
{
	if (*t == '.' || *t == '\'')
		fputs("\\&", stdout);
	for (; *t; t++) {
		if (*t == '\\')
			fputs("\\e", stdout);
		else if (*t == '-')
			fputs("\\-", stdout);
		else
			putchar(*t);
	}
}

/*
 * A stage's documentation generated from its descriptor, so docs cannot
 * drift from the code: "md" (docs/stages.md) or "man" (gantry-stages(7)).
 */
static int print_stage_doc(const struct plugin *p, const char *format)
{
	const struct gantry_stage *d = p->desc;
	const struct gantry_option *op;
	int md = !strcmp(format, "md");

	if (!md && strcmp(format, "man")) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "unknown format '%s' for "
			   "'plugins show'; use text, md or man", format);
		return EXIT_USAGE;
	}
	if (md) {
		printf("## %s\n\n%s.%s%s\n\n", d->name,
		       d->summary ? d->summary : "",
		       d->kind & GANTRY_KIND_NOTIFIER ? " A notifier: list it "
		       "under `notify`." : "",
		       d->rollback ? " Has a rollback callback." : "");
		printf("| option | type | default | |\n|---|---|---|---|\n");
		for (op = d->options; op && op->key; op++) {
			char *rule = allowed(d, op->key);

			printf("| `%s` | %s | %s%s%s | %s%s%s%s%s%s |\n",
			       op->key, type_name(op->type),
			       op->def ? "`" : "", op->def ? op->def : "",
			       op->def ? "`" : "", op->help ? op->help : "",
			       op->flags & GANTRY_OPT_REQUIRED ?
			       " (required)" : "",
			       op->flags & GANTRY_OPT_SECRET ? " (secret)" : "",
			       rule ? " [allowed: " : "", rule ? rule : "",
			       rule ? "]" : "");
			free(rule);
		}
		putchar('\n');
		return EXIT_OK;
	}
	printf(".SS %s\n", d->name);
	roff(d->summary ? d->summary : "");
	printf("\n");
	for (op = d->options; op && op->key; op++) {
		char *rule = allowed(d, op->key);

		printf(".TP\n.B %s\n", op->key);
		printf("%s", type_name(op->type));
		if (op->def) {
			printf(", default ");
			roff(op->def);
		}
		if (op->flags & GANTRY_OPT_REQUIRED)
			printf(", required");
		if (op->flags & GANTRY_OPT_SECRET)
			printf(", secret");
		if (rule) {
			printf(", ");
			roff(rule);
			free(rule);
		}
		printf(": ");
		roff(op->help ? op->help : "");
		printf("\n");
	}
	return EXIT_OK;
}

int cmd_plugins_show(struct session *s, const char *name)
{
	struct errs e = { 0 };
	const struct plugin *p;
	const struct gantry_option *op;
	int refused = 0;

	p = loader_get(&s->loader, name, &refused, &e);
	if (!p) {
		errs_print(&e);
		errs_clear(&e);
		if (s->opt->json)
			progress_json_error("plugins show", refused ?
					    EXIT_REFUSED : EXIT_USAGE);
		return refused ? EXIT_REFUSED : EXIT_USAGE;
	}
	if (s->opt->json) {
		struct gantry_json *j = gantry_json_new_object(), *arr;

		gantry_json_set_string(j, "name", p->desc->name);
		gantry_json_set_string(j, "path", p->path);
		gantry_json_set_string(j, "version", p->desc->version ?
				       p->desc->version : "");
		gantry_json_set_string(j, "summary", p->desc->summary ?
				       p->desc->summary : "");
		gantry_json_set_bool(j, "rollback", p->desc->rollback != NULL);
		arr = gantry_json_set_array(j, "options");
		for (op = p->desc->options; op && op->key; op++) {
			struct gantry_json *o = gantry_json_push_object(arr);

			gantry_json_set_string(o, "key", op->key);
			gantry_json_set_string(o, "type", type_name(op->type));
			gantry_json_set_bool(o, "required",
					     op->flags & GANTRY_OPT_REQUIRED);
			gantry_json_set_bool(o, "secret",
					     op->flags & GANTRY_OPT_SECRET);
			gantry_json_set_string(o, "default", op->def);
			gantry_json_set_string(o, "help",
					       op->help ? op->help : "");
			add_rule_json(o, p->desc, op->key);
		}
		progress_print_json(j);
		return EXIT_OK;
	}
	if (s->opt->format && strcmp(s->opt->format, "text"))
		return print_stage_doc(p, s->opt->format);
	cli_printf("%s %s - %s\n", p->desc->name,
		   p->desc->version ? p->desc->version : "",
		   p->desc->summary ? p->desc->summary : "");
	cli_printf("file: %s\n", p->path);
	cli_printf("rollback: %s\n", p->desc->rollback ? "yes" : "no");
	printf("\noptions:\n");
	for (op = p->desc->options; op && op->key; op++) {
		char *rule = allowed(p->desc, op->key);

		cli_printf("  %-20s %-7s %s%s%s%s%s%s%s%s%s\n", op->key,
			   type_name(op->type), op->help ? op->help : "",
			   op->flags & GANTRY_OPT_REQUIRED ? " (required)" : "",
			   op->flags & GANTRY_OPT_SECRET ? " (secret)" : "",
			   op->def ? " [default: " : "", op->def ? op->def : "",
			   op->def ? "]" : "", rule ? " [allowed: " : "",
			   rule ? rule : "", rule ? "]" : "");
		free(rule);
	}
	if (!p->desc->options || !p->desc->options->key)
		printf("  (none)\n");
	return EXIT_OK;
}

/* ---- config check -------------------------------------------------------- */

static int check_env(const struct options *o, const char *env, int *refused,
		     struct gantry_json *arr)
{
	struct session s;
	struct options eo = *o;
	size_t i;
	int rc;

	eo.env = env;
	rc = session_open(&s, &eo, NULL,
			  SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS);
	if (rc == EXIT_OK) {
		struct errs e = { 0 };

		for (i = 0; i < s.conf.nentries; i++)
			interp_resolve(s.conf.entries[i].opts, NULL,
				       INTERP_CHECK, s.conf.entries[i].name,
				       s.conf.dir, &e);
		if (e.n) {
			errs_print(&e);
			rc = EXIT_USAGE;
		}
		errs_clear(&e);
	}
	if (rc == EXIT_REFUSED)
		*refused = 1;
	if (arr) {
		struct gantry_json *j = gantry_json_push_object(arr);

		gantry_json_set_string(j, "environment", env);
		gantry_json_set_bool(j, "ok", rc == EXIT_OK);
		if (rc != EXIT_OK && gantry_i_log_last_error())
			gantry_json_set_string(j, "error",
					       gantry_i_log_last_error());
	}
	session_close(&s);
	return rc;
}

int cmd_config_check(const struct options *o, const char *env)
{
	struct session s;
	struct gantry_json *arr = NULL;
	int rc, bad = 0, refused = 0;
	size_t i;

	rc = session_open(&s, o, NULL, SESSION_CONFIG);
	if (rc != EXIT_OK) {
		if (o->json)
			progress_json_error("config check", rc);
		session_close(&s);
		return rc;
	}
	if (o->json)
		arr = gantry_json_new_array();
	if (env || o->env) {
		const struct env_def *d = session_env_arg(&s, env);

		if (!d)
			bad = 1;
		else if (check_env(o, d->name, &refused, arr) != EXIT_OK)
			bad = 1;
	} else {
		for (i = 0; i < s.conf.nenvs; i++)
			if (check_env(o, s.conf.envs[i].name, &refused,
				      arr) != EXIT_OK)
				bad = 1;
	}
	if (arr) {
		struct gantry_json *doc = gantry_json_new_object();

		gantry_json_set_string(doc, "config", s.conf.path);
		gantry_json_set_bool(doc, "ok", !bad);
		gantry_json_set_json(doc, "environments", arr);
		progress_print_json(doc);
	} else if (!bad) {
		fprintf(stderr, "%s: configuration ok\n", s.conf.path);
	}
	session_close(&s);
	return refused ? EXIT_REFUSED : bad ? EXIT_USAGE : EXIT_OK;
}
