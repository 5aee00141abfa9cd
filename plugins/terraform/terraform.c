/*
 * terraform.c - the `terraform` stage: init (backend config per
 * environment), workspace, a plan saved to a private file, the plan read
 * as JSON and summarised, a guard against destroys and replacements,
 * apply of exactly that saved plan, outputs published into the context.
 * Works with `tofu` as well (binary = "tofu").
 *
 * There is no rollback callback on purpose: Terraform has no undo.
 * Rolling back is redeploying the previous release, whose terraform
 * stage plans and applies that release's values again.
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "tfcmd.h"
#include "tfread.h"

#include "banned.h"

static const struct gantry_option tf_options[] = {
	{ "dir", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the terraform configuration's directory, relative to gantry.cfg's" },
	{ "binary", GANTRY_OPT_STRING, 0, "terraform",
	  "the terraform program: a name looked up in PATH (\"tofu\" works "
	  "too) or a path relative to gantry.cfg's directory" },
	{ "workspace", GANTRY_OPT_STRING, 0, NULL,
	  "the terraform workspace (default: the environment's name)" },
	{ "create_workspace", GANTRY_OPT_BOOL, 0, "false",
	  "create the workspace when it does not exist yet" },
	{ "backend_config", GANTRY_OPT_GROUP, 0, NULL,
	  "backend settings, key = \"value\", passed as "
	  "-backend-config=key=value" },
	{ "backend_config_file", GANTRY_OPT_STRING, 0, NULL,
	  "a backend settings file passed as -backend-config=PATH (relative "
	  "to gantry.cfg's directory)" },
	{ "var_files", GANTRY_OPT_LIST, 0, NULL,
	  "variable files passed as -var-file (relative to gantry.cfg's "
	  "directory)" },
	{ "vars", GANTRY_OPT_GROUP, 0, NULL,
	  "variables, name = \"value\", passed as TF_VAR_name (never on "
	  "the command line); image_tag is ${image.tag} unless set here" },
	{ "allow_destroy", GANTRY_OPT_BOOL, 0, "false",
	  "apply plans that destroy or replace resources (also: deploy "
	  "--allow-destroy)" },
	{ "allow_replace", GANTRY_OPT_LIST, 0, NULL,
	  "resource addresses (shell globs, e.g. "
	  "\"aws_ecs_task_definition.*\") the guard lets be replaced; "
	  "their destroy, and anything else, still needs allow_destroy" },
	{ "lock_timeout", GANTRY_OPT_STRING, 0, NULL,
	  "how long to wait for a held state lock, e.g. \"300s\" (default: "
	  "fail at once)" },
	{ "parallelism", GANTRY_OPT_INT, 0, "0",
	  "concurrent operations terraform may run (0: its default, 10)" },
	{ "outputs", GANTRY_OPT_BOOL, 0, "true",
	  "publish `terraform output` as terraform.outputs.NAME (sensitive "
	  "ones as secrets)" },
	{ "timeout", GANTRY_OPT_INT, 0, "0",
	  "seconds for all terraform commands together (0: the entry's "
	  "timeout)" },
	{ NULL, 0, 0, NULL, NULL }
};

/* The core enforces these before init. */
static const struct gantry_option_rule tf_rules[] = {
	{ .key = "parallelism", GANTRY_RANGE(0, INT_MAX) },
	{ .key = "timeout", GANTRY_RANGE(0, UINT_MAX) },
	{ .key = NULL }
};

struct tf_state {
	/* Strings point into the config tree, which outlives fini. */
	const char *dir;
	const char *dir_where;
	const char *binary;
	const char *workspace;		/* NULL: the environment's name */
	int create_workspace;
	const struct gantry_config *backend_config;
	const char *backend_config_file;
	const struct gantry_config *var_files;
	const struct gantry_config *vars;
	int allow_destroy;
	const struct gantry_config *allow_replace;
	const char *lock_timeout;
	long long parallelism;
	int outputs;
	unsigned timeout;
};

static void tf_fini(void *state)
{
	free(state);
}

static const char *where(const struct gantry_config *cfg, const char *key)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	return gantry_config_where(c ? c : cfg);
}

/* A Go duration as terraform takes it: "300s", "5m", "1m30s", "0s". */
static int valid_duration(const char *s)
{
	const char *p = s;

	if (!*p)
		return 0;
	while (*p) {
		if (*p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (!strncmp(p, "ms", 2))
			p += 2;
		else if (*p == 's' || *p == 'm' || *p == 'h')
			p++;
		else
			return 0;
	}
	return 1;
}

/* Every member of a group or list must be a scalar. */
static int check_scalars(const struct gantry_config *c, const char *key,
			 struct gantry_ctx *ctx)
{
	size_t i;

	for (i = 0; i < gantry_config_length(c); i++) {
		const struct gantry_config *v = gantry_config_at(c, i);

		if (!gantry_config_text(v))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: %s%s%s must be a string, number or "
				"boolean, not a list or group",
				gantry_config_where(v), key,
				*gantry_config_name(v) ? "." : "",
				gantry_config_name(v));
	}
	return GANTRY_OK;
}

/* allow_replace: strings, none empty. */
static int check_patterns(const struct gantry_config *c,
			  struct gantry_ctx *ctx)
{
	size_t i;

	for (i = 0; i < gantry_config_length(c); i++) {
		const struct gantry_config *v = gantry_config_at(c, i);
		const char *text = gantry_config_text(v);

		if (gantry_config_type(v) != GANTRY_OPT_STRING || !*text)
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: allow_replace holds resource addresses "
				"as strings, e.g. \"aws_ecs_task_definition.*"
				"\"; this one is %s", gantry_config_where(v),
				text && *text ? "not a string" : "empty");
	}
	return GANTRY_OK;
}

static int tf_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		   void **state)
{
	struct tf_state *st;
	int rc;

	*state = NULL;
	st = gantry_xcalloc(1, sizeof(*st));

	st->dir = gantry_config_string(cfg, "dir", NULL);
	st->dir_where = where(cfg, "dir");
	if (!st->dir || !*st->dir) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'dir' is "
			"empty; give the directory of the terraform "
			"configuration, e.g. \"infra\"", st->dir_where);
		goto fail;
	}
	st->binary = gantry_config_string(cfg, "binary", "terraform");
	if (!*st->binary) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'binary' is "
			"empty; use \"terraform\", \"tofu\" or a path",
			where(cfg, "binary"));
		goto fail;
	}
	st->workspace = gantry_config_string(cfg, "workspace", NULL);
	if (st->workspace && !*st->workspace) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'workspace' "
			"is empty; name a workspace or leave it out (the "
			"environment's name)", where(cfg, "workspace"));
		goto fail;
	}
	st->create_workspace = gantry_config_bool(cfg, "create_workspace", 0);
	st->backend_config = gantry_config_lookup(cfg, "backend_config");
	st->backend_config_file = gantry_config_string(cfg,
						"backend_config_file", NULL);
	st->var_files = gantry_config_lookup(cfg, "var_files");
	st->vars = gantry_config_lookup(cfg, "vars");
	if ((rc = check_scalars(st->backend_config, "backend_config",
				ctx)) < 0 ||
	    (rc = check_scalars(st->var_files, "var_files", ctx)) < 0 ||
	    (rc = check_scalars(st->vars, "vars", ctx)) < 0)
		goto fail;
	st->allow_destroy = gantry_config_bool(cfg, "allow_destroy", 0);
	st->allow_replace = gantry_config_lookup(cfg, "allow_replace");
	if ((rc = check_patterns(st->allow_replace, ctx)) < 0)
		goto fail;

	st->lock_timeout = gantry_config_string(cfg, "lock_timeout", NULL);
	if (st->lock_timeout && !valid_duration(st->lock_timeout)) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: option "
			"'lock_timeout' is '%s', not a duration; write e.g. "
			"\"300s\" or \"5m\"", where(cfg, "lock_timeout"),
			st->lock_timeout);
		goto fail;
	}
	st->parallelism = gantry_config_int(cfg, "parallelism", 0);
	st->outputs = gantry_config_bool(cfg, "outputs", 1);
	st->timeout = (unsigned)gantry_config_int(cfg, "timeout", 0);
	*state = st;
	return GANTRY_OK;

fail:
	free(st);
	return rc;
}

/* `path` resolved against gantry.cfg's directory (malloc'd). */
static char *from_config_dir(const struct gantry_ctx *ctx, const char *path)
{
	const char *base = gantry_ctx_get(ctx, "config.dir");

	if (path[0] == '/' || !base || !*base)
		return gantry_xstrdup(path);
	return gantry_xasprintf("%s/%s", base, path);
}

/*
 * Fills the job every command of this callback shares.  A binary
 * holding a slash is a path, taken from gantry.cfg's directory like
 * every other path of the stage; a bare name is looked up in PATH.
 */
static int job_start(struct tf_job *job, const struct tf_state *st,
		     struct gantry_ctx *ctx, char **binary)
{
	struct stat sb;

	memset(job, 0, sizeof(*job));
	*binary = NULL;
	job->ctx = ctx;
	job->started = gantry_now();
	job->limit = st->timeout ? st->timeout : gantry_ctx_timeout(ctx);
	job->workspace = st->workspace;
	job->vars = st->vars;
	job->allow_replace = st->allow_replace;
	if (!job->workspace)
		job->workspace = gantry_ctx_get(ctx, "release.environment");
	if (!job->workspace || !*job->workspace)
		job->workspace = "default";
	if (strchr(st->binary, '/')) {
		*binary = from_config_dir(ctx, st->binary);
		job->binary = *binary;
	} else {
		job->binary = st->binary;
	}
	job->dir = from_config_dir(ctx, st->dir);
	if (stat(job->dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return gantry_fail(ctx, GANTRY_ECONFIG, "terraform directory "
			"'%s' does not exist; fix option 'dir' (%s), relative "
			"to gantry.cfg's directory", job->dir, st->dir_where);

	/* The default image_tag goes through the environment like `vars`
	   (terraform ignores TF_VAR_ for variables a configuration does not
	   declare); an image_tag in `vars` wins. */
	if (!gantry_config_lookup(st->vars, "image_tag")) {
		job->image_tag = gantry_ctx_get(ctx, "image.tag");
		if (!job->image_tag && gantry_ctx_dry_run(ctx))
			job->image_tag = "${image.tag}";
	}
	return GANTRY_OK;
}

static void job_end(struct tf_job *job, char *binary)
{
	free(job->dir);
	free(binary);
}

static void add_locking(struct tf_args *a, const struct tf_state *st)
{
	if (st->lock_timeout)
		tf_args_addf(a, "-lock-timeout=%s", st->lock_timeout);
	if (st->parallelism > 0)
		tf_args_addf(a, "-parallelism=%lld", st->parallelism);
}

static int tf_initialise(struct tf_job *job, const struct tf_state *st)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	size_t i;
	int rc;

	tf_args_add(&a, "init");
	tf_args_add(&a, "-input=false");
	tf_args_add(&a, "-no-color");
	/* Per-environment backend settings differ from the last init's in
	   the same checkout; without -reconfigure init would stop and ask
	   to migrate the state. */
	if (gantry_config_length(st->backend_config) ||
	    st->backend_config_file)
		tf_args_add(&a, "-reconfigure");
	if (st->backend_config_file) {
		char *path = from_config_dir(job->ctx,
					     st->backend_config_file);

		tf_args_addf(&a, "-backend-config=%s", path);
		free(path);
	}
	for (i = 0; i < gantry_config_length(st->backend_config); i++) {
		const struct gantry_config *v =
			gantry_config_at(st->backend_config, i);

		tf_args_addf(&a, "-backend-config=%s=%s",
			     gantry_config_name(v), gantry_config_text(v));
	}
	rc = tf_must(job, "init", &a, 0, &res);
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}

/* Non-zero when `terraform workspace list` output names ws. */
static int listed(const char *out, const char *ws)
{
	size_t n = strlen(ws);
	const char *p = out;

	while (p && *p) {
		while (*p == ' ' || *p == '*')
			p++;
		if (!strncmp(p, ws, n) && (p[n] == '\n' || p[n] == '\0' ||
					   p[n] == ' ' || p[n] == '\r'))
			return 1;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return 0;
}

/*
 * Makes sure the workspace exists, creating it when allowed; *missing
 * says it did not (plan mode leaves it so).  Commands after this run
 * with TF_WORKSPACE set rather than after `workspace select`: the
 * selection would be stored in .terraform/ and raced by deploys of
 * other environments from the same checkout, and a TF_WORKSPACE in the
 * user's environment would make `select` fail.
 */
static int tf_workspace(struct tf_job *job, const struct tf_state *st,
			int *missing)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	int rc;

	*missing = 0;
	tf_args_add(&a, "workspace");
	tf_args_add(&a, "list");
	tf_args_add(&a, "-no-color");
	rc = tf_must(job, "workspace list", &a, TF_CAPTURE, &res);
	if (rc == GANTRY_OK && !listed(res.out, job->workspace))
		*missing = 1;
	tf_result_clear(&res);
	tf_args_free(&a);
	if (rc < 0 || !*missing)
		return rc;

	if (!st->create_workspace)
		return gantry_fail(job->ctx, GANTRY_EFAIL, "terraform "
			"workspace '%s' does not exist in %s; create it or set "
			"create_workspace = true", job->workspace, job->dir);
	if (gantry_ctx_dry_run(job->ctx))
		return GANTRY_OK;
	tf_args_add(&a, "workspace");
	tf_args_add(&a, "new");
	tf_args_add(&a, "-no-color");
	tf_args_add(&a, job->workspace);
	gantry_info(job->ctx, "creating terraform workspace '%s'",
		    job->workspace);
	rc = tf_must(job, "workspace new", &a, TF_WORKSPACE, &res);
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}

/* Runs the plan; *changes is set when it has something to apply. */
static int tf_plan_to(struct tf_job *job, const struct tf_state *st,
		      const char *planfile, int *changes)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	size_t i;
	int rc;

	tf_args_add(&a, "plan");
	tf_args_add(&a, "-input=false");
	tf_args_add(&a, "-no-color");
	tf_args_addf(&a, "-out=%s", planfile);
	tf_args_add(&a, "-detailed-exitcode");
	add_locking(&a, st);
	for (i = 0; i < gantry_config_length(st->var_files); i++) {
		char *path = from_config_dir(job->ctx, gantry_config_text(
				gantry_config_at(st->var_files, i)));

		tf_args_addf(&a, "-var-file=%s", path);
		free(path);
	}
	rc = tf_exec(job, "plan", &a, TF_WORKSPACE, &res);
	if (rc == GANTRY_OK) {
		/* -detailed-exitcode: 0 no changes, 1 error, 2 changes */
		if (res.status == 0 || res.status == 2)
			*changes = res.status == 2;
		else
			rc = tf_failed(job, "plan", &res);
	}
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}

static int destroy_allowed(const struct tf_state *st,
			   const struct gantry_ctx *ctx)
{
	const char *flag = gantry_ctx_get(ctx, "deploy.allow_destroy");

	return st->allow_destroy || (flag && !strcmp(flag, "true"));
}

static int tf_apply(struct tf_job *job, const struct tf_state *st,
		    const char *planfile)
{
	struct tf_args a = { 0 };
	struct tf_result res;
	int rc;

	tf_args_add(&a, "apply");
	tf_args_add(&a, "-input=false");
	tf_args_add(&a, "-no-color");
	add_locking(&a, st);
	tf_args_add(&a, planfile);
	rc = tf_must(job, "apply", &a, TF_WORKSPACE, &res);
	tf_result_clear(&res);
	tf_args_free(&a);
	return rc;
}

/*
 * The saved plan lives in a private directory: it holds every value of
 * the plan, sensitive ones included, so it goes neither next to the
 * configuration nor anywhere another user can read it.
 */
static int make_planfile(struct gantry_ctx *ctx, char *tmp, size_t len,
			 char *planfile, size_t plen)
{
	const char *base = getenv("TMPDIR");

	if (!base || base[0] != '/')
		base = "/tmp";
	if ((size_t)snprintf(tmp, len, "%s/gantry-terraform.XXXXXX", base)
	    >= len || !mkdtemp(tmp)) {
		tmp[0] = '\0';
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create a private "
			"directory for the plan under '%s'; check TMPDIR",
			base);
	}
	snprintf(planfile, plen, "%s/plan.tfplan", tmp);
	return GANTRY_OK;
}

static void remove_planfile(const char *tmp, const char *planfile)
{
	if (!tmp[0])
		return;
	unlink(planfile);
	rmdir(tmp);
}

/*
 * Shared by plan and run: everything up to a summarised plan.  *changes
 * is 1 when there is something to apply, 0 when not, -1 when plan mode
 * could not plan (the workspace is yet to be created).
 */
static int prepare(struct tf_job *job, const struct tf_state *st,
		   const char *planfile, int *changes,
		   struct tf_summary *sum)
{
	int plan_mode = gantry_ctx_dry_run(job->ctx) != 0;
	int missing, rc;

	*changes = 0;
	rc = tf_initialise(job, st);
	if (rc == GANTRY_OK)
		rc = tf_workspace(job, st, &missing);
	if (rc < 0)
		return rc;
	if (plan_mode) {
		gantry_plan_line(job->ctx, "terraform in %s, workspace '%s'",
				 job->dir, job->workspace);
		if (job->image_tag && !strcmp(job->image_tag, "${image.tag}"))
			gantry_plan_line(job->ctx, "  var image_tag is the "
				"image built by the deploy (${image.tag})");
		if (missing) {
			gantry_plan_line(job->ctx, "  workspace '%s' does not "
				"exist yet; the deploy would create it and "
				"plan against its empty state", job->workspace);
			*changes = -1;
			return GANTRY_OK;
		}
	}
	rc = tf_plan_to(job, st, planfile, changes);
	if (rc < 0 || !*changes)
		return rc;
	return tf_summarise(job, planfile, sum, plan_mode);
}

static int tf_plan(void *state, struct gantry_ctx *ctx)
{
	const struct tf_state *st = state;
	struct tf_summary sum = { 0 };
	char tmp[PATH_MAX], planfile[PATH_MAX + 16];
	struct tf_job job;
	char *binary;
	int changes = 0, rc;

	tmp[0] = '\0';
	rc = job_start(&job, st, ctx, &binary);
	if (rc == GANTRY_OK)
		rc = make_planfile(ctx, tmp, sizeof(tmp), planfile,
				   sizeof(planfile));
	if (rc == GANTRY_OK)
		rc = prepare(&job, st, planfile, &changes, &sum);
	if (rc == GANTRY_OK && changes == 0)
		gantry_plan_line(ctx, "no changes; nothing to apply");
	if (rc == GANTRY_OK && changes > 0) {
		/* A deploy would stop at the guard: the plan says so too. */
		rc = tf_guard(&job, destroy_allowed(st, ctx), &sum);
		if (rc == GANTRY_OK)
			gantry_plan_line(ctx, "would apply this plan");
	}
	remove_planfile(tmp, planfile);
	free(sum.guarded);
	job_end(&job, binary);
	return rc;
}

static int tf_run(void *state, struct gantry_ctx *ctx)
{
	const struct tf_state *st = state;
	struct tf_summary sum = { 0 };
	char tmp[PATH_MAX], planfile[PATH_MAX + 16];
	struct tf_job job;
	char *binary;
	int changes = 0, rc;

	tmp[0] = '\0';
	rc = job_start(&job, st, ctx, &binary);
	if (rc == GANTRY_OK)
		rc = make_planfile(ctx, tmp, sizeof(tmp), planfile,
				   sizeof(planfile));
	if (rc == GANTRY_OK)
		rc = prepare(&job, st, planfile, &changes, &sum);
	if (rc == GANTRY_OK && !changes)
		gantry_info(ctx, "no changes; apply skipped");
	if (rc == GANTRY_OK && changes)
		rc = tf_guard(&job, destroy_allowed(st, ctx), &sum);
	if (rc == GANTRY_OK && changes)
		rc = tf_apply(&job, st, planfile);
	if (rc == GANTRY_OK && st->outputs)
		rc = tf_publish_outputs(&job);
	remove_planfile(tmp, planfile);
	free(sum.guarded);
	job_end(&job, binary);
	return rc;
}

static const struct gantry_stage terraform_stage = {
	GANTRY_STAGE_HEADER,
	.name = "terraform",
	.version = PACKAGE_VERSION,
	.summary = "terraform init, workspace, plan with vars, destroy guard, "
		   "apply of the saved plan, outputs",
	.kind = GANTRY_KIND_STAGE,
	.options = tf_options,
	.option_rules = tf_rules,
	.init = tf_init,
	.plan = tf_plan,
	.run = tf_run,
	.fini = tf_fini,
};

GANTRY_STAGE_EXPORT(terraform_stage)
