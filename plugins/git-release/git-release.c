/*
 * git-release.c - the `git-release` stage: turns the release tag into
 * what the rest of the pipeline builds and deploys, after checking that
 * it may be deployed at all.
 *
 * The seed's release flow, as checks:
 *   - the tag is vMAJOR.MINOR.PATCH, or vMAJOR.MINOR.PATCH-rc.N for a
 *     staging candidate ("v0.1.0-rc.1 -> staging, v0.1.0 -> production");
 *     "v" is gantry.cfg's tag_prefix (release.tag_prefix), "" allowed;
 *   - it exists in the repository and points at a commit on the release
 *     branch ("PR is merged: your changes are in the main branch");
 *   - a CI release event, when there is one, is for this tag and ticks
 *     "Set as a pre-release" exactly for candidates;
 *   - an environment with promote_from takes vX.Y.Z only after a
 *     successful deploy of a vX.Y.Z-rc.N there ("Test on staging first").
 *     The core reads the journal (promotion.candidates); the stage judges.
 *
 * Outputs: release.commit, release.short_commit, release.prerelease,
 * release.notes, release.branch, release.tag, release.version, and when
 * they apply release.repository, release.promoted_from or
 * release.promotion = "forced", release.worktree (see worktree.c for how
 * the checkout is cleaned up).
 *
 * git runs read-only (rev-parse, cat-file, for-each-ref, merge-base), so
 * plan runs every check too; only `worktree = true` writes, in run.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "gitrel.h"

#include "banned.h"

/* release.notes is for notifications and labels, not the whole story. */
#define GR_NOTES_MAX 4096

static const struct gantry_option grel_options[] = {
	{ "repo", GANTRY_OPT_STRING, 0, NULL,
	  "the git checkout holding the tag, relative to gantry.cfg's "
	  "directory (default: that directory)" },
	{ "branch", GANTRY_OPT_STRING, 0, "main",
	  "the release branch the tagged commit must be on" },
	{ "require_on_branch", GANTRY_OPT_BOOL, 0, "true",
	  "refuse a tag whose commit is not on the release branch" },
	{ "require_annotated", GANTRY_OPT_BOOL, 0, "false",
	  "refuse lightweight tags" },
	{ "event_path", GANTRY_OPT_STRING, 0, NULL,
	  "the CI release event to check, a GitHub release payload "
	  "(default: $GITHUB_EVENT_PATH)" },
	{ "remote", GANTRY_OPT_STRING, 0, NULL,
	  "check the branch as <remote>/<branch>, e.g. \"origin\" "
	  "(default: the local branch)" },
	{ "worktree", GANTRY_OPT_BOOL, 0, "false",
	  "check the tagged commit out into .git/gantry-worktrees/<deploy "
	  "id> as release.worktree; removed on rollback, or a day later" },
	{ NULL, 0, 0, NULL, NULL }
};

struct grel {
	/* Strings point into the config tree or the environment. */
	const char *repo;		/* NULL: gantry.cfg's directory */
	const char *branch;
	const char *remote;		/* NULL: the local branch */
	const char *event_path;		/* NULL: no event */
	int event_explicit;		/* event_path came from the options */
	int on_branch, annotated, worktree;
};

/* What the checks found out about the release. */
struct release {
	char *repo;
	char *tag;			/* a copy: publishing release.tag
					   frees the context's string */
	const char *version;		/* the tag without its tag_prefix */
	int candidate;			/* -rc.N */
	char *commit;
	char short_commit[13];
	int annotated;
	char *notes;
	char *branch_ref;		/* refs/heads/main */
	char *branch_shown;		/* main, origin/main */
	struct gr_event ev;
	char *promoted_from;
	int forced;
};

static void release_clear(struct release *r)
{
	free(r->repo);
	free(r->tag);
	free(r->commit);
	free(r->notes);
	free(r->branch_ref);
	free(r->branch_shown);
	free(r->promoted_from);
	gr_event_clear(&r->ev);
}

/* One line of what the stage checked: a plan line in plan, a log line
   in run. */
static void say(struct gantry_ctx *ctx, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);
static void say(struct gantry_ctx *ctx, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (gantry_ctx_dry_run(ctx))
		gantry_plan_line(ctx, "%s", line);
	else
		gantry_info(ctx, "%s", line);
}

static void grel_fini(void *state)
{
	free(state);
}

static int grel_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		     void **state)
{
	struct grel *st;
	const char *env;

	*state = NULL;
	st = gantry_xcalloc(1, sizeof(*st));
	st->repo = gantry_config_string(cfg, "repo", NULL);
	if (st->repo && !*st->repo)
		st->repo = NULL;
	st->branch = gantry_config_string(cfg, "branch", "main");
	st->remote = gantry_config_string(cfg, "remote", NULL);
	if (st->remote && !*st->remote)
		st->remote = NULL;
	st->on_branch = gantry_config_bool(cfg, "require_on_branch", 1);
	st->annotated = gantry_config_bool(cfg, "require_annotated", 0);
	st->worktree = gantry_config_bool(cfg, "worktree", 0);
	st->event_path = gantry_config_string(cfg, "event_path", NULL);
	st->event_explicit = st->event_path && *st->event_path;
	if (!st->event_explicit) {
		env = getenv("GITHUB_EVENT_PATH");
		st->event_path = env && *env ? env : NULL;
	}

	if (!*st->branch || *st->branch == '-' || strstr(st->branch, "..")) {
		const char *where = gantry_config_where(
			gantry_config_lookup(cfg, "branch"));

		free(st);
		return gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'branch' "
				   "is '%s', not a branch name; name the "
				   "release branch, e.g. \"main\"", where,
				   gantry_config_string(cfg, "branch", ""));
	}
	if (st->remote && (*st->remote == '-' || strchr(st->remote, '/'))) {
		const char *where = gantry_config_where(
			gantry_config_lookup(cfg, "remote"));

		free(st);
		return gantry_fail(ctx, GANTRY_ECONFIG, "%s: option 'remote' "
				   "is '%s', not a remote name; use the "
				   "remote's name, e.g. \"origin\"", where,
				   gantry_config_string(cfg, "remote", ""));
	}
	*state = st;
	return GANTRY_OK;
}

/* A number without leading zeros; advances *p past it. */
static int number(const char **p)
{
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return 0;
	if (*s == '0')
		s++;
	else
		while (*s >= '0' && *s <= '9')
			s++;
	if (*s >= '0' && *s <= '9')
		return 0;
	*p = s;
	return 1;
}

/* <prefix>MAJOR.MINOR.PATCH[-rc.N]; sets *candidate for the -rc.N form. */
static int release_tag(const char *tag, const char *prefix, int *candidate)
{
	const char *p = tag + strlen(prefix);

	*candidate = 0;
	if (strncmp(tag, prefix, strlen(prefix)) ||
	    !number(&p) || *p++ != '.' || !number(&p) ||
	    *p++ != '.' || !number(&p))
		return 0;
	if (!*p)
		return 1;
	if (strncmp(p, "-rc.", 4))
		return 0;
	p += 4;
	if (!number(&p) || *p)
		return 0;
	*candidate = 1;
	return 1;
}

static int check_tag(struct gantry_ctx *ctx, struct release *r)
{
	const char *tag = gantry_ctx_get(ctx, "release.tag");
	/* The core publishes gantry.cfg's tag_prefix; a core from before
	   it had the fixed "v". */
	const char *prefix = gantry_ctx_get(ctx, "release.tag_prefix");

	if (!prefix)
		prefix = "v";
	r->tag = gantry_xstrdup(tag ? tag : "");
	if (!release_tag(r->tag, prefix, &r->candidate))
		return gantry_fail(ctx, GANTRY_ECONFIG, "tag '%s' is not a "
				   "release tag: use %sMAJOR.MINOR.PATCH or "
				   "%sMAJOR.MINOR.PATCH-rc.N (e.g. %s0.1.0-rc.1), "
				   "or set tag_prefix in gantry.cfg",
				   r->tag, prefix, prefix, prefix);
	r->version = r->tag + strlen(prefix);
	say(ctx, "tag %s: %s", r->tag, r->candidate
	    ? "a release candidate (a pre-release)" : "a final release");
	return GANTRY_OK;
}

/* The repository: option 'repo', relative to gantry.cfg's directory. */
static char *resolve_repo(const struct grel *st, const struct gantry_ctx *ctx)
{
	const char *base = gantry_ctx_get(ctx, "config.dir");

	if (!base || !*base)
		base = ".";
	if (!st->repo)
		return gantry_xstrdup(base);
	if (st->repo[0] == '/')
		return gantry_xstrdup(st->repo);
	return gantry_xasprintf("%s/%s", base, st->repo);
}

/* The tag's commit, whether it is annotated, and its message. */
static int find_commit(const struct grel *st, struct gantry_ctx *ctx,
		       struct release *r)
{
	char *ref = gantry_xasprintf("refs/tags/%s", r->tag);
	char *peeled = gantry_xasprintf("refs/tags/%s^{commit}", r->tag);
	struct gr_git g = { 0 };
	int rc;

	rc = gr_git(ctx, r->repo, &g, "rev-parse", "--verify", "--quiet",
		    peeled, NULL);
	if (rc < 0)
		goto out;
	/* --verify --quiet: 1 for a missing ref, 128 for everything else. */
	if (g.status == 1 && !*g.tail) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "tag '%s' does not exist "
				 "in %s; create and push it (git tag -a %s "
				 "-m '%s' && git push origin %s)", r->tag,
				 r->repo, r->tag, r->tag, r->tag);
		goto out;
	}
	if (g.status || strlen(g.out) < 12) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "cannot read tags in "
				 "'%s': %s; set option 'repo' to the service's "
				 "git checkout", r->repo,
				 *g.tail ? g.tail : "git failed");
		goto out;
	}
	r->commit = g.out;
	g.out = NULL;
	memcpy(r->short_commit, r->commit, 12);
	r->short_commit[12] = '\0';
	gr_git_clear(&g);

	rc = gr_git(ctx, r->repo, &g, "cat-file", "-t", ref, NULL);
	if (rc < 0)
		goto out;
	r->annotated = !g.status && !strcmp(g.out, "tag");
	gr_git_clear(&g);
	say(ctx, "commit %s (%s tag) in %s", r->short_commit,
	    r->annotated ? "annotated" : "lightweight", r->repo);
	if (!r->annotated && st->annotated) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "tag '%s' is a lightweight "
				 "tag, and option 'require_annotated' asks for "
				 "an annotated one; recreate it (git tag -a -f "
				 "%s %s) and push it again (git push -f origin "
				 "%s)", r->tag, r->tag, r->short_commit,
				 r->tag);
		goto out;
	}

	if (r->annotated) {
		/* Subject and body, without the signature of a signed tag. */
		rc = gr_git(ctx, r->repo, &g, "for-each-ref", "--format="
			    "%(contents:subject)%0a%0a%(contents:body)", ref,
			    NULL);
		if (rc < 0)
			goto out;
		if (!g.status)
			r->notes = gr_trimmed(g.out, GR_NOTES_MAX);
		gr_git_clear(&g);
	}
	rc = GANTRY_OK;
out:
	gr_git_clear(&g);
	free(ref);
	free(peeled);
	return rc;
}

static int no_branch(const struct grel *st, struct gantry_ctx *ctx,
		     const struct release *r)
{
	if (st->remote)
		return gantry_fail(ctx, GANTRY_EFAIL, "branch '%s' is not "
			"known in %s; fetch it first (git fetch %s %s), or "
			"set option 'branch' or 'remote'", r->branch_shown,
			r->repo, st->remote, st->branch);
	return gantry_fail(ctx, GANTRY_EFAIL, "branch '%s' does not exist in "
			   "%s; fetch or create it, set option 'branch', or "
			   "set option 'remote' to check the remote's branch",
			   r->branch_shown, r->repo);
}

static int check_branch(const struct grel *st, struct gantry_ctx *ctx,
			struct release *r)
{
	struct gr_git g = { 0 };
	char *peeled;
	int rc;

	if (st->remote) {
		r->branch_ref = gantry_xasprintf("refs/remotes/%s/%s",
						 st->remote, st->branch);
		r->branch_shown = gantry_xasprintf("%s/%s", st->remote,
						   st->branch);
	} else {
		r->branch_ref = gantry_xasprintf("refs/heads/%s", st->branch);
		r->branch_shown = gantry_xstrdup(st->branch);
	}
	if (!st->on_branch) {
		say(ctx, "branch check off (require_on_branch = false)");
		return GANTRY_OK;
	}

	peeled = gantry_xasprintf("%s^{commit}", r->branch_ref);
	rc = gr_git(ctx, r->repo, &g, "rev-parse", "--verify", "--quiet",
		    peeled, NULL);
	free(peeled);
	if (rc < 0)
		return rc;
	if (g.status) {
		gr_git_clear(&g);
		return no_branch(st, ctx, r);
	}
	gr_git_clear(&g);

	rc = gr_git(ctx, r->repo, &g, "merge-base", "--is-ancestor",
		    r->commit, r->branch_ref, NULL);
	if (rc < 0)
		return rc;
	if (g.status == 1)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "tag '%s' points at %s, "
				 "which is not on branch '%s'; merge the "
				 "change first (the release must come from %s)",
				 r->tag, r->short_commit, r->branch_shown,
				 r->branch_shown);
	else if (g.status)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot tell whether %s "
				 "is on branch '%s': %s", r->short_commit,
				 r->branch_shown,
				 *g.tail ? g.tail : "git failed");
	else
		say(ctx, "on branch '%s': yes", r->branch_shown);
	gr_git_clear(&g);
	return rc;
}

static int check_event(const struct grel *st, struct gantry_ctx *ctx,
		       struct release *r)
{
	struct gr_release_want want = { r->tag, r->candidate };
	int rc;

	if (!st->event_path) {
		if (gantry_ctx_dry_run(ctx))
			say(ctx, "no CI release event (event_path and "
			    "GITHUB_EVENT_PATH unset)");
		return GANTRY_OK;
	}
	rc = gr_event_check(ctx, st->event_path, st->event_explicit, &want,
			    &r->ev);
	if (rc == GANTRY_OK && r->ev.present)
		say(ctx, "release event %s%s%s: tag and pre-release flag "
		    "agree", st->event_path, r->ev.repository ? " of " : "",
		    r->ev.repository ? r->ev.repository : "");
	return rc;
}

static int check_promotion(struct gantry_ctx *ctx, struct release *r)
{
	const char *from = gantry_ctx_get(ctx, "promotion.from");
	const char *found = gantry_ctx_get(ctx, "promotion.candidates");
	const char *force = gantry_ctx_get(ctx, "deploy.force_promotion");
	const char *env = gantry_ctx_get(ctx, "release.environment");
	size_t n;

	if (!from || !*from)
		return GANTRY_OK;
	if (!env)
		env = "this environment";
	if (found && *found && !r->candidate) {
		n = strcspn(found, ",");
		r->promoted_from = gantry_xstrndup(found, n);
		say(ctx, "promotion: %s passed %s, so %s may go to %s",
		    r->promoted_from, from, r->tag, env);
		return GANTRY_OK;
	}
	if (force && !strcmp(force, "true")) {
		r->forced = 1;
		gantry_warn(ctx, "promotion check overridden with "
			    "--force-promotion: %s %s has no successful %s "
			    "deploy of a release candidate", env, r->tag,
			    from);
		if (gantry_ctx_dry_run(ctx))
			say(ctx, "promotion: none found in %s, overridden "
			    "with --force-promotion", from);
		return GANTRY_OK;
	}
	if (r->candidate)
		return gantry_fail(ctx, GANTRY_EFAIL, "%s takes releases "
				   "promoted from %s, and %s is a release "
				   "candidate; deploy it to %s, then deploy "
				   "the final tag %.*s here, or pass "
				   "--force-promotion", env, from, r->tag,
				   from, (int)(r->version - r->tag +
					       strcspn(r->version, "-")),
				   r->tag);
	return gantry_fail(ctx, GANTRY_EFAIL, "%s %s needs a successful %s "
			   "deploy of %s-rc.N first, and the journal has none; "
			   "deploy a release candidate to %s, or pass "
			   "--force-promotion", env, r->tag, from, r->tag,
			   from);
}

/* Every check, in the order a person would make them; the first failure
   stops the rest. */
static int check_all(const struct grel *st, struct gantry_ctx *ctx,
		     struct release *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	rc = check_tag(ctx, r);
	if (rc < 0)
		return rc;
	r->repo = resolve_repo(st, ctx);
	rc = find_commit(st, ctx, r);
	if (rc == GANTRY_OK)
		rc = check_branch(st, ctx, r);
	if (rc == GANTRY_OK)
		rc = check_event(st, ctx, r);
	if (rc == GANTRY_OK)
		rc = check_promotion(ctx, r);
	return rc;
}

/* The deploy id as a directory name. */
static char *dir_name(const char *id)
{
	char *name = gantry_xstrdup(id && *id && *id != '.' ? id : "deploy");
	char *p;

	for (p = name; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
			*p = '_';
	return name;
}

static int grel_plan(void *state, struct gantry_ctx *ctx)
{
	const struct grel *st = state;
	struct release r;
	char *base = NULL;
	int rc;

	rc = check_all(st, ctx, &r);
	if (rc == GANTRY_OK && st->worktree &&
	    (rc = gr_worktree_base(ctx, r.repo, &base)) == GANTRY_OK)
		say(ctx, "would check %s out into %s/<deploy id>, removing "
		    "worktrees there older than a day", r.short_commit, base);
	free(base);
	release_clear(&r);
	return rc;
}

static int make_worktree(struct gantry_ctx *ctx, const struct release *r)
{
	char *base = NULL, *name = NULL, *dir = NULL;
	int rc;

	rc = gr_worktree_base(ctx, r->repo, &base);
	if (rc < 0)
		return rc;
	gr_worktree_prune(ctx, r->repo, base, GR_WORKTREE_MAX_AGE);
	name = dir_name(gantry_ctx_get(ctx, "deploy.id"));
	rc = gr_worktree_add(ctx, r->repo, base, name, r->commit, &dir);
	if (rc < 0)
		goto out;
	gantry_ctx_set(ctx, "release.worktree", dir);
	gantry_info(ctx, "checked %s out into %s", r->short_commit, dir);
out:
	free(base);
	free(name);
	free(dir);
	return rc;
}

static void publish(struct gantry_ctx *ctx, const struct release *r,
		    const char *branch)
{
	const char *notes = r->notes && *r->notes ? r->notes : NULL;
	char *body = NULL;

	/* A lightweight tag has no message: the release's description
	   stands in for it. */
	if (!notes && r->ev.body && (body = gr_trimmed(r->ev.body,
						       GR_NOTES_MAX)))
		notes = body;
	gantry_ctx_set(ctx, "release.tag", r->tag);
	gantry_ctx_set(ctx, "release.version", r->version);
	gantry_ctx_set(ctx, "release.commit", r->commit);
	gantry_ctx_set(ctx, "release.short_commit", r->short_commit);
	gantry_ctx_set(ctx, "release.prerelease",
		       r->candidate ? "true" : "false");
	gantry_ctx_set(ctx, "release.notes", notes ? notes : "");
	gantry_ctx_set(ctx, "release.branch", branch);
	if (r->ev.repository)
		gantry_ctx_set(ctx, "release.repository", r->ev.repository);
	if (r->promoted_from)
		gantry_ctx_set(ctx, "release.promoted_from",
			       r->promoted_from);
	if (r->forced)
		gantry_ctx_set(ctx, "release.promotion", "forced");
	free(body);
}

static int grel_run(void *state, struct gantry_ctx *ctx)
{
	const struct grel *st = state;
	struct release r;
	int rc;

	rc = check_all(st, ctx, &r);
	if (rc == GANTRY_OK) {
		publish(ctx, &r, st->on_branch ? st->branch : "");
		if (st->worktree)
			rc = make_worktree(ctx, &r);
	}
	release_clear(&r);
	return rc;
}

/* Run's only effect is the worktree; a failed later stage removes it. */
static int grel_rollback(void *state, struct gantry_ctx *ctx)
{
	const struct grel *st = state;
	const char *dir = gantry_ctx_get(ctx, "release.worktree");
	char *repo, *base = NULL;
	int rc;

	if (!dir || !*dir)
		return GANTRY_OK;
	repo = resolve_repo(st, ctx);
	rc = gr_worktree_base(ctx, repo, &base);
	/* Never remove what is not one of ours. */
	if (rc == GANTRY_OK && (strncmp(dir, base, strlen(base)) ||
				dir[strlen(base)] != '/'))
		gantry_warn(ctx, "worktree '%s' is not under %s; left alone",
			    dir, base);
	else if (rc == GANTRY_OK && access(dir, F_OK) < 0)
		/* Already gone: only git's record of it is left. */
		gr_worktree_prune(ctx, repo, base, GR_WORKTREE_MAX_AGE);
	else if (rc == GANTRY_OK && (rc = gr_worktree_remove(ctx, repo,
							     dir)) == 0)
		gantry_info(ctx, "removed the worktree %s", dir);
	free(base);
	free(repo);
	return rc;
}

static const struct gantry_stage grel_stage = {
	GANTRY_STAGE_HEADER,
	.name = "git-release",
	.version = PACKAGE_VERSION,
	.summary = "resolve the release tag to a commit on the release "
		   "branch, check the CI release event and promotion",
	.kind = GANTRY_KIND_STAGE,
	.options = grel_options,
	.init = grel_init,
	.plan = grel_plan,
	.run = grel_run,
	.rollback = grel_rollback,
	.fini = grel_fini,
};

GANTRY_STAGE_EXPORT(grel_stage)
