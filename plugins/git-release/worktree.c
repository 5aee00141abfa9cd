/*
 * worktree.c - a private checkout of the release for the stages after
 * git-release (the build's context), made with `git worktree`.
 *
 * A stage cannot see the end of its deploy, so the checkout cannot be
 * removed when the deploy finishes.  What stays true instead:
 *   - every worktree lives under <git common dir>/gantry-worktrees/, one
 *     directory per deploy id, so a resumed deploy finds and replaces its
 *     own, and nothing outside that directory is ever removed;
 *   - the rollback callback removes the deploy's worktree;
 *   - every run first removes the worktrees there not touched for a day
 *     (GR_WORKTREE_MAX_AGE), then runs `git worktree prune`.
 * Until then a finished deploy's checkout stays on disk, which is also
 * what lets an operator look at what was built.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <gantry/gantry.h>

#include "gitrel.h"

#include "banned.h"

int gr_worktree_base(struct gantry_ctx *ctx, const char *repo, char **base)
{
	struct gr_git g;
	int rc;

	*base = NULL;
	/* The common dir, not the worktree's own: gantry's checkouts belong
	   to the repository, whichever worktree gantry.cfg sits in. */
	rc = gr_git(ctx, repo, &g, "rev-parse", "--path-format=absolute",
		    "--git-common-dir", NULL);
	if (rc < 0)
		return rc;
	if (g.status || !*g.out) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot find the git "
				 "directory of '%s': %s; set option 'repo' "
				 "to a git checkout (git 2.31 or newer)",
				 repo, *g.tail ? g.tail : "no answer");
		gr_git_clear(&g);
		return rc;
	}
	*base = gantry_xasprintf("%s/gantry-worktrees", g.out);
	gr_git_clear(&g);
	return GANTRY_OK;
}

int gr_worktree_remove(struct gantry_ctx *ctx, const char *repo,
		       const char *dir)
{
	struct gr_git g;
	int rc;

	rc = gr_git(ctx, repo, &g, "worktree", "remove", "--force", dir,
		    NULL);
	if (rc < 0)
		return rc;
	if (g.status)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot remove the "
				 "worktree '%s': %s; remove it with 'git -C "
				 "%s worktree remove --force %s'", dir,
				 *g.tail ? g.tail : "git failed", repo, dir);
	gr_git_clear(&g);
	return rc;
}

void gr_worktree_prune(struct gantry_ctx *ctx, const char *repo,
		       const char *base, time_t max_age)
{
	time_t now = time(NULL);
	struct dirent *de;
	struct gr_git g;
	DIR *d = opendir(base);

	if (!d)
		return;		/* no worktree was ever made */
	while ((de = readdir(d))) {
		struct stat sb;
		char *path;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		path = gantry_xasprintf("%s/%s", base, de->d_name);
		if (!lstat(path, &sb) && S_ISDIR(sb.st_mode) &&
		    now - sb.st_mtime > max_age) {
			gantry_info(ctx, "removing the worktree of an old "
				    "deploy: %s", path);
			if (gr_worktree_remove(ctx, repo, path) < 0)
				gantry_warn(ctx, "cannot remove the old "
					    "worktree '%s'; remove it by hand",
					    path);
		}
		free(path);
	}
	closedir(d);
	if (gr_git(ctx, repo, &g, "worktree", "prune", NULL) == GANTRY_OK)
		gr_git_clear(&g);
}

int gr_worktree_add(struct gantry_ctx *ctx, const char *repo,
		    const char *base, const char *name, const char *commit,
		    char **dir)
{
	struct stat sb;
	struct gr_git g;
	int rc;

	*dir = NULL;
	if (mkdir(base, 0700) < 0 && errno != EEXIST)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot create '%s': "
				   "%s; check the repository's permissions",
				   base, strerror(errno));
	*dir = gantry_xasprintf("%s/%s", base, name);
	/* A resumed deploy re-runs the stage with the same id. */
	if (!lstat(*dir, &sb)) {
		rc = gr_worktree_remove(ctx, repo, *dir);
		if (rc < 0)
			goto fail;
	}
	rc = gr_git(ctx, repo, &g, "worktree", "add", "--detach", *dir,
		    commit, NULL);
	if (rc < 0)
		goto fail;
	if (g.status)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot check out %.12s "
				 "into the worktree '%s': %s", commit, *dir,
				 *g.tail ? g.tail : "git failed");
	gr_git_clear(&g);
	if (rc < 0)
		goto fail;
	return GANTRY_OK;

fail:
	free(*dir);
	*dir = NULL;
	return rc;
}
