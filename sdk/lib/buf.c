/*
 * buf.c - the growing string of gantry/buf.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

const char gantry_buf_empty[1];

void gantry_buf_init(struct gantry_buf *b)
{
	b->buf = (char *)gantry_buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void gantry_buf_release(struct gantry_buf *b)
{
	if (b->alloc)
		free(b->buf);
	gantry_buf_init(b);
}

void gantry_buf_reset(struct gantry_buf *b)
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
	b->buf = gantry_xrealloc(b->buf, b->alloc);
	if (!b->len)
		b->buf[0] = '\0';
}

void gantry_buf_add(struct gantry_buf *b, const char *data, size_t len)
{
	buf_grow(b, len);
	memcpy(b->buf + b->len, data, len);
	b->len += len;
	b->buf[b->len] = '\0';
}

void gantry_buf_adds(struct gantry_buf *b, const char *s)
{
	gantry_buf_add(b, s, strlen(s));
}

void gantry_buf_addch(struct gantry_buf *b, char c)
{
	gantry_buf_add(b, &c, 1);
}

void gantry_buf_vaddf(struct gantry_buf *b, const char *fmt, va_list ap)
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

void gantry_buf_addf(struct gantry_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

char *gantry_buf_detach(struct gantry_buf *b)
{
	char *s = b->alloc ? b->buf : gantry_xstrdup("");

	gantry_buf_init(b);
	return s;
}

size_t gantry_i_utf8_next(const char *s, size_t n, long *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;
	long c;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	/* The ranges of RFC 3629: no overlong forms, no surrogates, nothing
	   past U+10FFFF. */
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		need = 1;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		need = 2;
		if (u[0] == 0xe0)
			lo = 0xa0;
		else if (u[0] == 0xed)
			hi = 0x9f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		need = 3;
		if (u[0] == 0xf0)
			lo = 0x90;
		else if (u[0] == 0xf4)
			hi = 0x8f;
	} else {
		*cp = -1;
		return 1;
	}
	c = u[0] & (0x3f >> need);
	for (i = 1; i <= need; i++) {
		/* A sequence cut short is one bad character, however many
		   of its bytes were there (Unicode's "maximal subpart"). */
		if (i >= n || u[i] < lo || u[i] > hi) {
			*cp = -1;
			return i;
		}
		c = (c << 6) | (u[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = c;
	return need + 1;
}

void gantry_i_buf_add_json_n(struct gantry_buf *b, const char *s, size_t len)
{
	size_t i = 0, run = 0, n;
	long c;

	gantry_buf_addch(b, '"');
	while (i < len) {
		n = gantry_i_utf8_next(s + i, len - i, &c);
		/* Printable ASCII and valid characters past the C1 controls
		   go out as they are, a run at a time. */
		if (c >= 0xa0 || (c >= 0x20 && c < 0x7f && c != '"' &&
				   c != '\\')) {
			i += n;
			run += n;
			continue;
		}
		gantry_buf_add(b, s + i - run, run);
		run = 0;
		i += n;
		if (c < 0)
			gantry_buf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
		else if (c == '"' || c == '\\')
			gantry_buf_addf(b, "\\%c", (char)c);
		else if (c == '\n')
			gantry_buf_adds(b, "\\n");
		else if (c == '\t')
			gantry_buf_adds(b, "\\t");
		else if (c == '\r')
			gantry_buf_adds(b, "\\r");
		else
			gantry_buf_addf(b, "\\u%04lx", (unsigned long)c);
	}
	gantry_buf_add(b, s + i - run, run);
	gantry_buf_addch(b, '"');
}

void gantry_buf_add_json(struct gantry_buf *b, const char *s)
{
	gantry_i_buf_add_json_n(b, s, strlen(s));
}
