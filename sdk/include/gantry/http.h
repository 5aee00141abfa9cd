/*
 * gantry/http.h - HTTP requests over libcurl, without libcurl in sight.
 *
 * Every request of libgantry (these, and the AWS client's) goes through
 * one transport: TLS peers verified by default, http and https only,
 * proxies from the usual environment variables (http_proxy, https_proxy,
 * no_proxy), connections reused between requests to the same host, the
 * response kept in memory up to 64 MiB (a larger one fails the request),
 * and one retry policy:
 *
 *   - retried: no answer for a transient reason (cannot connect or
 *     resolve, connection dropped, TLS handshake failed, timeout) and the
 *     statuses 429, 500, 502, 503 and 504;
 *   - never retried: any other status, bad URLs, TLS verification
 *     failures, a streamed body that could not be read or that its hook
 *     refused, an interrupt;
 *   - only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) by
 *     default; a POST or PATCH is retried when gantry_http_attempts()
 *     allows it explicitly, or else only when it surely was not acted
 *     on (no connection could be made, or the answer was 429);
 *   - backoff before attempt n+1: d/2 + random(0, d/2) ms with
 *     d = 200 * 2^(n-1), at most 20 s; a Retry-After in seconds replaces
 *     it (at most 30 s);
 *   - never past the stage's timeout: with a ctx, an attempt's timeout is
 *     cut to what is left of it, and no retry starts that it would cut
 *     short; an interrupt (SIGINT/SIGTERM) ends transfers and waits.
 *
 * A request body can be streamed from a file (gantry_http_body_file),
 * each chunk shown to a hook before it leaves, and several requests can
 * run at once (struct gantry_http_pool):
 *
 *	struct gantry_http_pool *pool = gantry_http_pool_new(ctx);
 *	req = gantry_http_new("PUT", url);
 *	gantry_http_body_file(req, fd, 0, size);
 *	gantry_http_body_hook(req, check_digest, &state);
 *	gantry_http_pool_add(pool, req);
 *	while (gantry_http_pool_pending(pool)) {
 *		done = gantry_http_pool_next(pool, 100, &rc);
 *		if (done)
 *			... rc and done's answer, as gantry_http_perform
 *		... check the timeout, draw progress (gantry_http_sent)
 *	}
 *	gantry_http_pool_free(pool);
 *
 * Since ABI 1.0; the streaming body, the stall limit, the pool and
 * gantry_http_sent/gantry_http_transient since ABI 1.1.
 */
#ifndef GANTRY_HTTP_H
#define GANTRY_HTTP_H

#include <stddef.h>
#include <gantry/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_http;

/* A new request; method "GET", "POST", "PUT", "HEAD", ... */
struct gantry_http *gantry_http_new(const char *method, const char *url);

/* Adds a header line "Name: value" (copied). */
void gantry_http_header(struct gantry_http *req, const char *name,
			const char *value);

/* Sets the request body (copied). */
void gantry_http_body(struct gantry_http *req, const char *data, size_t len);

/* Whole-request timeout in milliseconds (default 30000; per attempt). */
void gantry_http_timeout_ms(struct gantry_http *req, long ms);

/*
 * Streams the body from the file descriptor fd: `length` bytes from
 * `offset` on, read with pread(2) as they are sent (never all in
 * memory), again from `offset` for each attempt.  fd is borrowed: it
 * must stay open until the request ends, and the caller closes it.
 * Replaces a gantry_http_body.  Fewer bytes than `length` in the file
 * fail the attempt (not retried).  Since ABI 1.1.
 */
void gantry_http_body_file(struct gantry_http *req, int fd,
			   long long offset, long long length);

/*
 * Calls hook(arg, data, len, offset) with every chunk of a streamed body
 * before it is sent; offset is the chunk's position in the body, and 0
 * starts it again (a new attempt: reset whatever the hook computes, a
 * digest say).  The last chunk ends at offset + len == length.  A
 * non-zero return refuses the chunk: the transfer stops before it leaves
 * and gantry_http_perform returns GANTRY_EFAIL (not retried).  Since ABI
 * 1.1.
 */
void gantry_http_body_hook(struct gantry_http *req,
			   int (*hook)(void *arg, const char *data,
				       size_t len, long long offset),
			   void *arg);

/* Fails an attempt that moves no byte for ms milliseconds.  A request
   with a stall limit has no whole-request timeout unless
   gantry_http_timeout_ms sets one: for uploads whose duration depends on
   their size.  Since ABI 1.1. */
void gantry_http_stall_ms(struct gantry_http *req, long ms);

/* Attempts in all for transient failures (default 3; 1 = no retry).
   Calling it also makes a non-idempotent request (POST, PATCH) one that
   may be retried: the caller says that repeating it is harmless. */
void gantry_http_attempts(struct gantry_http *req, unsigned attempts);

/* Disables TLS peer and host verification.  Only for explicit,
   user-requested insecure endpoints. */
void gantry_http_insecure(struct gantry_http *req);

/* Uses the CA bundle at `path` to verify the peer. */
void gantry_http_cacert(struct gantry_http *req, const char *path);

/*
 * Performs the request.  Returns 0 when a response arrived (any status),
 * GANTRY_EFAIL when none did (the reason in gantry_http_error()),
 * GANTRY_EINTERRUPTED.  ctx may be NULL.
 */
int gantry_http_perform(struct gantry_http *req, struct gantry_ctx *ctx);

long gantry_http_status(const struct gantry_http *req);
const char *gantry_http_response(const struct gantry_http *req, size_t *len);
/* A response header by name (case-insensitive), or NULL. */
const char *gantry_http_response_header(const struct gantry_http *req,
					const char *name);
/* Seconds the request took (last attempt). */
double gantry_http_seconds(const struct gantry_http *req);
const char *gantry_http_error(const struct gantry_http *req);

/* Bytes of a streamed body sent so far in the current (or last)
   attempt: for progress.  Since ABI 1.1. */
long long gantry_http_sent(const struct gantry_http *req);

/* Non-zero when the last attempt ended in a way the retry policy counts
   as transient (no answer for a transient reason, or 429, 500, 502, 503,
   504): for a caller whose retry is more than sending the request again
   (a new upload session, say).  Since ABI 1.1. */
int gantry_http_transient(const struct gantry_http *req);

void gantry_http_free(struct gantry_http *req);

/*
 * Several requests at once, each with the retry policy; they share
 * connections.  ctx (may be NULL) is the stage's, for its timeout.
 * Since ABI 1.1.
 */
struct gantry_http_pool;

struct gantry_http_pool *gantry_http_pool_new(struct gantry_ctx *ctx);

/* Starts req (set up as for gantry_http_perform) alongside the others.
   The pool borrows req until gantry_http_pool_next hands it back;
   meanwhile the caller must not change or free it (gantry_http_sent
   may be read). */
void gantry_http_pool_add(struct gantry_http_pool *pool,
			  struct gantry_http *req);

/* Waits up to wait_ms (0: just looks) for a request to be done, with
   its retries: returns it with what gantry_http_perform would have
   returned in *rc, or NULL when none was done in time or none is left.
   Requests come back in the order they end. */
struct gantry_http *gantry_http_pool_next(struct gantry_http_pool *pool,
					  long wait_ms, int *rc);

/* Requests added and not handed back yet. */
size_t gantry_http_pool_pending(const struct gantry_http_pool *pool);

/* Stops the transfers still running (their requests then hold no
   answer; free them as usual) and frees the pool. */
void gantry_http_pool_free(struct gantry_http_pool *pool);

#ifdef __cplusplus
}
#endif

#endif
