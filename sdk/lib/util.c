/*
 * util.c - growable strings, allocation that cannot fail, clocks.
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

const char gantry_i_buf_empty[1];

static void die_oom(size_t n)
{
	fprintf(stderr, "gantry: out of memory allocating %zu bytes\n", n);
	abort();
}

void *gantry_i_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_oom(n);
	return p;
}

void *gantry_i_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_oom(n * size);
	return p;
}

void *gantry_i_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_oom(n);
	return q;
}

char *gantry_i_xstrdup(const char *s)
{
	return gantry_i_xstrndup(s, strlen(s));
}

char *gantry_i_xstrndup(const char *s, size_t n)
{
	char *p = gantry_i_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *gantry_i_xasprintf(const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_i_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return gantry_i_buf_detach(&b);
}

void gantry_i_buf_init(struct gantry_buf *b)
{
	b->buf = (char *)gantry_i_buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void gantry_i_buf_release(struct gantry_buf *b)
{
	if (b->alloc)
		free(b->buf);
	gantry_i_buf_init(b);
}

void gantry_i_buf_reset(struct gantry_buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->buf[0] = '\0';
}

static void buf_grow(struct gantry_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->alloc)
		return;
	if (!b->alloc)
		b->buf = NULL;
	b->alloc = b->alloc ? b->alloc : 64;
	while (b->alloc < need)
		b->alloc *= 2;
	b->buf = gantry_i_xrealloc(b->buf, b->alloc);
	if (!b->len)
		b->buf[0] = '\0';
}

void gantry_i_buf_add(struct gantry_buf *b, const char *data, size_t len)
{
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void gantry_i_buf_adds(struct gantry_buf *b, const char *s)
{
	gantry_i_buf_add(b, s, strlen(s));
}

void gantry_i_buf_addch(struct gantry_buf *b, char c)
{
	gantry_i_buf_add(b, &c, 1);
}

void gantry_i_buf_vaddf(struct gantry_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	buf_grow(b, 64);
	va_copy(cp, ap);
	n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= b->alloc - b->len) {
		buf_grow(b, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(b->buf + b->len, b->alloc - b->len, fmt, cp);
		va_end(cp);
	}
	b->len += (size_t)n;
}

void gantry_i_buf_addf(struct gantry_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gantry_i_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *gantry_i_buf_detach(struct gantry_buf *b)
{
	char *s = b->alloc ? b->buf : gantry_i_xstrdup("");

	gantry_i_buf_init(b);
	return s;
}

double gantry_i_now(void)
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
			gantry_i_buf_release(&b);
			errno = err;
			return NULL;
		}
		if (!got)
			break;
		gantry_i_buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	return gantry_i_buf_detach(&b);
}
