/*
 * util.c - the small helpers every part of the stage uses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs.h"

#include "banned.h"

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
