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
	b->buf = gantry_i_xrealloc(b->buf, b->alloc);
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
	char *s = b->alloc ? b->buf : gantry_i_xstrdup("");

	gantry_buf_init(b);
	return s;
}

void gantry_buf_add_json(struct gantry_buf *b, const char *s)
{
	gantry_buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			gantry_buf_addch(b, '\\');
			gantry_buf_addch(b, (char)ch);
		} else if (ch == '\n') {
			gantry_buf_adds(b, "\\n");
		} else if (ch == '\t') {
			gantry_buf_adds(b, "\\t");
		} else if (ch < 0x20) {
			gantry_buf_addf(b, "\\u%04x", ch);
		} else {
			gantry_buf_addch(b, (char)ch);
		}
	}
	gantry_buf_addch(b, '"');
}
