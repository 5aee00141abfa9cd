/*
 * http.c - the public gantry_http_* API (gantry/http.h) over the one
 * transport (transport.h), which owns the curl handles and the retry
 * policy.
 *
 * Request headers are never logged: they carry tokens.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_ATTEMPTS 3

struct gantry_http {
	struct tx tx;
	char *method;
	char *url;
	char *body;
	char *cacert;
	int attempts_set;
	int timeout_set;
};

struct gantry_http *gantry_http_new(const char *method, const char *url)
{
	struct gantry_http *req;

	if (!url)
		return NULL;
	req = gantry_xcalloc(1, sizeof(*req));
	tx_init(&req->tx);
	req->method = gantry_xstrdup(method && *method ? method : "GET");
	req->url = gantry_xstrdup(url);
	req->tx.method = req->method;
	req->tx.url = req->url;
	req->tx.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	req->tx.attempts = HTTP_DEFAULT_ATTEMPTS;
	return req;
}

void gantry_http_header(struct gantry_http *req, const char *name,
			const char *value)
{
	if (req && name && value)
		tx_header_add(&req->tx, name, value);
}

void gantry_http_body(struct gantry_http *req, const char *data, size_t len)
{
	if (!req)
		return;
	free(req->body);
	req->body = gantry_xstrndup(data ? data : "", data ? len : 0);
	req->tx.body = req->body;
	req->tx.len = data ? len : 0;
	req->tx.has_body = 1;
	req->tx.fd = -1;
}

void gantry_http_body_file(struct gantry_http *req, int fd,
			   long long offset, long long length)
{
	if (!req || fd < 0 || offset < 0 || length < 0)
		return;
	free(req->body);
	req->body = NULL;
	req->tx.body = NULL;
	req->tx.len = 0;
	req->tx.has_body = 1;
	req->tx.fd = fd;
	req->tx.offset = offset;
	req->tx.length = length;
}

void gantry_http_body_hook(struct gantry_http *req,
			   int (*hook)(void *arg, const char *data,
				       size_t len, long long offset),
			   void *arg)
{
	if (!req)
		return;
	req->tx.hook = hook;
	req->tx.hook_arg = arg;
}

void gantry_http_timeout_ms(struct gantry_http *req, long ms)
{
	if (req && ms > 0) {
		req->tx.timeout_ms = ms;
		req->timeout_set = 1;
	}
}

void gantry_http_stall_ms(struct gantry_http *req, long ms)
{
	if (!req || ms <= 0)
		return;
	req->tx.stall_ms = ms;
	if (!req->timeout_set)
		req->tx.timeout_ms = 0;
}

void gantry_http_attempts(struct gantry_http *req, unsigned attempts)
{
	if (!req)
		return;
	req->tx.attempts = attempts ? attempts : 1;
	/* Asked for: the caller knows a repeat is harmless. */
	req->tx.retry_unsafe = 1;
}

void gantry_http_insecure(struct gantry_http *req)
{
	if (req)
		req->tx.insecure = 1;
}

void gantry_http_cacert(struct gantry_http *req, const char *path)
{
	if (!req)
		return;
	free(req->cacert);
	req->cacert = path ? gantry_xstrdup(path) : NULL;
	req->tx.cacert = req->cacert;
}

long gantry_http_status(const struct gantry_http *req)
{
	return req ? req->tx.status : 0;
}

const char *gantry_http_response(const struct gantry_http *req, size_t *len)
{
	if (len)
		*len = req ? req->tx.resp.len : 0;
	return req ? req->tx.resp.buf : "";
}

const char *gantry_http_response_header(const struct gantry_http *req,
					const char *name)
{
	return req ? tx_response_header(&req->tx, name) : NULL;
}

double gantry_http_seconds(const struct gantry_http *req)
{
	return req ? req->tx.seconds : 0;
}

long long gantry_http_sent(const struct gantry_http *req)
{
	return req ? req->tx.sent : 0;
}

int gantry_http_transient(const struct gantry_http *req)
{
	return req ? tx_transient(&req->tx) : 0;
}

/* The message: the transport's reason, named for the URL. */
const char *gantry_http_error(const struct gantry_http *req)
{
	return req ? req->tx.error : NULL;
}

void gantry_http_free(struct gantry_http *req)
{
	if (!req)
		return;
	tx_release(&req->tx);
	free(req->method);
	free(req->url);
	free(req->body);
	free(req->cacert);
	free(req);
}

/* Turns the transport's outcome into gantry_http_perform's result, the
   reason into a message that names the URL. */
static int result(struct gantry_http *req)
{
	struct tx *tx = &req->tx;
	char *msg;

	if (tx->fail == TX_ANSWERED)
		return GANTRY_OK;
	if (tx->fail == TX_INTERRUPTED)
		msg = gantry_xasprintf("request to %s interrupted", req->url);
	else
		msg = gantry_xasprintf("cannot reach %s: %s", req->url,
					 tx->error ? tx->error : "no answer");
	free(tx->error);
	tx->error = msg;
	return tx->fail == TX_INTERRUPTED ? GANTRY_EINTERRUPTED : GANTRY_EFAIL;
}

int gantry_http_perform(struct gantry_http *req, struct gantry_ctx *ctx)
{
	if (!req)
		return GANTRY_EFAIL;
	req->tx.ctx = ctx;
	req->tx.attempt = 0;
	tx_perform(&req->tx);
	return result(req);
}

struct gantry_http_pool {
	struct tx_pool *pool;
	struct gantry_ctx *ctx;
};

struct gantry_http_pool *gantry_http_pool_new(struct gantry_ctx *ctx)
{
	struct gantry_http_pool *p = gantry_xcalloc(1, sizeof(*p));

	p->pool = tx_pool_new();
	p->ctx = ctx;
	return p;
}

void gantry_http_pool_add(struct gantry_http_pool *pool,
			  struct gantry_http *req)
{
	if (!pool || !req)
		return;
	req->tx.ctx = pool->ctx;
	req->tx.attempt = 0;
	tx_pool_add(pool->pool, &req->tx);
}

struct gantry_http *gantry_http_pool_next(struct gantry_http_pool *pool,
					  long wait_ms, int *rc)
{
	struct gantry_http *req;
	struct tx *tx;
	int r;

	if (rc)
		*rc = GANTRY_OK;
	if (!pool)
		return NULL;
	tx = tx_pool_next(pool->pool, wait_ms, &r);
	if (!tx)
		return NULL;
	/* tx is the first member of its gantry_http. */
	req = (struct gantry_http *)(void *)tx;
	r = result(req);
	if (rc)
		*rc = r;
	return req;
}

size_t gantry_http_pool_pending(const struct gantry_http_pool *pool)
{
	return pool ? tx_pool_pending(pool->pool) : 0;
}

void gantry_http_pool_free(struct gantry_http_pool *pool)
{
	if (!pool)
		return;
	tx_pool_free(pool->pool);
	free(pool);
}
