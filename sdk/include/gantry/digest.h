/*
 * gantry/digest.h - SHA-256 and base64, so that a stage needs no crypto
 * library of its own to check a content digest or decode a token.
 *
 *	struct gantry_sha256 *h = gantry_sha256_new();
 *	char hex[GANTRY_SHA256_HEX];
 *
 *	gantry_sha256_update(h, data, len);	(as often as needed)
 *	gantry_sha256_final(h, hex);		("e3b0c442...", 64 digits)
 *	gantry_sha256_free(h);
 *
 * Memory that cannot be had aborts the process, as with gantry/util.h.
 *
 * Since ABI 1.1.
 */
#ifndef GANTRY_DIGEST_H
#define GANTRY_DIGEST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes for a SHA-256 in lowercase hex, with its NUL. */
#define GANTRY_SHA256_HEX 65

struct gantry_sha256;

/* A new, empty SHA-256 computation. */
struct gantry_sha256 *gantry_sha256_new(void);
/* Adds len bytes of data. */
void gantry_sha256_update(struct gantry_sha256 *h, const void *data,
			  size_t len);
/* Writes the digest of everything added, in lowercase hex, to hex and
   starts h again empty. */
void gantry_sha256_final(struct gantry_sha256 *h,
			 char hex[GANTRY_SHA256_HEX]);
void gantry_sha256_free(struct gantry_sha256 *h);

/* The SHA-256 of len bytes of data, in lowercase hex, into hex. */
void gantry_sha256_hex(const void *data, size_t len,
		       char hex[GANTRY_SHA256_HEX]);

/*
 * Decodes the base64 (RFC 4648, with padding; no whitespace) text:
 * returns the bytes, malloc'd and NUL-terminated (free() them), with
 * their number in *len, or NULL when text is not base64.
 */
char *gantry_base64_decode(const char *text, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
