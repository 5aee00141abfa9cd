/*
 * push.c - makes every blob of an image present in a repository, several
 * at once (gantry_http_pool): per blob, HEAD /v2/<repo>/blobs/<digest>
 * (200: present, done), then a cross-repository mount POST
 * .../blobs/uploads/?mount=<digest>&from=<r> for each repository of
 * mount_from (201: linked, done), else POST .../blobs/uploads/ and one
 * PUT <Location>&digest=<digest> streaming the file.
 *
 * The SHA-256 of what is read is checked before its last bytes leave (a
 * body hook): a blob that does not match its digest is aborted
 * mid-upload, so the registry never completes it.  The PUT itself is
 * sent once: a failed PUT may have consumed its upload session, so a
 * transient failure starts a fresh session (REG_ATTEMPTS in all); the
 * other requests have the transport's retries.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gantry/digest.h>

#include "ecr.h"

#include "banned.h"

enum phase { PH_HEAD, PH_MOUNT, PH_START, PH_PUT };

struct job {
	const struct oci_blob *blob;
	struct gantry_http *req;	/* the phase's request */
	enum phase phase;
	size_t mount_i;
	unsigned sessions;		/* upload sessions started */
	char *url;
	char *location;
	int fd;
	struct gantry_sha256 *sha;
	int bad;			/* the content is not its digest */
	char got[ECR_DIGEST_LEN];
};

struct pusher {
	struct registry *r;
	const char *repo;
	const char *const *mount_from;
	struct gantry_http_pool *pool;
	struct push_stats *st;
};

static void job_clear(struct job *j)
{
	gantry_http_free(j->req);
	j->req = NULL;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	gantry_sha256_free(j->sha);
	j->sha = NULL;
}

/* Sees every chunk of an upload before it leaves; refuses the last one
   unless the whole blob is what its digest says. */
static int check_chunk(void *arg, const char *data, size_t len,
		       long long offset)
{
	struct job *j = arg;
	char hex[GANTRY_SHA256_HEX];

	if (offset == 0)
		gantry_sha256_final(j->sha, hex);	/* starts afresh */
	gantry_sha256_update(j->sha, data, len);
	if (offset + (long long)len < j->blob->size)
		return 0;
	gantry_sha256_final(j->sha, hex);
	snprintf(j->got, sizeof(j->got), "sha256:%s", hex);
	j->bad = strcmp(j->got, j->blob->digest) != 0;
	return j->bad;
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

	job_clear(j);
	free(j->url);
	switch (j->phase) {
	case PH_HEAD:
		j->url = gantry_xasprintf("%s/v2/%s/blobs/%s", r->base,
					  p->repo, j->blob->digest);
		break;
	case PH_MOUNT:
		method = "POST";
		j->url = gantry_xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&"
					  "from=%s", r->base, p->repo,
					  j->blob->digest,
					  p->mount_from[j->mount_i]);
		break;
	case PH_START:
		method = "POST";
		j->sessions++;
		j->url = gantry_xasprintf("%s/v2/%s/blobs/uploads/", r->base,
					  p->repo);
		break;
	case PH_PUT:
		method = "PUT";
		/* a relative Location is relative to the registry */
		j->url = gantry_xasprintf("%s%s%cdigest=%s",
					  j->location[0] == '/' ? r->base : "",
					  j->location,
					  strchr(j->location, '?') ? '&' : '?',
					  j->blob->digest);
		j->fd = open(j->blob->path, O_RDONLY | O_CLOEXEC);
		if (j->fd < 0) {
			snprintf(r->err, sizeof(r->err), "cannot read blob "
				 "'%s': %s", j->blob->path, strerror(errno));
			return -1;
		}
		break;
	}
	j->req = registry_request(r, method, j->url);
	if (j->phase == PH_PUT) {
		j->sha = gantry_sha256_new();
		j->bad = 0;
		gantry_http_header(j->req, "Content-Type",
				   "application/octet-stream");
		gantry_http_body_file(j->req, j->fd, 0, j->blob->size);
		gantry_http_body_hook(j->req, check_chunk, j);
		gantry_http_stall_ms(j->req, REG_STALL_MS);
		gantry_http_attempts(j->req, 1);
	} else if (!strcmp(method, "POST")) {
		gantry_http_body(j->req, "", 0);
	}
	gantry_http_pool_add(p->pool, j->req);
	return 0;
}

/* The upload session's URL from a 202 answer; -1 without one. */
static int take_location(struct registry *r, struct job *j)
{
	const char *loc = gantry_http_response_header(j->req, "Location");
	char what[160];

	if (!loc || !*loc) {
		snprintf(r->err, sizeof(r->err), "registry '%s' answered the "
			 "%s without a Location", r->host,
			 phase_what(j, what, sizeof(what)));
		return -1;
	}
	free(j->location);
	j->location = gantry_xstrdup(loc);
	return 0;
}

/* Why an upload got no answer, when the file is to blame. */
static int unreadable(struct registry *r, struct job *j)
{
	struct stat sb;

	if (fstat(j->fd, &sb) == 0 && sb.st_size >= j->blob->size)
		return 0;
	snprintf(r->err, sizeof(r->err), "cannot read blob '%s' (%lld of "
		 "%lld bytes); the layout changed during the push: rebuild "
		 "the image", j->blob->path,
		 gantry_http_sent(j->req), j->blob->size);
	return 1;
}

/*
 * Moves a job on after its request ended with rc: 1 when the blob is in
 * the repository, 0 when another request was started, -1 on failure
 * (error recorded).
 */
static int job_next(struct pusher *p, struct job *j, int rc)
{
	struct registry *r = p->r;
	long status = gantry_http_status(j->req);
	char what[160];

	phase_what(j, what, sizeof(what));
	if (j->phase == PH_PUT && j->bad) {
		snprintf(r->err, sizeof(r->err), "blob '%s' does not match "
			 "its digest %s (its content hashes to %s); the "
			 "layout is corrupt: rebuild the image",
			 j->blob->path, j->blob->digest, j->got);
		return -1;
	}
	if (j->phase == PH_PUT && rc < 0 && rc != GANTRY_EINTERRUPTED &&
	    unreadable(r, j))
		return -1;
	if (j->phase == PH_PUT && gantry_http_transient(j->req) &&
	    j->sessions < REG_ATTEMPTS) {
		gantry_debug(r->ctx, "%s: %s; starting a new upload session",
			     what, rc < 0 ? gantry_http_error(j->req) :
			     "server error");
		j->phase = PH_START;
		return job_start(p, j);
	}
	if (rc < 0) {
		registry_describe(r, j->req, rc, what);
		return -1;
	}
	switch (j->phase) {
	case PH_HEAD:
		if (status == 200) {
			p->st->present++;
			return 1;
		}
		if (status != 404)
			break;
		j->phase = p->mount_from && p->mount_from[0] ? PH_MOUNT
							     : PH_START;
		return job_start(p, j);
	case PH_MOUNT:
		if (status == 201) {
			p->st->mounted++;
			return 1;
		}
		if (status != 202)
			break;
		if (p->mount_from[++j->mount_i])
			return job_start(p, j);
		/* Not in any of them: the answer opened an upload. */
		j->sessions++;
		if (take_location(r, j) < 0)
			return -1;
		j->phase = PH_PUT;
		return job_start(p, j);
	case PH_START:
		if (status != 202)
			break;
		if (take_location(r, j) < 0)
			return -1;
		j->phase = PH_PUT;
		return job_start(p, j);
	case PH_PUT:
		if (status != 201 && status != 204 && status != 200)
			break;
		p->st->uploaded++;
		p->st->bytes += j->blob->size;
		return 1;
	}
	registry_describe(r, j->req, 0, what);
	return -1;
}

/* A status line on a terminal: blobs done, bytes of the uploads. */
static void progress(const struct pusher *p, const struct job *jobs,
		     size_t started, size_t done, size_t n, long long total)
{
	long long sent = p->st->bytes;
	char a[32], b[32];
	size_t i;

	for (i = 0; i < started; i++)
		if (jobs[i].req && jobs[i].phase == PH_PUT)
			sent += gantry_http_sent(jobs[i].req);
	gantry_status(p->r->ctx, "pushing blobs: %zu of %zu done, %s of %s "
		      "sent", done, n, ecr_human_size(sent, a, sizeof(a)),
		      ecr_human_size(total, b, sizeof(b)));
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
	p.pool = gantry_http_pool_new(r->ctx);
	jobs = gantry_xcalloc(n, sizeof(*jobs));
	for (i = 0; i < n; i++)
		jobs[i].fd = -1;
	while (done < n && rc == GANTRY_OK) {
		struct gantry_http *req;
		int res;

		while (active < parallel && next < n && rc == GANTRY_OK) {
			struct job *j = &jobs[next++];

			j->blob = &img->blobs[next - 1];
			active++;
			if (job_start(&p, j) < 0)
				rc = GANTRY_EFAIL;
		}
		if (rc != GANTRY_OK)
			break;
		req = gantry_http_pool_next(p.pool, 100, &res);
		for (i = 0; req && i < next; i++) {
			struct job *j = &jobs[i];

			if (j->req != req)
				continue;
			res = job_next(&p, j, res);
			if (res < 0) {
				rc = gantry_ctx_interrupted(r->ctx) ?
					GANTRY_EINTERRUPTED : GANTRY_EFAIL;
			} else if (res == 1) {
				job_clear(j);
				done++;
				active--;
			}
			break;
		}
		if (rc != GANTRY_OK || done == n)
			break;
		if (gantry_ctx_interrupted(r->ctx)) {
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
		if (!req)
			progress(&p, jobs, next, done, n, img->total);
	}
	/* Stops what still runs before its requests are freed. */
	gantry_http_pool_free(p.pool);
	for (i = 0; i < next; i++) {
		job_clear(&jobs[i]);
		free(jobs[i].url);
		free(jobs[i].location);
	}
	free(jobs);
	return rc;
}
