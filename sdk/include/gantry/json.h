/*
 * gantry/json.h - reading and writing JSON without json-c in sight.
 *
 * A struct gantry_json is a parsed document or a value inside one.  Values
 * reached through gantry_json_get()/gantry_json_at() belong to their
 * document and live until it is freed.
 *
 * Paths: "services[0].deployments[1].rolloutState" - dots between object
 * keys, [N] for array elements.
 *
 * Since ABI 1.0.
 */
#ifndef GANTRY_JSON_H
#define GANTRY_JSON_H

#include <stddef.h>
#include <gantry/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_json;

enum gantry_json_type {
	GANTRY_JSON_NULL = 0,
	GANTRY_JSON_BOOL,
	GANTRY_JSON_INT,
	GANTRY_JSON_DOUBLE,
	GANTRY_JSON_STRING,
	GANTRY_JSON_ARRAY,
	GANTRY_JSON_OBJECT
};

/* Parses text; NULL on error with a message ("line 3: unexpected ...")
   copied to err (may be NULL) of errlen bytes. */
struct gantry_json *gantry_json_parse(const char *text, size_t len,
				      char *err, size_t errlen);

/* New empty object / array documents. */
struct gantry_json *gantry_json_new_object(void);
struct gantry_json *gantry_json_new_array(void);

/* Frees a document (only documents, not values inside one). */
void gantry_json_free(struct gantry_json *doc);

/* The value at path, or NULL. */
struct gantry_json *gantry_json_get(const struct gantry_json *j,
				    const char *path);
enum gantry_json_type gantry_json_type(const struct gantry_json *j);

/* Typed getters at path with a default when absent or of another type. */
const char *gantry_json_string(const struct gantry_json *j, const char *path,
			       const char *def);
long long gantry_json_int(const struct gantry_json *j, const char *path,
			  long long def);
int gantry_json_bool(const struct gantry_json *j, const char *path, int def);
double gantry_json_double(const struct gantry_json *j, const char *path,
			  double def);

/* Arrays: length (0 when not an array) and element i. */
size_t gantry_json_length(const struct gantry_json *j);
struct gantry_json *gantry_json_at(const struct gantry_json *j, size_t i);

/* Objects: number of keys, and key/value i in insertion order. */
size_t gantry_json_keys(const struct gantry_json *j);
const char *gantry_json_key_at(const struct gantry_json *j, size_t i);
struct gantry_json *gantry_json_value_at(const struct gantry_json *j, size_t i);

/* Building: set a member of an object (replacing it) or append to an
   array.  The value-returning forms return the new container. */
void gantry_json_set_string(struct gantry_json *obj, const char *key,
			    const char *value);
void gantry_json_set_int(struct gantry_json *obj, const char *key,
			 long long value);
void gantry_json_set_bool(struct gantry_json *obj, const char *key, int value);
void gantry_json_set_null(struct gantry_json *obj, const char *key);
/* A double: written as json-c writes doubles ("%.17g", with ".0" when
   that has no fraction), so 0.1 comes out as 0.10000000000000001.
   Since ABI 1.0 (libgantry 0.1). */
void gantry_json_set_double(struct gantry_json *obj, const char *key,
			    double value);
/* Moves the document doc (from gantry_json_new_object/new_array/parse,
   never a value inside a document) into obj under key: doc now belongs
   to obj's document and must not be freed.  When it cannot be added (obj
   is not an object, key is NULL), doc is freed.  A NULL doc sets null.
   Since ABI 1.0 (libgantry 0.1). */
void gantry_json_set_json(struct gantry_json *obj, const char *key,
			  struct gantry_json *doc);
struct gantry_json *gantry_json_set_object(struct gantry_json *obj,
					   const char *key);
struct gantry_json *gantry_json_set_array(struct gantry_json *obj,
					  const char *key);
void gantry_json_push_string(struct gantry_json *arr, const char *value);
struct gantry_json *gantry_json_push_object(struct gantry_json *arr);
/* Appending other values to an array, as the set_ forms do for objects;
   gantry_json_push_json moves doc as gantry_json_set_json does.  Since
   ABI 1.0 (libgantry 0.1). */
void gantry_json_push_int(struct gantry_json *arr, long long value);
void gantry_json_push_double(struct gantry_json *arr, double value);
void gantry_json_push_bool(struct gantry_json *arr, int value);
void gantry_json_push_null(struct gantry_json *arr);
void gantry_json_push_json(struct gantry_json *arr, struct gantry_json *doc);
struct gantry_json *gantry_json_push_array(struct gantry_json *arr);

/* Serialises compactly (pretty != 0: indented); the string belongs to j
   and lives until j or its document changes or is freed.  The text is
   always valid UTF-8 JSON, strings written as gantry_buf_add_json()
   writes them (U+FFFD for bytes that are not UTF-8, control characters
   escaped), keys included. */
const char *gantry_json_text(struct gantry_json *j, int pretty);

#ifdef __cplusplus
}
#endif

#endif
