/*
 * tfcmd.c - running the terraform CLI for the terraform stage: argv
 * building, one command run with the stage's time budget, and the
 * failure messages made from what terraform printed.
 *
 * Built only on the public SDK, like any out-of-tree plugin.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gantry/gantry.h>

#include "tfcmd.h"

#include "banned.h"

#define TF_MAX_ERRORS 5

void tf_args_add(struct tf_args *a, const char *arg)
{
	if (a->n + 2 > a->alloc) {
		a->alloc = a->alloc ? a->alloc * 2 : 16;
		a->v = gantry_xrealloc(a->v, a->alloc * sizeof(*a->v));
	}
	a->v[a->n] = gantry_xstrdup(arg);
	a->v[++a->n] = NULL;
}

void tf_args_addf(struct tf_args *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = gantry_xvasprintf(fmt, ap);
	va_end(ap);
	tf_args_add(a, s);
	free(s);
}

void tf_args_free(struct tf_args *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void tf_result_clear(struct tf_result *res)
{
	size_t i;

	free(res->out);
	free(res->errors);
	for (i = 0; i < res->nring; i++)
		free(res->ring[i]);
	for (i = 0; i < TF_LOCK_NFIELDS; i++)
		free(res->lock[i]);
	memset(res, 0, sizeof(*res));
}

/* Appends `add` to the malloc'd *s, after `sep` when *s is not empty. */
static void append(char **s, const char *sep, const char *add)
{
	size_t have = *s ? strlen(*s) : 0;
	size_t len = have + (have ? strlen(sep) : 0) + strlen(add) + 1;
	char *n = gantry_xrealloc(*s, len);

	snprintf(n + have, len - have, "%s%s", have ? sep : "", add);
	*s = n;
}

/* The line without the diagnostic box terraform may draw ("│ ") and
   without leading blanks. */
static const char *unboxed(const char *line)
{
	static const char bar[] = "\xe2\x94\x82";	/* U+2502 */

	for (;;) {
		if (*line == ' ' || *line == '\t')
			line++;
		else if (!strncmp(line, bar, sizeof(bar) - 1))
			line += sizeof(bar) - 1;
		else
			return line;
	}
}

static void note_lock_field(struct tf_result *res, const char *line)
{
	static const char *const names[TF_LOCK_NFIELDS] = {
		"ID:", "Path:", "Operation:", "Who:", "Created:"
	};
	size_t i, n, len;

	for (i = 0; i < TF_LOCK_NFIELDS; i++) {
		n = strlen(names[i]);
		if (strncmp(line, names[i], n))
			continue;
		line += n;
		while (*line == ' ' || *line == '\t')
			line++;
		len = strlen(line);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		free(res->lock[i]);
		res->lock[i] = gantry_xstrndup(line, len);
		return;
	}
}

static int on_line(void *arg, enum gantry_cmd_stream stream,
		   const char *line)
{
	struct tf_result *res = arg;
	const char *text = unboxed(line);

	if (stream == GANTRY_CMD_STDOUT && (res->flags & TF_CAPTURE))
		return 0;
	if (!*text)
		return 0;	/* terraform spaces its output generously */
	gantry_info(res->ctx, "%s", line);

	if (res->nring < TF_TAIL_LINES) {
		res->ring[res->nring++] = gantry_xstrdup(line);
	} else {
		free(res->ring[res->pos]);
		res->ring[res->pos] = gantry_xstrdup(line);
		res->pos = (res->pos + 1) % TF_TAIL_LINES;
	}

	if (!strncmp(text, "Error: ", 7)) {
		size_t n = 0;
		const char *p;

		for (p = res->errors; p && (p = strstr(p, "Error: ")); p++)
			n++;
		if (n < TF_MAX_ERRORS)
			append(&res->errors, "; ", text);
		if (strstr(text, "Error acquiring the state lock"))
			res->lock_block = 1;
	} else if (res->lock_block) {
		note_lock_field(res, text);
	}
	return 0;
}

char *tf_tail(const struct tf_result *res)
{
	char *s = NULL;
	size_t i;

	for (i = 0; i < res->nring; i++)
		append(&s, "\n", res->ring[(res->pos + i) % res->nring]);
	return s ? s : gantry_xstrdup("");
}

/* Seconds left of the callback's budget: -1 without one, else at
   least 0. */
static long time_left(const struct tf_job *job)
{
	long used;

	if (!job->limit)
		return -1;
	used = (long)(gantry_now() - job->started);
	return used >= (long)job->limit ? 0 : (long)job->limit - used;
}

static int timed_out(struct tf_job *job, const char *what,
		     const struct tf_result *res)
{
	char *tail = tf_tail(res);
	int rc;

	rc = gantry_fail(job->ctx, GANTRY_ETIMEOUT,
		"terraform %s did not finish: the stage's timeout of %us "
		"ran out; raise the timeout or find out what it waits for (a "
		"remote backend may keep the state locked: see terraform "
		"force-unlock)%s%s", what, job->limit,
		tail && *tail ? "; last output:\n" : "", tail ? tail : "");
	free(tail);
	return rc;
}

int tf_exec(struct tf_job *job, const char *what, struct tf_args *args,
	    unsigned flags, struct tf_result *res)
{
	struct gantry_cmd *cmd;
	long left;
	size_t i;
	int rc;

	memset(res, 0, sizeof(*res));
	res->ctx = job->ctx;
	res->flags = flags;
	res->status = -1;
	if (gantry_ctx_interrupted(job->ctx))
		return gantry_fail(job->ctx, GANTRY_EINTERRUPTED,
			"interrupted before terraform %s", what);
	left = time_left(job);
	if (left == 0)
		return timed_out(job, what, res);

	cmd = gantry_cmd_new(job->binary);
	if (!cmd)
		return gantry_fail(job->ctx, GANTRY_EFAIL, "out of memory");
	for (i = 0; i < args->n; i++)
		gantry_cmd_arg(cmd, args->v[i]);
	gantry_cmd_cwd(cmd, job->dir);
	gantry_cmd_env(cmd, "TF_IN_AUTOMATION", "1");
	gantry_cmd_env(cmd, "TF_INPUT", "0");
	if (flags & TF_WORKSPACE)
		gantry_cmd_env(cmd, "TF_WORKSPACE", job->workspace);
	if (job->image_tag)
		gantry_cmd_env(cmd, "TF_VAR_image_tag", job->image_tag);
	for (i = 0; i < gantry_config_length(job->vars); i++) {
		const struct gantry_config *v = gantry_config_at(job->vars, i);
		char *name = gantry_xasprintf("TF_VAR_%s",
					      gantry_config_name(v));

		gantry_cmd_env(cmd, name, gantry_config_text(v));
		free(name);
	}
	if (left > 0)
		gantry_cmd_timeout(cmd, (unsigned)left);
	/* Our own ring keeps the tail: the command's would hold stdout of
	   captured commands, sensitive values included. */
	gantry_cmd_keep_lines(cmd, 0);
	gantry_cmd_on_line(cmd, on_line, res);
	if (flags & TF_CAPTURE)
		gantry_cmd_capture(cmd);

	gantry_debug(job->ctx, "running %s %s in %s", job->binary,
		     args->n ? args->v[0] : "", job->dir);
	rc = gantry_cmd_run(cmd, job->ctx);
	switch (rc) {
	case GANTRY_OK:
		res->status = gantry_cmd_exit_status(cmd);
		if (flags & TF_CAPTURE)
			res->out = gantry_xstrdup(gantry_cmd_stdout(cmd));
		break;
	case GANTRY_ETIMEOUT:
		rc = timed_out(job, what, res);
		break;
	case GANTRY_EINTERRUPTED:
		rc = gantry_fail(job->ctx, GANTRY_EINTERRUPTED,
			"terraform %s interrupted and stopped", what);
		break;
	default:
		rc = gantry_fail(job->ctx, GANTRY_EFAIL,
			"%s; install Terraform or set binary = \"...\" "
			"(e.g. \"tofu\" or a full path) in stage '%s'",
			gantry_cmd_error(cmd) ? gantry_cmd_error(cmd)
					      : "cannot run terraform",
			gantry_ctx_stage(job->ctx));
		break;
	}
	gantry_cmd_free(cmd);
	return rc;
}

static const char *field(const struct tf_result *res, enum tf_lock_field f)
{
	return res->lock[f] && *res->lock[f] ? res->lock[f] : "?";
}

int tf_failed(struct tf_job *job, const char *what,
	      const struct tf_result *res)
{
	char *tail;
	int rc;

	if (res->lock_block && res->lock[TF_LOCK_ID])
		return gantry_fail(job->ctx, GANTRY_EFAIL,
			"terraform state is locked by %s since %s (operation "
			"%s, lock ID %s); wait for it, or set lock_timeout "
			"(e.g. \"300s\") in stage '%s'",
			field(res, TF_LOCK_WHO), field(res, TF_LOCK_CREATED),
			field(res, TF_LOCK_OPERATION), field(res, TF_LOCK_ID),
			gantry_ctx_stage(job->ctx));
	tail = tf_tail(res);
	if (res->status < 0)
		rc = gantry_fail(job->ctx, GANTRY_EFAIL,
			"terraform %s in '%s' was killed by a signal%s%s",
			what, job->dir, tail && *tail ? "; last output:\n" : "",
			tail ? tail : "");
	else
		rc = gantry_fail(job->ctx, GANTRY_EFAIL,
			"terraform %s failed in '%s' (exit %d)%s%s%s%s", what,
			job->dir, res->status, res->errors ? ": " : "",
			res->errors ? res->errors : "",
			tail && *tail ? "; last output:\n" : "",
			tail ? tail : "");
	free(tail);
	return rc;
}

int tf_must(struct tf_job *job, const char *what, struct tf_args *a,
		unsigned flags, struct tf_result *res)
{
	int rc = tf_exec(job, what, a, flags, res);

	if (rc == GANTRY_OK && res->status != 0)
		rc = tf_failed(job, what, res);
	return rc;
}
