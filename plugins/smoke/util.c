/*
 * util.c - the smoke stage's allocators.
 */
#include "config.h"

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
