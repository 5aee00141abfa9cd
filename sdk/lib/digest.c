/*
 * digest.c - SHA-256 (libcrypto) and base64 decoding for gantry/digest.h.
 */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/digest.h>
#include "internal.h"

struct gantry_sha256 {
	EVP_MD_CTX *md;
};

static void start(struct gantry_sha256 *h)
{
	if (!EVP_DigestInit_ex(h->md, EVP_sha256(), NULL))
		abort();
}

struct gantry_sha256 *gantry_sha256_new(void)
{
	struct gantry_sha256 *h = gantry_xcalloc(1, sizeof(*h));

	h->md = EVP_MD_CTX_new();
	if (!h->md)
		abort();
	start(h);
	return h;
}

void gantry_sha256_update(struct gantry_sha256 *h, const void *data,
			  size_t len)
{
	if (h && len && !EVP_DigestUpdate(h->md, data, len))
		abort();
}

static void to_hex(const unsigned char *md, unsigned len, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < len && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * i] = '\0';
}

void gantry_sha256_final(struct gantry_sha256 *h,
			 char hex[GANTRY_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!h)
		return;
	if (!EVP_DigestFinal_ex(h->md, md, &len))
		abort();
	to_hex(md, len, hex);
	start(h);
}

void gantry_sha256_free(struct gantry_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

void gantry_sha256_hex(const void *data, size_t len,
		       char hex[GANTRY_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		abort();
	to_hex(md, mdlen, hex);
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

char *gantry_base64_decode(const char *text, size_t *len)
{
	size_t n, i, o = 0, pad = 0;
	char *out;

	if (len)
		*len = 0;
	if (!text)
		return NULL;
	n = strlen(text);
	if (n % 4)
		return NULL;
	if (n && text[n - 1] == '=')
		pad++;
	if (n > 1 && text[n - 2] == '=')
		pad++;
	out = gantry_xmalloc(n / 4 * 3 + 1);
	for (i = 0; i < n; i += 4) {
		int v[4], k;
		unsigned long w = 0;

		for (k = 0; k < 4; k++) {
			int last = i + 4 == n;

			if (last && text[i + k] == '=' && k >= 4 - (int)pad) {
				v[k] = 0;
			} else if ((v[k] = b64_value(text[i + k])) < 0) {
				free(out);
				return NULL;
			}
			w = w << 6 | (unsigned long)v[k];
		}
		out[o++] = (char)(w >> 16);
		out[o++] = (char)(w >> 8 & 255);
		out[o++] = (char)(w & 255);
	}
	o -= pad;
	out[o] = '\0';
	if (len)
		*len = o;
	return out;
}
