/*
 * util.c - the ecr stage's digests and sizes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gantry/digest.h>

#include "ecr.h"

#include "banned.h"

void ecr_sha256(const void *data, size_t len, char *out)
{
	char hex[GANTRY_SHA256_HEX];

	gantry_sha256_hex(data, len, hex);
	snprintf(out, ECR_DIGEST_LEN, "sha256:%s", hex);
}

int ecr_digest_valid(const char *s)
{
	size_t i;

	if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return 0;
	for (i = 7; i < 71; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

const char *ecr_human_size(long long bytes, char *buf, size_t len)
{
	if (bytes >= 1000LL * 1000 * 1000)
		snprintf(buf, len, "%.1f GB", bytes / 1e9);
	else if (bytes >= 1000LL * 1000)
		snprintf(buf, len, "%.1f MB", bytes / 1e6);
	else if (bytes >= 1000)
		snprintf(buf, len, "%.1f kB", bytes / 1e3);
	else
		snprintf(buf, len, "%lld B", bytes);
	return buf;
}
