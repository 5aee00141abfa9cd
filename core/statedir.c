/*
 * statedir.c - creating and judging the state directory.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "filecheck.h"
#include "statedir.h"

int state_mkdirs(const char *path)
{
	char *p = gantry_xstrdup(path), *s;
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

/* Judges one directory; 0 (also when it does not exist) or -1. */
static int check_one(const char *path, const char *what, struct errs *e)
{
	struct stat st;
	char *subject, *problem;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		errs_add(e, "cannot use %s '%s': %s; check it or set "
			 "--state-dir", what, path, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		char *real = realpath(path, NULL);

		errs_add(e, "%s '%s' is a symlink%s%s%s, and gantry trusts only "
			 "a real directory there; %s", what, path,
			 real ? " to '" : "", real ? real : "", real ? "'" : "",
			 !strcmp(what, "state directory") ?
			 "give the directory itself with --state-dir (or "
			 "GANTRY_STATE_DIR, state_dir)" :
			 "replace the link with the directory itself");
		free(real);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		errs_add(e, "%s '%s' is %s, not a directory; remove it or set "
			 "--state-dir", what, path, file_kind(st.st_mode));
		return -1;
	}
	subject = gantry_xasprintf("%s '%s'", what, path);
	problem = file_trust_problem(subject, path, &st,
				     "set --state-dir to a directory of "
				     "your own");
	free(subject);
	if (!problem)
		return 0;
	errs_add(e, "%s", problem);
	free(problem);
	return -1;
}

int state_dir_check(const char *path, struct errs *e)
{
	static const char *const subdirs[] = { "journal", "locks", "work",
					       "batch", "approvals" };
	size_t len = strlen(path), i;
	char *dir, *sub, *what;
	int rc;

	/* "state/" would make lstat follow a symlink named state. */
	while (len > 1 && path[len - 1] == '/')
		len--;
	dir = gantry_xstrndup(path, len);
	rc = check_one(dir, "state directory", e);
	for (i = 0; !rc && i < GANTRY_ARRAY_SIZE(subdirs); i++) {
		sub = gantry_xasprintf("%s/%s", dir, subdirs[i]);
		what = gantry_xasprintf("%s directory", subdirs[i]);
		rc = check_one(sub, what, e);
		free(what);
		free(sub);
	}
	free(dir);
	return rc;
}
