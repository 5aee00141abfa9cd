/*
 * profile.h - gantry.cfg, its environments and their profiles.
 *
 * Loading happens in three steps so each command pays only for what it
 * needs: profile_load reads gantry.cfg (environments, pipeline, notify);
 * profile_select_env picks the environment and reads its profile;
 * profile_validate checks every entry against its plugin's option table
 * and builds the merged options (stage defaults < gantry.cfg entry <
 * profile `stages.<entry name>`).  Every problem is reported with
 * file:line, all of them at once, before anything runs.
 */
#ifndef GANTRY_PROFILE_H
#define GANTRY_PROFILE_H

#include "core.h"
#include "loader.h"

enum policy {
	POLICY_ABORT = 0,
	POLICY_ROLLBACK,
	POLICY_MARK_FAILED,
	POLICY_CONTINUE
};
const char *policy_name(enum policy p);

/* Event bits for notifier subscriptions. */
enum event_bit {
	EV_DEPLOY_STARTED = 1 << 0,
	EV_DEPLOY_SUCCEEDED = 1 << 1,
	EV_DEPLOY_FAILED = 1 << 2,
	EV_DEPLOY_ROLLED_BACK = 1 << 3,
	EV_DEPLOY_TIMED_OUT = 1 << 4,
	EV_DEPLOY_INTERRUPTED = 1 << 5,
	EV_STAGE_STARTED = 1 << 6,
	EV_STAGE_SUCCEEDED = 1 << 7,
	EV_STAGE_FAILED = 1 << 8,
	EV_APPROVAL_REQUESTED = 1 << 9,
	EV_APPROVAL_GRANTED = 1 << 10,
	EV_APPROVAL_REJECTED = 1 << 11
};
/* An `approval` entry's events (docs/approvals.md); notifiers get them
   by default: an approval nobody hears about is never given. */
#define EV_APPROVAL (EV_APPROVAL_REQUESTED | EV_APPROVAL_GRANTED | \
		     EV_APPROVAL_REJECTED)
#define EV_FINAL (EV_DEPLOY_SUCCEEDED | EV_DEPLOY_FAILED | \
		  EV_DEPLOY_ROLLED_BACK | EV_DEPLOY_TIMED_OUT | \
		  EV_DEPLOY_INTERRUPTED)
/* The full event name of a single bit ("deploy.started"). */
const char *event_name(unsigned bit);

struct env_def {
	char *name;
	char *tags;		/* glob */
	char *profile;		/* absolute path */
	char *promote_from;	/* NULL unless set */
	int approval;
	char *where;
};

struct entry {
	char *stage;		/* plugin name */
	char *name;		/* entry name (default: stage) */
	enum policy on_failure;
	unsigned timeout;	/* seconds, 0 = none */
	unsigned retries;
	unsigned events;	/* notifiers: EV_* mask */
	int notifier;
	char *where;		/* "file:line" of the entry */
	struct gantry_config *raw;	/* the gantry.cfg entry, core keys removed */
	struct gantry_config *opts;	/* merged + defaults (after validate) */
	const struct plugin *plugin;	/* after validate */
};

struct gconf {
	char *path;		/* gantry.cfg as given */
	char *dir;		/* its directory (absolute) */
	char *service;
	char *plugin_path;	/* from the file, absolute, or NULL */
	char *state_dir;	/* from the file, absolute, or NULL */
	char *tag_prefix;	/* before the version in a tag ("v") */
	unsigned kill_grace;	/* seconds past a timeout before SIGKILL */
	struct gantry_config *state_cfg;	/* the `state` group, or NULL */
	struct env_def *envs;
	size_t nenvs;
	struct entry *entries;	/* pipeline, then notifiers */
	size_t nentries;
	const struct env_def *env;	/* after profile_select_env */
	struct gantry_config *profile;	/* the environment's profile */
};

/* Finds gantry.cfg: explicit path, ./gantry.cfg, $sysconfdir/gantry/. */
const char *profile_find(const char *explicit_path);

/*
 * Reads a libconfig file into a tree, expanding @include relative to the
 * including file, with "file:line" on every node.  0, or -1 with e.
 */
int profile_read_tree(const char *path, struct gantry_config **out,
		      struct errs *e);

int profile_load(struct gconf *c, const char *path, struct errs *e);

/*
 * Picks the environment: `name` when given (-e), else the first whose
 * tags glob matches tag.  Reads its profile.  0, or -1 with e.
 */
int profile_select_env(struct gconf *c, const char *tag, const char *name,
		       struct errs *e);

/*
 * Loads the plugin of every entry and validates options against it.
 * Returns 0; -1 on configuration errors (e); -2 when a plugin was found
 * but refused (e holds the refusal).
 */
int profile_validate(struct gconf *c, struct loader *l, struct errs *e);

const struct env_def *profile_env(const struct gconf *c, const char *name);

void profile_unload(struct gconf *c);

/* The release version of a tag: the tag without tag_prefix when a digit
   follows it ("v1.2.3-rc.1" -> "1.2.3-rc.1"), else the tag (malloc'd). */
char *profile_tag_version(const struct gconf *c, const char *tag);

/* 0 when tag is a valid git tag name and image tag
   ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, no "..", no final '.' or ".lock");
   else -1 with one line in e.  profile_select_env checks its tag. */
int profile_check_tag(const char *tag, struct errs *e);

#endif
