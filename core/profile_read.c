/*
 * profile_read.c - reading a libconfig file into a gantry_config tree:
 * @include expanded in place (with its limits), a line map so every node
 * says the "file:line" the user wrote, and the conversion of libconfig's
 * settings.  Knows nothing of what gantry.cfg or a profile holds.
 */
#include "config.h"

#include <errno.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filecheck.h"
#include "profile_i.h"

#define MAX_INCLUDE_DEPTH 10
/* What a configuration may read in all, @include files counted every time
   they are included: ten includes of a file nested eight deep would
   otherwise turn a few kB of files into gigabytes. */
#define MAX_INCLUDE_BYTES (16u << 20)
#define MAX_INCLUDE_FILES 4096

/*
 * The text handed to libconfig is the file with every @include expanded
 * in place; lines[] maps each line of that text back to its origin so
 * that errors name the file and line the user wrote.
 */
struct srcmap {
	char **files;
	size_t nfiles, afiles;
	struct origin { size_t file; unsigned line; } *lines;
	size_t nlines, alines;
	size_t bytes;		/* read so far, every inclusion counted */
};

char *profile_join_path(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return gantry_xstrdup(rel);
	return gantry_xasprintf("%s/%s", dir, rel);
}

/* Only a regular file is read: a FIFO named by @include or -c would
   block gantry forever (filecheck.h).  from: the @include line, or NULL. */
static char *read_file(const char *path, struct errs *e, const char *why,
		       const char *from)
{
	struct gantry_buf reason = GANTRY_BUF_INIT;
	char *text = file_read_regular(path, MAX_INCLUDE_BYTES, 0, NULL,
				       &reason);

	if (!text)
		errs_add(e, "%s%scannot read %s '%s': %s%s", from ? from : "",
			 from ? ": " : "", why, path, reason.buf,
			 errno == EINVAL ? "; name a regular file" : "");
	gantry_buf_release(&reason);
	return text;
}

/* Recognises `@include "path"`; returns the path (malloc'd) or NULL. */
static char *include_target(const char *line, size_t len)
{
	const char *p = line, *end = line + len, *q;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < 8 || memcmp(p, "@include", 8))
		return NULL;
	p += 8;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '"')
		return NULL;
	q = memchr(p + 1, '"', (size_t)(end - p - 1));
	if (!q)
		return NULL;
	return gantry_xstrndup(p + 1, (size_t)(q - p - 1));
}

static int expand(struct srcmap *m, struct gantry_buf *out, const char *path,
		  int depth, struct errs *e, const char *from)
{
	char *text, *dir;
	const char *p;
	size_t fileno;
	unsigned line = 0;
	int rc = 0;

	if (depth > MAX_INCLUDE_DEPTH) {
		errs_add(e, "%s: @include nested more than %d deep at '%s'; "
			 "look for an include cycle", from, MAX_INCLUDE_DEPTH,
			 path);
		return -1;
	}
	if (m->nfiles >= MAX_INCLUDE_FILES) {
		errs_add(e, "%s: @include of '%s' would read more than %d files "
			 "in all; look for an @include repeated in a loop, or "
			 "include fewer files", from, path, MAX_INCLUDE_FILES);
		return -1;
	}
	text = read_file(path, e, depth ? "included file" : "configuration",
			 depth ? from : NULL);
	if (!text)
		return -1;
	m->bytes += strlen(text);
	if (m->bytes > MAX_INCLUDE_BYTES) {
		errs_add(e, "%s: @include of '%s' takes the configuration past "
			 "%u MiB with its included files; look for an "
			 "@include repeated in a loop, or include fewer or "
			 "smaller files", from, path, MAX_INCLUDE_BYTES >> 20);
		free(text);
		return -1;
	}
	GANTRY_GROW(m->files, m->nfiles + 1, m->afiles);
	fileno = m->nfiles;
	m->files[m->nfiles++] = gantry_xstrdup(path);
	dir = gantry_i_dir_of(path);
	for (p = text; *p && !rc; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *inc = include_target(p, len);

		line++;
		if (inc) {
			char *full = profile_join_path(dir, inc);
			char *here = gantry_xasprintf("%s:%u", path, line);

			rc = expand(m, out, full, depth + 1, e, here);
			free(here);
			free(full);
			free(inc);
		} else {
			gantry_buf_add(out, p, len);
			gantry_buf_addch(out, '\n');
			GANTRY_GROW(m->lines, m->nlines + 1, m->alines);
			m->lines[m->nlines].file = fileno;
			m->lines[m->nlines].line = line;
			m->nlines++;
		}
		p = nl ? nl + 1 : p + len;
	}
	free(dir);
	free(text);
	return rc;
}

static char *where_of(const struct srcmap *m, unsigned line)
{
	if (line == 0 || line > m->nlines)
		return gantry_xstrdup(m->nfiles ? m->files[0] : "?");
	return gantry_xasprintf("%s:%u", m->files[m->lines[line - 1].file],
				  m->lines[line - 1].line);
}

static struct gantry_config *convert(const config_setting_t *s,
				     const struct srcmap *m)
{
	const char *name = config_setting_name(s);
	char *where = where_of(m, config_setting_source_line(s));
	struct gantry_config *c = NULL;
	char num[64];
	int i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		snprintf(num, sizeof(num), "%d", config_setting_get_int(s));
		c = gantry_i_config_scalar(GANTRY_OPT_INT, name, num, where);
		break;
	case CONFIG_TYPE_INT64:
		snprintf(num, sizeof(num), "%lld",
			 config_setting_get_int64(s));
		c = gantry_i_config_scalar(GANTRY_OPT_INT, name, num, where);
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(num, sizeof(num), "%g", config_setting_get_float(s));
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name, num, where);
		break;
	case CONFIG_TYPE_BOOL:
		c = gantry_i_config_scalar(GANTRY_OPT_BOOL, name,
					   config_setting_get_bool(s) ?
					   "true" : "false", where);
		break;
	case CONFIG_TYPE_STRING:
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name,
					   config_setting_get_string(s), where);
		break;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_GROUP:
		c = gantry_i_config_new(config_setting_type(s) ==
					CONFIG_TYPE_GROUP ? GANTRY_OPT_GROUP :
					GANTRY_OPT_LIST, name, where);
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			gantry_i_config_add(c, convert(
				config_setting_get_elem(s, (unsigned)i), m));
		break;
	default:
		c = gantry_i_config_scalar(GANTRY_OPT_STRING, name, "", where);
		break;
	}
	free(where);
	return c;
}

int profile_read_tree(const char *path, struct gantry_config **out,
		      struct errs *e)
{
	struct srcmap m = { 0 };
	struct gantry_buf text = GANTRY_BUF_INIT;
	config_t cfg;
	size_t i;
	int rc = -1;

	*out = NULL;
	if (expand(&m, &text, path, 0, e, path) < 0)
		goto out;
	config_init(&cfg);
	if (config_read_string(&cfg, text.buf) != CONFIG_TRUE) {
		char *where = where_of(&m, (unsigned)config_error_line(&cfg));

		errs_add(e, "%s: syntax error: %s; see the libconfig syntax "
			 "in docs/configuration.md", where,
			 config_error_text(&cfg));
		free(where);
	} else {
		*out = convert(config_root_setting(&cfg), &m);
		rc = 0;
	}
	config_destroy(&cfg);
out:
	gantry_buf_release(&text);
	for (i = 0; i < m.nfiles; i++)
		free(m.files[i]);
	free(m.files);
	free(m.lines);
	return rc;
}
