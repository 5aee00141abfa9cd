/*
 * gitrel.h - the parts of the git-release stage: running git (gitcmd.c),
 * the private worktrees of a deploy (worktree.c) and the CI release
 * event (event.c).  git-release.c holds the stage itself.
 *
 * Every function that can fail records why on ctx with gantry_fail() and
 * returns its negative code, so callers pass the code on unchanged.
 */
#ifndef GIT_RELEASE_GITREL_H
#define GIT_RELEASE_GITREL_H

#include <time.h>

#include <gantry/gantry.h>

/* What one git command said; gr_git_clear() frees it. */
struct gr_git {
	int status;		/* exit status; -1 when killed by a signal */
	char *out;		/* stdout, trailing newlines removed */
	char *tail;		/* its last lines of output, for messages */
};

#if defined(__GNUC__)
#define GR_SENTINEL __attribute__((sentinel))
#else
#define GR_SENTINEL
#endif

/*
 * Runs `git -C repo ARG...` (the arguments end with NULL) inside what is
 * left of the stage's timeout, with a C locale and no terminal prompts.
 * Returns 0 when git ran to its end, whatever its exit status (see
 * res->status), or a negative code when it could not run or was stopped.
 */
int gr_git(struct gantry_ctx *ctx, const char *repo, struct gr_git *res,
	   ...) GR_SENTINEL;
void gr_git_clear(struct gr_git *res);

/* A malloc'd copy of s with trailing blanks and newlines removed, and
   cut to at most max bytes on a UTF-8 character boundary; never NULL. */
char *gr_trimmed(const char *s, size_t max);

/* Worktrees older than this many seconds are removed by later runs. */
#define GR_WORKTREE_MAX_AGE (24 * 60 * 60)

/* The directory of gantry's worktrees of repo, malloc'd:
   <git common dir>/gantry-worktrees. */
int gr_worktree_base(struct gantry_ctx *ctx, const char *repo, char **base);

/* Removes the worktrees under base not touched for max_age seconds, then
   lets git forget worktrees whose directory is gone.  Best effort: what
   cannot be removed is reported as a warning. */
void gr_worktree_prune(struct gantry_ctx *ctx, const char *repo,
		       const char *base, time_t max_age);

/* Checks out commit, detached, into base/<name> (replacing what a
   previous attempt of the same deploy left there); *dir is malloc'd. */
int gr_worktree_add(struct gantry_ctx *ctx, const char *repo,
		    const char *base, const char *name, const char *commit,
		    char **dir);

/* Removes the worktree at dir. */
int gr_worktree_remove(struct gantry_ctx *ctx, const char *repo,
		       const char *dir);

/* What the stage knows of the release while checking an event. */
struct gr_release_want {
	const char *tag;
	int candidate;		/* the tag has -rc.N */
};

/* What a CI release event said; gr_event_clear() frees it. */
struct gr_event {
	int present;		/* a release event was read and checked */
	char *repository;	/* repository.full_name, or NULL */
	char *body;		/* release.body, or NULL */
	char *action;		/* the event's action, or NULL */
};

/*
 * Reads the GitHub release event at path (a missing file is no event;
 * `explicit` says the path came from the stage's options, which earns a
 * warning) and checks it against the release: same tag, not a draft, not
 * deleted, flagged as a pre-release exactly when the tag is a candidate.
 */
int gr_event_check(struct gantry_ctx *ctx, const char *path, int explicit,
		   const struct gr_release_want *want, struct gr_event *ev);
void gr_event_clear(struct gr_event *ev);

#endif
