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

#include "docker-build.h"
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

/*
 * The core enforces these before init.  builder has no choices rule:
 * builder = "" means "the first that works" (a "${env:BUILDER}" left
 * empty), and a rule's choices cannot include "", so init checks it.
 */
static const struct gantry_option_rule build_rules[] = {
	{ .key = "timeout", GANTRY_RANGE(0, UINT_MAX) },
	{ .key = NULL }
};


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


static int build_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		      void **state)
{
	const char *builder = nonempty(gantry_config_string(cfg, "builder",
							     NULL));
	struct build_state *st;
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
	st->timeout = (unsigned)gantry_config_int(cfg, "timeout", 0);
	*state = st;
	return GANTRY_OK;

fail:
	build_fini(st);
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
	.option_rules = build_rules,
	.init = build_init,
	.plan = build_plan,
	.run = build_run,
	.fini = build_fini,
};

GANTRY_STAGE_EXPORT(build_stage)
