/*
 * cli_report.c - `gantry report [ENV...]`: the window, the journal of the
 * environments asked for, commit times from git for lead time, and the
 * chosen rendering written to stdout or -o FILE.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gantry/cmd.h>

#include "report.h"
#include "session.h"

/* Without --since, the report covers this many days before --until. */
#define DEFAULT_DAYS 30

struct commit_times {
	const char *dir;
	struct gantry_kvlist seen;	/* commit -> "%.0f" or "-1" */
};

static int drop_line(void *arg, enum gantry_cmd_stream stream,
		     const char *line)
{
	(void)arg;
	(void)stream;
	(void)line;
	return 0;
}

/* `git log -1 --format=%ct COMMIT` in the configuration's directory,
   where git-release resolved the tag; once per commit. */
static double git_commit_time(void *arg, const char *commit)
{
	struct commit_times *c = arg;
	const struct gantry_kv *kv = gantry_i_kv_find(&c->seen, commit);
	struct gantry_cmd *cmd;
	double t = -1;
	char buf[32];
	size_t i;

	if (kv)
		return strtod(kv->value, NULL);
	for (i = 0; commit[i]; i++)
		if (!isxdigit((unsigned char)commit[i]))
			return -1;
	if (i < 4 || i > 64 || !gantry_i_kv_valid_key(commit))
		return -1;
	cmd = gantry_cmd_new("git");
	if (!cmd)
		return -1;
	gantry_cmd_cwd(cmd, c->dir);
	gantry_cmd_arg(cmd, "log");
	gantry_cmd_arg(cmd, "-1");
	gantry_cmd_arg(cmd, "--format=%ct");
	gantry_cmd_arg(cmd, commit);
	gantry_cmd_arg(cmd, "--");
	gantry_cmd_capture(cmd);
	gantry_cmd_on_line(cmd, drop_line, NULL);
	gantry_cmd_timeout(cmd, 10);
	if (gantry_cmd_run(cmd, NULL) == 0 &&
	    gantry_cmd_exit_status(cmd) == 0) {
		char *end;
		double v = strtod(gantry_cmd_stdout(cmd), &end);

		if (end != gantry_cmd_stdout(cmd) && v > 0)
			t = v;
	}
	gantry_cmd_free(cmd);
	snprintf(buf, sizeof(buf), "%.0f", t);
	gantry_i_kv_set(&c->seen, commit, buf, 0);
	return t;
}

static int report_usage(const char *fmt, ...) GANTRY_PRINTF(1, 2);
static int report_usage(const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_log(NULL, GANTRY_LOG_ERROR, "%s; see 'gantry help report'",
		   b.buf);
	gantry_buf_release(&b);
	return EXIT_USAGE;
}

static int write_out(const char *path, const char *doc)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	int bad;

	if (!f) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot write '%s': %s; "
			   "check the path given to -o", path, strerror(errno));
		return EXIT_FAILED;
	}
	if (path) {
		fputs(doc, f);
	} else {
		/* Journal text (reasons, tags, actors) bound for a terminal:
		   shown, not obeyed.  JSON needs nothing: its writer escapes
		   every control character. */
		struct gantry_buf b = GANTRY_BUF_INIT;

		gantry_buf_adds(&b, doc);
		gantry_i_term_clean(&b, 0, GANTRY_I_TERM_DOC);
		fputs(b.buf, f);
		gantry_buf_release(&b);
	}
	bad = fflush(f) != 0 || ferror(f);
	if (path && fclose(f) != 0)
		bad = 1;
	if (bad) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot write '%s': %s",
			   path ? path : "stdout", strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/*
 * Resolves the window; EXIT_OK or a usage error (printed).  Now is taken
 * to the nanosecond: records start at millisecond precision and --until
 * is exclusive, so a now cut to whole seconds would leave out every
 * deploy started earlier in the current second (a report run right after
 * a quick deploy found "no deploys in this period").
 */
static int window(const struct options *o, double *since, double *until)
{
	struct timespec ts;
	double now;

	clock_gettime(CLOCK_REALTIME, &ts);
	now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;

	*until = now;
	if (o->until && report_parse_time(o->until, now, 1, until) < 0)
		return report_usage("--until '%s' is not a date (YYYY-MM-DD) "
				    "or an age (7d, 24h, 2w)", o->until);
	*since = *until - DEFAULT_DAYS * 86400.0;
	if (o->since && report_parse_time(o->since, now, 0, since) < 0)
		return report_usage("--since '%s' is not a date (YYYY-MM-DD) "
				    "or an age (7d, 24h, 2w)", o->since);
	if (*since >= *until)
		return report_usage("--since '%s' is not before --until '%s'",
				    o->since ? o->since : "", o->until ?
				    o->until : "now");
	return EXIT_OK;
}

/* Reads the records of the chosen environments (all when none) into one
   array; the records are owned by lists[]. */
static int read_journal(struct session *s, const char *service,
			const char *const *envs, size_t nenvs,
			struct deploy_record **all, size_t *n)
{
	struct state *st = session_state(s);
	size_t k, got;

	*all = NULL;
	*n = 0;
	if (!st)
		return EXIT_USAGE;
	for (k = 0; k < (nenvs ? nenvs : 1); k++) {
		struct deploy_record *list = NULL;
		struct errs e = { 0 };

		got = 0;
		if (state_journal_list(st, service, nenvs ? envs[k] : NULL,
				       &list, &got, &e) < 0) {
			errs_print(&e);
			errs_clear(&e);
			return EXIT_FAILED;
		}
		/* The records move into *all; only the array is freed. */
		*all = gantry_xrealloc(*all, (*n + got + 1) * sizeof(**all));
		if (got)
			memcpy(*all + *n, list, got * sizeof(*list));
		*n += got;
		free(list);
	}
	return EXIT_OK;
}

int report_command(struct session *s, int nargs, char **args)
{
	const struct options *o = s->opt;
	const char *format = o->format ? o->format : o->json ? "json" : "text";
	static const char *const formats[] = { "text", "json", "html" };
	const char **envs = gantry_xcalloc((size_t)nargs + 2, sizeof(*envs));
	struct commit_times ct = { 0 };
	struct deploy_record *all = NULL;
	const char *service;
	struct report rep;
	size_t nenvs = 0, n = 0;
	double since, until;
	char *doc;
	int rc, i;

	rc = window(o, &since, &until);
	if (rc != EXIT_OK)
		goto out;
	if (strcmp(format, "text") && strcmp(format, "json") &&
	    strcmp(format, "html")) {
		const char *dym = did_you_mean(format, formats, 3);

		rc = report_usage("unknown report format '%s'%s%s%s; use text, "
				  "json or html", format, dym ?
				  "; did you mean '" : "", dym ? dym : "",
				  dym ? "'?" : "");
		goto out;
	}
	if (o->json && strcmp(format, "json")) {
		rc = report_usage("--json prints the JSON report; it cannot be "
				  "combined with --format %s", format);
		goto out;
	}
	for (i = 0; i < nargs || (!nargs && o->env && i == 0); i++) {
		const char *name = nargs ? args[i] : o->env;

		if (s->have_conf) {
			const struct env_def *env = session_env_arg(s, name);

			if (!env) {
				rc = EXIT_USAGE;
				goto out;
			}
			name = env->name;
		}
		envs[nenvs++] = name;
	}
	service = o->service ? o->service : s->have_conf ? s->conf.service :
		  NULL;
	rc = read_journal(s, service, envs, nenvs, &all, &n);
	if (rc != EXIT_OK)
		goto out;
	ct.dir = s->have_conf ? s->conf.dir : NULL;
	report_build(&rep, all, n, since, until,
		     ct.dir ? git_commit_time : NULL, &ct);
	doc = !strcmp(format, "json") ? report_json(&rep) :
	      !strcmp(format, "html") ? report_html(&rep) : report_text(&rep);
	rc = write_out(o->output, doc);
	if (rc == EXIT_OK && o->output && !o->json)
		fprintf(stderr, "report written to %s\n", o->output);
	free(doc);
	report_release(&rep);
	gantry_i_kv_clear(&ct.seen);
out:
	journal_list_free(all, n);
	free(envs);
	return rc;
}
