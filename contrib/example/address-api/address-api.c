/*
 * address-api - the example service gantry's demo deploys: a tiny HTTP
 * server answering GET /healthz with {"status":"ok","version":"..."}.
 *
 *   PORT          port to listen on, on 127.0.0.1 (default 8080)
 *   APP_VERSION   the version /healthz reports (default "dev")
 *   APP_CRASH=1   fail at start-up as a broken release does: it logs the
 *                 panic the sandbox's crash-loop scenario shows and exits 1
 *                 (REQUIRE_DATABASE 1 bakes that in: the demo's bad release)
 *
 * `address-api --self-test` is the integration test: it serves one request
 * on an ephemeral port and checks the answer a client gets.
 *
 * Built static (gcc -static -O2 -o address-api address-api.c) so that an
 * image FROM scratch can run it.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX 4096

/* 1: the service needs its database at start-up, and has none. */
#define REQUIRE_DATABASE 0

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The version as a JSON string body: anything but [A-Za-z0-9.+_-] is
   dropped, so an odd APP_VERSION cannot break the document. */
static void clean_version(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++)
		if ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
		    (*in >= '0' && *in <= '9') || strchr(".+_-", *in))
			out[n++] = *in;
	out[n] = '\0';
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static void answer(int fd, int status, const char *ctype, const char *body)
{
	char head[256];
	int n;

	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
		     "Content-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n", status,
		     status == 200 ? "OK" : status == 404 ? "Not Found" :
		     "Bad Request", ctype, strlen(body));
	if (write_all(fd, head, (size_t)n) == 0)
		write_all(fd, body, strlen(body));
}

/* One request per connection: read up to the end of the headers. */
static void serve_one(int fd, const char *version)
{
	char req[REQ_MAX], path[256], body[256];
	size_t have = 0;

	while (have + 1 < sizeof(req)) {
		ssize_t r = read(fd, req + have, sizeof(req) - 1 - have);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
			break;
	}
	req[have] = '\0';
	if (sscanf(req, "GET %255s", path) != 1) {
		answer(fd, 400, "text/plain", "bad request\n");
		return;
	}
	if (!strcmp(path, "/healthz")) {
		snprintf(body, sizeof(body),
			 "{\"status\":\"ok\",\"version\":\"%s\"}\n", version);
		answer(fd, 200, "application/json", body);
	} else if (!strcmp(path, "/")) {
		snprintf(body, sizeof(body), "address-api %s\n", version);
		answer(fd, 200, "text/plain", body);
	} else {
		answer(fd, 404, "text/plain", "not found\n");
	}
}

static int listen_on(int port, int *bound)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 64) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

static int serve(int lfd, const char *version)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept() returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	while (!stopping) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		serve_one(fd, version);
		close(fd);
	}
	close(lfd);
	printf("address-api: stopping\n");
	return 0;
}

/* The integration test: a child serves one request, the parent is the
   client and checks status line and body. */
static int self_test(void)
{
	const char *want = "{\"status\":\"ok\",\"version\":\"9.9.9-test\"}";
	char resp[REQ_MAX];
	struct sockaddr_in a;
	size_t have = 0;
	int port, lfd, cfd, status, ok;
	pid_t pid;

	lfd = listen_on(0, &port);
	if (lfd < 0) {
		perror("self-test: listen");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("self-test: fork");
		return 1;
	}
	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);

		if (fd >= 0) {
			serve_one(fd, "9.9.9-test");
			close(fd);
		}
		_exit(fd >= 0 ? 0 : 1);
	}
	close(lfd);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write_all(cfd, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n", 34)) {
		perror("self-test: connect");
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return 1;
	}
	for (;;) {
		ssize_t r = read(cfd, resp + have, sizeof(resp) - 1 - have);

		if (r <= 0 || have + (size_t)r + 1 >= sizeof(resp))
			break;
		have += (size_t)r;
	}
	resp[have] = '\0';
	close(cfd);
	waitpid(pid, &status, 0);
	ok = !strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) && strstr(resp, want);
	printf("self-test: GET /healthz -> %s\n", ok ? "200 with the version"
	       : "WRONG ANSWER");
	if (!ok)
		fprintf(stderr, "self-test: got:\n%s\n", resp);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *port_s = getenv("PORT");
	const char *ver_s = getenv("APP_VERSION");
	const char *crash = getenv("APP_CRASH");
	char version[128];
	int port, bound, lfd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--self-test"))
		return self_test();
	if (argc > 1) {
		fprintf(stderr, "usage: address-api [--self-test]\n");
		return 2;
	}
	clean_version(ver_s && *ver_s ? ver_s : "dev", version,
		      sizeof(version));
	if (REQUIRE_DATABASE || (crash && !strcmp(crash, "1"))) {
		fprintf(stderr, "address-api %s: connecting to database at "
			"db:5432\n", version);
		fprintf(stderr, "panic: failed to connect to database: "
			"connection refused\n");
		return 1;
	}
	port = port_s && *port_s ? atoi(port_s) : 8080;
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "address-api: PORT '%s' is not a port\n",
			port_s);
		return 2;
	}
	lfd = listen_on(port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "address-api: cannot listen on 127.0.0.1:%d: "
			"%s\n", port, strerror(errno));
		return 1;
	}
	printf("address-api %s listening on 127.0.0.1:%d\n", version, bound);
	return serve(lfd, version);
}
