/*
 * gantry/util.h - allocation that cannot fail, formatted strings, a
 * monotonic clock and reading a whole file: what every stage needs and
 * none should write again.
 *
 *	char *url = gantry_xasprintf("https://%s/v2/%s/", host, repo);
 *	double t0 = gantry_now();
 *	...
 *	gantry_log(ctx, GANTRY_LOG_INFO, "done in %.1f s", gantry_now() - t0);
 *	free(url);
 *
 * Memory that cannot be had aborts the process with one line on stderr
 * (a stage runs in a child of its own: the core records the crash), so
 * none of these returns NULL.  Everything they return is free()d by the
 * caller.
 *
 * Since ABI 1.0 (libgantry 0.1).
 */
#ifndef GANTRY_UTIL_H
#define GANTRY_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <gantry/context.h>

#ifdef __cplusplus
extern "C" {
#endif

/* malloc, calloc, realloc, strdup and strndup that never return NULL
   (a size of 0 allocates one byte). */
void *gantry_xmalloc(size_t n);
void *gantry_xcalloc(size_t n, size_t size);
void *gantry_xrealloc(void *p, size_t n);
char *gantry_xstrdup(const char *s);
char *gantry_xstrndup(const char *s, size_t n);

/* A newly allocated string formatted as printf(3) would. */
char *gantry_xasprintf(const char *fmt, ...) GANTRY_PRINTF(1, 2);
char *gantry_xvasprintf(const char *fmt, va_list ap) GANTRY_PRINTF(1, 0);

/* Seconds on the monotonic clock (CLOCK_MONOTONIC): for durations and
   deadlines, never for dates. */
double gantry_now(void);

/* The whole of the file at path, malloc'd and NUL-terminated (it may
   hold NULs of its own: its length, without the final NUL, goes to *len
   when len is not NULL).  NULL with errno set when it cannot be opened
   or read, and EFBIG when it holds more than max bytes; only allocation
   failure aborts. */
char *gantry_read_file(const char *path, size_t max, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
