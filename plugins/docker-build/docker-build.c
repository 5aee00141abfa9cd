/*
 * docker-build.c - the `docker-build` stage: builds the service's image
 * from a Dockerfile with docker buildx, podman or buildah, labels it with
 * the OCI `org.opencontainers.image.*` annotations of the release, and
 * writes it as an OCI image layout for the push stage.
 *
 * Built only on the public SDK.  Rollback has nothing to undo: a built
 * image changes nothing outside the builder's store and our directories.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "builders.h"
#include "dirs.h"
#include "banned.h"

static const struct gantry_option build_options[] = {
	{ "builder", GANTRY_OPT_STRING, 0, NULL,
	  "docker, podman or buildah (default: the first that works here)" },
	{ "context", GANTRY_OPT_STRING, 0, NULL,
	  "build context, relative to gantry.cfg's directory (default: the "
	  "release worktree, else that directory)" },
	{ "dockerfile", GANTRY_OPT_STRING, 0, "Dockerfile",
	  "the Dockerfile, relative to the context" },
	{ "tags", GANTRY_OPT_LIST, 0, NULL,
	  "image tags (default: [\"${release.tag}\"])" },
	{ "image_name", GANTRY_OPT_STRING, 0, NULL,
	  "local image name, tagged as NAME:TAG (default: the service)" },
	{ "build_args", GANTRY_OPT_GROUP, 0, NULL,
	  "build arguments, NAME = \"value\"" },
	{ "target", GANTRY_OPT_STRING, 0, NULL,
	  "the stage of a multi-stage Dockerfile to build" },
	{ "platform", GANTRY_OPT_STRING, 0, NULL,
	  "target platform, e.g. \"linux/amd64\"" },
	{ "labels", GANTRY_OPT_GROUP, 0, NULL,
	  "extra image labels, name = \"value\" (OCI ones are always added)" },
	{ "cache_from", GANTRY_OPT_LIST, 0, NULL,
	  "images to use as build cache" },
	{ "oci_layout", GANTRY_OPT_BOOL, 0, "true",
	  "also write the image as an OCI image layout (image.layout)" },
	{ "storage", GANTRY_OPT_STRING, 0, NULL,
	  "buildah's store (default: $XDG_CACHE_HOME/gantry/buildah)" },
	{ "timeout", GANTRY_OPT_INT, 0, "0",
	  "seconds the build may take (0: the entry's timeout)" },
	{ NULL, 0, 0, NULL, NULL }
};

/* Options as read by init; strings point into the config tree. */
struct build_state {
	int builder;			/* -1: the first that works */
	const char *context;
	const char *dockerfile;
	const struct gantry_config *tags;
	const char *image_name;
	struct kvlist build_args;
	const char *target;
	const char *platform;
	struct kvlist labels;
	struct kvlist cache_from;
	int oci_layout;
	const char *storage;
	unsigned timeout;
};

/* One build, resolved against the context; everything malloc'd. */
struct build_job {
	struct build_spec spec;
	char *context;
	char *dockerfile;
	char *image;
	struct kvlist tags;
	struct kvlist labels;		/* gantry's, then the user's */
	char *storage;
	char *layout;			/* NULL: oci_layout = false */
	char *workdir;			/* image ids, label Dockerfile */
	char *auto_note;		/* why the builders before it failed */
	time_t started;
	int started_work;		/* workdir exists: remove it */
};

static void kvlist_clear(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static void kvlist_add(struct kvlist *l, char *owned)
{
	l->v = gantry_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = owned;
}

static void build_fini(void *state)
{
	struct build_state *st = state;

	if (!st)
		return;
	kvlist_clear(&st->build_args);
	kvlist_clear(&st->labels);
	kvlist_clear(&st->cache_from);
	free(st);
}

static const char *where(const struct gantry_config *cfg, const char *key)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	return gantry_config_where(c ? c : cfg);
}

/* A group of NAME = value as "NAME=value" strings. */
static int read_group(const struct gantry_config *cfg, const char *key,
		      struct kvlist *out, struct gantry_ctx *ctx)
{
	const struct gantry_config *g = gantry_config_lookup(cfg, key);
	size_t i;

	for (i = 0; i < gantry_config_length(g); i++) {
		const struct gantry_config *v = gantry_config_at(g, i);
		const char *text = gantry_config_text(v);

		if (!text)
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: %s.%s must be a string, number or "
				"boolean", gantry_config_where(v), key,
				gantry_config_name(v));
		kvlist_add(out, gantry_xasprintf("%s=%s",
						 gantry_config_name(v), text));
	}
	return GANTRY_OK;
}

static int read_strings(const struct gantry_config *cfg, const char *key,
			struct kvlist *out, struct gantry_ctx *ctx)
{
	const struct gantry_config *l = gantry_config_lookup(cfg, key);
	size_t i;

	for (i = 0; i < gantry_config_length(l); i++) {
		const char *text = gantry_config_text(gantry_config_at(l, i));

		if (!text || !*text)
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: %s[%zu] must be a non-empty string",
				where(cfg, key), key, i);
		kvlist_add(out, gantry_xstrdup(text));
	}
	return GANTRY_OK;
}

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static int build_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		      void **state)
{
	const char *builder = nonempty(gantry_config_string(cfg, "builder",
							     NULL));
	struct build_state *st;
	long long timeout;
	size_t i;
	int rc;

	*state = NULL;
	st = gantry_xcalloc(1, sizeof(*st));
	st->builder = -1;
	if (builder && (st->builder = builder_parse(builder)) < 0) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: builder '%s' is not one gantry drives; use "
			"\"docker\", \"podman\" or \"buildah\", or leave it "
			"unset to use the first that works",
			where(cfg, "builder"), builder);
		goto fail;
	}
	st->context = nonempty(gantry_config_string(cfg, "context", NULL));
	st->dockerfile = nonempty(gantry_config_string(cfg, "dockerfile",
							NULL));
	if (!st->dockerfile)
		st->dockerfile = "Dockerfile";
	st->tags = gantry_config_lookup(cfg, "tags");
	for (i = 0; i < gantry_config_length(st->tags); i++)
		if (!gantry_config_text(gantry_config_at(st->tags, i))) {
			rc = gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: tags[%zu] must be a string",
				where(cfg, "tags"), i);
			goto fail;
		}
	if (st->tags && !gantry_config_length(st->tags)) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'tags' is "
			"empty; list at least one tag or leave it unset for "
			"the release tag", where(cfg, "tags"));
		goto fail;
	}
	st->image_name = nonempty(gantry_config_string(cfg, "image_name",
							NULL));
	st->target = nonempty(gantry_config_string(cfg, "target", NULL));
	st->platform = nonempty(gantry_config_string(cfg, "platform", NULL));
	st->storage = nonempty(gantry_config_string(cfg, "storage", NULL));
	st->oci_layout = gantry_config_bool(cfg, "oci_layout", 1);
	if ((rc = read_group(cfg, "build_args", &st->build_args, ctx)) < 0 ||
	    (rc = read_group(cfg, "labels", &st->labels, ctx)) < 0 ||
	    (rc = read_strings(cfg, "cache_from", &st->cache_from, ctx)) < 0)
		goto fail;
	timeout = gantry_config_int(cfg, "timeout", 0);
	if (timeout < 0 || timeout > UINT_MAX) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'timeout' must be 0 (the entry's timeout) "
			"or a number of seconds, not %lld",
			where(cfg, "timeout"), timeout);
		goto fail;
	}
	st->timeout = (unsigned)timeout;
	*state = st;
	return GANTRY_OK;

fail:
	build_fini(st);
	return rc;
}

/* `path` against `base` unless absolute; malloc'd. */
static char *resolve(const char *base, const char *path)
{
	if (path[0] == '/' || !base || !*base)
		return gantry_xstrdup(path);
	return gantry_xasprintf("%s/%s", base, path);
}

/* A tag as registries accept it: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
static int valid_tag(const char *t)
{
	size_t n = strlen(t);

	if (!n || n > 128 || *t == '.' || *t == '-')
		return 0;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") == n;
}

/* A repository name: lowercase path components, optional host:port. */
static int valid_image(const char *s)
{
	size_t n = strlen(s);

	if (!n || !strchr("abcdefghijklmnopqrstuvwxyz0123456789", *s) ||
	    strchr("./-:", s[n - 1]))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/:") == n;
}

static void job_clear(struct build_job *j)
{
	free(j->context);
	free(j->dockerfile);
	free(j->image);
	kvlist_clear(&j->tags);
	kvlist_clear(&j->labels);
	free(j->storage);
	free(j->layout);
	if (j->workdir && j->started_work)
		dirs_remove_tree(j->workdir);
	free(j->workdir);
	free(j->auto_note);
	memset(j, 0, sizeof(*j));
}

/* gantry's labels: what was released, from which commit, when. */
static void oci_labels(struct build_job *j, const struct build_state *st,
		       struct gantry_ctx *ctx)
{
	static const struct {
		const char *label, *key;
	} from_ctx[] = {
		{ "version", "release.version" },
		{ "revision", "release.commit" },
		{ "source", "release.repository" },
	};
	char now[32];
	struct tm tm;
	size_t i;

	for (i = 0; i < sizeof(from_ctx) / sizeof(from_ctx[0]); i++) {
		const char *v = nonempty(gantry_ctx_get(ctx, from_ctx[i].key));

		if (v)
			kvlist_add(&j->labels, gantry_xasprintf(
				"org.opencontainers.image.%s=%s",
				from_ctx[i].label, v));
	}
	if (gmtime_r(&j->started, &tm) &&
	    strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm))
		kvlist_add(&j->labels, gantry_xasprintf(
			"org.opencontainers.image.created=%s", now));
	/* The user's come last, so that the builder lets them win. */
	for (i = 0; i < st->labels.n; i++)
		kvlist_add(&j->labels, gantry_xstrdup(st->labels.v[i]));
}

static int job_tags(struct build_job *j, const struct build_state *st,
		    struct gantry_ctx *ctx)
{
	size_t i;

	if (!st->tags) {
		const char *tag = nonempty(gantry_ctx_get(ctx, "release.tag"));

		if (!tag)
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"no tag to give the image: release.tag is "
				"not known; set option 'tags'");
		kvlist_add(&j->tags, gantry_xstrdup(tag));
	} else {
		for (i = 0; i < gantry_config_length(st->tags); i++)
			kvlist_add(&j->tags, gantry_xstrdup(gantry_config_text(
				gantry_config_at(st->tags, i))));
	}
	for (i = 0; i < j->tags.n; i++)
		if (!valid_tag(j->tags.v[i]))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"image tag '%s' is not valid; use up to 128 "
				"letters, digits, '_', '.' or '-', not "
				"starting with '.' or '-'", j->tags.v[i]);
	return GANTRY_OK;
}

/* Resolves paths, names, tags and labels; touches nothing. */
static int job_prepare(struct build_job *j, const struct build_state *st,
		       struct gantry_ctx *ctx)
{
	const char *dir = nonempty(gantry_ctx_get(ctx, "config.dir"));
	const char *service = nonempty(gantry_ctx_get(ctx, "service"));
	const char *name;
	int rc;

	j->started = time(NULL);
	if (st->context)
		j->context = resolve(dir, st->context);
	else if (nonempty(gantry_ctx_get(ctx, "release.worktree")))
		j->context = gantry_xstrdup(gantry_ctx_get(ctx,
						"release.worktree"));
	else
		j->context = gantry_xstrdup(dir ? dir : ".");
	j->dockerfile = resolve(j->context, st->dockerfile);

	name = st->image_name ? st->image_name : service;
	if (!name)
		return gantry_fail(ctx, GANTRY_ECONFIG, "no image name: the "
				   "service is not known; set option "
				   "'image_name'");
	if (!valid_image(name))
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"image name '%s' is not valid; use lowercase letters, "
			"digits and '.', '_', '-', '/' (set option "
			"'image_name')", name);
	j->image = gantry_xstrdup(name);
	rc = job_tags(j, st, ctx);
	if (rc < 0)
		return rc;
	oci_labels(j, st, ctx);

	j->storage = st->storage ? resolve(dir, st->storage)
				 : dirs_default_storage();
	if (st->oci_layout)
		j->layout = dirs_layout(ctx, service ? service : name);

	j->spec.context = j->context;
	j->spec.dockerfile = j->dockerfile;
	j->spec.image = j->image;
	j->spec.tags = &j->tags;
	j->spec.build_args = &st->build_args;
	j->spec.labels = &j->labels;
	j->spec.cache_from = &st->cache_from;
	j->spec.target = st->target;
	j->spec.platform = st->platform;
	return GANTRY_OK;
}

/*
 * Picks the builder: the configured one, which must work, or the first
 * of docker, podman, buildah that does.  A docker client whose engine
 * does not answer builds nothing, so it does not count.
 */
static int choose_builder(struct build_job *j, const struct build_state *st,
			  struct gantry_ctx *ctx)
{
	char why[BUILDER_COUNT][600];
	int k;

	if (st->builder >= 0) {
		if (builder_probe(st->builder, ctx, why[0], sizeof(why[0]))) {
			j->spec.kind = st->builder;
			goto chosen;
		}
		return gantry_fail(ctx, GANTRY_EFAIL,
			"builder '%s' does not work here: %s; %s, or set "
			"builder to another of docker, podman, buildah",
			builder_name(st->builder), why[0],
			st->builder == BUILDER_DOCKER ?
				"start the Docker engine" : "install it");
	}
	for (k = 0; k < BUILDER_COUNT; k++) {
		if (gantry_ctx_interrupted(ctx))
			return gantry_fail(ctx, GANTRY_EINTERRUPTED,
				"interrupted while looking for a builder");
		if (builder_probe(k, ctx, why[k], sizeof(why[k]))) {
			j->spec.kind = k;
			if (k == BUILDER_PODMAN)
				j->auto_note = gantry_xstrdup(why[0]);
			else if (k == BUILDER_BUILDAH)
				j->auto_note = gantry_xasprintf("%s, %s",
								why[0], why[1]);
			goto chosen;
		}
	}
	return gantry_fail(ctx, GANTRY_EFAIL, "no working image builder: %s, "
			   "%s, %s; install buildah or set builder", why[0],
			   why[1], why[2]);

chosen:
	/* docker keeps its own store; podman's default one is fine
	   unless the user named another. */
	if (j->spec.kind == BUILDER_BUILDAH ||
	    (j->spec.kind == BUILDER_PODMAN && st->storage))
		j->spec.storage = j->storage;
	return GANTRY_OK;
}

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

static int build_plan(void *state, struct gantry_ctx *ctx)
{
	const struct build_state *st = state;
	struct build_job j = { 0 };
	struct argvec av = { 0 };
	char *tags, *labels;
	int rc;

	rc = job_prepare(&j, st, ctx);
	if (rc == GANTRY_OK)
		rc = choose_builder(&j, st, ctx);
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
	FILE *f = fopen(path, "r");
	char buf[256];
	size_t n;

	free(path);
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (!n || strspn(buf, "sha256:0123456789abcdef") != n)
		return NULL;
	return strchr(buf, ':') ? gantry_xstrdup(buf)
				: gantry_xasprintf("sha256:%s", buf);
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

static int build_run(void *state, struct gantry_ctx *ctx)
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
		rc = choose_builder(&j, st, ctx);
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

static const struct gantry_stage build_stage = {
	GANTRY_STAGE_HEADER,
	.name = "docker-build",
	.version = PACKAGE_VERSION,
	.summary = "build the image from a Dockerfile (docker buildx, podman "
		   "or buildah), OCI-labelled, into an OCI layout",
	.kind = GANTRY_KIND_STAGE,
	.options = build_options,
	.init = build_init,
	.plan = build_plan,
	.run = build_run,
	.fini = build_fini,
};

GANTRY_STAGE_EXPORT(build_stage)
