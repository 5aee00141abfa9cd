/*
 * ecr.c - the `ecr` stage: authenticates to Amazon ECR
 * (GetAuthorizationToken), makes sure the repository exists, pushes the
 * built image and records its digest.
 *
 * The push is native by default: the registry HTTP API v2 straight from
 * the OCI image layout docker-build wrote (registry.c), so nothing but
 * this process ever holds the token.  `push = "builder"` hands the push to
 * buildah through a private, temporary auth file (builder.c).
 *
 * A tag that is already in the repository with the image's digest makes
 * the stage a no-op ("already pushed") after a single manifest HEAD: that
 * is what keeps re-runs and `gantry rollback` cheap.  The same tag on
 * another image is refused while `immutable` is on.
 *
 * Rollback has nothing to undo: an image pushed under a release tag is
 * what a later deploy of that tag will reuse.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gantry/digest.h>

#include "ecr.h"

#include "banned.h"

#define ECR_MAX_PARALLEL 32

static const struct gantry_option ecr_options[] = {
	{ "registry", GANTRY_OPT_STRING, 0, NULL,
	  "registry host (default: the account's ECR registry); "
	  "\"http://host:port\" for a plain-HTTP registry" },
	{ "repository", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the ECR repository, e.g. \"staging/address-api\"" },
	{ "create_repository", GANTRY_OPT_BOOL, 0, "false",
	  "create the repository when it does not exist" },
	{ "immutable", GANTRY_OPT_BOOL, 0, "true",
	  "refuse to move an existing tag to another image (and create "
	  "repositories with immutable tags)" },
	{ "push", GANTRY_OPT_STRING, 0, "native",
	  "\"native\" (registry API from the OCI layout) or \"builder\" "
	  "(buildah push)" },
	{ "tag", GANTRY_OPT_STRING, 0, NULL,
	  "the tag to push (default: image.tag, else the release tag)" },
	{ "layout", GANTRY_OPT_STRING, 0, NULL,
	  "OCI image layout to push (default: image.layout from "
	  "docker-build)" },
	{ "parallel", GANTRY_OPT_INT, 0, "4",
	  "blobs uploaded at once" },
	{ "mount_from", GANTRY_OPT_LIST, 0, NULL,
	  "repositories of the same registry to mount existing blobs from" },
	{ "storage", GANTRY_OPT_STRING, 0, NULL,
	  "buildah's store for push = \"builder\" (default: docker-build's)" },
	{ "insecure_production", GANTRY_OPT_BOOL, 0, "false",
	  "allow a plain-HTTP registry (no TLS: the token crosses the "
	  "network in clear) when release.environment is production" },
	{ NULL, 0, 0, NULL, NULL }
};

/* The core enforces these before init. */
static const struct gantry_option_rule ecr_rules[] = {
	{ .key = "push", GANTRY_CHOICES("native", "builder") },
	{ .key = "parallel", GANTRY_RANGE(1, ECR_MAX_PARALLEL) },
	{ .key = NULL }
};

/* Options as read by init; strings point into the config tree. */
struct ecr_state {
	const char *registry;
	const char *repository;
	int create_repository;
	int immutable;
	int builder;
	const char *tag;
	const char *layout;
	unsigned parallel;
	const char **mount_from;	/* NULL-terminated */
	const char *storage;
};

/* One plan or run: the clients and what they found; all malloc'd. */
struct session {
	struct gantry_aws *aws;
	char *auth;			/* base64 "AWS:<password>" */
	char *base;			/* scheme://host[:port] */
	const char *host;		/* into base */
	struct registry *reg;
	char *tag;
	char *layout;			/* NULL: none to push from */
	int repo_exists;
	int repo_immutable;
	/* the tag's digest in the repository, "" when absent */
	char remote[ECR_DIGEST_LEN];
};

static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

static const char *where(const struct gantry_config *cfg, const char *key)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	return gantry_config_where(c ? c : cfg);
}

static void ecr_fini(void *state)
{
	struct ecr_state *st = state;

	if (!st)
		return;
	free(st->mount_from);
	free(st);
}

/* ECR's rule: lowercase components of [a-z0-9] joined by one of . _ -
   and separated by '/'; 2 to 256 characters. */
static int repo_name_valid(const char *s)
{
	size_t n = strlen(s), i;
	int prev_sep = 1;

	if (n < 2 || n > 256)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (alnum) {
			prev_sep = 0;
			continue;
		}
		if (!strchr("._-/", c) || prev_sep)
			return 0;
		prev_sep = 1;
	}
	return !prev_sep;
}

static int ecr_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		    void **state)
{
	const struct gantry_config *mounts;
	struct ecr_state *st;
	size_t i, n;
	int rc;

	*state = NULL;
	st = gantry_xcalloc(1, sizeof(*st));
	st->registry = nonempty(gantry_config_string(cfg, "registry", NULL));
	st->repository = gantry_config_string(cfg, "repository", "");
	st->create_repository = gantry_config_bool(cfg, "create_repository",
						   0);
	st->immutable = gantry_config_bool(cfg, "immutable", 1);
	st->tag = nonempty(gantry_config_string(cfg, "tag", NULL));
	st->layout = nonempty(gantry_config_string(cfg, "layout", NULL));
	st->storage = nonempty(gantry_config_string(cfg, "storage", NULL));
	if (!repo_name_valid(st->repository)) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: repository '%s' is "
			"not a valid ECR repository name; use lowercase "
			"letters, digits and . _ - separated by '/' "
			"(\"staging/address-api\")", where(cfg, "repository"),
			st->repository);
		goto fail;
	}
	if (st->registry && strstr(st->registry, "://") &&
	    strncmp(st->registry, "http://", 7) != 0 &&
	    strncmp(st->registry, "https://", 8) != 0) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: registry '%s' has "
			"a scheme gantry does not speak; use a host name, "
			"\"https://host\" or \"http://host:port\"",
			where(cfg, "registry"), st->registry);
		goto fail;
	}
	if (st->registry && !strncmp(st->registry, "http://", 7) &&
	    nonempty(gantry_ctx_get(ctx, "release.environment")) &&
	    !strcmp(gantry_ctx_get(ctx, "release.environment"),
		    "production") &&
	    !gantry_config_bool(cfg, "insecure_production", 0)) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: registry '%s' is "
			"plain HTTP (no TLS) and is refused for production; "
			"use \"https://host\" or a host name, or set "
			"insecure_production = true as well if you really mean "
			"it", where(cfg, "registry"), st->registry);
		goto fail;
	}
	/* push and parallel are within ecr_rules: the core checked. */
	st->builder = !strcmp(gantry_config_string(cfg, "push", "native"),
			      "builder");
	st->parallel = (unsigned)gantry_config_int(cfg, "parallel", 4);
	mounts = gantry_config_lookup(cfg, "mount_from");
	n = gantry_config_length(mounts);
	st->mount_from = gantry_xcalloc(n + 1, sizeof(*st->mount_from));
	for (i = 0; i < n; i++) {
		const char *m = gantry_config_text(gantry_config_at(mounts, i));

		if (!m || !repo_name_valid(m)) {
			rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s: mount_from"
				"[%zu] must be a repository name",
				where(cfg, "mount_from"), i);
			goto fail;
		}
		st->mount_from[i] = m;
	}
	*state = st;
	return GANTRY_OK;

fail:
	ecr_fini(st);
	return rc;
}

static void session_clear(struct session *s)
{
	registry_free(s->reg);
	gantry_aws_free(s->aws);
	if (s->auth) {
		memset(s->auth, 0, strlen(s->auth));
		free(s->auth);
	}
	free(s->base);
	free(s->tag);
	free(s->layout);
	memset(s, 0, sizeof(*s));
}

/* path against config.dir unless absolute; malloc'd. */
static char *resolve(struct gantry_ctx *ctx, const char *path)
{
	const char *dir = gantry_ctx_get(ctx, "config.dir");

	if (path[0] == '/' || !dir || !*dir)
		return gantry_xstrdup(path);
	return gantry_xasprintf("%s/%s", dir, path);
}

/*
 * GetAuthorizationToken: the base64 "AWS:<password>" the registry takes as
 * basic auth.  Both it and the password are secrets from the moment they
 * arrive; nothing of them is ever written anywhere by the native push.
 */
static int authenticate(const struct ecr_state *st, struct session *s,
			struct gantry_ctx *ctx)
{
	struct gantry_json *out = NULL;
	const char *token, *proxy;
	char *plain;
	size_t len;
	int rc;

	rc = gantry_aws_json(s->aws, "ecr", "GetAuthorizationToken", "{}",
			     &out);
	if (rc < 0)
		return gantry_fail(ctx, rc, "cannot get an ECR authorization "
				   "token: %s", gantry_aws_error_line(s->aws));
	token = gantry_json_string(out, "authorizationData[0]."
				   "authorizationToken", NULL);
	proxy = nonempty(gantry_json_string(out, "authorizationData[0]."
					    "proxyEndpoint", NULL));
	if (!token || !*token) {
		gantry_json_free(out);
		return gantry_fail(ctx, GANTRY_EFAIL, "ecr "
				   "GetAuthorizationToken answered without a "
				   "token");
	}
	gantry_secret_add(token);
	s->auth = gantry_xstrdup(token);
	plain = gantry_base64_decode(token, &len);
	if (!plain || !strchr(plain, ':')) {
		if (plain) {
			memset(plain, 0, len);
			free(plain);
		}
		gantry_json_free(out);
		return gantry_fail(ctx, GANTRY_EFAIL, "the ECR authorization "
				   "token is not base64 \"user:password\"");
	}
	gantry_secret_add(strchr(plain, ':') + 1);
	memset(plain, 0, len);
	free(plain);

	if (st->registry && strstr(st->registry, "://"))
		s->base = gantry_xstrdup(st->registry);
	else if (st->registry)
		s->base = gantry_xasprintf("https://%s", st->registry);
	else if (proxy)
		s->base = gantry_xstrdup(proxy);
	else if (*gantry_aws_account(s->aws))
		s->base = gantry_xasprintf("https://%s.dkr.ecr.%s.amazonaws.com",
					gantry_aws_account(s->aws),
					gantry_aws_region(s->aws));
	gantry_json_free(out);
	if (!s->base)
		return gantry_fail(ctx, GANTRY_ECONFIG, "cannot tell the "
				   "registry: set aws.account_id in the "
				   "profile or option 'registry' of stage "
				   "'%s'", gantry_ctx_stage(ctx));
	len = strlen(s->base);
	while (len > 0 && s->base[len - 1] == '/')
		s->base[--len] = '\0';
	s->host = strstr(s->base, "://") + 3;
	s->reg = registry_new(s->base, s->auth, ctx);
	return GANTRY_OK;
}

static const char *account_region(struct session *s, char *buf, size_t len)
{
	const char *account = gantry_aws_account(s->aws);

	snprintf(buf, len, "%s/%s", *account ? account :
		 "the credentials' account", gantry_aws_region(s->aws));
	return buf;
}

/* DescribeRepositories: sets repo_exists; a missing one is not an error. */
static int find_repository(const struct ecr_state *st, struct session *s,
			   struct gantry_ctx *ctx)
{
	struct gantry_json *req = gantry_json_new_object(), *out = NULL;
	char where_buf[160];
	int rc;

	gantry_json_push_string(gantry_json_set_array(req, "repositoryNames"),
				st->repository);
	rc = gantry_aws_json(s->aws, "ecr", "DescribeRepositories",
			     gantry_json_text(req, 0), &out);
	gantry_json_free(req);
	if (rc == 0) {
		s->repo_exists = 1;
		s->repo_immutable = !strcmp(gantry_json_string(out,
			"repositories[0].imageTagMutability", ""),
			"IMMUTABLE");
		gantry_json_free(out);
		return GANTRY_OK;
	}
	if (!strcmp(gantry_aws_error_code(s->aws),
		    "RepositoryNotFoundException")) {
		s->repo_exists = 0;
		return GANTRY_OK;
	}
	return gantry_fail(ctx, rc, "cannot look up repository '%s' in %s: "
			   "%s", st->repository,
			   account_region(s, where_buf, sizeof(where_buf)),
			   gantry_aws_error_line(s->aws));
}

static int create_repository(const struct ecr_state *st, struct session *s,
			     struct gantry_ctx *ctx)
{
	struct gantry_json *req = gantry_json_new_object(), *out = NULL;
	char where_buf[160];
	int rc;

	gantry_json_set_string(req, "repositoryName", st->repository);
	gantry_json_set_string(req, "imageTagMutability",
			       st->immutable ? "IMMUTABLE" : "MUTABLE");
	rc = gantry_aws_json(s->aws, "ecr", "CreateRepository",
			     gantry_json_text(req, 0), &out);
	gantry_json_free(req);
	gantry_json_free(out);
	if (rc < 0 && strcmp(gantry_aws_error_code(s->aws),
			     "RepositoryAlreadyExistsException") != 0)
		return gantry_fail(ctx, rc, "cannot create repository '%s' in "
				   "%s: %s", st->repository,
				   account_region(s, where_buf,
						  sizeof(where_buf)),
				   gantry_aws_error_line(s->aws));
	gantry_info(ctx, "created repository '%s' in %s (%s tags)",
		    st->repository, account_region(s, where_buf,
						   sizeof(where_buf)),
		    st->immutable ? "immutable" : "mutable");
	s->repo_exists = 1;
	s->repo_immutable = st->immutable;
	return GANTRY_OK;
}

static int missing_repository(const struct ecr_state *st, struct session *s,
			      struct gantry_ctx *ctx)
{
	char where_buf[160];

	return gantry_fail(ctx, GANTRY_EFAIL, "repository '%s' not found in "
			   "%s; create it or set create_repository = true in "
			   "stage '%s'", st->repository,
			   account_region(s, where_buf, sizeof(where_buf)),
			   gantry_ctx_stage(ctx));
}

/* Everything plan and run share: token, registry, repository, tag. */
static int session_open(const struct ecr_state *st, struct session *s,
			struct gantry_ctx *ctx)
{
	const char *tag = st->tag;
	int rc;

	memset(s, 0, sizeof(*s));
	if (!tag)
		tag = nonempty(gantry_ctx_get(ctx, "image.tag"));
	if (!tag)
		tag = nonempty(gantry_ctx_get(ctx, "release.tag"));
	if (!tag)
		return gantry_fail(ctx, GANTRY_ECONFIG, "no tag to push: "
				   "run docker-build before stage '%s' or set "
				   "its option 'tag'", gantry_ctx_stage(ctx));
	s->tag = gantry_xstrdup(tag);
	if (st->layout)
		s->layout = resolve(ctx, st->layout);
	else if (nonempty(gantry_ctx_get(ctx, "image.layout")))
		s->layout = gantry_xstrdup(gantry_ctx_get(ctx, "image.layout"));
	s->aws = gantry_aws_new(ctx);
	if ((rc = authenticate(st, s, ctx)) < 0)
		return rc;
	return find_repository(st, s, ctx);
}

/* Fails with the registry client's last error. */
static int registry_fail(struct session *s, struct gantry_ctx *ctx)
{
	return gantry_fail(ctx, gantry_ctx_interrupted(ctx) ?
			   GANTRY_EINTERRUPTED : GANTRY_EFAIL, "%s",
			   registry_error(s->reg));
}

/* The tag's digest in the repository into s->remote (one HEAD). */
static int look_up_tag(const struct ecr_state *st, struct session *s,
		       struct gantry_ctx *ctx)
{
	int rc;

	s->remote[0] = '\0';
	if (!s->repo_exists)
		return GANTRY_OK;
	rc = registry_manifest_digest(s->reg, st->repository, s->tag,
				      s->remote);
	if (rc < 0)
		return registry_fail(s, ctx);
	return GANTRY_OK;
}

static int publish(const struct ecr_state *st, struct session *s,
		   struct gantry_ctx *ctx, const char *digest)
{
	char *uri = gantry_xasprintf("%s/%s:%s", s->host, st->repository, s->tag);
	char *by_digest = gantry_xasprintf("%s/%s@%s", s->host, st->repository,
					digest);
	int rc = 0;

	rc |= gantry_ctx_set(ctx, "image.registry", s->host);
	rc |= gantry_ctx_set(ctx, "image.repository", st->repository);
	rc |= gantry_ctx_set(ctx, "image.tag", s->tag);
	rc |= gantry_ctx_set(ctx, "image.uri", uri);
	rc |= gantry_ctx_set(ctx, "image.digest", digest);
	rc |= gantry_ctx_set(ctx, "image.uri_digest", by_digest);
	/* Journaled, so an unverified push is on the record. */
	rc |= gantry_ctx_set(ctx, "ecr.tls_verify",
			     strncmp(s->base, "http://", 7) ? "on" : "off");
	free(uri);
	free(by_digest);
	return rc ? gantry_fail(ctx, GANTRY_EFAIL, "cannot publish the "
				"image outputs") : GANTRY_OK;
}

static int conflict(const struct ecr_state *st, struct session *s,
		    struct gantry_ctx *ctx, const char *build)
{
	return gantry_fail(ctx, GANTRY_EFAIL, "tag '%s' already exists in "
			   "'%s' with digest %s, the build is %s; tags are "
			   "immutable: release a new version", s->tag,
			   st->repository, s->remote, build);
}

/* The digest of the config of the image the registry holds for the tag
   into out, or "" when it cannot be told. */
static void remote_config(struct session *s, const char *repo, char *out)
{
	struct gantry_json *doc;
	char *body = NULL;

	out[0] = '\0';
	if (registry_manifest_get(s->reg, repo, s->remote, &body) != 1)
		return;
	doc = gantry_json_parse(body, strlen(body), NULL, 0);
	snprintf(out, ECR_DIGEST_LEN, "%s",
		 gantry_json_string(doc, "config.digest", ""));
	gantry_json_free(doc);
	free(body);
}

static int run_builder(const struct ecr_state *st, struct session *s,
		       struct gantry_ctx *ctx)
{
	const char *image = nonempty(gantry_ctx_get(ctx, "image.local"));
	const char *id = nonempty(gantry_ctx_get(ctx, "image.id"));
	char digest[ECR_DIGEST_LEN] = "", config[ECR_DIGEST_LEN];
	struct builder_push b = { 0 };
	char *storage;
	int rc;

	if (s->remote[0]) {
		/* buildah compresses anew: compare images by their config */
		remote_config(s, st->repository, config);
		if (id && !strcmp(config, id)) {
			gantry_info(ctx, "%s/%s:%s already pushed (%s)",
				    s->host, st->repository, s->tag,
				    s->remote);
			return publish(st, s, ctx, s->remote);
		}
		if (st->immutable)
			return conflict(st, s, ctx, id ? id : "unknown");
	}
	if (!image)
		return gantry_fail(ctx, GANTRY_EFAIL, "no local image to push: "
				   "image.local is not set; run docker-build "
				   "before stage '%s'", gantry_ctx_stage(ctx));
	if (nonempty(gantry_ctx_get(ctx, "image.storage")))
		storage = gantry_xstrdup(gantry_ctx_get(ctx, "image.storage"));
	else if (st->storage)
		storage = resolve(ctx, st->storage);
	else if (nonempty(getenv("XDG_CACHE_HOME")) &&
		 getenv("XDG_CACHE_HOME")[0] == '/')
		storage = gantry_xasprintf("%s/gantry/buildah",
					getenv("XDG_CACHE_HOME"));
	else
		storage = gantry_xasprintf("%s/.cache/gantry/buildah",
					getenv("HOME") ? getenv("HOME") : "");
	b.image = image;
	b.storage = storage;
	b.host = s->host;
	b.repo = st->repository;
	b.tag = s->tag;
	b.auth = s->auth;
	b.plain_http = !strncmp(s->base, "http://", 7);
	rc = builder_push(&b, ctx, digest);
	free(storage);
	if (rc < 0)
		return rc;
	gantry_info(ctx, "pushed %s/%s:%s (%s) with buildah", s->host,
		    st->repository, s->tag, digest);
	return publish(st, s, ctx, digest);
}

static int run_native(const struct ecr_state *st, struct session *s,
		      struct gantry_ctx *ctx)
{
	struct oci_image img;
	struct push_stats stats;
	char err[600], size[32];
	double t0;
	int rc;

	if (!s->layout) {
		if (s->remote[0]) {
			gantry_info(ctx, "%s/%s:%s already pushed (%s); no "
				    "layout to compare it with", s->host,
				    st->repository, s->tag, s->remote);
			return publish(st, s, ctx, s->remote);
		}
		return gantry_fail(ctx, GANTRY_EFAIL, "no image to push: "
				   "image.layout is not set; run docker-build "
				   "(oci_layout = true) before stage '%s' or "
				   "set its option 'layout'",
				   gantry_ctx_stage(ctx));
	}
	if (oci_read(s->layout, s->tag, &img, err, sizeof(err)) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "%s", err);
	if (s->remote[0] && !strcmp(s->remote, img.digest)) {
		gantry_info(ctx, "%s/%s:%s already pushed (%s)", s->host,
			    st->repository, s->tag, img.digest);
		rc = publish(st, s, ctx, img.digest);
		goto out;
	}
	if (s->remote[0] && st->immutable) {
		rc = conflict(st, s, ctx, img.digest);
		goto out;
	}
	if (s->remote[0])
		gantry_warn(ctx, "moving tag '%s' of '%s' from %s to %s "
			    "(immutable = false)", s->tag, st->repository,
			    s->remote, img.digest);
	t0 = gantry_now();
	rc = registry_push_blobs(s->reg, st->repository, &img, st->parallel,
				 st->mount_from, &stats);
	if (rc < 0) {
		rc = gantry_fail(ctx, rc, "%s", registry_error(s->reg));
		goto out;
	}
	if (registry_put_manifest(s->reg, st->repository, s->tag, &img) < 0) {
		rc = registry_fail(s, ctx);
		goto out;
	}
	gantry_info(ctx, "pushed %s/%s:%s (%s): %zu blobs uploaded (%s), "
		    "%zu already there, %zu mounted, in %.2fs", s->host,
		    st->repository, s->tag, img.digest, stats.uploaded,
		    ecr_human_size(stats.bytes, size, sizeof(size)),
		    stats.present, stats.mounted, gantry_now() - t0);
	rc = publish(st, s, ctx, img.digest);
out:
	oci_clear(&img);
	return rc;
}

static int ecr_run(void *state, struct gantry_ctx *ctx)
{
	const struct ecr_state *st = state;
	struct session s;
	int rc;

	rc = session_open(st, &s, ctx);
	if (rc == GANTRY_OK && !s.repo_exists)
		rc = st->create_repository ? create_repository(st, &s, ctx)
					   : missing_repository(st, &s, ctx);
	if (rc == GANTRY_OK)
		rc = look_up_tag(st, &s, ctx);
	if (rc == GANTRY_OK)
		rc = st->builder ? run_builder(st, &s, ctx)
				 : run_native(st, &s, ctx);
	session_clear(&s);
	return rc;
}

static void plan_image(const struct ecr_state *st, struct session *s,
		       struct gantry_ctx *ctx)
{
	struct oci_image img;
	char err[600], size[32];

	if (!s->layout) {
		gantry_plan_line(ctx, "  image: the one docker-build builds "
				 "(no layout yet)");
		return;
	}
	if (oci_read(s->layout, s->tag, &img, err, sizeof(err)) < 0) {
		gantry_plan_line(ctx, "  image: %s", err);
		return;
	}
	gantry_plan_line(ctx, "  image: %s from %s: %zu blobs, %s",
			 img.digest, s->layout, img.nblobs,
			 ecr_human_size(img.total, size, sizeof(size)));
	if (!s->remote[0])
		gantry_plan_line(ctx, "  would push %zu blobs (%s at most; "
				 "blobs already in the registry are skipped) "
				 "and the manifest", img.nblobs, size);
	else if (!strcmp(s->remote, img.digest))
		gantry_plan_line(ctx, "  nothing to push: already pushed");
	else if (st->immutable)
		gantry_plan_line(ctx, "  run would fail: the tag points at %s, "
				 "the build is %s and tags are immutable",
				 s->remote, img.digest);
	else
		gantry_plan_line(ctx, "  would move the tag from %s to %s",
				 s->remote, img.digest);
	oci_clear(&img);
}

static int ecr_plan(void *state, struct gantry_ctx *ctx)
{
	const struct ecr_state *st = state;
	const char *local = nonempty(gantry_ctx_get(ctx, "image.local"));
	struct session s;
	char where_buf[160];
	int rc;

	rc = session_open(st, &s, ctx);
	if (rc == GANTRY_OK)
		rc = look_up_tag(st, &s, ctx);
	if (rc < 0) {
		session_clear(&s);
		return rc;
	}
	gantry_plan_line(ctx, "would push %s/%s:%s (%s push)", s.host,
			 st->repository, s.tag,
			 st->builder ? "buildah" : "native");
	gantry_plan_line(ctx, "  registry: %s%s", s.host,
			 strncmp(s.base, "http://", 7) ? "" : " (plain HTTP)");
	if (s.repo_exists)
		gantry_plan_line(ctx, "  repository: %s exists in %s (%s tags)",
				 st->repository, account_region(&s, where_buf,
				 sizeof(where_buf)), s.repo_immutable ?
				 "immutable" : "mutable");
	else if (st->create_repository)
		gantry_plan_line(ctx, "  repository: %s does not exist in %s; "
				 "would create it (%s tags)", st->repository,
				 account_region(&s, where_buf,
						sizeof(where_buf)),
				 st->immutable ? "immutable" : "mutable");
	else
		gantry_plan_line(ctx, "  repository: %s does not exist in %s; "
				 "run would fail (set create_repository = "
				 "true)", st->repository,
				 account_region(&s, where_buf,
						sizeof(where_buf)));
	if (s.remote[0])
		gantry_plan_line(ctx, "  tag: %s exists as %s", s.tag,
				 s.remote);
	else
		gantry_plan_line(ctx, "  tag: %s is not in the repository",
				 s.tag);
	if (st->builder)
		gantry_plan_line(ctx, "  push: buildah push %s with a private "
				 "auth file", local ? local :
				 "(the image docker-build builds)");
	else
		plan_image(st, &s, ctx);
	session_clear(&s);
	return GANTRY_OK;
}

static const struct gantry_stage ecr_stage = {
	GANTRY_STAGE_HEADER,
	.name = "ecr",
	.version = PACKAGE_VERSION,
	.summary = "pushes the image to Amazon ECR (registry API v2 or "
		   "buildah) and records its digest",
	.kind = GANTRY_KIND_STAGE,
	.options = ecr_options,
	.option_rules = ecr_rules,
	.init = ecr_init,
	.plan = ecr_plan,
	.run = ecr_run,
	.fini = ecr_fini,
};

GANTRY_STAGE_EXPORT(ecr_stage)
