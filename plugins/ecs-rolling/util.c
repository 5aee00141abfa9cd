/*
 * sbuf.c - a growing string for request bodies and messages, and the
 * small helpers every part of the stage uses.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs.h"

#include "banned.h"

static void grow(struct sbuf *b, size_t more)
{
	size_t want = b->len + more + 1;
	char *p;

	if (want <= b->cap)
		return;
	if (want < 2 * b->cap)
		want = 2 * b->cap;
	if (want < 64)
		want = 64;
	p = realloc(b->s, want);
	if (!p)
		abort();	/* a stage child with no memory cannot go on */
	b->s = p;
	b->cap = want;
}

void sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	grow(b, n);
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

void sb_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sb_json(struct sbuf *b, const char *s)
{
	const unsigned char *p;
	char esc[8];

	sb_add(b, "\"");
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			esc[2] = '\0';
		} else if (*p < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
		} else {
			esc[0] = (char)*p;
			esc[1] = '\0';
		}
		sb_add(b, esc);
	}
	sb_add(b, "\"");
}

const char *sb_str(const struct sbuf *b)
{
	return b->s ? b->s : "";
}

void sb_free(struct sbuf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

double ecs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

char *ecs_strdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		abort();
	return p;
}
