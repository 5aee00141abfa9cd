/*
 * builders.c - docker buildx, podman and buildah: probing and the argv of
 * each.  Commands are argv arrays handed to gantry_cmd, never a shell
 * line; argvec_join() only renders them for the plan and the log.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/gantry.h>

#include "builders.h"
#include "banned.h"

/* How long an engine gets to answer `docker version`. */
#define PROBE_SECONDS 5

static const char *const names[BUILDER_COUNT] = {
	[BUILDER_DOCKER] = "docker",
	[BUILDER_PODMAN] = "podman",
	[BUILDER_BUILDAH] = "buildah",
};

const char *builder_name(enum builder_kind kind)
{
	return kind < BUILDER_COUNT ? names[kind] : "?";
}

int builder_parse(const char *name)
{
	int i;

	for (i = 0; i < BUILDER_COUNT; i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

const char *builder_build_verb(enum builder_kind kind)
{
	switch (kind) {
	case BUILDER_DOCKER:
		return "docker buildx build";
	case BUILDER_PODMAN:
		return "podman build";
	default:
		return "buildah bud";
	}
}

void argvec_push(struct argvec *av, const char *arg)
{
	if (av->n + 2 > av->alloc) {
		av->alloc = av->alloc ? av->alloc * 2 : 16;
		av->v = gantry_xrealloc(av->v, av->alloc * sizeof(*av->v));
	}
	av->v[av->n++] = gantry_xstrdup(arg);
	av->v[av->n] = NULL;
}

void argvec_pushf(struct argvec *av, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = gantry_xvasprintf(fmt, ap);
	va_end(ap);
	argvec_push(av, s);
	free(s);
}

void argvec_clear(struct argvec *av)
{
	size_t i;

	for (i = 0; i < av->n; i++)
		free(av->v[i]);
	free(av->v);
	av->v = NULL;
	av->n = av->alloc = 0;
}

void kvlist_clear(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void kvlist_add(struct kvlist *l, char *owned)
{
	l->v = gantry_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = owned;
}

static int plain_word(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "-_./:=,@+%{}", *s))
			return 0;
	return 1;
}

char *argvec_join(const struct argvec *av)
{
	size_t i, len = 1;
	char *s, *p;

	for (i = 0; i < av->n; i++)
		len += strlen(av->v[i]) * 4 + 3;
	s = p = gantry_xmalloc(len);
	for (i = 0; i < av->n; i++) {
		const char *a = av->v[i];

		if (i)
			*p++ = ' ';
		if (plain_word(a)) {
			memcpy(p, a, strlen(a));
			p += strlen(a);
			continue;
		}
		/* Single quotes, with ' written as '\'' */
		*p++ = '\'';
		for (; *a; a++) {
			if (*a == '\'') {
				memcpy(p, "'\\''", 4);
				p += 4;
			} else {
				*p++ = *a;
			}
		}
		*p++ = '\'';
	}
	*p = '\0';
	return s;
}

static int swallow(void *arg, enum gantry_cmd_stream stream,
		   const char *line)
{
	(void)arg;
	(void)stream;
	(void)line;
	return 0;
}

/* The reason a probe failed: the last line it printed, or its status. */
static void describe(const struct gantry_cmd *cmd, int rc, char *buf,
		     size_t len)
{
	const char *tail = gantry_cmd_tail(cmd);

	if (rc == GANTRY_ETIMEOUT)
		snprintf(buf, len, "no answer within %ds", PROBE_SECONDS);
	else if (*tail)
		snprintf(buf, len, "%s", tail);
	else if (gantry_cmd_signal(cmd))
		snprintf(buf, len, "killed by signal %d",
			 gantry_cmd_signal(cmd));
	else
		snprintf(buf, len, "exit %d", gantry_cmd_exit_status(cmd));
}

int builder_probe(enum builder_kind kind, struct gantry_ctx *ctx,
		  char *why, size_t len)
{
	struct gantry_cmd *cmd = gantry_cmd_new(names[kind]);
	const char *err;
	char reason[512];
	int rc, works = 0;

	if (!cmd) {
		snprintf(why, len, "%s: out of memory", names[kind]);
		return 0;
	}
	if (kind == BUILDER_DOCKER) {
		/* The client answers `--version` without any engine. */
		gantry_cmd_arg(cmd, "version");
		gantry_cmd_arg(cmd, "--format");
		gantry_cmd_arg(cmd, "{{.Server.Version}}");
	} else {
		gantry_cmd_arg(cmd, "--version");
	}
	gantry_cmd_timeout(cmd, PROBE_SECONDS);
	gantry_cmd_keep_lines(cmd, 1);
	gantry_cmd_on_line(cmd, swallow, NULL);
	rc = gantry_cmd_run(cmd, ctx);
	err = gantry_cmd_error(cmd);
	if (rc == GANTRY_EFAIL && err && strstr(err, strerror(ENOENT))) {
		snprintf(why, len, "%s not found", names[kind]);
	} else if (rc == GANTRY_EFAIL) {
		snprintf(why, len, "%s", err ? err : "cannot start");
	} else if (rc < 0 && rc != GANTRY_ETIMEOUT) {
		snprintf(why, len, "%s: interrupted", names[kind]);
	} else if (rc == GANTRY_OK && gantry_cmd_exit_status(cmd) == 0) {
		works = 1;
	} else {
		describe(cmd, rc, reason, sizeof(reason));
		if (kind == BUILDER_DOCKER)
			snprintf(why, len, "docker's engine does not answer "
				 "(%s)", reason);
		else
			snprintf(why, len, "'%s --version' failed (%s)",
				 names[kind], reason);
	}
	gantry_cmd_free(cmd);
	return works;
}

/* Global options that point buildah or podman at a private store. */
static void storage_args(const struct build_spec *s, struct argvec *av)
{
	if (!s->storage)
		return;
	argvec_push(av, "--root");
	argvec_pushf(av, "%s/root", s->storage);
	argvec_push(av, "--runroot");
	argvec_pushf(av, "%s/run", s->storage);
	/* vfs needs neither overlay support nor fuse: it works anywhere,
	   containers included, at the price of disk space. */
	argvec_push(av, "--storage-driver");
	argvec_push(av, "vfs");
}

static void push_list(struct argvec *av, const char *flag,
		      const struct kvlist *l)
{
	size_t i;

	for (i = 0; l && i < l->n; i++) {
		argvec_push(av, flag);
		argvec_push(av, l->v[i]);
	}
}

int builder_label_step(enum builder_kind kind)
{
	return kind != BUILDER_DOCKER;
}

static void tag_args(const struct build_spec *s, struct argvec *av)
{
	size_t i;

	for (i = 0; i < s->tags->n; i++) {
		argvec_push(av, "-t");
		argvec_pushf(av, "%s:%s", s->image, s->tags->v[i]);
	}
}

/* The options that shape the build itself. */
static void common_args(const struct build_spec *s, struct argvec *av)
{
	argvec_push(av, "-f");
	argvec_push(av, s->dockerfile);
	push_list(av, "--build-arg", s->build_args);
	if (s->target) {
		argvec_push(av, "--target");
		argvec_push(av, s->target);
	}
	if (s->platform) {
		argvec_push(av, "--platform");
		argvec_push(av, s->platform);
	}
	push_list(av, "--cache-from", s->cache_from);
}

/* The subcommand that builds, with its isolation and cache options. */
static void build_verb(const struct build_spec *s, struct argvec *av,
		       int layers)
{
	argvec_push(av, names[s->kind]);
	if (s->kind == BUILDER_DOCKER) {
		argvec_push(av, "buildx");
		argvec_push(av, "build");
		return;
	}
	storage_args(s, av);
	if (s->kind == BUILDER_PODMAN) {
		argvec_push(av, "build");
	} else {
		argvec_push(av, "bud");
		/* The only isolation that works without a container
		   runtime set up for us (root, no cgroup delegation). */
		argvec_push(av, "--isolation");
		argvec_push(av, "chroot");
	}
	argvec_push(av, layers ? "--layers" : "--layers=false");
}

void builder_build_argv(const struct build_spec *s, struct argvec *av)
{
	int label_step = builder_label_step(s->kind);

	build_verb(s, av, 1);
	if (s->kind == BUILDER_DOCKER)
		argvec_push(av, "--load");
	common_args(s, av);
	if (!label_step) {
		tag_args(s, av);
		push_list(av, "--label", s->labels);
	}
	argvec_push(av, "--iidfile");
	argvec_pushf(av, "%s/%s", s->workdir,
		     label_step ? BUILD_LAYERS_ID : BUILD_IMAGE_ID);
	argvec_push(av, s->context);
}

void builder_label_argv(const struct build_spec *s, struct argvec *av)
{
	build_verb(s, av, 0);
	/* FROM names an image id of the local store: nothing to pull. */
	argvec_push(av, "--pull=never");
	argvec_push(av, "-f");
	argvec_pushf(av, "%s/%s", s->workdir, BUILD_LABEL_DOCKERFILE);
	tag_args(s, av);
	push_list(av, "--label", s->labels);
	argvec_push(av, "--iidfile");
	argvec_pushf(av, "%s/%s", s->workdir, BUILD_IMAGE_ID);
	argvec_push(av, s->workdir);
}

void builder_export_argv(const struct build_spec *s, const char *tag,
			 const char *layout, struct argvec *av)
{
	argvec_push(av, names[s->kind]);
	if (s->kind == BUILDER_DOCKER) {
		/*
		 * docker cannot push from its image store to a directory:
		 * build again (all cached) with BuildKit's OCI exporter.
		 * The default "docker" buildx driver refuses that exporter
		 * unless the engine uses the containerd image store.
		 */
		argvec_push(av, "buildx");
		argvec_push(av, "build");
		common_args(s, av);
		tag_args(s, av);
		push_list(av, "--label", s->labels);
		argvec_push(av, "--output");
		argvec_pushf(av, "type=oci,dest=%s,tar=false", layout);
		argvec_push(av, s->context);
		return;
	}
	storage_args(s, av);
	argvec_push(av, "push");
	argvec_pushf(av, "%s:%s", s->image, tag);
	argvec_pushf(av, "oci:%s:%s", layout, tag);
}
