/*
 * json.c - the SDK's JSON documents over json-c.
 *
 * A struct gantry_json is never defined: a pointer to one is a
 * json_object pointer in disguise, so values inside a document cost
 * nothing to hand out.  JSON null is json-c's NULL pointer, which is why
 * gantry_json_type(NULL) answers GANTRY_JSON_NULL.
 *
 * Writing is ours, not json-c's: json-c copies a string's bytes as they
 * are, so an actor or a tag annotation that is not UTF-8 would make a
 * document no JSON reader takes.  gantry_i_json_text() is the one JSON
 * writer of libgantry and the core (json-c's layout, gantry's strings).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "internal.h"

/* Deep enough for Terraform plans; json-c's default is 32. */
#define JSON_MAX_DEPTH 256

static struct json_object *jo(const struct gantry_json *j)
{
	return (struct json_object *)(void *)(size_t)j;
}

static struct gantry_json *gj(struct json_object *o)
{
	return (struct gantry_json *)(void *)o;
}

static void parse_error(const char *text, size_t at, const char *what,
			char *err, size_t errlen)
{
	size_t i, line = 1;

	if (!err || !errlen)
		return;
	for (i = 0; i < at && text[i]; i++)
		if (text[i] == '\n')
			line++;
	snprintf(err, errlen, "line %zu: %s", line, what);
}

struct gantry_json *gantry_json_parse(const char *text, size_t len,
				      char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t end;

	if (err && errlen)
		err[0] = '\0';
	if (!text) {
		parse_error("", 0, "no document", err, errlen);
		return NULL;
	}
	tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok) {
		parse_error("", 0, "out of memory", err, errlen);
		return NULL;
	}
	/* Only JSON: json-c's extensions (trailing commas, "03e") would be
	   written back out as they came, and are not JSON; nor is text that
	   is not UTF-8 (the writer would turn two keys that differ only in
	   such bytes into one duplicate key).  Trailing text is reported
	   below, with its line. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
			       JSON_TOKENER_VALIDATE_UTF8 |
			       JSON_TOKENER_ALLOW_TRAILING_CHARS);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr == json_tokener_continue && len) {
		/* A number ending the text ("7") is complete only once
		   json-c sees what follows: the NUL a C string has. */
		o = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) == json_tokener_success)
			jerr = json_tokener_success;
		end = len;
	}
	json_tokener_free(tok);

	if (jerr == json_tokener_continue) {
		parse_error(text, len, "unexpected end of input", err, errlen);
		return NULL;
	}
	if (jerr != json_tokener_success) {
		parse_error(text, end, json_tokener_error_desc(jerr), err,
			    errlen);
		return NULL;
	}
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (end < len) {
		json_object_put(o);
		parse_error(text, end, "unexpected text after the document",
			    err, errlen);
		return NULL;
	}
	if (!o) {
		/* json-c's null is the NULL pointer, which this API keeps
		   for "no document". */
		parse_error(text, 0, "the document is a bare null", err,
			    errlen);
		return NULL;
	}
	return gj(o);
}

struct gantry_json *gantry_json_new_object(void)
{
	return gj(json_object_new_object());
}

struct gantry_json *gantry_json_new_array(void)
{
	return gj(json_object_new_array());
}

void gantry_json_free(struct gantry_json *doc)
{
	json_object_put(jo(doc));
}

/*
 * One step of a path: a key up to '.' or '[', or "[N]".  Returns the
 * rest of the path, or NULL when the step does not resolve.
 */
static const char *step(struct json_object **cur, const char *p)
{
	struct json_object *next;

	if (*p == '[') {
		char *end;
		unsigned long i;

		errno = 0;
		i = strtoul(p + 1, &end, 10);
		if (end == p + 1 || *end != ']' || errno ||
		    !json_object_is_type(*cur, json_type_array) ||
		    i >= json_object_array_length(*cur))
			return NULL;
		*cur = json_object_array_get_idx(*cur, i);
		return end + 1;
	} else {
		size_t n = strcspn(p, ".[");
		char *key;
		int found;

		if (!n || !json_object_is_type(*cur, json_type_object))
			return NULL;
		key = gantry_xstrndup(p, n);
		found = json_object_object_get_ex(*cur, key, &next);
		free(key);
		if (!found)
			return NULL;
		*cur = next;
		return p + n;
	}
}

struct gantry_json *gantry_json_get(const struct gantry_json *j,
				    const char *path)
{
	struct json_object *cur = jo(j);
	const char *p = path;

	if (!j)
		return NULL;
	if (!p)
		return gj(cur);
	while (*p) {
		p = step(&cur, p);
		/* A null member ends the walk like a missing one. */
		if (!p || (!cur && *p) || (*p && *p != '.' && *p != '['))
			return NULL;
		if (*p == '.') {
			p++;
			if (!*p || *p == '.' || *p == '[')
				return NULL;
		}
	}
	return gj(cur);
}

enum gantry_json_type gantry_json_type(const struct gantry_json *j)
{
	switch (json_object_get_type(jo(j))) {
	case json_type_boolean:
		return GANTRY_JSON_BOOL;
	case json_type_int:
		return GANTRY_JSON_INT;
	case json_type_double:
		return GANTRY_JSON_DOUBLE;
	case json_type_string:
		return GANTRY_JSON_STRING;
	case json_type_array:
		return GANTRY_JSON_ARRAY;
	case json_type_object:
		return GANTRY_JSON_OBJECT;
	case json_type_null:
	default:
		return GANTRY_JSON_NULL;
	}
}

const char *gantry_json_string(const struct gantry_json *j, const char *path,
			       const char *def)
{
	struct json_object *o = jo(gantry_json_get(j, path));

	return json_object_is_type(o, json_type_string) ?
		json_object_get_string(o) : def;
}

long long gantry_json_int(const struct gantry_json *j, const char *path,
			  long long def)
{
	struct json_object *o = jo(gantry_json_get(j, path));

	return json_object_is_type(o, json_type_int) ?
		(long long)json_object_get_int64(o) : def;
}

int gantry_json_bool(const struct gantry_json *j, const char *path, int def)
{
	struct json_object *o = jo(gantry_json_get(j, path));

	return json_object_is_type(o, json_type_boolean) ?
		json_object_get_boolean(o) != 0 : def;
}

double gantry_json_double(const struct gantry_json *j, const char *path,
			  double def)
{
	struct json_object *o = jo(gantry_json_get(j, path));

	/* 5 is a fine double; JSON does not tell 5 from 5.0. */
	if (json_object_is_type(o, json_type_double) ||
	    json_object_is_type(o, json_type_int))
		return json_object_get_double(o);
	return def;
}

size_t gantry_json_length(const struct gantry_json *j)
{
	struct json_object *o = jo(j);

	return json_object_is_type(o, json_type_array) ?
		json_object_array_length(o) : 0;
}

struct gantry_json *gantry_json_at(const struct gantry_json *j, size_t i)
{
	if (i >= gantry_json_length(j))
		return NULL;
	return gj(json_object_array_get_idx(jo(j), i));
}

size_t gantry_json_keys(const struct gantry_json *j)
{
	struct json_object *o = jo(j);

	return json_object_is_type(o, json_type_object) ?
		(size_t)json_object_object_length(o) : 0;
}

/* The i-th entry of an object, in insertion order (json-c keeps it). */
static struct lh_entry *entry_at(const struct gantry_json *j, size_t i)
{
	struct lh_entry *e;

	if (i >= gantry_json_keys(j))
		return NULL;
	for (e = lh_table_head(json_object_get_object(jo(j))); e && i;
	     e = lh_entry_next(e))
		i--;
	return e;
}

const char *gantry_json_key_at(const struct gantry_json *j, size_t i)
{
	struct lh_entry *e = entry_at(j, i);

	return e ? (const char *)lh_entry_k(e) : NULL;
}

struct gantry_json *gantry_json_value_at(const struct gantry_json *j, size_t i)
{
	struct lh_entry *e = entry_at(j, i);

	return e ? gj((struct json_object *)lh_entry_v(e)) : NULL;
}

static void set_member(struct gantry_json *obj, const char *key,
		       struct json_object *v)
{
	if (!key || !json_object_is_type(jo(obj), json_type_object) ||
	    json_object_object_add(jo(obj), key, v) < 0)
		json_object_put(v);
}

void gantry_json_set_string(struct gantry_json *obj, const char *key,
			    const char *value)
{
	set_member(obj, key, value ? json_object_new_string(value) : NULL);
}

void gantry_json_set_int(struct gantry_json *obj, const char *key,
			 long long value)
{
	set_member(obj, key, json_object_new_int64((int64_t)value));
}

void gantry_json_set_bool(struct gantry_json *obj, const char *key, int value)
{
	set_member(obj, key, json_object_new_boolean(value != 0));
}

void gantry_json_set_null(struct gantry_json *obj, const char *key)
{
	set_member(obj, key, NULL);
}

struct gantry_json *gantry_json_set_object(struct gantry_json *obj,
					   const char *key)
{
	struct json_object *v;

	if (!key || !json_object_is_type(jo(obj), json_type_object))
		return NULL;
	v = json_object_new_object();
	set_member(obj, key, v);
	return gj(v);
}

struct gantry_json *gantry_json_set_array(struct gantry_json *obj,
					  const char *key)
{
	struct json_object *v;

	if (!key || !json_object_is_type(jo(obj), json_type_object))
		return NULL;
	v = json_object_new_array();
	set_member(obj, key, v);
	return gj(v);
}

void gantry_json_set_double(struct gantry_json *obj, const char *key,
			    double value)
{
	set_member(obj, key, json_object_new_double(value));
}

void gantry_i_json_set_number(struct gantry_json *obj, const char *key,
			      double value, const char *text)
{
	set_member(obj, key, json_object_new_double_s(value, text));
}

/* doc becomes part of obj, or is freed when it cannot (obj is not an
   object, key is NULL): either way the caller no longer holds it. */
void gantry_json_set_json(struct gantry_json *obj, const char *key,
			  struct gantry_json *doc)
{
	set_member(obj, key, jo(doc));
}

static void push(struct gantry_json *arr, struct json_object *v)
{
	if (!json_object_is_type(jo(arr), json_type_array) ||
	    json_object_array_add(jo(arr), v) < 0)
		json_object_put(v);
}

void gantry_json_push_string(struct gantry_json *arr, const char *value)
{
	push(arr, value ? json_object_new_string(value) : NULL);
}

void gantry_json_push_int(struct gantry_json *arr, long long value)
{
	push(arr, json_object_new_int64((int64_t)value));
}

void gantry_json_push_double(struct gantry_json *arr, double value)
{
	push(arr, json_object_new_double(value));
}

void gantry_json_push_bool(struct gantry_json *arr, int value)
{
	push(arr, json_object_new_boolean(value != 0));
}

void gantry_json_push_null(struct gantry_json *arr)
{
	push(arr, NULL);
}

void gantry_json_push_json(struct gantry_json *arr, struct gantry_json *doc)
{
	push(arr, jo(doc));
}

struct gantry_json *gantry_json_push_array(struct gantry_json *arr)
{
	struct json_object *v;

	if (!json_object_is_type(jo(arr), json_type_array))
		return NULL;
	v = json_object_new_array();
	push(arr, v);
	return gj(v);
}

struct gantry_json *gantry_json_push_object(struct gantry_json *arr)
{
	struct json_object *v;

	if (!json_object_is_type(jo(arr), json_type_array))
		return NULL;
	v = json_object_new_object();
	push(arr, v);
	return gj(v);
}

static void write_value(struct gantry_buf *b, struct json_object *o,
			int level, int flags);

/* json-c's layout, so documents read as they always have. */
static void write_indent(struct gantry_buf *b, int level, int flags)
{
	int i;

	if (flags & JSON_C_TO_STRING_PRETTY)
		for (i = 0; i < level; i++)
			gantry_buf_adds(b, flags & JSON_C_TO_STRING_PRETTY_TAB ?
					"\t" : "  ");
}

static void write_open(struct gantry_buf *b, char open, int flags)
{
	gantry_buf_addch(b, open);
	if (flags & JSON_C_TO_STRING_PRETTY)
		gantry_buf_addch(b, '\n');
}

static void write_member(struct gantry_buf *b, int *first, int level,
			 int flags)
{
	if (!*first) {
		gantry_buf_addch(b, ',');
		if (flags & JSON_C_TO_STRING_PRETTY)
			gantry_buf_addch(b, '\n');
	}
	if ((flags & JSON_C_TO_STRING_SPACED) &&
	    !(flags & JSON_C_TO_STRING_PRETTY))
		gantry_buf_addch(b, ' ');
	*first = 0;
	write_indent(b, level + 1, flags);
}

static void write_close(struct gantry_buf *b, int empty, int level, int flags,
			char close)
{
	if (flags & JSON_C_TO_STRING_PRETTY) {
		if (!empty)
			gantry_buf_addch(b, '\n');
		write_indent(b, level, flags);
	} else if (flags & JSON_C_TO_STRING_SPACED) {
		gantry_buf_addch(b, ' ');
	}
	gantry_buf_addch(b, close);
}

static void write_value(struct gantry_buf *b, struct json_object *o,
			int level, int flags)
{
	struct lh_entry *e;
	size_t i, n;
	int first = 1;

	switch (json_object_get_type(o)) {
	case json_type_string:
		gantry_i_buf_add_json_n(b, json_object_get_string(o),
					(size_t)json_object_get_string_len(o));
		break;
	case json_type_object:
		write_open(b, '{', flags);
		for (e = lh_table_head(json_object_get_object(o)); e;
		     e = lh_entry_next(e)) {
			write_member(b, &first, level, flags);
			gantry_buf_add_json(b, (const char *)lh_entry_k(e));
			gantry_buf_adds(b, flags & JSON_C_TO_STRING_SPACED ?
					": " : ":");
			write_value(b, (struct json_object *)lh_entry_v(e),
				    level + 1, flags);
		}
		write_close(b, first, level, flags, '}');
		break;
	case json_type_array:
		write_open(b, '[', flags);
		n = json_object_array_length(o);
		for (i = 0; i < n; i++) {
			write_member(b, &first, level, flags);
			write_value(b, json_object_array_get_idx(o, i),
				    level + 1, flags);
		}
		write_close(b, first, level, flags, ']');
		break;
	case json_type_null:
		gantry_buf_adds(b, "null");
		break;
	default:
		/* Numbers and booleans: json-c's own text (a parsed double
		   keeps its digits). */
		gantry_buf_adds(b, json_object_to_json_string_ext(o, flags));
		break;
	}
}

/* json-c calls this for a document gantry_i_json_text() serialises; the
   text lands in the object's own print buffer, which json-c keeps. */
static int serialise(struct json_object *o, struct printbuf *pb, int level,
		     int flags)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int rc;

	write_value(&b, o, level, flags);
	rc = printbuf_memappend(pb, b.buf, (int)b.len);
	gantry_buf_release(&b);
	return rc < 0 ? -1 : 0;
}

const char *gantry_i_json_text(struct json_object *o, int flags)
{
	/* Containers and strings are written here, whatever json-c would
	   do: always UTF-8 (U+FFFD for what is not), control characters
	   escaped.  Numbers, booleans and null are json-c's. */
	if (json_object_is_type(o, json_type_object) ||
	    json_object_is_type(o, json_type_array) ||
	    json_object_is_type(o, json_type_string))
		json_object_set_serializer(o, serialise, NULL, NULL);
	return json_object_to_json_string_ext(o, flags);
}

const char *gantry_i_json_text_ex(struct gantry_json *j, int layout)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	if (layout & GANTRY_I_JSON_PRETTY)
		flags |= JSON_C_TO_STRING_PRETTY;
	if (layout & GANTRY_I_JSON_SPACED)
		flags |= JSON_C_TO_STRING_SPACED;
	return gantry_i_json_text(jo(j), flags);
}

const char *gantry_json_text(struct gantry_json *j, int pretty)
{
	return gantry_i_json_text_ex(j, pretty ? GANTRY_I_JSON_PRETTY |
				     GANTRY_I_JSON_SPACED : 0);
}
