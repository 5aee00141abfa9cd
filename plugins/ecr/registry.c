/*
 * registry.c - the Docker Registry HTTP API v2 as ECR speaks it, over
 * libgantry's HTTP transport (gantry/http.h): the client, its requests
 * and errors, and the manifests (HEAD/GET/PUT).  Blobs are push.c's.
 *
 * The transport's one retry policy applies (connection failures, 429,
 * 500, 502-504; REG_ATTEMPTS in all, backoff with jitter, never past the
 * stage's timeout).  The token goes in an Authorization header; it is
 * registered with the redactor by the caller, and the transport never
 * turns libcurl's verbose output on.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecr.h"

#include "banned.h"

static const char accept_manifests[] =
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json";

struct registry *registry_new(const char *base, const char *auth,
			      struct gantry_ctx *ctx)
{
	struct registry *r = gantry_xcalloc(1, sizeof(*r));
	size_t n;

	r->base = gantry_xstrdup(base);
	n = strlen(r->base);
	while (n > 0 && r->base[n - 1] == '/')
		r->base[--n] = '\0';
	r->host = strstr(r->base, "://");
	r->host = r->host ? r->host + 3 : r->base;
	r->auth = gantry_xasprintf("Basic %s", auth);
	r->ctx = ctx;
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	/* the header holds the token: do not leave it in freed memory */
	memset(r->auth, 0, strlen(r->auth));
	free(r->auth);
	free(r->base);
	free(r);
}

const char *registry_error(const struct registry *r)
{
	return r->err;
}

int registry_unauthorized(const struct registry *r)
{
	return r->unauthorized;
}

struct gantry_http *registry_request(struct registry *r, const char *method,
				     const char *url)
{
	struct gantry_http *req = gantry_http_new(method, url);

	gantry_http_header(req, "Authorization", r->auth);
	gantry_http_timeout_ms(req, REG_TIMEOUT_MS);
	/* A repeated HEAD, GET or manifest PUT is harmless, and so is an
	   upload session started twice (the first is left to expire). */
	gantry_http_attempts(req, REG_ATTEMPTS);
	return req;
}

/* " CODE: message" from the registry's {"errors": [...]} body, or "". */
static void registry_reason(const struct gantry_http *req, char *out,
			    size_t len)
{
	struct gantry_json *doc = NULL;
	const char *code, *msg, *body;
	size_t n;

	out[0] = '\0';
	body = gantry_http_response(req, &n);
	if (n)
		doc = gantry_json_parse(body, n, NULL, 0);
	code = gantry_json_string(doc, "errors[0].code", NULL);
	msg = gantry_json_string(doc, "errors[0].message", NULL);
	if (code || msg)
		snprintf(out, len, " %s%s%s", code ? code : "",
			 code && msg ? ": " : "", msg ? msg : "");
	gantry_json_free(doc);
}

/* The transport's reason, without its "cannot reach <url>: " (the
   message names the registry and the request itself). */
static const char *why(const struct gantry_http *req)
{
	const char *e = gantry_http_error(req), *sep;

	if (!e)
		return "no answer";
	if (!strncmp(e, "cannot reach ", 13) && (sep = strstr(e, ": ")))
		return sep + 2;
	return e;
}

void registry_describe(struct registry *r, const struct gantry_http *req,
		       int rc, const char *what)
{
	long status = gantry_http_status(req);
	char reason[400];

	r->unauthorized = 0;
	if (rc == GANTRY_EINTERRUPTED) {
		snprintf(r->err, sizeof(r->err), "interrupted during the %s "
			 "at registry '%s'", what, r->host);
		return;
	}
	if (rc < 0 && gantry_http_transient(req)) {
		snprintf(r->err, sizeof(r->err), "cannot reach registry '%s' "
			 "(%s): %s; check that it is up and that option "
			 "'registry' names it", r->host, what, why(req));
		return;
	}
	if (rc < 0) {
		snprintf(r->err, sizeof(r->err), "registry '%s' failed %s: %s",
			 r->host, what, why(req));
		return;
	}
	registry_reason(req, reason, sizeof(reason));
	if (status == 401) {
		r->unauthorized = 1;
		snprintf(r->err, sizeof(r->err), "registry '%s' refused the "
			 "ECR credentials (401%s) for %s; the token from "
			 "GetAuthorizationToken is not valid there: check "
			 "option 'registry' and that the AWS credentials are "
			 "those of the registry's account", r->host, reason,
			 what);
		return;
	}
	if (status == 403) {
		snprintf(r->err, sizeof(r->err), "registry '%s' denied %s "
			 "(403%s); the AWS identity needs ecr push "
			 "permissions on the repository", r->host, what,
			 reason);
		return;
	}
	snprintf(r->err, sizeof(r->err), "registry '%s' answered %ld to %s%s%s",
		 r->host, status, what, reason[0] ? ":" : "", reason);
}

/* Sends req (with retries); 0 when an answer came (any status), -1 when
   none did (error recorded). */
static int perform(struct registry *r, struct gantry_http *req,
		   const char *what)
{
	int rc = gantry_http_perform(req, r->ctx);

	if (rc < 0) {
		registry_describe(r, req, rc, what);
		return -1;
	}
	return 0;
}

int registry_manifest_digest(struct registry *r, const char *repo,
			     const char *ref, char *digest)
{
	char *url = gantry_xasprintf("%s/v2/%s/manifests/%s", r->base, repo,
				     ref);
	char *what = gantry_xasprintf("HEAD of manifest %s:%s", repo, ref);
	struct gantry_http *req = registry_request(r, "HEAD", url);
	const char *d;
	long status;
	int rc = -1;

	gantry_http_header(req, "Accept", accept_manifests);
	if (perform(r, req, what) < 0)
		goto out;
	status = gantry_http_status(req);
	d = gantry_http_response_header(req, "Docker-Content-Digest");
	if (status == 404) {
		rc = 0;
	} else if (status == 200 && ecr_digest_valid(d)) {
		snprintf(digest, ECR_DIGEST_LEN, "%s", d);
		rc = 1;
	} else if (status == 200) {
		char *body = NULL;

		/* no digest header: hash the manifest itself */
		if (registry_manifest_get(r, repo, ref, &body) == 1) {
			ecr_sha256(body, strlen(body), digest);
			rc = 1;
		}
		free(body);
	} else {
		registry_describe(r, req, 0, what);
	}
out:
	gantry_http_free(req);
	free(url);
	free(what);
	return rc;
}

int registry_manifest_get(struct registry *r, const char *repo,
			  const char *ref, char **body)
{
	char *url = gantry_xasprintf("%s/v2/%s/manifests/%s", r->base, repo,
				     ref);
	char *what = gantry_xasprintf("GET of manifest %s:%s", repo, ref);
	struct gantry_http *req = registry_request(r, "GET", url);
	int rc = -1;

	*body = NULL;
	gantry_http_header(req, "Accept", accept_manifests);
	if (perform(r, req, what) < 0)
		goto out;
	if (gantry_http_status(req) == 404) {
		rc = 0;
	} else if (gantry_http_status(req) == 200) {
		*body = gantry_xstrdup(gantry_http_response(req, NULL));
		rc = 1;
	} else {
		registry_describe(r, req, 0, what);
	}
out:
	gantry_http_free(req);
	free(url);
	free(what);
	return rc;
}

int registry_put_manifest(struct registry *r, const char *repo,
			  const char *tag, const struct oci_image *img)
{
	char *url = gantry_xasprintf("%s/v2/%s/manifests/%s", r->base, repo,
				     tag);
	char *what = gantry_xasprintf("PUT of manifest %s:%s", repo, tag);
	struct gantry_http *req = registry_request(r, "PUT", url);
	const char *d;
	long status;
	int rc = -1;

	gantry_http_header(req, "Content-Type", img->media_type);
	gantry_http_body(req, img->manifest, img->manifest_len);
	if (perform(r, req, what) < 0)
		goto out;
	status = gantry_http_status(req);
	if (status != 201 && status != 200) {
		registry_describe(r, req, 0, what);
		goto out;
	}
	d = gantry_http_response_header(req, "Docker-Content-Digest");
	if (d && *d && strcmp(d, img->digest) != 0) {
		snprintf(r->err, sizeof(r->err), "registry '%s' stored the "
			 "manifest of %s:%s as %s, but its content is %s; the "
			 "registry changed the manifest: push with push = "
			 "\"builder\" or report it", r->host, repo, tag,
			 d, img->digest);
		goto out;
	}
	rc = 0;
out:
	gantry_http_free(req);
	free(url);
	free(what);
	return rc;
}
