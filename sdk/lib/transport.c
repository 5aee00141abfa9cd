/*
 * transport.c - the one HTTP transport (transport.h): the curl handles,
 * their options, one attempt, and the retry policy.  Several requests at
 * once are transport_pool.c's.
 *
 * Request headers are never logged and libcurl's verbose output is never
 * turned on: they carry tokens.
 */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "transport.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;
static CURLSH *share;
static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a,
		       void *arg)
{
	(void)h;
	(void)a;
	(void)arg;
	pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
	(void)h;
	(void)arg;
	pthread_mutex_unlock(&share_locks[data]);
}

/* One connection cache and DNS cache for the whole process. */
static void curl_init(void)
{
	size_t i;

	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (curl_init_rc != CURLE_OK)
		return;
	for (i = 0; i < GANTRY_ARRAY_SIZE(share_locks); i++)
		pthread_mutex_init(&share_locks[i], NULL);
	share = curl_share_init();
	if (!share)
		return;
	curl_share_setopt(share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
}

void tx_init(struct tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->fd = -1;
	tx->attempts = 1;
	gantry_buf_init(&tx->resp);
}

static void headers_clear(struct tx *tx)
{
	size_t i;

	for (i = 0; i < tx->nrh; i++) {
		free(tx->rh[i].name);
		free(tx->rh[i].value);
	}
	tx->nrh = 0;
}

static void response_clear(struct tx *tx)
{
	headers_clear(tx);
	gantry_buf_reset(&tx->resp);
	tx->fail = TX_ANSWERED;
	tx->status = 0;
	tx->seconds = 0;
	tx->sent = 0;
	tx->cc = 0;
	tx->errbuf[0] = '\0';
	free(tx->error);
	tx->error = NULL;
}

void tx_release(struct tx *tx)
{
	size_t i;

	response_clear(tx);
	free(tx->rh);
	gantry_buf_release(&tx->resp);
	for (i = 0; i < tx->nheaders; i++) {
		/* they may hold a token */
		memset(tx->headers[i], 0, strlen(tx->headers[i]));
		free(tx->headers[i]);
	}
	free(tx->headers);
	curl_slist_free_all(tx->slist);
	if (tx->easy)
		curl_easy_cleanup(tx->easy);
	tx_init(tx);
}

void tx_header_line(struct tx *tx, const char *line)
{
	GANTRY_GROW(tx->headers, tx->nheaders + 1, tx->aheaders);
	tx->headers[tx->nheaders++] = gantry_xstrdup(line);
}

void tx_header_add(struct tx *tx, const char *name, const char *value)
{
	char *line = gantry_xasprintf("%s: %s", name, value);

	tx_header_line(tx, line);
	memset(line, 0, strlen(line));
	free(line);
}

static int has_header(const struct tx *tx, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < tx->nheaders; i++)
		if (!strncasecmp(tx->headers[i], name, n) &&
		    tx->headers[i][n] == ':')
			return 1;
	return 0;
}

const char *tx_response_header(const struct tx *tx, const char *name)
{
	size_t i;

	for (i = 0; name && i < tx->nrh; i++)
		if (!strcasecmp(tx->rh[i].name, name))
			return tx->rh[i].value;
	return NULL;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct tx *tx = arg;

	if (tx->resp.len + size * n > TX_MAX_RESPONSE) {
		tx->fail = TX_TOO_LARGE;
		return 0;
	}
	gantry_buf_add(&tx->resp, data, size * n);
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct tx *tx = arg;
	size_t len = size * n, nl;
	const char *colon, *v, *end = data + len;

	/* A new status line (after 100 Continue, say) starts a new set. */
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		headers_clear(tx);
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
	GANTRY_GROW(tx->rh, tx->nrh + 1, tx->arh);
	tx->rh[tx->nrh].name = gantry_xstrndup(data, nl);
	tx->rh[tx->nrh].value = gantry_xstrndup(v, (size_t)(end - v));
	tx->nrh++;
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return gantry_i_interrupted != 0;
}

/* A streamed body: the next bytes of the file range, shown to the hook
   before they leave. */
static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct tx *tx = arg;
	long long left = tx->length - tx->sent;
	size_t want = size * n;
	ssize_t got;

	if (left <= 0)
		return 0;
	if ((long long)want > left)
		want = (size_t)left;
	do
		got = pread(tx->fd, buf, want, (off_t)(tx->offset + tx->sent));
	while (got < 0 && errno == EINTR);
	if (got <= 0) {
		tx->fail = TX_ABORTED;
		tx->error = gantry_xasprintf("cannot read the body: %s (%lld "
					       "of %lld bytes)", got < 0 ?
					       strerror(errno) :
					       "the file is shorter",
					       tx->sent, tx->length);
		return CURL_READFUNC_ABORT;
	}
	if (tx->hook && tx->hook(tx->hook_arg, buf, (size_t)got, tx->sent)) {
		tx->fail = TX_ABORTED;
		tx->error = gantry_xasprintf("the body was refused by its "
					       "hook at byte %lld", tx->sent);
		return CURL_READFUNC_ABORT;
	}
	tx->sent += got;
	return (size_t)got;
}

/* curl rewinds a body it must send again (a redirect, say). */
static int on_seek(void *arg, curl_off_t offset, int origin)
{
	struct tx *tx = arg;

	if (origin != SEEK_SET || offset < 0 || offset > tx->length)
		return CURL_SEEKFUNC_CANTSEEK;
	tx->sent = offset;
	return CURL_SEEKFUNC_OK;
}

static const char *attempt_error(CURLcode cc)
{
	return curl_easy_strerror(cc);
}

/* The header list: the caller's, and no 100-continue wait. */
static struct curl_slist *slist_of(const struct tx *tx)
{
	struct curl_slist *l = NULL, *n;
	size_t i;

	for (i = 0; i < tx->nheaders; i++) {
		n = curl_slist_append(l, tx->headers[i]);
		if (!n)
			abort();
		l = n;
	}
	/* curl would otherwise wait a second for "100 Continue" before a
	   large body.  A signed request cannot blank the header (curl
	   7.88 signs it yet does not send it): its wait is cut short. */
	if ((tx->has_body || tx->fd >= 0) && !tx->sigv4 &&
	    !has_header(tx, "Expect")) {
		n = curl_slist_append(l, "Expect:");
		if (!n)
			abort();
		l = n;
	}
	return l;
}

void *tx_i_prepare(struct tx *tx)
{
	long timeout = tx_attempt_timeout(tx);
	long connect;
	CURL *h;

	response_clear(tx);
	if (timeout < 0) {
		tx->fail = TX_TIMEDOUT;
		tx->error = gantry_xasprintf("no time left of the stage's %u s "
					       "timeout", tx->ctx->timeout);
		return NULL;
	}
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		tx->fail = TX_FINAL;
		tx->error = gantry_xstrdup("libcurl failed to initialise");
		return NULL;
	}
	if (!tx->easy && !(tx->easy = curl_easy_init()))
		abort();
	h = tx->easy;
	/* reset keeps the handle's connections; the share keeps all. */
	curl_easy_reset(h);
	if (share)
		curl_easy_setopt(h, CURLOPT_SHARE, share);
	curl_slist_free_all(tx->slist);
	tx->slist = slist_of(tx);
	curl_easy_setopt(h, CURLOPT_URL, tx->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, tx->errbuf);
	connect = TX_CONNECT_TIMEOUT_MS;
	if (timeout > 0) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
		if (timeout < connect)
			connect = timeout;
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect);
	if (tx->stall_ms > 0) {
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
				 (tx->stall_ms + 999) / 1000);
	}
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, tx);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, tx);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_PRIVATE, tx);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (tx->insecure) {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (tx->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, tx->cacert);
	if (tx->slist)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, tx->slist);
	if (tx->sigv4) {
		curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 1L);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, tx->sigv4);
		curl_easy_setopt(h, CURLOPT_USERNAME, tx->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, tx->password);
	}

	if (!strcmp(tx->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (tx->fd >= 0) {
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h, CURLOPT_READDATA, tx);
		curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(h, CURLOPT_SEEKDATA, tx);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)tx->length);
		curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
		if (strcmp(tx->method, "PUT"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 tx->method);
	} else if (tx->has_body || !strcmp(tx->method, "POST")) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 tx->body ? tx->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(tx->body ? tx->len : 0));
		if (strcmp(tx->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 tx->method);
	} else {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		if (strcmp(tx->method, "GET"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 tx->method);
	}
	if (!tx->attempt++)
		tx->started = gantry_now();
	return h;
}

/* Failures a later attempt may not see: no connection, a dropped one, a
   timeout.  Bad URLs and TLS verification are final. */
static enum tx_fail classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return TX_TIMEDOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return TX_UNSENT;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return TX_TRANSIENT;
	case CURLE_ABORTED_BY_CALLBACK:
		return TX_INTERRUPTED;
	default:
		return TX_FINAL;
	}
}

int tx_i_finish(struct tx *tx, int cc)
{
	CURL *h = tx->easy;

	tx->cc = cc;
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &tx->seconds);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &tx->status);
		tx->fail = TX_ANSWERED;
		return 0;
	}
	tx->status = 0;
	/* on_body and on_read said why they stopped the transfer. */
	if (tx->fail == TX_TOO_LARGE) {
		free(tx->error);
		tx->error = gantry_xasprintf("the response is larger than %lu "
					       "bytes", TX_MAX_RESPONSE);
		return -1;
	}
	if (tx->fail == TX_ABORTED && tx->error)
		return -1;
	tx->fail = classify((CURLcode)cc);
	if (gantry_i_interrupted && tx->fail != TX_ANSWERED)
		tx->fail = TX_INTERRUPTED;
	free(tx->error);
	tx->error = gantry_xstrdup(tx->errbuf[0] ? tx->errbuf :
				   attempt_error((CURLcode)cc));
	return -1;
}

int tx_attempt(struct tx *tx)
{
	CURL *h;

	if (gantry_i_interrupted) {
		response_clear(tx);
		tx->fail = TX_INTERRUPTED;
		tx->error = gantry_xstrdup("interrupted");
		return -1;
	}
	h = tx_i_prepare(tx);
	if (!h)
		return -1;
	return tx_i_finish(tx, curl_easy_perform(h));
}

int tx_transient(const struct tx *tx)
{
	switch (tx->fail) {
	case TX_UNSENT:
	case TX_TRANSIENT:
	case TX_TIMEDOUT:
		return 1;
	case TX_ANSWERED:
		break;
	default:
		return 0;
	}
	switch (tx->status) {
	case 429:
	case 500:
	case 502:
	case 503:
	case 504:
		return 1;
	default:
		return tx->throttled;
	}
}

static int idempotent(const char *method)
{
	static const char *const safe[] = {
		"GET", "HEAD", "PUT", "DELETE", "OPTIONS"
	};
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(safe); i++)
		if (!strcmp(method, safe[i]))
			return 1;
	return 0;
}

long tx_attempt_timeout(const struct tx *tx)
{
	long budget = gantry_i_ctx_budget_ms(tx->ctx, TX_MIN_ATTEMPT_MS);

	if (budget < 0)
		return tx->timeout_ms;
	if (budget == 0)
		return -1;
	return tx->timeout_ms > 0 && tx->timeout_ms < budget ?
		tx->timeout_ms : budget;
}

/* Retry-After in seconds, capped; -1 without one (an HTTP date falls
   back to our own schedule). */
static long retry_after_ms(const struct tx *tx)
{
	const char *ra = tx_response_header(tx, "Retry-After");
	char *end;
	long s;

	if (!ra || tx->fail != TX_ANSWERED)
		return -1;
	s = strtol(ra, &end, 10);
	if (end == ra || *end || s < 0)
		return -1;
	return (s < TX_RETRY_AFTER_CAP_S ? s : TX_RETRY_AFTER_CAP_S) * 1000;
}

long tx_retry_ms(struct tx *tx)
{
	long ms, d = TX_BACKOFF_BASE_MS, budget;
	unsigned i;

	if (!tx_transient(tx) || gantry_i_interrupted)
		return -1;
	if (tx->attempt >= (tx->attempts ? tx->attempts : 1))
		return -1;
	/* A request that may not be repeated is, when it surely was not
	   acted on: no connection, or refused with 429. */
	if (!tx->retry_unsafe && !idempotent(tx->method) &&
	    tx->fail != TX_UNSENT &&
	    !(tx->fail == TX_ANSWERED && tx->status == 429))
		return -1;
	if (!tx->seed)
		tx->seed = (unsigned)getpid() ^ (unsigned)(gantry_now() * 1e6) ^
			(unsigned)(size_t)tx;
	ms = retry_after_ms(tx);
	if (ms < 0) {
		for (i = 1; i < tx->attempt && d < TX_BACKOFF_CAP_MS; i++)
			d *= 2;
		if (d > TX_BACKOFF_CAP_MS)
			d = TX_BACKOFF_CAP_MS;
		/* Half fixed, half random: spread clients that failed
		   together, yet give the server a breather. */
		ms = d / 2 + (long)(rand_r(&tx->seed) % (unsigned)(d / 2 + 1));
	}
	if (tx->max_retry_s > 0 &&
	    gantry_now() - tx->started + ms / 1000.0 > tx->max_retry_s)
		return -1;
	/* No retry the stage's timeout would cut short: the last error
	   says more than "no time left". */
	budget = gantry_i_ctx_budget_ms(tx->ctx, 0);
	if (budget >= 0 && ms + TX_MIN_ATTEMPT_MS > budget)
		return -1;
	return ms;
}

int tx_nap(long ms)
{
	while (ms > 0 && !gantry_i_interrupted) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = { 0, slice * 1000000L };

		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return gantry_i_interrupted ? -1 : 0;
}

int tx_perform(struct tx *tx)
{
	for (;;) {
		long ms;

		tx_attempt(tx);
		ms = tx_retry_ms(tx);
		if (ms < 0)
			break;
		gantry_debug(tx->ctx, "%s %s: %s; retrying in %ld ms (attempt "
			     "%u of %u)", tx->method, tx->url,
			     tx->fail ? tx->error : "transient status", ms,
			     tx->attempt + 1, tx->attempts);
		if (tx_nap(ms) < 0) {
			response_clear(tx);
			tx->fail = TX_INTERRUPTED;
			tx->error = gantry_xstrdup("interrupted");
			break;
		}
	}
	return tx->fail == TX_ANSWERED ? 0 : -1;
}

void gantry_i_url_escape(struct gantry_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			gantry_buf_addch(b, (char)c);
		} else {
			gantry_buf_addch(b, '%');
			gantry_buf_addch(b, hex[c >> 4]);
			gantry_buf_addch(b, hex[c & 15]);
		}
	}
}
