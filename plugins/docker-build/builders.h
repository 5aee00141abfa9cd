/*
 * builders.h - the three image builders the docker-build stage drives
 * (docker buildx, podman, buildah): which one works here, and the argv
 * of the build and of the export to an OCI image layout.
 *
 * Private to plugins/docker-build/.
 */
#ifndef DOCKER_BUILD_BUILDERS_H
#define DOCKER_BUILD_BUILDERS_H

#include <stddef.h>

#include <gantry/gantry.h>

enum builder_kind {
	BUILDER_DOCKER = 0,
	BUILDER_PODMAN,
	BUILDER_BUILDAH,
	BUILDER_COUNT
};

/* A growable, NULL-terminated argument vector of malloc'd strings. */
struct argvec {
	char **v;
	size_t n, alloc;
};

/* "K=V" strings, malloc'd, and their count. */
struct kvlist {
	char **v;
	size_t n;
};

/* Everything one build needs, resolved; strings are borrowed. */
struct build_spec {
	enum builder_kind kind;
	const char *context;		/* the build context directory */
	const char *dockerfile;		/* path of the Dockerfile */
	const char *image;		/* image name, without tag */
	const struct kvlist *tags;	/* plain tags ("v1.2.0") */
	const struct kvlist *build_args;	/* "K=V" */
	const struct kvlist *labels;	/* "K=V" */
	const struct kvlist *cache_from;	/* image references */
	const char *target;		/* NULL: the last stage */
	const char *platform;		/* NULL: the builder's */
	const char *storage;		/* buildah/podman store, or NULL */
	const char *workdir;		/* private scratch directory for the
					   image ids and the label step's
					   Dockerfile */
};

/*
 * buildah and podman (1.28 / 4.3) reuse a cached final stage with the
 * labels of whichever build made it when --target is given, so the
 * version and created labels would be stale.  For them the build runs in
 * two steps: the cached build proper, then a one-line Dockerfile
 * `FROM <id>` built without cache that applies the labels and tags.
 */
int builder_label_step(enum builder_kind kind);

/* Files in the workdir: the first step's image id, the label step's
   Dockerfile, and the final image id. */
#define BUILD_LAYERS_ID "layers.id"
#define BUILD_LABEL_DOCKERFILE "Dockerfile"
#define BUILD_IMAGE_ID "image.id"

const char *builder_name(enum builder_kind kind);
/* The builder called `name`, or -1. */
int builder_parse(const char *name);

/*
 * Asks whether `kind` works here: docker's engine must answer within 5 s
 * (a client alone builds nothing), podman and buildah must run
 * `--version`.  Returns 1 when it works; otherwise 0 with the reason in
 * `why` ("podman not found", "docker's engine does not answer (...)").
 */
int builder_probe(enum builder_kind kind, struct gantry_ctx *ctx,
		  char *why, size_t len);

/* The program and arguments that build the image into the builder's
   local store: tagged with every tag and labelled, unless the builder
   needs a label step (then it writes BUILD_LAYERS_ID instead). */
void builder_build_argv(const struct build_spec *s, struct argvec *av);

/* The label step: builds the workdir's BUILD_LABEL_DOCKERFILE. */
void builder_label_argv(const struct build_spec *s, struct argvec *av);

/* The command that writes the built image, as `tag`, into the OCI
   image layout directory `layout`. */
void builder_export_argv(const struct build_spec *s, const char *tag,
			 const char *layout, struct argvec *av);

/* The builder's build step as users know it ("buildah bud"). */
const char *builder_build_verb(enum builder_kind kind);

void argvec_push(struct argvec *av, const char *arg);
void argvec_pushf(struct argvec *av, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);
/* The arguments as one line, quoted where a shell would need it;
   malloc'd. */
char *argvec_join(const struct argvec *av);
void argvec_clear(struct argvec *av);

/* Appends owned (a malloc'd "K=V" or plain string) to l. */
void kvlist_add(struct kvlist *l, char *owned);
/* Frees the strings and empties l. */
void kvlist_clear(struct kvlist *l);

#endif
