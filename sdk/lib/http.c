/*
 * http.c - HTTP requests over libcurl's easy interface, with retries of
 * transient failures (no response, 429, 5xx): exponential backoff with
 * jitter, Retry-After honoured.
 *
 * Request headers are never logged: they carry tokens.
 */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_ATTEMPTS 3
#define HTTP_BACKOFF_BASE_MS 200L
#define HTTP_BACKOFF_CAP_MS 5000L
#define HTTP_RETRY_AFTER_CAP_S 30L

struct http_header {
	char *name;
	char *value;
};

struct gantry_http {
	char *method;
	char *url;
	struct curl_slist *headers;
	int has_expect;
	char *body;
	size_t bodylen;
	int has_body;
	long timeout_ms;
	unsigned attempts;
	int insecure;
	char *cacert;

	/* The response of the last attempt. */
	long status;
	struct gantry_buf resp;
	struct http_header *rh;
	size_t nrh, arh;
	double seconds;
	char *error;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct gantry_http *gantry_http_new(const char *method, const char *url)
{
	struct gantry_http *req;

	if (!url)
		return NULL;
	req = gantry_xcalloc(1, sizeof(*req));
	req->method = gantry_xstrdup(method && *method ? method : "GET");
	req->url = gantry_xstrdup(url);
	req->timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	req->attempts = HTTP_DEFAULT_ATTEMPTS;
	gantry_buf_init(&req->resp);
	return req;
}

void gantry_http_header(struct gantry_http *req, const char *name,
			const char *value)
{
	struct curl_slist *l;
	char *line;

	if (!req || !name || !value)
		return;
	line = gantry_xasprintf("%s: %s", name, value);
	l = curl_slist_append(req->headers, line);
	free(line);
	if (!l)
		return;
	req->headers = l;
	if (!strcasecmp(name, "Expect"))
		req->has_expect = 1;
}

void gantry_http_body(struct gantry_http *req, const char *data, size_t len)
{
	if (!req)
		return;
	free(req->body);
	req->body = gantry_xstrndup(data ? data : "", data ? len : 0);
	req->bodylen = data ? len : 0;
	req->has_body = 1;
}

void gantry_http_timeout_ms(struct gantry_http *req, long ms)
{
	if (req && ms > 0)
		req->timeout_ms = ms;
}

void gantry_http_attempts(struct gantry_http *req, unsigned attempts)
{
	if (req)
		req->attempts = attempts ? attempts : 1;
}

void gantry_http_insecure(struct gantry_http *req)
{
	if (req)
		req->insecure = 1;
}

void gantry_http_cacert(struct gantry_http *req, const char *path)
{
	if (!req)
		return;
	free(req->cacert);
	req->cacert = path ? gantry_xstrdup(path) : NULL;
}

long gantry_http_status(const struct gantry_http *req)
{
	return req ? req->status : 0;
}

const char *gantry_http_response(const struct gantry_http *req, size_t *len)
{
	if (len)
		*len = req ? req->resp.len : 0;
	return req ? req->resp.buf : "";
}

const char *gantry_http_response_header(const struct gantry_http *req,
					const char *name)
{
	size_t i;

	if (!req || !name)
		return NULL;
	for (i = 0; i < req->nrh; i++)
		if (!strcasecmp(req->rh[i].name, name))
			return req->rh[i].value;
	return NULL;
}

double gantry_http_seconds(const struct gantry_http *req)
{
	return req ? req->seconds : 0;
}

const char *gantry_http_error(const struct gantry_http *req)
{
	return req ? req->error : NULL;
}

static void headers_clear(struct gantry_http *req)
{
	size_t i;

	for (i = 0; i < req->nrh; i++) {
		free(req->rh[i].name);
		free(req->rh[i].value);
	}
	req->nrh = 0;
}

static void response_clear(struct gantry_http *req)
{
	headers_clear(req);
	gantry_buf_reset(&req->resp);
	req->status = 0;
	req->seconds = 0;
	free(req->error);
	req->error = NULL;
}

void gantry_http_free(struct gantry_http *req)
{
	if (!req)
		return;
	response_clear(req);
	free(req->rh);
	gantry_buf_release(&req->resp);
	curl_slist_free_all(req->headers);
	free(req->method);
	free(req->url);
	free(req->body);
	free(req->cacert);
	free(req);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct gantry_http *req = arg;

	gantry_buf_add(&req->resp, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct gantry_http *req = arg;
	size_t len = size * n, nl;
	const char *colon, *v, *end = data + len;

	/* A new status line (after 100 Continue, say) starts a new set. */
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		headers_clear(req);
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
			   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	nl = (size_t)(colon - data);
	GANTRY_GROW(req->rh, req->nrh + 1, req->arh);
	req->rh[req->nrh].name = gantry_xstrndup(data, nl);
	req->rh[req->nrh].value = gantry_xstrndup(v, (size_t)(end - v));
	req->nrh++;
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	return gantry_i_interrupted != 0;
}

static void setup(CURL *h, struct gantry_http *req, char *errbuf,
		  struct curl_slist *headers)
{
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 req->timeout_ms < 10000 ? req->timeout_ms : 10000L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (req->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (req->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, req->cacert);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	if (!strcmp(req->method, "GET") && !req->has_body) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (req->has_body || !strcmp(req->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->bodylen);
	}
	if (strcmp(req->method, "POST"))
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
}

/* True for failures a later attempt may not see: no connection, a
   dropped one, a timeout.  Bad URLs and TLS verification are final. */
static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_OUT_OF_MEMORY:
	case CURLE_ABORTED_BY_CALLBACK:
		return 0;
	default:
		return 1;
	}
}

/* Milliseconds to wait before attempt `next` (2, 3, ...). */
static long backoff_ms(const struct gantry_http *req, unsigned next,
		       unsigned *seed)
{
	const char *ra = gantry_http_response_header(req, "Retry-After");
	long ms = HTTP_BACKOFF_BASE_MS;
	unsigned i;

	if (ra && req->status) {
		char *end;
		long s = strtol(ra, &end, 10);

		/* Only the delta-seconds form; an HTTP date falls back to
		   our own schedule. */
		if (end != ra && !*end && s >= 0)
			return (s < HTTP_RETRY_AFTER_CAP_S ?
				s : HTTP_RETRY_AFTER_CAP_S) * 1000;
	}
	for (i = 2; i < next && ms < HTTP_BACKOFF_CAP_MS; i++)
		ms *= 2;
	if (ms > HTTP_BACKOFF_CAP_MS)
		ms = HTTP_BACKOFF_CAP_MS;
	/* Half fixed, half random: spread clients that failed together. */
	return ms / 2 + (long)(rand_r(seed) % (unsigned)(ms / 2 + 1));
}

/* Sleeps ms, in slices, so an interrupt is noticed; 0 or -1 if one was. */
static int nap(long ms)
{
	while (ms > 0 && !gantry_i_interrupted) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = { 0, slice * 1000000L };

		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return gantry_i_interrupted ? -1 : 0;
}

int gantry_http_perform(struct gantry_http *req, struct gantry_ctx *ctx)
{
	char errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers, *expect = NULL;
	unsigned attempt, seed;
	CURL *h;
	CURLcode rc = CURLE_OK;
	int result = GANTRY_EFAIL, interrupted = 0;

	if (!req)
		return GANTRY_EFAIL;
	response_clear(req);
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK || !(h = curl_easy_init())) {
		req->error = gantry_xasprintf("cannot reach %s: %s",
						req->url,
						"libcurl failed to initialise");
		return GANTRY_EFAIL;
	}
	/* curl would otherwise wait a second for "100 Continue" before
	   sending a large body; servers answer without it. */
	headers = req->headers;
	if (!req->has_expect && req->has_body) {
		expect = curl_slist_append(NULL, "Expect:");
		if (expect) {
			expect->next = req->headers;
			headers = expect;
		}
	}
	seed = (unsigned)getpid() ^ (unsigned)(gantry_now() * 1e6);

	for (attempt = 1; attempt <= req->attempts; attempt++) {
		if (attempt > 1) {
			long ms = backoff_ms(req, attempt, &seed);

			gantry_log(ctx, GANTRY_LOG_DEBUG,
				   "%s %s: %s; retrying in %ld ms (attempt %u "
				   "of %u)", req->method, req->url,
				   req->status ? "transient status" :
				   req->error, ms, attempt, req->attempts);
			if (nap(ms) < 0) {
				interrupted = 1;
				break;
			}
			response_clear(req);
		}
		if (gantry_i_interrupted) {
			interrupted = 1;
			break;
		}
		errbuf[0] = '\0';
		curl_easy_reset(h);
		setup(h, req, errbuf, headers);
		rc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &req->seconds);
		if (rc == CURLE_OK) {
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE,
					  &req->status);
			result = GANTRY_OK;
			if (req->status != 429 && req->status < 500)
				break;
			continue;
		}
		result = GANTRY_EFAIL;
		req->status = 0;
		req->error = gantry_xasprintf("cannot reach %s: %s", req->url,
						errbuf[0] ? errbuf :
						curl_easy_strerror(rc));
		interrupted = rc == CURLE_ABORTED_BY_CALLBACK;
		if (!transient(rc))
			break;
	}
	if (interrupted) {
		result = GANTRY_EINTERRUPTED;
		free(req->error);
		req->error = gantry_xasprintf("request to %s interrupted",
						req->url);
	}
	if (expect) {
		expect->next = NULL;
		curl_slist_free_all(expect);
	}
	curl_easy_cleanup(h);
	return result;
}
