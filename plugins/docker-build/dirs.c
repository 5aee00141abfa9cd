/*
 * dirs.c - the docker-build stage's directories.  What lands in a shared
 * place such as /tmp is created 0700 and checked to be ours, since the
 * layout written there is what the push stage uploads.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "dirs.h"
#include "banned.h"

const char *dirs_tmp_base(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t == '/' ? t : "/tmp";
}

char *dirs_default_storage(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return gantry_xasprintf("%s/gantry/buildah", xdg);
	if (home && *home == '/')
		return gantry_xasprintf("%s/.cache/gantry/buildah", home);
	return gantry_xasprintf("%s/gantry-buildah-%lu", dirs_tmp_base(),
				(unsigned long)geteuid());
}

/*
 * The deploy's private directory (the core's deploy.state_dir) is the
 * natural home; one directory per deploy keeps a concurrent deploy from
 * reading another's image.
 */
char *dirs_layout(struct gantry_ctx *ctx, const char *service)
{
	const char *state = gantry_ctx_get(ctx, "deploy.state_dir");
	const char *id = gantry_ctx_get(ctx, "deploy.id");

	if (state && *state)
		return gantry_xasprintf("%s/image", state);
	return gantry_xasprintf("%s/gantry-images/%s/%s", dirs_tmp_base(),
				service, id && *id ? id : "current");
}

int dirs_make(const char *path)
{
	char *p = gantry_xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; rc == 0; s++) {
		char c = *s;

		if (c && c != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int type,
			struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int dirs_remove_tree(const char *path)
{
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 &&
	    errno != ENOENT)
		return -1;
	return 0;
}

/* A directory in a shared place must be ours alone, or someone else
   could swap the image the push stage uploads. */
static int private_dir(const char *path, struct gantry_ctx *ctx)
{
	struct stat sb;

	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create '%s': "
				   "%s", path, strerror(errno));
	if (lstat(path, &sb) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot read '%s': %s",
				   path, strerror(errno));
	if (!S_ISDIR(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022))
		return gantry_fail(ctx, GANTRY_EFAIL, "'%s' is not a private "
				   "directory of ours (a symlink, another "
				   "owner, or writable by others); remove it "
				   "or set TMPDIR elsewhere", path);
	return GANTRY_OK;
}

/* A previous attempt's image must not mix with this one's. */
int dirs_fresh_layout(const char *path, struct gantry_ctx *ctx)
{
	const char *state = gantry_ctx_get(ctx, "deploy.state_dir");
	char *top;
	int rc;

	if (!state || !*state) {
		top = gantry_xasprintf("%s/gantry-images", dirs_tmp_base());
		rc = private_dir(top, ctx);
		free(top);
		if (rc < 0)
			return rc;
	}
	if (dirs_remove_tree(path) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot empty the image "
				   "layout directory '%s': %s", path,
				   strerror(errno));
	if (dirs_make(path) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create the image "
				   "layout directory '%s': %s", path,
				   strerror(errno));
	return GANTRY_OK;
}
