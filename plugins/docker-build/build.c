/*
 * build.c - the docker-build stage's plan and run: the builder's
 * commands in order (build, label step, OCI layout export), the image id
 * it wrote, and the image.* context values for the push stage.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "docker-build.h"
#include "dirs.h"
#include "banned.h"

static char *joined(const struct kvlist *l, const char *sep)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++)
		gantry_buf_addf(&b, "%s%s", i ? sep : "", l->v[i]);
	return gantry_buf_detach(&b);
}

static void plan_command(struct gantry_ctx *ctx, const char *what,
			 const struct argvec *av)
{
	char *line = argvec_join(av);

	gantry_plan_line(ctx, "  %s: %s", what, line);
	free(line);
}

int build_plan(void *state, struct gantry_ctx *ctx)
{
	const struct build_state *st = state;
	struct build_job j = { 0 };
	struct argvec av = { 0 };
	char *tags, *labels;
	int rc;

	rc = job_prepare(&j, st, ctx);
	if (rc == GANTRY_OK)
		rc = job_choose_builder(&j, st, ctx);
	if (rc < 0)
		goto out;
	j.workdir = gantry_xasprintf("%s/gantry-build.XXXXXX",
				     dirs_tmp_base());
	j.spec.workdir = j.workdir;

	gantry_plan_line(ctx, "would build %s:%s from %s with %s (%s)",
			 j.image, j.tags.v[0], j.dockerfile,
			 builder_name(j.spec.kind), st->builder >= 0 ?
			 "configured" : "the first that works");
	if (j.auto_note)
		gantry_plan_line(ctx, "  passed over: %s", j.auto_note);
	builder_build_argv(&j.spec, &av);
	plan_command(ctx, "build", &av);
	argvec_clear(&av);
	if (builder_label_step(j.spec.kind)) {
		builder_label_argv(&j.spec, &av);
		plan_command(ctx, "label (FROM the image built above)", &av);
		argvec_clear(&av);
	}
	if (j.layout) {
		if (j.spec.kind == BUILDER_DOCKER) {
			builder_export_argv(&j.spec, j.tags.v[0], j.layout,
					    &av);
			plan_command(ctx, "layout", &av);
			argvec_clear(&av);
		} else {
			size_t i;

			for (i = 0; i < j.tags.n; i++) {
				builder_export_argv(&j.spec, j.tags.v[i],
						    j.layout, &av);
				plan_command(ctx, "layout", &av);
				argvec_clear(&av);
			}
		}
	}
	tags = joined(&j.tags, ", ");
	labels = joined(&j.labels, ", ");
	gantry_plan_line(ctx, "  tags: %s", tags);
	gantry_plan_line(ctx, "  labels: %s", labels);
	free(tags);
	free(labels);
out:
	job_clear(&j);
	return rc;
}

/* Checks the inputs and makes the directories the builder writes to. */
static int job_setup(struct build_job *j, struct gantry_ctx *ctx)
{
	struct stat sb;
	int rc;

	if (stat(j->context, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return gantry_fail(ctx, GANTRY_EFAIL, "build context '%s' is "
				   "not a directory; set option 'context' "
				   "(relative to gantry.cfg's directory)",
				   j->context);
	if (access(j->dockerfile, R_OK) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "Dockerfile '%s' cannot "
				   "be read: %s; set option 'dockerfile' "
				   "(relative to the context)", j->dockerfile,
				   strerror(errno));
	if (j->spec.storage && dirs_make(j->spec.storage) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create the "
				   "builder's store '%s': %s; set option "
				   "'storage'", j->spec.storage,
				   strerror(errno));
	if (j->layout && (rc = dirs_fresh_layout(j->layout, ctx)) < 0)
		return rc;
	j->workdir = gantry_xasprintf("%s/gantry-build.XXXXXX",
				      dirs_tmp_base());
	if (!mkdtemp(j->workdir))
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create a "
				   "temporary directory in '%s': %s",
				   dirs_tmp_base(), strerror(errno));
	j->started_work = 1;
	j->spec.workdir = j->workdir;
	return GANTRY_OK;
}

/* Seconds the next command may take: what is left of the stage's
   timeout (0: none). */
static int time_left(const struct build_job *j, const struct build_state *st,
		     const struct gantry_ctx *ctx, unsigned *left)
{
	unsigned t = st->timeout ? st->timeout : gantry_ctx_timeout(ctx);
	time_t spent = time(NULL) - j->started;

	*left = 0;
	if (!t)
		return 0;
	if (spent >= (time_t)t)
		return -1;
	*left = t - (unsigned)spent;
	return 0;
}

/* Runs one builder command; `what` names it in errors. */
static int run_step(const struct build_job *j, const struct build_state *st,
		    struct gantry_ctx *ctx, const struct argvec *av,
		    const char *what)
{
	unsigned t = st->timeout ? st->timeout : gantry_ctx_timeout(ctx);
	struct gantry_cmd *cmd;
	unsigned left;
	char *line;
	size_t i;
	int rc;

	if (time_left(j, st, ctx, &left) < 0)
		return gantry_fail(ctx, GANTRY_ETIMEOUT, "%s not started: the "
				   "build's %us are spent; raise timeout",
				   what, t);
	cmd = gantry_cmd_new(av->v[0]);
	if (!cmd)
		abort();
	for (i = 1; i < av->n; i++)
		gantry_cmd_arg(cmd, av->v[i]);
	if (j->spec.kind == BUILDER_BUILDAH)
		gantry_cmd_env(cmd, "BUILDAH_ISOLATION", "chroot");
	gantry_cmd_cwd(cmd, j->context);
	gantry_cmd_timeout(cmd, left);
	line = argvec_join(av);
	gantry_info(ctx, "running %s", line);
	free(line);

	rc = gantry_cmd_run(cmd, ctx);
	if (rc == GANTRY_ETIMEOUT)
		rc = gantry_fail(ctx, GANTRY_ETIMEOUT, "%s timed out after "
				 "%us and was stopped; raise timeout%s%s",
				 what, t, *gantry_cmd_tail(cmd) ?
				 "; last output:\n" : "",
				 gantry_cmd_tail(cmd));
	else if (rc == GANTRY_EINTERRUPTED)
		rc = gantry_fail(ctx, rc, "%s interrupted and stopped", what);
	else if (rc < 0)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "%s: %s", what,
				 gantry_cmd_error(cmd) ? gantry_cmd_error(cmd)
						       : "cannot start");
	else if (gantry_cmd_exit_status(cmd) != 0)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "%s failed (%s %d)%s%s",
				 what, gantry_cmd_signal(cmd) ? "signal" :
				 "exit", gantry_cmd_signal(cmd) ?
				 gantry_cmd_signal(cmd) :
				 gantry_cmd_exit_status(cmd),
				 *gantry_cmd_tail(cmd) ? "; last output:\n" :
				 "", gantry_cmd_tail(cmd));
	gantry_cmd_free(cmd);
	return rc;
}

/* The image id the builder wrote into dir/name, as "sha256:<hex>";
   malloc'd. */
static char *read_image_id(const char *dir, const char *name)
{
	char *path = gantry_xasprintf("%s/%s", dir, name);
	char *buf = gantry_read_file(path, 255, NULL), *id;
	size_t n;

	free(path);
	if (!buf)
		return NULL;
	n = strlen(buf);
	while (n && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (!n || strspn(buf, "sha256:0123456789abcdef") != n)
		id = NULL;
	else
		id = strchr(buf, ':') ? gantry_xstrdup(buf)
				      : gantry_xasprintf("sha256:%s", buf);
	free(buf);
	return id;
}

/* Labels and tags the image the cached build made (see builders.h). */
static int label_step(const struct build_job *j,
		      const struct build_state *st, struct gantry_ctx *ctx)
{
	struct argvec av = { 0 };
	char *id = read_image_id(j->workdir, BUILD_LAYERS_ID);
	char *path;
	FILE *f;
	int rc;

	if (!id)
		return gantry_fail(ctx, GANTRY_EFAIL, "%s succeeded but wrote "
				   "no image id to '%s/%s'",
				   builder_build_verb(j->spec.kind),
				   j->workdir, BUILD_LAYERS_ID);
	path = gantry_xasprintf("%s/%s", j->workdir,
				BUILD_LABEL_DOCKERFILE);
	f = fopen(path, "w");
	rc = !f || fprintf(f, "FROM %s\n", id) < 0;
	if (f && fclose(f) != 0)
		rc = 1;
	free(id);
	if (rc) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot write '%s': %s",
				 path, strerror(errno));
		free(path);
		return rc;
	}
	free(path);
	builder_label_argv(&j->spec, &av);
	rc = run_step(j, st, ctx, &av, "labelling the image");
	argvec_clear(&av);
	return rc;
}

static int export_layout(const struct build_job *j,
			 const struct build_state *st, struct gantry_ctx *ctx)
{
	struct argvec av = { 0 };
	char what[160];
	size_t i, n = j->spec.kind == BUILDER_DOCKER ? 1 : j->tags.n;
	int rc = GANTRY_OK;

	/* docker's exporter writes every tag at once. */
	for (i = 0; i < n && rc == GANTRY_OK; i++) {
		builder_export_argv(&j->spec, j->tags.v[i], j->layout, &av);
		snprintf(what, sizeof(what), "%s writing the OCI layout",
			 j->spec.kind == BUILDER_DOCKER ?
			 "docker buildx build --output type=oci" :
			 j->spec.kind == BUILDER_PODMAN ? "podman push" :
			 "buildah push");
		rc = run_step(j, st, ctx, &av, what);
		argvec_clear(&av);
	}
	if (rc == GANTRY_EFAIL && j->spec.kind == BUILDER_DOCKER)
		gantry_error(ctx, "docker's default buildx driver cannot "
			     "write an OCI layout; use a docker-container "
			     "builder (docker buildx create --use), the "
			     "containerd image store, or oci_layout = false");
	return rc;
}

static int publish(const struct build_job *j, struct gantry_ctx *ctx,
		   const char *id)
{
	char *tags = joined(&j->tags, ",");
	char *local = gantry_xasprintf("%s:%s", j->image, j->tags.v[0]);
	int rc = 0;

	rc |= gantry_ctx_set(ctx, "image.id", id);
	rc |= gantry_ctx_set(ctx, "image.name", j->image);
	rc |= gantry_ctx_set(ctx, "image.tag", j->tags.v[0]);
	rc |= gantry_ctx_set(ctx, "image.tags", tags);
	rc |= gantry_ctx_set(ctx, "image.local", local);
	if (j->layout)
		rc |= gantry_ctx_set(ctx, "image.layout", j->layout);
	gantry_info(ctx, "built %s (%s)%s%s", local, id,
		    j->layout ? ", OCI layout in " : "",
		    j->layout ? j->layout : "");
	free(tags);
	free(local);
	return rc ? gantry_fail(ctx, GANTRY_EFAIL, "cannot publish the image "
				"outputs") : GANTRY_OK;
}

int build_run(void *state, struct gantry_ctx *ctx)
{
	const struct build_state *st = state;
	struct build_job j = { 0 };
	struct argvec av = { 0 };
	char *id = NULL;
	const char *rb = gantry_ctx_get(ctx, "deploy.rollback");
	int rc;

	/* `gantry rollback` publishes the image the earlier deploy pushed:
	   redeploying it needs no build. */
	if (rb && !strcmp(rb, "true") && gantry_ctx_get(ctx, "image.uri")) {
		gantry_info(ctx, "rollback: reusing image %s; nothing to build",
			    gantry_ctx_get(ctx, "image.uri"));
		return GANTRY_OK;
	}
	rc = job_prepare(&j, st, ctx);
	if (rc == GANTRY_OK)
		rc = job_choose_builder(&j, st, ctx);
	if (rc == GANTRY_OK && j.auto_note)
		gantry_info(ctx, "using %s (%s)", builder_name(j.spec.kind),
			    j.auto_note);
	if (rc == GANTRY_OK)
		rc = job_setup(&j, ctx);
	if (rc < 0)
		goto out;

	builder_build_argv(&j.spec, &av);
	rc = run_step(&j, st, ctx, &av, builder_build_verb(j.spec.kind));
	argvec_clear(&av);
	if (rc == GANTRY_OK && builder_label_step(j.spec.kind))
		rc = label_step(&j, st, ctx);
	if (rc < 0)
		goto out;
	id = read_image_id(j.workdir, BUILD_IMAGE_ID);
	if (!id) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "%s succeeded but wrote no "
				 "image id to '%s/%s'",
				 builder_build_verb(j.spec.kind), j.workdir,
				 BUILD_IMAGE_ID);
		goto out;
	}
	if (j.layout && (rc = export_layout(&j, st, ctx)) < 0)
		goto out;
	rc = publish(&j, ctx, id);
out:
	free(id);
	job_clear(&j);
	return rc;
}
