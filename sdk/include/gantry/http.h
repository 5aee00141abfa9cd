/*
 * gantry/http.h - HTTP requests over libcurl, without libcurl in sight.
 *
 * TLS peers are verified by default; proxies come from the usual
 * environment variables (http_proxy, https_proxy, no_proxy).  Transient
 * failures (connection errors, 429, 5xx) are retried with exponential
 * backoff and jitter, honouring Retry-After.
 *
 * Since ABI 1.0.
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

/* Whole-request timeout in milliseconds (default 30000). */
void gantry_http_timeout_ms(struct gantry_http *req, long ms);

/* Attempts in all for transient failures (default 3; 1 = no retry). */
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

void gantry_http_free(struct gantry_http *req);

#ifdef __cplusplus
}
#endif

#endif
