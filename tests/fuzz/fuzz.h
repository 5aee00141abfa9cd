/*
 * fuzz.h - what gantry's libFuzzer targets share.  Included once by each
 * fuzz_*.c, which is one translation unit.
 *
 * log.c is compiled into the target here rather than taken from the
 * archive: the redactor's secret list is process-wide and only grows
 * (a deploy registers a bounded set), so a target that registers
 * fuzzer-chosen secrets must empty it after each input, or every run
 * would be slower than the last and the list would read as a leak.
 */
#ifndef GANTRY_FUZZ_H
#define GANTRY_FUZZ_H

#include "../../sdk/lib/log.c"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Forgets every registered secret and the last error line. */
static inline void fuzz_reset(void)
{
	size_t i;

	for (i = 0; i < nsecrets; i++)
		free(secrets[i]);
	free(secrets);
	secrets = NULL;
	nsecrets = asecrets = 0;
	free(last_error);
	last_error = NULL;
}

/* The input as a NUL-terminated string (malloc'd). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Every file and directory made under fuzz_dir(), removed at exit in
   reverse order (directories after what they hold). */
static char *fuzz_made[64];
static size_t fuzz_nmade;

static inline void fuzz_cleanup(void)
{
	while (fuzz_nmade) {
		remove(fuzz_made[--fuzz_nmade]);
		free(fuzz_made[fuzz_nmade]);
	}
}

static inline void fuzz_track(const char *path)
{
	size_t i;

	for (i = 0; i < fuzz_nmade; i++)
		if (!strcmp(fuzz_made[i], path))
			return;
	if (fuzz_nmade == sizeof(fuzz_made) / sizeof(fuzz_made[0]))
		abort();
	fuzz_made[fuzz_nmade] = strdup(path);
	if (!fuzz_made[fuzz_nmade++])
		abort();
}

/* A private directory for the target's files, made once per process. */
static inline const char *fuzz_dir(void)
{
	static char dir[64];

	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/gantry-fuzz-XXXXXX",
			 tmp && strlen(tmp) < 32 ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
		fuzz_track(dir);
		atexit(fuzz_cleanup);
	}
	return dir;
}

/* dir/name, made a directory (once). */
static inline void fuzz_mkdir(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		perror(path);
		abort();
	}
	fuzz_track(path);
}

/* Writes len bytes to dir/name; aborts when it cannot (not a finding).
   The file is removed at exit unless the caller removes it itself
   (transient). */
static inline void fuzz_put(const char *name, const void *data, size_t len,
			    int transient)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fuzz_dir(), name);
	f = fopen(path, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
		perror(path);
		abort();
	}
	if (!transient)
		fuzz_track(path);
}

static inline void fuzz_write(const char *name, const void *data, size_t len)
{
	fuzz_put(name, data, len, 0);
}

/* The full path of dir/name in buf. */
static inline const char *fuzz_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", fuzz_dir(), name);
	return buf;
}

#endif
