/*
 * internal.h - libgantry's private interface, shared with the core.
 *
 * Not installed.  Everything here is exported from libgantry under the
 * gantry_i_ prefix so the core can build contexts and configuration
 * trees, but it is no part of the SDK: plugins must not use it.
 */
#ifndef GANTRY_INTERNAL_H
#define GANTRY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <signal.h>
#include <time.h>

#include <gantry/gantry.h>

#define GANTRY_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that never returns NULL, gantry_xasprintf and gantry_now
   are public: gantry/util.h. */
/* The directory part of path, as dirname(1) says it ("." for a bare
   name, "/" at the root); malloc'd. */
char *gantry_i_dir_of(const char *path);

/* Grows an array (p, n used, *alloc) to hold at least `need` items. */
#define GANTRY_GROW(p, need, alloc) do { \
	if ((need) > (alloc)) { \
		size_t gantry_n_ = (alloc) ? (alloc) * 2 : 8; \
		while (gantry_n_ < (need)) gantry_n_ *= 2; \
		(p) = gantry_xrealloc((p), gantry_n_ * sizeof(*(p))); \
		(alloc) = gantry_n_; \
	} \
} while (0)

/*
 * Configuration trees.  Scalars keep their text (ints and bools too), so
 * interpolation and printing need no conversion.
 */
struct gantry_config {
	enum gantry_option_type type;
	char *name;		/* "" for list elements */
	char *text;		/* scalars only */
	long long ival;		/* GANTRY_OPT_INT */
	int bval;		/* GANTRY_OPT_BOOL */
	int secret;		/* value must be redacted */
	char *where;		/* "file:line" or "default" */
	struct gantry_config **kids;
	size_t nkids, akids;
};

struct gantry_config *gantry_i_config_new(enum gantry_option_type type,
					  const char *name, const char *where);
struct gantry_config *gantry_i_config_scalar(enum gantry_option_type type,
					     const char *name,
					     const char *text,
					     const char *where);
void gantry_i_config_set_text(struct gantry_config *c, const char *text);
/* Appends kid (taking ownership). */
void gantry_i_config_add(struct gantry_config *parent,
			 struct gantry_config *kid);
/* The direct child named name, or NULL. */
struct gantry_config *gantry_i_config_child(const struct gantry_config *c,
					    const char *name);
/* Removes and frees the direct child named name, if present. */
void gantry_i_config_remove(struct gantry_config *c, const char *name);
struct gantry_config *gantry_i_config_clone(const struct gantry_config *c);
void gantry_i_config_free(struct gantry_config *c);
/* Merges over into base: scalars and lists replace, groups merge key by
   key.  over is left untouched. */
void gantry_i_config_merge(struct gantry_config *base,
			   const struct gantry_config *over);
/* Appends a JSON rendering of c to out (secrets shown as "***"). */
void gantry_i_config_to_json(const struct gantry_config *c,
			     struct gantry_buf *out);

/*
 * JSON text.  gantry_i_utf8_next reads the character at s (n > 0 bytes
 * left): its length, and its code point in *cp, or -1 when the bytes are
 * not UTF-8 (the length then covers what makes one bad character).
 * gantry_i_buf_add_json_n is gantry_buf_add_json for len bytes that may
 * hold NULs.  gantry_i_json_text serialises a json-c value (flags as for
 * json_object_to_json_string_ext) as gantry_json_text does: the one JSON
 * writer, whose output is always valid UTF-8 with control characters
 * escaped; the text belongs to o.
 */
struct json_object;
size_t gantry_i_utf8_next(const char *s, size_t n, long *cp);
void gantry_i_buf_add_json_n(struct gantry_buf *b, const char *s, size_t len);
const char *gantry_i_json_text(struct json_object *o, int flags);

/*
 * What the core needs of struct gantry_json beyond gantry/json.h, for
 * text that must stay as it has always been written.
 *
 * gantry_i_json_text_ex is gantry_json_text with the layout spelled out:
 * 0 is compact, GANTRY_I_JSON_PRETTY indents one member a line,
 * GANTRY_I_JSON_SPACED writes "key": value (and "{ ... }" when not
 * pretty).  gantry_json_text(j, 1) is PRETTY | SPACED (journal records);
 * the --json documents, the batch summary and report --format json are
 * PRETTY alone, which scripts have always read.
 *
 * gantry_i_json_set_number sets obj.key to the number value written as
 * text, which must be a JSON number for value ("%.3f" epoch times).
 */
#define GANTRY_I_JSON_PRETTY 1
#define GANTRY_I_JSON_SPACED 2
const char *gantry_i_json_text_ex(struct gantry_json *j, int layout);
void gantry_i_json_set_number(struct gantry_json *obj, const char *key,
			      double value, const char *text);

/*
 * Key/value lists: the deploy's context and a stage's outputs.
 */
struct gantry_kv {
	char *key;
	char *value;
	int secret;
};

struct gantry_kvlist {
	struct gantry_kv *v;
	size_t n, alloc;
};

void gantry_i_kv_set(struct gantry_kvlist *l, const char *key,
		     const char *value, int secret);
const struct gantry_kv *gantry_i_kv_find(const struct gantry_kvlist *l,
					 const char *key);
void gantry_i_kv_clear(struct gantry_kvlist *l);
/* True when key is a valid context key: [a-z0-9_-] words joined by dots. */
int gantry_i_kv_valid_key(const char *key);

/*
 * Contexts.
 */
struct gantry_ctx {
	struct gantry_kvlist values;	/* context visible to the stage */
	struct gantry_kvlist outputs;	/* what the stage published */
	char *stage;			/* entry name, for log prefixes */
	unsigned timeout;
	unsigned kill_grace;		/* seconds the core waits past timeout */
	struct timespec started;
	int dry_run;
	int err_code;
	char *err_msg;			/* last gantry_fail message */
	struct gantry_buf plan;		/* lines from gantry_plan_line */
};

struct gantry_ctx *gantry_i_ctx_new(const char *stage);
void gantry_i_ctx_free(struct gantry_ctx *ctx);

struct gantry_event {
	const char *name;
	struct gantry_kvlist fields;
};

/*
 * Redaction: one process-wide set of secret values.  gantry_i_redact
 * returns a malloc'd copy of s with every secret replaced by "***".
 */
char *gantry_i_redact(const char *s);
void gantry_i_redact_buf(struct gantry_buf *b);
size_t gantry_i_secret_count(void);
const char *gantry_i_secret_at(size_t i);

/*
 * Logging set-up (core only).  verbosity: -1 quiet (errors only),
 * 0 normal (info), 1+ debug.  color: whether to use ANSI colours.
 */
void gantry_i_log_setup(int verbosity, int color);
int gantry_i_log_color(void);
int gantry_i_log_verbosity(void);
/* Erases a status line this process left on the terminal. */
void gantry_i_status_end(void);
/* Starts a line of output: on a live terminal, erases whatever status
   line any process left on it. */
void gantry_i_line_start(struct gantry_buf *b);
/* The last error line logged (redacted, without prefix), or NULL. */
const char *gantry_i_log_last_error(void);

/*
 * Text for a terminal.  gantry_i_term_clean rewrites b from byte `from`
 * on so that nothing in it drives the terminal: ESC, CR and the other
 * C0 controls, DEL and the C1 controls are shown as \x1b and the like,
 * bytes that are not UTF-8 as \xff.  how: 0, one line (tab and newline
 * shown too); GANTRY_I_TERM_LINES, tabs kept and newlines kept with the
 * next line indented; GANTRY_I_TERM_SPACES, tab, CR and newline become
 * spaces; GANTRY_I_TERM_DOC, tabs and newlines kept as they are (a
 * document whose lines are gantry's, such as the text report).  gantry_i_log*, gantry_status and the core's progress use it.
 * gantry_i_term_printf is printf through it (one line: only a final
 * newline of the text is kept), for the core's tables and reports.
 */
#define GANTRY_I_TERM_LINES 1
#define GANTRY_I_TERM_SPACES 2
#define GANTRY_I_TERM_DOC 4
void gantry_i_term_clean(struct gantry_buf *b, size_t from, int how);
void gantry_i_term_printf(FILE *f, const char *fmt, ...) GANTRY_PRINTF(2, 3);
void gantry_i_term_vprintf(FILE *f, const char *fmt, va_list ap)
	GANTRY_PRINTF(2, 0);

/* Interruption: set by the signal handlers of core and stage children. */
extern volatile sig_atomic_t gantry_i_interrupted;

/* Reads a whole file (at most max bytes) into a malloc'd string, or
   returns NULL with errno set (EFBIG when it is larger than max). */
char *gantry_i_read_file(const char *path, size_t max);

/* Milliseconds left of ctx's timeout, counted from the callback's start
   (0 when it has passed; -1 without a timeout or a ctx). */
long gantry_i_ctx_remaining_ms(const struct gantry_ctx *ctx);
/* How long a request starting now may take, in milliseconds: -1 without
   a timeout; before the timeout, what is left of it but at least
   floor_ms (a call made just before it still gets its answer); after it
   (a stage undoing its work in the kill_grace the core gives it), what
   is left of the grace less a second to report, or 0 below floor_ms. */
long gantry_i_ctx_budget_ms(const struct gantry_ctx *ctx, long floor_ms);

#include "banned.h"

#endif
