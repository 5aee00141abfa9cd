/*
 * session.c - resolving a command's settings once.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "statedir.h"

/* An actor is a user name: it goes into the journal, the lock holder
   record, notifications and every status line. */
#define ACTOR_MAX 256

/*
 * The actor: GANTRY_ACTOR, else GITHUB_ACTOR, else the user name.  A
 * value that cannot be a user name (longer than ACTOR_MAX bytes, or with
 * control characters) is refused rather than cut: a cut name would record
 * someone who does not exist, and the user who set it wants to know.
 * The actor (malloc'd), or NULL with the error printed.
 */
static char *find_actor(void)
{
	const char *v = getenv("GANTRY_ACTOR"), *from = "GANTRY_ACTOR";
	struct passwd *pw;
	size_t len, i;

	if (!v || !*v) {
		v = getenv("GITHUB_ACTOR");
		from = "GITHUB_ACTOR";
	}
	if ((!v || !*v) && (pw = getpwuid(getuid()))) {
		v = pw->pw_name;
		from = "the user name";
	}
	if (!v || !*v) {
		v = getenv("USER");
		from = "USER";
	}
	if (!v || !*v)
		return gantry_xstrdup("unknown");
	len = strlen(v);
	for (i = 0; i < len && (unsigned char)v[i] >= 0x20 && v[i] != 0x7f;
	     i++)
		;
	if (len > ACTOR_MAX) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "actor from %s is %zu bytes "
			   "long, more than %d; set GANTRY_ACTOR to the name of "
			   "who deploys", from, len, ACTOR_MAX);
		return NULL;
	}
	if (i < len) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "actor from %s contains a "
			   "control character (byte %zu); set GANTRY_ACTOR to "
			   "the name of who deploys", from, i + 1);
		return NULL;
	}
	return gantry_xstrdup(v);
}

const char *session_state_dir(struct session *s)
{
	const char *v;

	if (s->state_dir)
		return s->state_dir;
	if (s->opt->state_dir)
		v = s->opt->state_dir;
	else if ((v = getenv("GANTRY_STATE_DIR")) && *v)
		;
	else if (s->have_conf && s->conf.state_dir)
		v = s->conf.state_dir;
	else
		v = NULL;
	if (v) {
		s->state_dir = gantry_xstrdup(v);
	} else if ((v = getenv("XDG_STATE_HOME")) && *v) {
		s->state_dir = gantry_xasprintf("%s/gantry", v);
	} else {
		const char *home = getenv("HOME");

		s->state_dir = gantry_xasprintf("%s/.local/state/gantry",
						  home && *home ? home : "/tmp");
	}
	return s->state_dir;
}

struct state *session_state(struct session *s)
{
	struct errs e = { 0 };

	if (s->state)
		return s->state;
	/* Judged whatever the backend: work/ and batch/ stay local. */
	if (state_dir_check(session_state_dir(s), &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		return NULL;
	}
	if (state_open(&s->state, session_state_dir(s),
		       s->have_conf ? s->conf.state_cfg : NULL, &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		state_close(s->state);
		s->state = NULL;
	}
	return s->state;
}

static int open_loader(struct session *s)
{
	const char *path = s->opt->plugin_path;
	struct errs e = { 0 };

	if (!path && (path = getenv("GANTRY_PLUGIN_PATH")) && !*path)
		path = NULL;
	if (!path && s->have_conf)
		path = s->conf.plugin_path;
	if (loader_init(&s->loader, path, GANTRY_PLUGIN_DIR, &e) < 0) {
		errs_print(&e);
		errs_clear(&e);
		return EXIT_USAGE;
	}
	s->have_loader = 1;
	return EXIT_OK;
}

int session_open(struct session *s, const struct options *opt,
		 const char *tag, unsigned what)
{
	struct errs e = { 0 };
	const char *path;
	int rc;

	memset(s, 0, sizeof(*s));
	s->opt = opt;
	s->actor = find_actor();
	if (!s->actor)
		return EXIT_USAGE;
	path = profile_find(opt->config);
	if (!path) {
		if (what & SESSION_OPTIONAL)
			return open_loader(s);
		gantry_log(NULL, GANTRY_LOG_ERROR, "no gantry.cfg here or in "
			   "%s/gantry; give one with -c FILE", GANTRY_SYSCONFDIR);
		return EXIT_USAGE;
	}
	s->have_conf = 1;
	if (profile_load(&s->conf, path, &e) < 0)
		goto config_error;
	if ((what & SESSION_ENV) &&
	    profile_select_env(&s->conf, tag, opt->env, &e) < 0)
		goto config_error;
	rc = open_loader(s);
	if (rc != EXIT_OK)
		return rc;
	if (what & SESSION_PLUGINS) {
		rc = profile_validate(&s->conf, &s->loader, &e);
		if (rc == -2) {
			errs_print(&e);
			errs_clear(&e);
			return EXIT_REFUSED;
		}
		if (rc < 0)
			goto config_error;
	}
	return EXIT_OK;

config_error:
	errs_print(&e);
	errs_clear(&e);
	return EXIT_USAGE;
}

const struct env_def *session_env_arg(struct session *s, const char *name)
{
	struct errs e = { 0 };
	const struct env_def *env;
	const char **names;
	const char *dym;
	size_t i;

	if (!name)
		name = s->opt->env;
	if (!name)
		return NULL;
	env = profile_env(&s->conf, name);
	if (env)
		return env;
	names = gantry_xcalloc(s->conf.nenvs + 1, sizeof(*names));
	for (i = 0; i < s->conf.nenvs; i++)
		names[i] = s->conf.envs[i].name;
	dym = did_you_mean(name, names, s->conf.nenvs);
	errs_add(&e, "unknown environment '%s' in %s%s%s%s", name,
		 s->conf.path, dym ? "; did you mean '" : "", dym ? dym : "",
		 dym ? "'?" : "");
	free(names);
	errs_print(&e);
	errs_clear(&e);
	return NULL;
}

void session_close(struct session *s)
{
	if (s->have_conf)
		profile_unload(&s->conf);
	if (s->have_loader)
		loader_release(&s->loader);
	state_close(s->state);
	free(s->state_dir);
	free(s->actor);
	memset(s, 0, sizeof(*s));
}
