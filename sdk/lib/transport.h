/*
 * transport.h - libgantry's one HTTP transport.  Every curl handle of the
 * SDK is made, configured and driven in transport.c and transport_pool.c;
 * the public gantry_http_* API (http.c), the AWS client (aws*.c) and,
 * through gantry_http_*, the plugins send their requests with it.
 * Private to libgantry: no curl type appears here.
 *
 * Every request gets the same options: TLS peers and host names verified
 * (unless insecure, or with another CA bundle), http and https only,
 * libcurl's verbose output never on (request headers carry tokens), a
 * connect timeout, an attempt timeout or a stall limit, the interrupt
 * flag checked while the transfer runs, the response captured up to a
 * cap, its headers kept.  Connections are shared by every request of
 * the process (one connection cache), so sequential calls to the same
 * host reuse theirs.
 *
 * The retry policy, one for every caller (tx_retry_ms):
 *   - retried: no answer for a transient reason (connect, resolve, send,
 *     receive, TLS handshake, timeout, HTTP/2 stream errors), HTTP 429,
 *     500, 502, 503, 504, and answers the caller marks as throttling
 *     (tx.throttled: the AWS client's Throttling* codes);
 *   - never retried: other statuses, bad URLs, TLS verification
 *     failures, a body that could not be read or that its hook refused,
 *     a response over the cap, an interrupt;
 *   - only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS) unless
 *     the caller says the request is safe to repeat (tx.retry_unsafe),
 *     or the failure shows it was not acted on: no connection could be
 *     made (connect, resolve), or the answer was 429;
 *   - at most tx.attempts attempts in all;
 *   - before attempt n+1 it waits d/2 + random(0, d/2) ms, d = 200 * 2^(n-1)
 *     capped at 20 s; a Retry-After in seconds replaces d (capped at
 *     30 s, and not halved);
 *   - never past the deadline: no retry once the caller's total time
 *     (tx.max_retry_s) would be exceeded, nor when the wait and a
 *     minimal attempt (200 ms) would not fit in what is left of the
 *     stage's timeout (gantry_i_ctx_budget_ms); each attempt's timeout
 *     is cut to that budget; waits end at once on an interrupt.
 */
#ifndef GANTRY_TRANSPORT_H
#define GANTRY_TRANSPORT_H

#include <stddef.h>

#include "internal.h"

#define TX_MIN_ATTEMPT_MS 200L
#define TX_BACKOFF_BASE_MS 200L
#define TX_BACKOFF_CAP_MS 20000L
#define TX_RETRY_AFTER_CAP_S 30L
#define TX_CONNECT_TIMEOUT_MS 10000L
/* Responses past this are refused, not truncated. */
#define TX_MAX_RESPONSE (64UL * 1024 * 1024)

/* Why an attempt got no answer. */
enum tx_fail {
	TX_ANSWERED = 0,	/* a response came (any status) */
	TX_UNSENT,		/* no connection: the request never left */
	TX_TRANSIENT,		/* no answer; a later attempt may get one */
	TX_TIMEDOUT,		/* the attempt's timeout or stall limit */
	TX_FINAL,		/* no answer, and none would come */
	TX_ABORTED,		/* the body could not be read, or its hook
				   refused it */
	TX_TOO_LARGE,		/* the response passed the cap */
	TX_INTERRUPTED		/* SIGINT/SIGTERM */
};

struct tx_header {
	char *name;
	char *value;
};

/*
 * One request and the answer of its last attempt.  The caller fills the
 * request fields (strings are borrowed and must live until the request
 * ends), calls tx_init first and tx_release last.
 */
struct tx {
	const char *method;		/* "GET", "POST", ... */
	const char *url;
	char **headers;			/* "Name: value", tx_header_add */
	size_t nheaders, aheaders;
	const char *body;		/* in memory, len bytes */
	size_t len;
	int has_body;			/* send body (or an empty one) */
	int fd;				/* >= 0: body streamed from fd */
	long long offset, length;	/* its range */
	/* Sees every chunk of a streamed body before it is sent; offset 0
	   starts the body again (a new attempt).  Non-zero refuses the
	   chunk and ends the attempt (TX_ABORTED). */
	int (*hook)(void *arg, const char *data, size_t len,
		    long long offset);
	void *hook_arg;
	long timeout_ms;		/* per attempt; 0: none */
	long stall_ms;			/* 0: none */
	int insecure;
	const char *cacert;
	const char *sigv4;		/* "aws:amz:<region>:<service>" */
	const char *user, *password;	/* for sigv4 */

	/* The retry policy's settings. */
	unsigned attempts;		/* in all; 0 counts as 1 */
	int retry_unsafe;		/* a non-idempotent method may be
					   repeated */
	double max_retry_s;		/* 0: no limit of its own */
	const struct gantry_ctx *ctx;	/* the deadline; may be NULL */
	int throttled;			/* set by the caller: retry this
					   answer */

	/* The last attempt's answer. */
	enum tx_fail fail;
	long status;
	struct gantry_buf resp;
	struct tx_header *rh;
	size_t nrh, arh;
	double seconds;
	long long sent;			/* body bytes read so far */
	char *error;			/* why no answer (fail != 0) */
	unsigned attempt;		/* attempts made */
	double started;			/* gantry_now() of the first */

	/* transport.c's own. */
	void *easy;
	void *slist;
	unsigned seed;
	double wake;			/* in a pool: retry not before */
	int cc;
	char errbuf[256];
};

void tx_init(struct tx *tx);
void tx_release(struct tx *tx);
/* Adds the header line "Name: value". */
void tx_header_add(struct tx *tx, const char *name, const char *value);
/* Adds a ready "Name: value" line. */
void tx_header_line(struct tx *tx, const char *line);
/* A response header of the last attempt by name (any case), or NULL. */
const char *tx_response_header(const struct tx *tx, const char *name);

/* One attempt, blocking; the answer (or why none came) in tx.  0 when a
   response came, -1 otherwise. */
int tx_attempt(struct tx *tx);

/* Whether the last attempt's outcome is one the policy retries
   (regardless of attempts left and deadlines). */
int tx_transient(const struct tx *tx);
/* The policy: milliseconds to wait before the next attempt, or -1 when
   there is to be none. */
long tx_retry_ms(struct tx *tx);
/* The attempt timeout the deadline allows: timeout_ms (0: none), cut
   to the ctx's budget; -1 when no attempt fits any more (an attempt
   then fails at once, TX_TIMEDOUT). */
long tx_attempt_timeout(const struct tx *tx);
/* Sleeps ms in slices; -1 as soon as an interrupt arrives. */
int tx_nap(long ms);

/* Attempts with the policy's retries until an answer that is not to be
   retried, a final failure or the end of the attempts.  0 when a
   response came (any status), -1 otherwise (fail and error say why). */
int tx_perform(struct tx *tx);

/* Several requests at once, each with the policy's retries; the
   requests are borrowed until tx_pool_next hands them back. */
struct tx_pool;
struct tx_pool *tx_pool_new(void);
void tx_pool_add(struct tx_pool *pool, struct tx *tx);
/* A request that is done (tx_perform's result in *rc), or NULL when none
   finished within wait_ms or none is pending. */
struct tx *tx_pool_next(struct tx_pool *pool, long wait_ms, int *rc);
size_t tx_pool_pending(const struct tx_pool *pool);
/* Stops what is still running; the requests are not freed. */
void tx_pool_free(struct tx_pool *pool);

/* transport.c's internals for transport_pool.c. */
void *tx_i_prepare(struct tx *tx);
int tx_i_finish(struct tx *tx, int cc);

/* Appends s (n bytes) percent-encoded as RFC 3986 says (everything but
   A-Z a-z 0-9 - . _ ~). */
void gantry_i_url_escape(struct gantry_buf *b, const char *s, size_t n);

#endif
