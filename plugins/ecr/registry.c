/*
 * registry.c - the Docker Registry HTTP API v2 as ECR speaks it, over
 * libcurl: manifest HEAD/GET/PUT, and blob uploads several at once with a
 * curl multi handle.
 *
 * Per blob: HEAD /v2/<repo>/blobs/<digest> (200: present, done), then a
 * cross-repository mount POST .../blobs/uploads/?mount=<digest>&from=<r>
 * for each repository of mount_from (201: linked, done), else POST
 * .../blobs/uploads/ and one PUT <Location>&digest=<digest> streaming the
 * file.  The SHA-256 of what is read is checked before its last bytes
 * leave: a blob that does not match its digest is aborted mid-upload, so
 * the registry never completes it.
 *
 * Connection failures, 429 and 5xx are retried (REG_ATTEMPTS in all,
 * with backoff); a retried upload starts a fresh upload session, since a
 * failed PUT may have consumed the old one.  The token goes in an
 * Authorization header built once; it is registered with the redactor by
 * the caller, and libcurl's verbose output is never turned on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "ecr.h"

#include "banned.h"

#define REG_ATTEMPTS 3
#define REG_BACKOFF_MS 300L
#define REG_CONNECT_TIMEOUT 10L
#define REG_TIMEOUT 120L
/* An upload that moves not a byte for this long is stalled. */
#define REG_STALL_SECONDS 60L
#define REG_MAX_BODY (64 * 1024)
#define REG_UPLOAD_BUFFER (512L * 1024)

static const char accept_manifests[] = "Accept: "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.oci.image.index.v1+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json";

struct registry {
	char *base;			/* scheme://host[:port] */
	const char *host;		/* into base, for messages */
	char *auth_header;
	struct gantry_ctx *ctx;
	CURL *easy;			/* sequential calls share its
					   connection */
	char err[1200];
	int unauthorized;
};

/* One transfer: the answer and, for an upload, the file being sent. */
struct xfer {
	CURLcode cc;
	char cerr[CURL_ERROR_SIZE];
	long status;
	char *body;
	size_t len;
	char *location;
	char digest[ECR_DIGEST_LEN];
	struct curl_slist *hdrs;

	int fd;
	long long size, sent;
	const char *want;		/* the digest the file must have */
	EVP_MD_CTX *md;
	int bad;			/* 1: digest mismatch, 2: short/err */
	char got[ECR_DIGEST_LEN];
};

static void xfer_reset(struct xfer *x)
{
	free(x->body);
	free(x->location);
	curl_slist_free_all(x->hdrs);
	if (x->fd >= 0)
		close(x->fd);
	if (x->md)
		EVP_MD_CTX_free(x->md);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
}

struct registry *registry_new(const char *base, const char *auth,
			      struct gantry_ctx *ctx)
{
	struct registry *r = ecr_xcalloc(1, sizeof(*r));
	size_t n;

	r->base = ecr_xstrdup(base);
	n = strlen(r->base);
	while (n > 0 && r->base[n - 1] == '/')
		r->base[--n] = '\0';
	r->host = strstr(r->base, "://");
	r->host = r->host ? r->host + 3 : r->base;
	r->auth_header = ecr_xasprintf("Authorization: Basic %s", auth);
	r->ctx = ctx;
	r->easy = curl_easy_init();
	if (!r->easy)
		abort();
	return r;
}

void registry_free(struct registry *r)
{
	if (!r)
		return;
	curl_easy_cleanup(r->easy);
	/* the header holds the token: do not leave it in freed memory */
	memset(r->auth_header, 0, strlen(r->auth_header));
	free(r->auth_header);
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

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, keep = n;

	if (x->len + keep > REG_MAX_BODY)
		keep = REG_MAX_BODY - x->len;
	if (keep) {
		x->body = ecr_xrealloc(x->body, x->len + keep + 1);
		memcpy(x->body + x->len, data, keep);
		x->len += keep;
		x->body[x->len] = '\0';
	}
	return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct xfer *x = arg;
	size_t want = size * nitems;
	long long left = x->size - x->sent;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	ssize_t got;

	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	do
		got = read(x->fd, buf, want);
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		x->bad = 2;
		return CURL_READFUNC_ABORT;
	}
	EVP_DigestUpdate(x->md, buf, (size_t)got);
	x->sent += got;
	if (x->sent < x->size)
		return (size_t)got;
	/* The last bytes: they go only when the whole blob is what its
	   digest says. */
	EVP_DigestFinal_ex(x->md, md, &mdlen);
	memcpy(x->got, "sha256:", 7);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(x->got + 7 + 2 * i, 3, "%02x", md[i]);
	if (strcmp(x->got, x->want) != 0) {
		x->bad = 1;
		return CURL_READFUNC_ABORT;
	}
	return (size_t)got;
}

/* A SIGINT or SIGTERM to gantry ends a transfer in progress. */
static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct registry *r = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return r->ctx && gantry_ctx_interrupted(r->ctx);
}

/* Sets up h for one request; the reply lands in x. */
static void setup(struct registry *r, CURL *h, struct xfer *x,
		  const char *method, const char *url)
{
	curl_easy_reset(h);
	x->hdrs = curl_slist_append(x->hdrs, r->auth_header);
	/* no 100-continue round trip before each upload */
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->cerr);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, REG_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry-ecr");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, r);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	}
	if (strcmp(method, "PUT") != 0 || x->fd < 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT, REG_TIMEOUT);
	else {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, REG_STALL_SECONDS);
	}
}

static void finish_headers(CURL *h, struct xfer *x)
{
	struct curl_header *hd;

	x->hdrs = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &x->status);
	if (curl_easy_header(h, "Location", 0, CURLH_HEADER, -1, &hd) ==
	    CURLHE_OK)
		x->location = ecr_xstrdup(hd->value);
	if (curl_easy_header(h, "Docker-Content-Digest", 0, CURLH_HEADER, -1,
			     &hd) == CURLHE_OK)
		snprintf(x->digest, sizeof(x->digest), "%s", hd->value);
}

static int retryable(const struct xfer *x)
{
	if (x->bad)
		return 0;
	if (x->cc != CURLE_OK)
		return x->cc == CURLE_COULDNT_CONNECT ||
		       x->cc == CURLE_OPERATION_TIMEDOUT ||
		       x->cc == CURLE_SEND_ERROR ||
		       x->cc == CURLE_RECV_ERROR ||
		       x->cc == CURLE_GOT_NOTHING ||
		       x->cc == CURLE_PARTIAL_FILE;
	return x->status == 429 || x->status >= 500;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* "CODE: message" from the registry's {"errors": [...]} body, or "". */
static void registry_reason(const struct xfer *x, char *out, size_t len)
{
	struct gantry_json *doc = NULL;
	const char *code, *msg;

	out[0] = '\0';
	if (x->body)
		doc = gantry_json_parse(x->body, x->len, NULL, 0);
	code = gantry_json_string(doc, "errors[0].code", NULL);
	msg = gantry_json_string(doc, "errors[0].message", NULL);
	if (code || msg)
		snprintf(out, len, " %s%s%s", code ? code : "",
			 code && msg ? ": " : "", msg ? msg : "");
	gantry_json_free(doc);
}

/* Records why the request `what` failed as the registry's error. */
static void describe(struct registry *r, const struct xfer *x,
		     const char *what)
{
	char reason[400];

	r->unauthorized = 0;
	if (x->cc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(r->err, sizeof(r->err), "interrupted during the %s "
			 "at registry '%s'", what, r->host);
		return;
	}
	if (x->cc != CURLE_OK) {
		const char *why = x->cerr[0] ? x->cerr :
			curl_easy_strerror(x->cc);

		if (x->cc == CURLE_COULDNT_CONNECT ||
		    x->cc == CURLE_COULDNT_RESOLVE_HOST ||
		    x->cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(r->err, sizeof(r->err), "cannot reach "
				 "registry '%s' (%s): %s; check that it is up "
				 "and that option 'registry' names it",
				 r->host, what, why);
		else
			snprintf(r->err, sizeof(r->err), "registry '%s' "
				 "failed %s: %s", r->host, what, why);
		return;
	}
	registry_reason(x, reason, sizeof(reason));
	if (x->status == 401) {
		r->unauthorized = 1;
		snprintf(r->err, sizeof(r->err), "registry '%s' refused the "
			 "ECR credentials (401%s) for %s; the token from "
			 "GetAuthorizationToken is not valid there: check "
			 "option 'registry' and that the AWS credentials are "
			 "those of the registry's account", r->host, reason,
			 what);
		return;
	}
	if (x->status == 403) {
		snprintf(r->err, sizeof(r->err), "registry '%s' denied %s "
			 "(403%s); the AWS identity needs ecr push "
			 "permissions on the repository", r->host, what,
			 reason);
		return;
	}
	snprintf(r->err, sizeof(r->err), "registry '%s' answered %ld to %s%s%s",
		 r->host, x->status, what, reason[0] ? ":" : "", reason);
}

/* One request on the shared handle, retried when that may help.  0 when
   an answer came (any status), -1 when none did (error recorded). */
static int request(struct registry *r, struct xfer *x, const char *method,
		   const char *url, const char *const *headers,
		   const char *body, size_t len, const char *what)
{
	unsigned attempt;

	for (attempt = 1;; attempt++) {
		const char *const *hp;

		xfer_reset(x);
		setup(r, r->easy, x, method, url);
		for (hp = headers; hp && *hp; hp++)
			x->hdrs = curl_slist_append(x->hdrs, *hp);
		curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, x->hdrs);
		if (body) {
			curl_easy_setopt(r->easy, CURLOPT_UPLOAD, 0L);
			curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST,
					 method);
			curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
					 (curl_off_t)len);
		}
		x->cc = curl_easy_perform(r->easy);
		{
			struct curl_slist *h = x->hdrs;

			finish_headers(r->easy, x);
			curl_slist_free_all(h);
		}
		if (attempt >= REG_ATTEMPTS || !retryable(x))
			break;
		if (r->ctx && gantry_ctx_interrupted(r->ctx))
			break;
		gantry_debug(r->ctx, "%s: retrying (%s)", what, x->cc ?
			     curl_easy_strerror(x->cc) : "server error");
		sleep_ms(REG_BACKOFF_MS << (attempt - 1));
	}
	if (x->cc != CURLE_OK) {
		describe(r, x, what);
		return -1;
	}
	return 0;
}

int registry_manifest_digest(struct registry *r, const char *repo,
			     const char *ref, char *digest)
{
	const char *hdrs[] = { accept_manifests, NULL };
	struct xfer x = { .fd = -1 };
	char *url = ecr_xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
	char *what = ecr_xasprintf("HEAD of manifest %s:%s", repo, ref);
	int rc = -1;

	if (request(r, &x, "HEAD", url, hdrs, NULL, 0, what) < 0)
		goto out;
	if (x.status == 404) {
		rc = 0;
	} else if (x.status == 200 && ecr_digest_valid(x.digest)) {
		snprintf(digest, ECR_DIGEST_LEN, "%s", x.digest);
		rc = 1;
	} else if (x.status == 200) {
		char *body = NULL;

		/* no digest header: hash the manifest itself */
		if (registry_manifest_get(r, repo, ref, &body) == 1) {
			ecr_sha256(body, strlen(body), digest);
			rc = 1;
		}
		free(body);
	} else {
		describe(r, &x, what);
	}
out:
	xfer_reset(&x);
	free(url);
	free(what);
	return rc;
}

int registry_manifest_get(struct registry *r, const char *repo,
			  const char *ref, char **body)
{
	const char *hdrs[] = { accept_manifests, NULL };
	struct xfer x = { .fd = -1 };
	char *url = ecr_xasprintf("%s/v2/%s/manifests/%s", r->base, repo, ref);
	char *what = ecr_xasprintf("GET of manifest %s:%s", repo, ref);
	int rc = -1;

	*body = NULL;
	if (request(r, &x, "GET", url, hdrs, NULL, 0, what) < 0)
		goto out;
	if (x.status == 404) {
		rc = 0;
	} else if (x.status == 200) {
		*body = ecr_xstrdup(x.body ? x.body : "");
		rc = 1;
	} else {
		describe(r, &x, what);
	}
out:
	xfer_reset(&x);
	free(url);
	free(what);
	return rc;
}

int registry_put_manifest(struct registry *r, const char *repo,
			  const char *tag, const struct oci_image *img)
{
	char *ctype = ecr_xasprintf("Content-Type: %s", img->media_type);
	const char *hdrs[] = { ctype, NULL };
	struct xfer x = { .fd = -1 };
	char *url = ecr_xasprintf("%s/v2/%s/manifests/%s", r->base, repo, tag);
	char *what = ecr_xasprintf("PUT of manifest %s:%s", repo, tag);
	int rc = -1;

	if (request(r, &x, "PUT", url, hdrs, img->manifest, img->manifest_len,
		    what) < 0)
		goto out;
	if (x.status != 201 && x.status != 200) {
		describe(r, &x, what);
		goto out;
	}
	if (x.digest[0] && strcmp(x.digest, img->digest) != 0) {
		snprintf(r->err, sizeof(r->err), "registry '%s' stored the "
			 "manifest of %s:%s as %s, but its content is %s; the "
			 "registry changed the manifest: push with push = "
			 "\"builder\" or report it", r->host, repo, tag,
			 x.digest, img->digest);
		goto out;
	}
	rc = 0;
out:
	xfer_reset(&x);
	free(ctype);
	free(url);
	free(what);
	return rc;
}

/* --- blobs, several at once ------------------------------------------- */

enum phase { PH_HEAD, PH_MOUNT, PH_START, PH_PUT };

struct job {
	const struct oci_blob *blob;
	CURL *h;
	struct xfer x;
	enum phase phase;
	size_t mount_i;
	unsigned attempt;
	char *url;
	char *location;
	double wake;			/* waiting for a retry until then */
	int waiting;
};

struct pusher {
	struct registry *r;
	const char *repo;
	const char *const *mount_from;
	CURLM *multi;
	struct push_stats *st;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *phase_what(const struct job *j, char *buf, size_t len)
{
	static const char *const names[] = {
		"HEAD of blob", "mount of blob", "upload start of blob",
		"upload of blob"
	};

	snprintf(buf, len, "%s %s", names[j->phase], j->blob->digest);
	return buf;
}

/* Starts the job's current phase; 0, or -1 with the error recorded. */
static int job_start(struct pusher *p, struct job *j)
{
	struct registry *r = p->r;
	const char *method = "HEAD";

	xfer_reset(&j->x);
	free(j->url);
	switch (j->phase) {
	case PH_HEAD:
		j->url = ecr_xasprintf("%s/v2/%s/blobs/%s", r->base, p->repo,
				       j->blob->digest);
		break;
	case PH_MOUNT:
		method = "POST";
		j->url = ecr_xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&"
				       "from=%s", r->base, p->repo,
				       j->blob->digest,
				       p->mount_from[j->mount_i]);
		break;
	case PH_START:
		method = "POST";
		j->url = ecr_xasprintf("%s/v2/%s/blobs/uploads/", r->base,
				       p->repo);
		break;
	case PH_PUT:
		method = "PUT";
		/* a relative Location is relative to the registry */
		j->url = ecr_xasprintf("%s%s%cdigest=%s",
				       j->location[0] == '/' ? r->base : "",
				       j->location,
				       strchr(j->location, '?') ? '&' : '?',
				       j->blob->digest);
		j->x.fd = open(j->blob->path, O_RDONLY | O_CLOEXEC);
		if (j->x.fd < 0) {
			snprintf(r->err, sizeof(r->err), "cannot read blob "
				 "'%s': %s", j->blob->path, strerror(errno));
			return -1;
		}
		j->x.size = j->blob->size;
		j->x.want = j->blob->digest;
		j->x.md = EVP_MD_CTX_new();
		if (!j->x.md || !EVP_DigestInit_ex(j->x.md, EVP_sha256(), NULL))
			abort();
		break;
	}
	setup(r, j->h, &j->x, method, j->url);
	if (j->phase == PH_PUT) {
		j->x.hdrs = curl_slist_append(j->x.hdrs, "Content-Type: "
					      "application/octet-stream");
		curl_easy_setopt(j->h, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(j->h, CURLOPT_READDATA, &j->x);
		curl_easy_setopt(j->h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)j->blob->size);
		curl_easy_setopt(j->h, CURLOPT_UPLOAD_BUFFERSIZE,
				 REG_UPLOAD_BUFFER);
	}
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, j->x.hdrs);
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	if (curl_multi_add_handle(p->multi, j->h) != CURLM_OK)
		abort();
	return 0;
}

/* The upload session's URL from a 202 answer; -1 without one. */
static int take_location(struct registry *r, struct job *j)
{
	char what[160];

	if (!j->x.location || !*j->x.location) {
		snprintf(r->err, sizeof(r->err), "registry '%s' answered the "
			 "%s without a Location", r->host,
			 phase_what(j, what, sizeof(what)));
		return -1;
	}
	free(j->location);
	j->location = j->x.location;
	j->x.location = NULL;
	return 0;
}

/*
 * Moves a job on after its transfer ended: 1 when the blob is in the
 * repository, 0 when another request was started (or a retry is
 * waiting), -1 on failure (error recorded).
 */
static int job_next(struct pusher *p, struct job *j)
{
	struct registry *r = p->r;
	char what[160];

	phase_what(j, what, sizeof(what));
	if (j->x.bad == 1) {
		snprintf(r->err, sizeof(r->err), "blob '%s' does not match "
			 "its digest %s (its content hashes to %s); the "
			 "layout is corrupt: rebuild the image",
			 j->blob->path, j->blob->digest, j->x.got);
		return -1;
	}
	if (j->x.bad == 2) {
		snprintf(r->err, sizeof(r->err), "cannot read blob '%s' "
			 "(%lld of %lld bytes); the layout changed during the "
			 "push: rebuild the image", j->blob->path, j->x.sent,
			 j->blob->size);
		return -1;
	}
	if (retryable(&j->x) && j->attempt + 1 < REG_ATTEMPTS) {
		j->attempt++;
		gantry_debug(r->ctx, "%s: retrying (%s)", what,
			     j->x.cc ? curl_easy_strerror(j->x.cc) :
				       "server error");
		if (j->phase == PH_PUT)
			j->phase = PH_START;
		j->wake = now_s() + (REG_BACKOFF_MS << (j->attempt - 1)) / 1e3;
		j->waiting = 1;
		return 0;
	}
	if (j->x.cc != CURLE_OK) {
		describe(r, &j->x, what);
		return -1;
	}
	switch (j->phase) {
	case PH_HEAD:
		if (j->x.status == 200) {
			p->st->present++;
			return 1;
		}
		if (j->x.status != 404)
			break;
		j->attempt = 0;
		j->phase = p->mount_from && p->mount_from[0] ? PH_MOUNT
							     : PH_START;
		return job_start(p, j);
	case PH_MOUNT:
		if (j->x.status == 201) {
			p->st->mounted++;
			return 1;
		}
		if (j->x.status != 202)
			break;
		j->attempt = 0;
		if (p->mount_from[++j->mount_i])
			return job_start(p, j);
		/* Not in any of them: the answer opened an upload. */
		if (take_location(r, j) < 0)
			return -1;
		j->phase = PH_PUT;
		return job_start(p, j);
	case PH_START:
		if (j->x.status != 202)
			break;
		if (take_location(r, j) < 0)
			return -1;
		j->phase = PH_PUT;
		return job_start(p, j);
	case PH_PUT:
		if (j->x.status != 201 && j->x.status != 204 &&
		    j->x.status != 200)
			break;
		p->st->uploaded++;
		p->st->bytes += j->blob->size;
		return 1;
	}
	describe(r, &j->x, what);
	return -1;
}

int registry_push_blobs(struct registry *r, const char *repo,
			const struct oci_image *img, unsigned parallel,
			const char *const *mount_from, struct push_stats *st)
{
	struct pusher p = { r, repo, mount_from, NULL, st };
	struct job *jobs;
	size_t next = 0, active = 0, done = 0, i, n = img->nblobs;
	int rc = GANTRY_OK;

	memset(st, 0, sizeof(*st));
	if (!n)
		return GANTRY_OK;
	if (parallel < 1)
		parallel = 1;
	p.multi = curl_multi_init();
	if (!p.multi)
		abort();
	jobs = ecr_xcalloc(n, sizeof(*jobs));
	for (i = 0; i < n; i++)
		jobs[i].x.fd = -1;
	while (done < n && rc == GANTRY_OK) {
		struct CURLMsg *msg;
		int running, left;
		double now = now_s();

		while (active < parallel && next < n) {
			struct job *j = &jobs[next++];

			j->blob = &img->blobs[next - 1];
			j->h = curl_easy_init();
			if (!j->h)
				abort();
			active++;
			if (job_start(&p, j) < 0) {
				rc = GANTRY_EFAIL;
				break;
			}
		}
		for (i = 0; i < next && rc == GANTRY_OK; i++)
			if (jobs[i].waiting && jobs[i].wake <= now) {
				jobs[i].waiting = 0;
				if (job_start(&p, &jobs[i]) < 0)
					rc = GANTRY_EFAIL;
			}
		if (rc != GANTRY_OK)
			break;
		curl_multi_perform(p.multi, &running);
		while ((msg = curl_multi_info_read(p.multi, &left))) {
			struct job *j;
			struct curl_slist *h;
			char *priv = NULL;
			int res;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &priv);
			j = (struct job *)(void *)priv;
			j->x.cc = msg->data.result;
			curl_multi_remove_handle(p.multi, j->h);
			h = j->x.hdrs;
			finish_headers(j->h, &j->x);
			curl_slist_free_all(h);
			res = job_next(&p, j);
			if (res < 0) {
				rc = r->ctx && gantry_ctx_interrupted(r->ctx) ?
					GANTRY_EINTERRUPTED : GANTRY_EFAIL;
				break;
			}
			if (res == 1) {
				xfer_reset(&j->x);
				done++;
				active--;
			}
		}
		if (rc != GANTRY_OK || done == n)
			break;
		if (r->ctx && gantry_ctx_interrupted(r->ctx)) {
			snprintf(r->err, sizeof(r->err), "interrupted while "
				 "pushing blobs to '%s/%s'", r->host, repo);
			rc = GANTRY_EINTERRUPTED;
			break;
		}
		if (r->ctx && gantry_ctx_remaining(r->ctx) == 0) {
			snprintf(r->err, sizeof(r->err), "the push to '%s/%s' "
				 "did not finish within the stage's timeout of "
				 "%us (%zu of %zu blobs done); raise timeout",
				 r->host, repo, gantry_ctx_timeout(r->ctx),
				 done, n);
			rc = GANTRY_ETIMEOUT;
			break;
		}
		curl_multi_poll(p.multi, NULL, 0, 100, NULL);
	}
	for (i = 0; i < next; i++) {
		if (jobs[i].h) {
			curl_multi_remove_handle(p.multi, jobs[i].h);
			curl_easy_cleanup(jobs[i].h);
		}
		xfer_reset(&jobs[i].x);
		free(jobs[i].url);
		free(jobs[i].location);
	}
	free(jobs);
	curl_multi_cleanup(p.multi);
	return rc;
}
