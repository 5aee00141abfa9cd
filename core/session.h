/*
 * session.h - what one gantry command works with: its options, the
 * configuration, the chosen environment, the plugins and the state
 * directory, each resolved once with the documented precedence
 * (flag > environment variable > gantry.cfg > built-in default).
 */
#ifndef GANTRY_SESSION_H
#define GANTRY_SESSION_H

#include "core.h"
#include "loader.h"
#include "journal.h"
#include "state.h"
#include "profile.h"

struct options {
	const char *config;		/* -c */
	const char *env;		/* -e */
	const char *plugin_path;	/* --plugin-path */
	const char *state_dir;		/* --state-dir */
	int verbosity;			/* -v / -q */
	int json;
	int no_color;
	/* deploy */
	int dry_run, approve, no_rollback, force_promotion, allow_destroy;
	const char *only, *skip, *resume;
	const char *to;			/* rollback --to TAG */
	const char *reason;		/* reject --reason TEXT */
	/* report */
	const char *since, *until, *service, *format, *output;
	/* batch */
	int jobs;			/* -j N (0: not given) */
	int fail_fast, matrix;
};

struct session {
	const struct options *opt;
	struct gconf conf;
	int have_conf;
	struct loader loader;
	int have_loader;
	char *state_dir;
	struct state *state;	/* opened on first use */
	char *actor;
	/* `gantry rollback`: the deploy whose release is redeployed, and the
	   tag it replaces (NULL for ordinary deploys). */
	const struct deploy_record *rollback_target;
	const char *rollback_of;
};

/* What to set up. */
#define SESSION_CONFIG   0x1	/* gantry.cfg must exist and load */
#define SESSION_ENV      0x2	/* pick an environment (tag or -e) */
#define SESSION_PLUGINS  0x4	/* load and validate every entry's plugin */
#define SESSION_OPTIONAL 0x8	/* a missing gantry.cfg is fine */

/*
 * Sets up s.  tag picks the environment unless -e is given.  Returns
 * EXIT_OK, or the exit code to leave with (errors already printed):
 * EXIT_USAGE for configuration errors, EXIT_REFUSED when a needed
 * plugin was refused.
 */
int session_open(struct session *s, const struct options *opt,
		 const char *tag, unsigned what);
void session_close(struct session *s);

/* The state directory (resolved on first use; never NULL). */
const char *session_state_dir(struct session *s);

/* The journal and lock backend (opened on first use), or NULL when it
   cannot be opened (the error is printed). */
struct state *session_state(struct session *s);

/* Resolves the environment named by -e or the argument (for history,
   status, lock): returns the env or NULL (error printed). */
const struct env_def *session_env_arg(struct session *s, const char *name);

#endif
