/*
 * ecr.h - what the files of the ecr stage share.  Private to plugins/ecr/;
 * the plugin still exports nothing but its entry function.  It uses the
 * public SDK only: HTTP (streaming, several requests at once) through
 * gantry/http.h, SHA-256 and base64 through gantry/digest.h, allocation
 * through gantry/util.h.
 *
 *   ecr.c       the descriptor, options, ECR auth and repository, plan, run
 *   layout.c    reading the image to push from an OCI image layout
 *   registry.c  the registry's HTTP API v2: requests, errors, manifests
 *   push.c      blobs: presence, mounts, parallel streaming uploads
 *   builder.c   `buildah push` with a private, temporary auth file
 *   util.c      digests and sizes
 */
#ifndef GANTRY_PLUGIN_ECR_H
#define GANTRY_PLUGIN_ECR_H

#include <stddef.h>

#include <gantry/gantry.h>

/* "sha256:" and 64 hex digits, NUL-terminated. */
#define ECR_DIGEST_LEN 72

/* A blob of the image: its descriptor and the file holding it. */
struct oci_blob {
	char *digest;
	char *media_type;
	long long size;
	char *path;
};

/* The image for one tag of a layout: the manifest's bytes as stored (its
   digest is the image digest), then the config and the layers. */
struct oci_image {
	char *manifest;
	size_t manifest_len;
	char *media_type;
	char digest[ECR_DIGEST_LEN];
	struct oci_blob *blobs;		/* config first */
	size_t nblobs;
	long long total;		/* bytes of all blobs */
};

/*
 * Reads the image tagged `tag` (annotation org.opencontainers.image.ref.name)
 * from the OCI layout directory `dir`; a layout holding one image only
 * serves any tag.  Checks the manifest against its digest and that every
 * blob file exists with its size.  0, or -1 with the reason in err.
 */
int oci_read(const char *dir, const char *tag, struct oci_image *img,
	     char *err, size_t errlen);
void oci_clear(struct oci_image *img);

/* The registry client.  `base` is "http://host:port" or "https://host";
   `auth` the base64 "AWS:<password>" of the ECR token (borrowed). */
struct registry;

struct registry *registry_new(const char *base, const char *auth,
			      struct gantry_ctx *ctx);
void registry_free(struct registry *r);

/* registry.c's client, shared with push.c. */
#define REG_ATTEMPTS 3
#define REG_TIMEOUT_MS 120000L
/* An upload that moves not a byte for this long is stalled. */
#define REG_STALL_MS 60000L

struct registry {
	char *base;			/* scheme://host[:port] */
	const char *host;		/* into base, for messages */
	char *auth;			/* "Basic <token>" */
	struct gantry_ctx *ctx;
	char err[1200];
	int unauthorized;
};

/* A request to the registry: its credentials, timeout and attempts. */
struct gantry_http *registry_request(struct registry *r, const char *method,
				     const char *url);
/* Records why `what` failed: rc is gantry_http_perform's (0: an answer
   that was not the one expected). */
void registry_describe(struct registry *r, const struct gantry_http *req,
		       int rc, const char *what);

/* Why the last call failed, one line: "cannot reach registry ...". */
const char *registry_error(const struct registry *r);
/* Non-zero when the last failure was the registry refusing the token. */
int registry_unauthorized(const struct registry *r);

/* The digest of manifest `ref` in repo (one HEAD): 1 with it in digest,
   0 when there is none, -1 on failure. */
int registry_manifest_digest(struct registry *r, const char *repo,
			     const char *ref, char *digest);

/* The manifest `ref` of repo (a GET): 1 with a malloc'd body, 0 when
   there is none, -1 on failure. */
int registry_manifest_get(struct registry *r, const char *repo,
			  const char *ref, char **body);

struct push_stats {
	size_t present;			/* blobs the registry had */
	size_t mounted;			/* linked from another repo */
	size_t uploaded;
	long long bytes;		/* uploaded */
};

/*
 * Makes every blob of img present in repo: a HEAD each (present: skipped),
 * a cross-repository mount from the repositories in mount_from (NULL
 * terminated, may be NULL), else a streaming upload whose SHA-256 is
 * checked as the file is read.  Up to `parallel` blobs at once.  0, or a
 * negative GANTRY_E* code with the reason in registry_error().
 */
int registry_push_blobs(struct registry *r, const char *repo,
			const struct oci_image *img, unsigned parallel,
			const char *const *mount_from, struct push_stats *st);

/* PUTs the manifest as repo:tag and checks the Docker-Content-Digest the
   registry answers against the manifest's own.  0 or -1. */
int registry_put_manifest(struct registry *r, const char *repo,
			  const char *tag, const struct oci_image *img);

/* What `push = builder` needs. */
struct builder_push {
	const char *image;		/* the local image (image.local) */
	const char *storage;		/* buildah's store, or NULL */
	const char *host;		/* registry host[:port] */
	const char *repo;
	const char *tag;
	const char *auth;		/* base64 "AWS:<password>" */
	int plain_http;
};

/* Pushes with buildah; 0 with the pushed manifest digest in digest, or a
   negative code with the message recorded through gantry_fail. */
int builder_push(const struct builder_push *b, struct gantry_ctx *ctx,
		 char *digest);

/* "sha256:<hex>" of data into out. */
void ecr_sha256(const void *data, size_t len, char *out);
/* Non-zero when s is "sha256:" and 64 lowercase hex digits. */
int ecr_digest_valid(const char *s);
/* "1.2 MB" style sizes into buf. */
const char *ecr_human_size(long long bytes, char *buf, size_t len);

#endif
