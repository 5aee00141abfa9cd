/*
 * docker-build.h - what the files of the docker-build stage share: the
 * options as read, one build resolved, and the callbacks.
 *
 *   docker-build.c  the descriptor, options, init/fini
 *   job.c           one build resolved: paths, names, tags, labels and
 *                   the builder
 *   build.c         plan and run: the builder's commands, the image id,
 *                   the OCI layout and the context values
 *   builders.c      docker buildx, podman, buildah: probing and argv
 *   dirs.c          the store, the layout and scratch directories
 *
 * Private to plugins/docker-build/.
 */
#ifndef DOCKER_BUILD_H
#define DOCKER_BUILD_H

#include <time.h>

#include <gantry/gantry.h>

#include "builders.h"

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

static inline const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* ---- job.c */
/* Resolves paths, names, tags and labels; touches nothing. */
int job_prepare(struct build_job *j, const struct build_state *st,
		struct gantry_ctx *ctx);
/* Picks the builder: the configured one, which must work, or the first
   of docker, podman, buildah that does. */
int job_choose_builder(struct build_job *j, const struct build_state *st,
		       struct gantry_ctx *ctx);
/* Frees j's strings, removes its workdir when made, and zeroes it. */
void job_clear(struct build_job *j);

/* ---- build.c */
int build_plan(void *state, struct gantry_ctx *ctx);
int build_run(void *state, struct gantry_ctx *ctx);

#endif
