/*
 * check_http.c - HTTP requests against a scripted HTTP/1.1 server in a
 * thread on 127.0.0.1: status, body and headers both ways, the retry
 * policy (429, 500, 502-504 retried with backoff and Retry-After; other
 * statuses, and non-idempotent requests not; the stage's deadline
 * respected), connection failures, bodies streamed from a file through a
 * hook, and several requests at once in a pool.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gantry/digest.h>
#include "internal.h"

#define MAX_RESPONSES 4

/*
 * Answers each connection with the next scripted response, then closes
 * it; stops after the last one, when told to, or after 5 s without a
 * connection.
 */
struct server {
	int fd;
	int stop[2];
	int port;
	const char *responses[MAX_RESPONSES];
	size_t nresp;
	struct gantry_buf req[MAX_RESPONSES];
	size_t served;
	int together;		/* accept every connection, then answer */
	pthread_t thread;
};

static int wait_readable(int fd, int stop_fd, int ms)
{
	struct pollfd p[2] = { { fd, POLLIN, 0 }, { stop_fd, POLLIN, 0 } };

	/* A connection already waiting is served even once stop is asked:
	   the client made it before the test stopped the server. */
	return poll(p, 2, ms) > 0 && (p[0].revents & POLLIN);
}

/* Reads one request (head and Content-Length body) into b. */
static void read_request(struct server *srv, int c, struct gantry_buf *b)
{
	char chunk[4096];
	const char *end, *cl;
	size_t want = 0;

	for (;;) {
		ssize_t n;

		end = strstr(b->buf, "\r\n\r\n");
		if (end) {
			cl = strcasestr(b->buf, "\r\nContent-Length:");
			want = (size_t)(end + 4 - b->buf) +
			       (cl && cl < end ? strtoul(cl + 17, NULL, 10) :
				0);
			if (b->len >= want)
				return;
		}
		if (!wait_readable(c, srv->stop[0], 5000))
			return;
		n = read(c, chunk, sizeof(chunk));
		if (n <= 0)
			return;
		gantry_buf_add(b, chunk, (size_t)n);
	}
}

/* Answers only once all nresp connections are open: a client that
   sent its requests one after the other would never get an answer. */
static void serve_together(struct server *srv)
{
	int c[MAX_RESPONSES];
	size_t i, n = 0;

	while (n < srv->nresp) {
		if (!wait_readable(srv->fd, srv->stop[0], 5000))
			break;
		c[n] = accept(srv->fd, NULL, NULL);
		if (c[n] < 0)
			break;
		read_request(srv, c[n], &srv->req[n]);
		n++;
	}
	for (i = 0; i < n; i++) {
		if (n == srv->nresp &&
		    write(c[i], srv->responses[i],
			  strlen(srv->responses[i])) > 0)
			srv->served++;
		close(c[i]);
	}
}

static void *serve(void *arg)
{
	struct server *srv = arg;

	if (srv->together) {
		serve_together(srv);
		return NULL;
	}
	while (srv->served < srv->nresp) {
		const char *r = srv->responses[srv->served];
		int c;

		if (!wait_readable(srv->fd, srv->stop[0], 5000))
			break;
		c = accept(srv->fd, NULL, NULL);
		if (c < 0)
			break;
		read_request(srv, c, &srv->req[srv->served]);
		if (write(c, r, strlen(r)) < 0) {
			/* the client went away; counted all the same */
		}
		close(c);
		srv->served++;
	}
	return NULL;
}

static void server_start_mode(struct server *srv,
			      const char *const *responses, size_t n,
			      int together)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	size_t i;

	memset(srv, 0, sizeof(*srv));
	srv->together = together;
	for (i = 0; i < MAX_RESPONSES; i++)
		gantry_buf_init(&srv->req[i]);
	for (i = 0; i < n && i < MAX_RESPONSES; i++)
		srv->responses[i] = responses[i];
	srv->nresp = i;
	srv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(srv->fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;
	ck_assert_int_eq(bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	ck_assert_int_eq(listen(srv->fd, 8), 0);
	ck_assert_int_eq(getsockname(srv->fd, (struct sockaddr *)&sa, &len),
			 0);
	srv->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pipe(srv->stop), 0);
	ck_assert_int_eq(pthread_create(&srv->thread, NULL, serve, srv), 0);
}

static void server_start(struct server *srv, const char *const *responses,
			 size_t n)
{
	server_start_mode(srv, responses, n, 0);
}

static void server_stop(struct server *srv)
{
	if (write(srv->stop[1], "x", 1) < 0) {
		/* the thread ends by its own timeout */
	}
	pthread_join(srv->thread, NULL);
	close(srv->fd);
	close(srv->stop[0]);
	close(srv->stop[1]);
}

static void server_free(struct server *srv)
{
	size_t i;

	for (i = 0; i < MAX_RESPONSES; i++)
		gantry_buf_release(&srv->req[i]);
}

static char *url(const struct server *srv, const char *path)
{
	return gantry_xasprintf("http://127.0.0.1:%d%s", srv->port, path);
}

#define OK_HELLO "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" \
	"X-Thing: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello"
#define UNAVAILABLE "HTTP/1.1 503 Service Unavailable\r\n" \
	"Content-Length: 4\r\nConnection: close\r\n\r\nbusy"

START_TEST(get_returns_status_body_and_headers)
{
	static const char *const script[] = { OK_HELLO };
	struct server srv;
	struct gantry_http *req;
	char *u;
	size_t len;

	server_start(&srv, script, 1);
	u = url(&srv, "/healthz?v=1");
	req = gantry_http_new("GET", u);
	gantry_http_header(req, "X-Token", "abc123");
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 200);
	ck_assert_str_eq(gantry_http_response(req, &len), "hello");
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(gantry_http_response_header(req, "x-thing"), "yes");
	ck_assert_str_eq(gantry_http_response_header(req, "Content-Type"),
			 "text/plain");
	ck_assert_ptr_null(gantry_http_response_header(req, "X-Absent"));
	ck_assert(gantry_http_seconds(req) >= 0);
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 1);
	ck_assert(!strncmp(srv.req[0].buf, "GET /healthz?v=1 HTTP/1.1\r\n",
			   27));
	ck_assert(strstr(srv.req[0].buf, "\r\nX-Token: abc123\r\n") != NULL);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(post_sends_the_body)
{
	static const char *const script[] = {
		"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n"
	};
	struct server srv;
	struct gantry_http *req;
	struct gantry_buf body = GANTRY_BUF_INIT;
	const char *end;
	char *u;
	int i;

	/* Big enough that curl would otherwise ask for 100-continue. */
	for (i = 0; i < 20000; i++)
		gantry_buf_adds(&body, "{\"k\":1}");
	server_start(&srv, script, 1);
	u = url(&srv, "/hook");
	req = gantry_http_new("POST", u);
	gantry_http_header(req, "Content-Type", "application/json");
	gantry_http_body(req, body.buf, body.len);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 201);
	server_stop(&srv);
	ck_assert(!strncmp(srv.req[0].buf, "POST /hook HTTP/1.1\r\n", 21));
	ck_assert(strstr(srv.req[0].buf,
			 "\r\nContent-Type: application/json\r\n") != NULL);
	ck_assert(strcasestr(srv.req[0].buf, "\r\nExpect:") == NULL);
	end = strstr(srv.req[0].buf, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(end + 4, body.buf);
	gantry_http_free(req);
	gantry_buf_release(&body);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(put_and_head_use_their_methods)
{
	static const char *const script[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
		"Docker-Content-Digest: sha256:abc\r\nConnection: close\r\n\r\n"
	};
	struct server srv;
	struct gantry_http *put, *head;
	char *u;

	server_start(&srv, script, 2);
	u = url(&srv, "/v2/x");
	put = gantry_http_new("PUT", u);
	gantry_http_body(put, "data", 4);
	ck_assert_int_eq(gantry_http_perform(put, NULL), 0);
	head = gantry_http_new("HEAD", u);
	ck_assert_int_eq(gantry_http_perform(head, NULL), 0);
	ck_assert_int_eq(gantry_http_status(head), 200);
	ck_assert_str_eq(gantry_http_response_header(head,
		"docker-content-digest"), "sha256:abc");
	server_stop(&srv);
	ck_assert(!strncmp(srv.req[0].buf, "PUT /v2/x HTTP/1.1\r\n", 20));
	ck_assert(!strcmp(srv.req[0].buf + srv.req[0].len - 8,
			  "\r\n\r\ndata"));
	ck_assert(!strncmp(srv.req[1].buf, "HEAD /v2/x HTTP/1.1\r\n", 21));
	gantry_http_free(put);
	gantry_http_free(head);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(retries_503_then_succeeds)
{
	static const char *const script[] = { UNAVAILABLE, OK_HELLO };
	struct server srv;
	struct gantry_http *req;
	char *u;

	server_start(&srv, script, 2);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 200);
	ck_assert_str_eq(gantry_http_response(req, NULL), "hello");
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 2);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(gives_the_last_5xx_when_attempts_run_out)
{
	static const char *const script[] = { UNAVAILABLE, UNAVAILABLE,
					      OK_HELLO };
	struct server srv;
	struct gantry_http *req;
	char *u;

	server_start(&srv, script, 3);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	gantry_http_attempts(req, 2);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 503);
	ck_assert_str_eq(gantry_http_response(req, NULL), "busy");
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 2);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(does_not_retry_404)
{
	static const char *const script[] = {
		"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n", OK_HELLO
	};
	struct server srv;
	struct gantry_http *req;
	char *u;

	server_start(&srv, script, 2);
	u = url(&srv, "/missing");
	req = gantry_http_new("GET", u);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 404);
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 1);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(honours_retry_after_on_429)
{
	static const char *const script[] = {
		"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n", OK_HELLO
	};
	struct server srv;
	struct gantry_http *req;
	double t0;
	char *u;

	server_start(&srv, script, 2);
	u = url(&srv, "/");
	req = gantry_http_new("POST", u);
	gantry_http_body(req, "{}", 2);
	t0 = gantry_now();
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert(gantry_now() - t0 >= 0.95);
	ck_assert_int_eq(gantry_http_status(req), 200);
	/* Headers are those of the answer that counted. */
	ck_assert_ptr_null(gantry_http_response_header(req, "Retry-After"));
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 2);
	/* The retried request carried its body again. */
	ck_assert(!strcmp(srv.req[1].buf + srv.req[1].len - 6, "\r\n\r\n{}"));
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(connection_refused_is_a_failure)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct gantry_http *req;
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;
	char *u;

	/* A port that was free a moment ago and has no listener now. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);

	u = gantry_xasprintf("http://127.0.0.1:%d/x", port);
	req = gantry_http_new("GET", u);
	gantry_http_attempts(req, 2);
	ck_assert_int_eq(gantry_http_perform(req, NULL), GANTRY_EFAIL);
	ck_assert_int_eq(gantry_http_status(req), 0);
	ck_assert_msg(!strncmp(gantry_http_error(req), "cannot reach ", 13) &&
		      strstr(gantry_http_error(req), u) != NULL,
		      "got '%s'", gantry_http_error(req));
	gantry_http_free(req);
	free(u);
}
END_TEST

START_TEST(interrupt_stops_before_sending)
{
	static const char *const script[] = { OK_HELLO };
	struct server srv;
	struct gantry_http *req;
	char *u;

	server_start(&srv, script, 1);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	gantry_i_interrupted = 1;
	ck_assert_int_eq(gantry_http_perform(req, NULL), GANTRY_EINTERRUPTED);
	gantry_i_interrupted = 0;
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 0);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

#define STATUS(code, text) "HTTP/1.1 " #code " " text "\r\n" \
	"Content-Length: 0\r\nConnection: close\r\n\r\n"
#define CREATED STATUS(201, "Created")

START_TEST(retried_statuses_back_off)
{
	static const char *const script[] = {
		STATUS(500, "Internal Server Error"), STATUS(502, "Bad Gateway"),
		STATUS(504, "Gateway Timeout"), OK_HELLO
	};
	struct server srv;
	struct gantry_http *req;
	double t0, took;
	char *u;

	server_start(&srv, script, 4);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	gantry_http_attempts(req, 4);
	t0 = gantry_now();
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	took = gantry_now() - t0;
	ck_assert_int_eq(gantry_http_status(req), 200);
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 4);
	/* Waits of at least 100, 200 and 400 ms (half of 200 * 2^n). */
	ck_assert_msg(took >= 0.7, "three retries in %.3f s", took);
	ck_assert_msg(took < 5, "three retries in %.3f s", took);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(other_statuses_are_not_retried)
{
	static const char *const script[] = {
		STATUS(501, "Not Implemented"), OK_HELLO
	};
	struct server srv;
	struct gantry_http *req;
	char *u;

	server_start(&srv, script, 2);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 501);
	ck_assert(!gantry_http_transient(req));
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 1);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

START_TEST(post_is_retried_only_when_allowed)
{
	static const char *const script[] = { UNAVAILABLE, CREATED };
	struct server srv;
	struct gantry_http *req;
	char *u;

	/* By default a POST that may have been acted on is not repeated. */
	server_start(&srv, script, 2);
	u = url(&srv, "/orders");
	req = gantry_http_new("POST", u);
	gantry_http_body(req, "{}", 2);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 503);
	ck_assert(gantry_http_transient(req));
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 1);
	gantry_http_free(req);
	server_free(&srv);
	free(u);

	/* Allowed explicitly, it is. */
	server_start(&srv, script, 2);
	u = url(&srv, "/orders");
	req = gantry_http_new("POST", u);
	gantry_http_body(req, "{}", 2);
	gantry_http_attempts(req, 2);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 201);
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 2);
	gantry_http_free(req);
	server_free(&srv);
	free(u);
}
END_TEST

/* A Retry-After longer than what is left of the stage's timeout: no
   retry, and the 503 is the answer, at once. */
START_TEST(no_retry_past_the_deadline)
{
	static const char *const script[] = {
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n", OK_HELLO
	};
	struct gantry_ctx *ctx = gantry_i_ctx_new("http");
	struct server srv;
	struct gantry_http *req;
	double t0;
	char *u;

	ctx->timeout = 2;
	ctx->kill_grace = 0;
	clock_gettime(CLOCK_MONOTONIC, &ctx->started);
	server_start(&srv, script, 2);
	u = url(&srv, "/");
	req = gantry_http_new("GET", u);
	t0 = gantry_now();
	ck_assert_int_eq(gantry_http_perform(req, ctx), 0);
	ck_assert_int_eq(gantry_http_status(req), 503);
	ck_assert_msg(gantry_now() - t0 < 1.5, "took %.3f s",
		      gantry_now() - t0);
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 1);
	gantry_http_free(req);
	server_free(&srv);
	gantry_i_ctx_free(ctx);
	free(u);
}
END_TEST

/* A file of n pseudo-random bytes, unlinked; its descriptor. */
static int random_file(size_t n)
{
	char path[] = "/tmp/check_http.XXXXXX";
	unsigned seed = 42;
	char *data = gantry_xmalloc(n);
	size_t i;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (i = 0; i < n; i++)
		data[i] = (char)(rand_r(&seed) & 255);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	free(data);
	return fd;
}

struct seen {
	struct gantry_sha256 *sha;
	long long bytes;
	long long next;		/* the offset the next chunk must have */
	long long refuse_at;	/* refuse the chunk reaching it; -1: none */
};

static int count_chunk(void *arg, const char *data, size_t len,
		       long long offset)
{
	struct seen *s = arg;
	char hex[GANTRY_SHA256_HEX];

	if (offset == 0) {
		gantry_sha256_final(s->sha, hex);
		s->bytes = 0;
		s->next = 0;
	}
	ck_assert_int_eq(offset, s->next);
	if (s->refuse_at >= 0 && offset + (long long)len >= s->refuse_at)
		return 1;
	gantry_sha256_update(s->sha, data, len);
	s->bytes += (long long)len;
	s->next = offset + (long long)len;
	return 0;
}

/* The body the server received: what follows the request head. */
static const char *received(const struct gantry_buf *b, size_t *len)
{
	const char *end = strstr(b->buf, "\r\n\r\n");

	ck_assert_ptr_nonnull(end);
	*len = b->len - (size_t)(end + 4 - b->buf);
	return end + 4;
}

START_TEST(body_from_a_file_arrives_byte_exact)
{
	static const char *const script[] = { CREATED };
	const long long off = 1000, n = 300000;
	struct seen seen = { gantry_sha256_new(), 0, 0, -1 };
	char want[GANTRY_SHA256_HEX], got[GANTRY_SHA256_HEX];
	char *file = gantry_xmalloc((size_t)n);
	struct server srv;
	struct gantry_http *req;
	const char *body;
	size_t len;
	char *u;
	int fd = random_file(400000);

	ck_assert_int_eq(pread(fd, file, (size_t)n, off), n);
	gantry_sha256_hex(file, (size_t)n, want);
	server_start(&srv, script, 1);
	u = url(&srv, "/blob");
	req = gantry_http_new("PUT", u);
	gantry_http_body_file(req, fd, off, n);
	gantry_http_body_hook(req, count_chunk, &seen);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	ck_assert_int_eq(gantry_http_status(req), 201);
	ck_assert_int_eq(gantry_http_sent(req), n);
	server_stop(&srv);
	ck_assert(!strncmp(srv.req[0].buf, "PUT /blob HTTP/1.1\r\n", 20));
	body = received(&srv.req[0], &len);
	ck_assert_uint_eq(len, (size_t)n);
	ck_assert(!memcmp(body, file, (size_t)n));
	/* The hook saw every byte, in order. */
	ck_assert_int_eq(seen.bytes, n);
	gantry_sha256_final(seen.sha, got);
	ck_assert_str_eq(got, want);
	gantry_http_free(req);
	gantry_sha256_free(seen.sha);
	server_free(&srv);
	close(fd);
	free(file);
	free(u);
}
END_TEST

START_TEST(hook_refusal_stops_the_upload)
{
	static const char *const script[] = { CREATED, CREATED };
	const long long n = 200000;
	struct seen seen = { gantry_sha256_new(), 0, 0, n };
	struct server srv;
	struct gantry_http *req;
	size_t len;
	char *u;
	int fd = random_file((size_t)n);

	server_start(&srv, script, 2);
	u = url(&srv, "/blob");
	req = gantry_http_new("PUT", u);
	gantry_http_body_file(req, fd, 0, n);
	gantry_http_body_hook(req, count_chunk, &seen);
	gantry_http_attempts(req, 3);
	ck_assert_int_eq(gantry_http_perform(req, NULL), GANTRY_EFAIL);
	ck_assert_int_eq(gantry_http_status(req), 0);
	ck_assert(!gantry_http_transient(req));
	server_stop(&srv);
	/* One attempt, and the last chunk never left. */
	ck_assert_uint_le(srv.served, 1);
	received(&srv.req[0], &len);
	ck_assert_uint_lt(len, (size_t)n);
	ck_assert_uint_eq(srv.req[1].len, 0);
	gantry_http_free(req);
	gantry_sha256_free(seen.sha);
	server_free(&srv);
	close(fd);
	free(u);
}
END_TEST

/* The server answers none until all three are connected. */
START_TEST(pool_runs_requests_at_once)
{
	static const char *const script[] = { CREATED, CREATED, CREATED };
	struct gantry_http_pool *pool = gantry_http_pool_new(NULL);
	struct gantry_http *req[3], *done;
	struct server srv;
	size_t i, got = 0, len;
	char *u;
	int fd = random_file(100000), rc;

	server_start_mode(&srv, script, 3, 1);
	u = url(&srv, "/blob");
	for (i = 0; i < 3; i++) {
		req[i] = gantry_http_new("PUT", u);
		gantry_http_body_file(req[i], fd, (long long)i * 1000,
				      50000);
		gantry_http_timeout_ms(req[i], 10000);
		gantry_http_pool_add(pool, req[i]);
	}
	ck_assert_uint_eq(gantry_http_pool_pending(pool), 3);
	while (gantry_http_pool_pending(pool)) {
		done = gantry_http_pool_next(pool, 1000, &rc);
		if (!done)
			continue;
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(gantry_http_status(done), 201);
		got++;
	}
	ck_assert_uint_eq(got, 3);
	ck_assert_ptr_null(gantry_http_pool_next(pool, 0, &rc));
	server_stop(&srv);
	ck_assert_uint_eq(srv.served, 3);
	for (i = 0; i < 3; i++) {
		received(&srv.req[i], &len);
		ck_assert_uint_eq(len, 50000);
		gantry_http_free(req[i]);
	}
	gantry_http_pool_free(pool);
	server_free(&srv);
	close(fd);
	free(u);
}
END_TEST

static Suite *http_suite(void)
{
	Suite *s = suite_create("http");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, get_returns_status_body_and_headers);
	tcase_add_test(tc, post_sends_the_body);
	tcase_add_test(tc, put_and_head_use_their_methods);
	tcase_add_test(tc, retries_503_then_succeeds);
	tcase_add_test(tc, gives_the_last_5xx_when_attempts_run_out);
	tcase_add_test(tc, does_not_retry_404);
	tcase_add_test(tc, honours_retry_after_on_429);
	tcase_add_test(tc, connection_refused_is_a_failure);
	tcase_add_test(tc, interrupt_stops_before_sending);
	tcase_add_test(tc, retried_statuses_back_off);
	tcase_add_test(tc, other_statuses_are_not_retried);
	tcase_add_test(tc, post_is_retried_only_when_allowed);
	tcase_add_test(tc, no_retry_past_the_deadline);
	tcase_add_test(tc, body_from_a_file_arrives_byte_exact);
	tcase_add_test(tc, hook_refusal_stops_the_upload);
	tcase_add_test(tc, pool_runs_requests_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(http_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
