/*
 * statedir.c - creating the state directory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core.h"
#include "statedir.h"

int state_mkdirs(const char *path)
{
	char *p = gantry_i_xstrdup(path), *s;
	struct stat st;
	int rc = 0;

	for (s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0) {
			if (errno != EEXIST) {
				rc = -1;
			} else if (stat(p, &st) < 0) {
				rc = -1;
			} else if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				rc = -1;
			}
		}
		*s = c;
		if (rc < 0 || c == '\0')
			break;
	}
	free(p);
	return rc;
}
