/*
 * job.c - one docker-build, resolved before anything runs: the context
 * and Dockerfile paths, the image name, its tags and OCI labels, and
 * the builder that works here.
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

void job_clear(struct build_job *j)
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
int job_prepare(struct build_job *j, const struct build_state *st,
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
int job_choose_builder(struct build_job *j, const struct build_state *st,
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
