/*
 * gantry/buf.h - a growing string, for messages, request bodies and
 * anything built a piece at a time.
 *
 *	struct gantry_buf b = GANTRY_BUF_INIT;
 *
 *	gantry_buf_addf(&b, "{\"cluster\": ");
 *	gantry_buf_add_json(&b, cluster);
 *	gantry_buf_adds(&b, "}");
 *	rc = gantry_aws_json(aws, "ecs", "DescribeClusters", b.buf, &out);
 *	gantry_buf_release(&b);
 *
 * b.buf is always a NUL-terminated string (an empty buffer points at a
 * shared static "", never NULL) and b.len its length without the NUL.
 * Read them freely; bytes before b.buf[b.len] of a non-empty buffer may
 * be changed in place (to cut it short, lower b.len and put a NUL
 * there); anything else goes through these functions.  Memory
 * that cannot be had aborts the process (a stage runs in a child of its
 * own: the core records the crash).
 *
 * Since ABI 1.0 (libgantry 0.1).
 */
#ifndef GANTRY_BUF_H
#define GANTRY_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <gantry/context.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_buf {
	char *buf;		/* the string, always NUL-terminated */
	size_t len;		/* its length */
	size_t alloc;		/* bytes allocated; 0: buf is the static "" */
};

extern const char gantry_buf_empty[1];
#define GANTRY_BUF_INIT { (char *)gantry_buf_empty, 0, 0 }

/* Makes b an empty buffer (b may hold garbage; nothing is freed). */
void gantry_buf_init(struct gantry_buf *b);
/* Frees b's memory and leaves it empty and reusable. */
void gantry_buf_release(struct gantry_buf *b);
/* Empties b and keeps its memory. */
void gantry_buf_reset(struct gantry_buf *b);

/* Appends len bytes of data (which may hold NULs). */
void gantry_buf_add(struct gantry_buf *b, const char *data, size_t len);
/* Appends the string s. */
void gantry_buf_adds(struct gantry_buf *b, const char *s);
/* Appends one character. */
void gantry_buf_addch(struct gantry_buf *b, char c);
/* Appends printf-style. */
void gantry_buf_addf(struct gantry_buf *b, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);
void gantry_buf_vaddf(struct gantry_buf *b, const char *fmt, va_list ap)
	GANTRY_PRINTF(2, 0);
/* Appends s as a JSON string literal, quotes included ("a\"b\n").  The
   literal is always valid UTF-8 JSON: UTF-8 is copied as it is, each
   byte sequence that is not UTF-8 becomes U+FFFD, and control characters
   (U+0000-001F, DEL, U+0080-009F) are escaped (\n, \t, \r, \u001b). */
void gantry_buf_add_json(struct gantry_buf *b, const char *s);

/* Hands the string over (malloc'd, free it; "" for an empty buffer) and
   leaves b empty. */
char *gantry_buf_detach(struct gantry_buf *b);

#ifdef __cplusplus
}
#endif

#endif
