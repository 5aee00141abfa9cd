/*
 * sbuf.c - the smoke stage's growing string and allocators.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"

#include "banned.h"

void *smoke_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

char *smoke_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(smoke_xrealloc(NULL, n), s, n);
}

static void smoke_addv(struct sbuf *b, const char *fmt, va_list ap)
	GANTRY_PRINTF(2, 0);

static void smoke_addv(struct sbuf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, again);
	va_end(again);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = smoke_xrealloc(b->s, b->cap);
	}
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void smoke_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	smoke_addv(b, fmt, ap);
	va_end(ap);
}

char *smoke_take(struct sbuf *b)
{
	char *s = b->s ? b->s : smoke_xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}
