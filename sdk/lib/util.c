/*
 * util.c - allocation that cannot fail, clocks, reading files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static void die_oom(size_t n)
{
	fprintf(stderr, "gantry: out of memory allocating %zu bytes\n", n);
	abort();
}

void *gantry_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *gantry_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_oom(n * size);
	return p;
}

void *gantry_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

char *gantry_xstrdup(const char *s)
{
	return gantry_xstrndup(s, strlen(s));
}

char *gantry_xstrndup(const char *s, size_t n)
{
	char *p = gantry_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *gantry_xvasprintf(const char *fmt, va_list ap)
{
	struct gantry_buf b = GANTRY_BUF_INIT;

	gantry_buf_vaddf(&b, fmt, ap);
	return gantry_buf_detach(&b);
}

char *gantry_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = gantry_xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

char *gantry_i_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return gantry_xstrdup(".");
	if (slash == path)
		return gantry_xstrdup("/");
	return gantry_xstrndup(path, (size_t)(slash - path));
}

double gantry_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *gantry_version(void)
{
	return PACKAGE_VERSION;
}

char *gantry_i_read_file(const char *path, size_t max)
{
	return gantry_read_file(path, max, NULL);
}

char *gantry_read_file(const char *path, size_t max, size_t *len)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char chunk[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || b.len + (size_t)got > max) {
			err = got < 0 ? errno : EFBIG;
			close(fd);
			gantry_buf_release(&b);
			errno = err;
			return NULL;
		}
		if (!got)
			break;
		gantry_buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	if (len)
		*len = b.len;
	return gantry_buf_detach(&b);
}
