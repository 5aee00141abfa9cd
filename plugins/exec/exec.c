/*
 * exec.c - the `exec` stage: runs one command (an argv list, no shell
 * unless asked) with extra environment, a working directory and a
 * timeout, streaming its output under the stage's name.  The seed's
 * "Run tests" step.
 *
 * Built only on the public SDK (<gantry/gantry.h>), like any
 * out-of-tree plugin.  No mutable globals: everything lives in the state
 * init returns.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "banned.h"

static const struct gantry_option exec_options[] = {
	{ "command", GANTRY_OPT_LIST, GANTRY_OPT_REQUIRED, NULL,
	  "the program and its arguments, e.g. [\"go\", \"test\", \"./...\"]" },
	{ "shell", GANTRY_OPT_BOOL, 0, "false",
	  "run the one string of command through /bin/sh -c" },
	{ "env", GANTRY_OPT_GROUP, 0, NULL,
	  "environment variables to add, NAME = \"value\"" },
	{ "cwd", GANTRY_OPT_STRING, 0, NULL,
	  "working directory, relative to gantry.cfg's (default: that one)" },
	{ "timeout", GANTRY_OPT_INT, 0, "0",
	  "seconds before the command is stopped (0: the entry's timeout)" },
	{ "capture", GANTRY_OPT_STRING, 0, NULL,
	  "publish stdout's last line as this context key (JSON members too)" },
	{ NULL, 0, 0, NULL, NULL }
};

/* The core enforces these before init. */
static const struct gantry_option_rule exec_rules[] = {
	{ .key = "timeout", GANTRY_RANGE(0, UINT_MAX) },
	{ .key = NULL }
};

struct exec_state {
	/* Strings point into the config tree, which outlives fini. */
	const char **argv;		/* NULL-terminated */
	size_t argc;
	int shell;
	const struct gantry_config *env;
	const char *cwd;
	unsigned timeout;
	const char *capture;
	const char *where;		/* where `command` was written */
	char *display;			/* the command as one line */
};

static void exec_fini(void *state)
{
	struct exec_state *st = state;

	if (!st)
		return;
	free(st->argv);
	free(st->display);
	free(st);
}

/* Context keys: [A-Za-z0-9_-] words joined by single dots. */
static int valid_key(const char *key)
{
	const char *p;
	int word = 0;

	for (p = key; *p; p++) {
		if (*p == '.' && word)
			word = 0;
		else if (strchr("abcdefghijklmnopqrstuvwxyz"
				"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p))
			word = 1;
		else
			return 0;
	}
	return word;
}

static int valid_env_name(const char *name)
{
	const char *p;

	if (!*name || (*name >= '0' && *name <= '9'))
		return 0;
	for (p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", *p))
			return 0;
	return 1;
}

static char *join_argv(const char *const *argv, size_t argc)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < argc; i++)
		gantry_buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	return gantry_buf_detach(&b);
}

static int check_env(const struct gantry_config *env, struct gantry_ctx *ctx)
{
	size_t i;

	for (i = 0; i < gantry_config_length(env); i++) {
		const struct gantry_config *v = gantry_config_at(env, i);
		const char *name = gantry_config_name(v);

		if (!valid_env_name(name))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: environment variable name '%s' is not "
				"valid; use letters, digits and '_'",
				gantry_config_where(v), name);
		if (!gantry_config_text(v))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: env.%s must be a string, number or "
				"boolean", gantry_config_where(v), name);
	}
	return GANTRY_OK;
}

static int exec_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		     void **state)
{
	const struct gantry_config *cmd = gantry_config_lookup(cfg, "command");
	const char *where = gantry_config_where(cmd ? cmd : cfg);
	size_t n = gantry_config_length(cmd), i;
	struct exec_state *st;
	int rc;

	*state = NULL;
	if (cmd && gantry_config_type(cmd) != GANTRY_OPT_LIST)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'command' must be a list (the argv), "
			"e.g. [\"go\", \"test\", \"./...\"]", where);
	if (!n)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'command' is empty; give the program and "
			"its arguments, e.g. [\"go\", \"test\", \"./...\"]",
			where);

	st = gantry_xcalloc(1, sizeof(*st));
	st->argv = gantry_xcalloc(n + 1, sizeof(*st->argv));
	st->argc = n;
	st->where = where;
	for (i = 0; i < n; i++) {
		st->argv[i] = gantry_config_text(gantry_config_at(cmd, i));
		if (!st->argv[i]) {
			rc = gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: command[%zu] must be a string, not a "
				"list or group", where, i);
			goto fail;
		}
	}
	if (!*st->argv[0]) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'command' starts with an empty program "
			"name", where);
		goto fail;
	}

	st->shell = gantry_config_bool(cfg, "shell", 0);
	if (st->shell && n != 1) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: with shell = true, option 'command' must hold "
			"exactly one string (the shell command line), not %zu",
			where, n);
		goto fail;
	}

	st->timeout = (unsigned)gantry_config_int(cfg, "timeout", 0);

	st->capture = gantry_config_string(cfg, "capture", NULL);
	if (st->capture && !valid_key(st->capture)) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'capture' is '%s', not a context key; use "
			"words of letters, digits, '_' or '-' joined by dots, "
			"e.g. \"tests.result\"",
			gantry_config_where(gantry_config_lookup(cfg,
								 "capture")),
			st->capture);
		goto fail;
	}

	st->env = gantry_config_lookup(cfg, "env");
	rc = check_env(st->env, ctx);
	if (rc < 0)
		goto fail;
	st->cwd = gantry_config_string(cfg, "cwd", NULL);
	if (st->cwd && !*st->cwd)
		st->cwd = NULL;

	st->display = join_argv(st->argv, st->argc);
	*state = st;
	return GANTRY_OK;

fail:
	exec_fini(st);
	return rc;
}

/*
 * The directory the command runs in, malloc'd, or NULL for ours.  A
 * relative cwd, like the default, is taken from gantry.cfg's directory
 * so that a deploy does not depend on where it was started.
 */
static char *resolve_cwd(const struct exec_state *st,
			 const struct gantry_ctx *ctx)
{
	const char *base = gantry_ctx_get(ctx, "config.dir");

	if (!st->cwd)
		return base && *base ? gantry_xstrdup(base) : NULL;
	if (st->cwd[0] == '/' || !base || !*base)
		return gantry_xstrdup(st->cwd);
	return gantry_xasprintf("%s/%s", base, st->cwd);
}

static unsigned effective_timeout(const struct exec_state *st,
				  const struct gantry_ctx *ctx)
{
	return st->timeout ? st->timeout : gantry_ctx_timeout(ctx);
}

static int exec_plan(void *state, struct gantry_ctx *ctx)
{
	const struct exec_state *st = state;
	char *dir = resolve_cwd(st, ctx);
	char here[PATH_MAX];
	const char *shown = dir;
	unsigned t = effective_timeout(st, ctx);
	size_t i, n = gantry_config_length(st->env);
	char limit[32];

	if (!shown)
		shown = getcwd(here, sizeof(here)) ? here : ".";
	if (t)
		snprintf(limit, sizeof(limit), "timeout %us", t);
	else
		snprintf(limit, sizeof(limit), "no timeout");
	gantry_plan_line(ctx, "run '%s'%s in %s (%s)", st->display,
			 st->shell ? " through /bin/sh" : "", shown, limit);
	for (i = 0; i < n; i++)
		gantry_plan_line(ctx, "  with %s set",
				 gantry_config_name(gantry_config_at(st->env,
								     i)));
	if (st->capture)
		gantry_plan_line(ctx, "  publish its last line of output as "
				 "'%s'", st->capture);
	free(dir);
	return GANTRY_OK;
}

static void publish_member(struct gantry_ctx *ctx, const char *key,
			   const char *member, struct gantry_json *v)
{
	char num[32], *name;
	const char *text;

	switch (gantry_json_type(v)) {
	case GANTRY_JSON_STRING:
		text = gantry_json_string(v, NULL, "");
		break;
	case GANTRY_JSON_INT:
		snprintf(num, sizeof(num), "%lld", gantry_json_int(v, NULL, 0));
		text = num;
		break;
	case GANTRY_JSON_DOUBLE:
		text = gantry_json_text(v, 0);
		break;
	case GANTRY_JSON_BOOL:
		text = gantry_json_bool(v, NULL, 0) ? "true" : "false";
		break;
	case GANTRY_JSON_NULL:
		text = "";
		break;
	default:
		return;		/* only scalars become context values */
	}
	name = gantry_xasprintf("%s.%s", key, member);
	if (!valid_key(name) || gantry_ctx_set(ctx, name, text) < 0)
		gantry_warn(ctx, "captured member '%s' is not a valid context "
			    "key name; not published", member);
	free(name);
}

/* Publishes stdout's last non-empty line, and the scalar members of it
   when it is a JSON object. */
static void publish_capture(const struct exec_state *st,
			    struct gantry_ctx *ctx, const char *out)
{
	const char *end = out + strlen(out), *start;
	char *line, err[128];
	struct gantry_json *doc;
	size_t i;

	while (end > out && strchr(" \t\r\n", end[-1]))
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	line = gantry_xstrndup(start, (size_t)(end - start));
	gantry_ctx_set(ctx, st->capture, line);

	if (line[0] == '{' &&
	    (doc = gantry_json_parse(line, strlen(line), err, sizeof(err)))) {
		for (i = 0; i < gantry_json_keys(doc); i++)
			publish_member(ctx, st->capture,
				       gantry_json_key_at(doc, i),
				       gantry_json_value_at(doc, i));
		gantry_json_free(doc);
	}
	free(line);
}

static int report(const struct exec_state *st, struct gantry_ctx *ctx,
		  const struct gantry_cmd *cmd)
{
	const char *tail = gantry_cmd_tail(cmd);
	const char *sep = *tail ? "; last output:\n" : "";
	int sig = gantry_cmd_signal(cmd);

	if (gantry_cmd_exit_status(cmd) > 0)
		return gantry_fail(ctx, GANTRY_EFAIL,
			"command '%s' exited with status %d%s%s", st->display,
			gantry_cmd_exit_status(cmd), sep, tail);
	if (sig) {
		const char *abbrev = sigabbrev_np(sig);

		return gantry_fail(ctx, GANTRY_EFAIL,
			"command '%s' killed by signal %d (SIG%s)%s%s",
			st->display, sig, abbrev ? abbrev : "?", sep, tail);
	}
	return GANTRY_OK;
}

static int cannot_start(const struct exec_state *st, struct gantry_ctx *ctx,
			const struct gantry_cmd *cmd)
{
	const char *why = gantry_cmd_error(cmd);

	if (!why)
		why = "cannot run the command";
	if (!strncmp(why, "cannot chdir", 12))
		return gantry_fail(ctx, GANTRY_EFAIL, "%s; check option 'cwd' "
				   "or create the directory", why);
	return gantry_fail(ctx, GANTRY_EFAIL, "%s; check option 'command' "
			   "(%s) and PATH", why, st->where);
}

static int exec_run(void *state, struct gantry_ctx *ctx)
{
	const struct exec_state *st = state;
	unsigned t = effective_timeout(st, ctx);
	struct gantry_cmd *cmd;
	char *dir;
	size_t i;
	int rc;

	cmd = gantry_cmd_new(st->shell ? "/bin/sh" : st->argv[0]);
	if (!cmd)
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
	if (st->shell) {
		gantry_cmd_arg(cmd, "-c");
		gantry_cmd_arg(cmd, st->argv[0]);
	} else {
		for (i = 1; i < st->argc; i++)
			gantry_cmd_arg(cmd, st->argv[i]);
	}
	for (i = 0; i < gantry_config_length(st->env); i++) {
		const struct gantry_config *v = gantry_config_at(st->env, i);

		gantry_cmd_env(cmd, gantry_config_name(v),
			       gantry_config_text(v));
	}
	dir = resolve_cwd(st, ctx);
	if (dir)
		gantry_cmd_cwd(cmd, dir);
	gantry_cmd_timeout(cmd, t);
	if (st->capture)
		gantry_cmd_capture(cmd);

	gantry_debug(ctx, "running '%s'%s in %s", st->display,
		     st->shell ? " through /bin/sh" : "", dir ? dir : ".");
	rc = gantry_cmd_run(cmd, ctx);
	switch (rc) {
	case GANTRY_OK:
		rc = report(st, ctx, cmd);
		if (rc == GANTRY_OK && st->capture)
			publish_capture(st, ctx, gantry_cmd_stdout(cmd));
		break;
	case GANTRY_ETIMEOUT:
		rc = gantry_fail(ctx, GANTRY_ETIMEOUT,
			"command '%s' timed out after %us and was stopped; "
			"raise the stage's timeout or find out why it "
			"hangs%s%s", st->display, t,
			*gantry_cmd_tail(cmd) ? "; last output:\n" : "",
			gantry_cmd_tail(cmd));
		break;
	case GANTRY_EINTERRUPTED:
		rc = gantry_fail(ctx, GANTRY_EINTERRUPTED,
			"command '%s' interrupted and stopped", st->display);
		break;
	default:
		rc = cannot_start(st, ctx, cmd);
		break;
	}
	gantry_cmd_free(cmd);
	free(dir);
	return rc;
}

static const struct gantry_stage exec_stage = {
	GANTRY_STAGE_HEADER,
	.name = "exec",
	.version = PACKAGE_VERSION,
	.summary = "run a command (argv list, no shell unless asked) with "
		   "env, cwd and timeout",
	.kind = GANTRY_KIND_STAGE,
	.options = exec_options,
	.option_rules = exec_rules,
	.init = exec_init,
	.plan = exec_plan,
	.run = exec_run,
	.fini = exec_fini,
};

GANTRY_STAGE_EXPORT(exec_stage)
