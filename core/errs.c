/*
 * errs.c - error lists and "did you mean".
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

void errs_add(struct errs *e, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&b);
	GANTRY_GROW(e->msg, e->n + 1, e->alloc);
	e->msg[e->n++] = gantry_buf_detach(&b);
}

void errs_clear(struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	e->msg = NULL;
	e->n = e->alloc = 0;
}

void errs_print(const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		gantry_log(NULL, GANTRY_LOG_ERROR, "%s", e->msg[i]);
}

char *errs_shown(const char *s, size_t max)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const unsigned char *p = (const unsigned char *)s;

	for (; *p && b.len < max; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			gantry_buf_addch(&b, (char)*p);
		else
			gantry_buf_addf(&b, "\\x%02x", *p);
	}
	if (*p)
		gantry_buf_adds(&b, "...");
	return gantry_buf_detach(&b);
}

/* Optimal string alignment distance, capped for speed. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d;
	size_t *row0, *row1, *row2, *t;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	row0 = gantry_xcalloc(lb + 1, sizeof(size_t));
	row1 = gantry_xcalloc(lb + 1, sizeof(size_t));
	row2 = gantry_xcalloc(lb + 1, sizeof(size_t));
	for (j = 0; j <= lb; j++)
		row1[j] = j;
	for (i = 1; i <= la; i++) {
		row2[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = row1[j - 1] + cost;

			if (row1[j] + 1 < best)
				best = row1[j] + 1;
			if (row2[j - 1] + 1 < best)
				best = row2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && row0[j - 2] + 1 < best)
				best = row0[j - 2] + 1;
			row2[j] = best;
		}
		t = row0;
		row0 = row1;
		row1 = row2;
		row2 = t;
	}
	d = row1[lb];
	free(row0);
	free(row1);
	free(row2);
	return d;
}

const char *did_you_mean(const char *word, const char *const *cands,
			 size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1, limit = strlen(word) / 3, i;

	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);

		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return bestd <= limit && bestd > 0 ? best : NULL;
}

size_t errs_unknown_keys(struct errs *e, const struct gantry_config *g,
			 const char *const *known, size_t n,
			 const char *what)
{
	size_t i, j, bad = 0;

	for (i = 0; i < gantry_config_length(g); i++) {
		const struct gantry_config *k = gantry_config_at(g, i);
		const char *name = gantry_config_name(k), *dym;

		for (j = 0; j < n && strcmp(name, known[j]); j++)
			;
		if (j < n)
			continue;
		bad++;
		dym = did_you_mean(name, known, n);
		if (dym)
			errs_add(e, "%s: unknown key '%s' in %s; did you mean "
				 "'%s'?", gantry_config_where(k), name, what,
				 dym);
		else
			errs_add(e, "%s: unknown key '%s' in %s; remove it",
				 gantry_config_where(k), name, what);
	}
	return bad;
}
