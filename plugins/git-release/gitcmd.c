/*
 * gitcmd.c - running git for the git-release stage: one argv, the
 * repository given with -C, stdout kept for parsing, everything else
 * logged at debug level (-v shows it) and its last lines kept for the
 * failure messages.
 *
 * Built only on the public SDK, like any out-of-tree plugin.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/gantry.h>

#include "gitrel.h"

#include "banned.h"

#define GR_TAIL_LINES 5

static int quiet_line(void *arg, enum gantry_cmd_stream stream,
		      const char *line)
{
	struct gantry_ctx *ctx = arg;

	/* stdout is parsed, not shown; git's chatter is for -v. */
	if (stream == GANTRY_CMD_STDERR)
		gantry_debug(ctx, "git: %s", line);
	return 0;
}

char *gr_trimmed(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len > max) {
		len = max;
		/* Never end inside a multi-byte character. */
		while (len && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	while (len && strchr(" \t\r\n", s[len - 1]))
		len--;
	return gantry_xstrndup(s, len);
}

void gr_git_clear(struct gr_git *res)
{
	free(res->out);
	free(res->tail);
	memset(res, 0, sizeof(*res));
}

int gr_git(struct gantry_ctx *ctx, const char *repo, struct gr_git *res, ...)
{
	struct gantry_cmd *cmd = gantry_cmd_new("git");
	long left = gantry_ctx_remaining(ctx);
	const char *arg, *what = NULL;
	va_list ap;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!cmd)
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
	gantry_cmd_arg(cmd, "-C");
	gantry_cmd_arg(cmd, repo);
	va_start(ap, res);
	while ((arg = va_arg(ap, const char *))) {
		if (!what)
			what = arg;
		gantry_cmd_arg(cmd, arg);
	}
	va_end(ap);
	/* Messages we quote must read the same everywhere, and a git that
	   wants a password must fail rather than wait for one. */
	gantry_cmd_env(cmd, "LC_ALL", "C");
	gantry_cmd_env(cmd, "GIT_TERMINAL_PROMPT", "0");
	gantry_cmd_env(cmd, "GIT_OPTIONAL_LOCKS", "0");
	gantry_cmd_capture(cmd);
	gantry_cmd_keep_lines(cmd, GR_TAIL_LINES);
	gantry_cmd_on_line(cmd, quiet_line, ctx);
	if (left >= 0)
		gantry_cmd_timeout(cmd, left > 0 ? (unsigned)left : 1);

	rc = gantry_cmd_run(cmd, ctx);
	switch (rc) {
	case GANTRY_OK:
		res->status = gantry_cmd_exit_status(cmd);
		res->out = gr_trimmed(gantry_cmd_stdout(cmd), (size_t)-1);
		res->tail = gr_trimmed(gantry_cmd_tail(cmd), (size_t)-1);
		break;
	case GANTRY_ETIMEOUT:
		rc = gantry_fail(ctx, rc, "'git %s' in '%s' did not finish "
				 "within the stage's timeout (%us); raise "
				 "timeout or find out what git waits for",
				 what, repo, gantry_ctx_timeout(ctx));
		break;
	case GANTRY_EINTERRUPTED:
		rc = gantry_fail(ctx, rc, "interrupted while running "
				 "'git %s'", what);
		break;
	default:
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot run git: %s; "
				 "install git or put it on PATH",
				 gantry_cmd_error(cmd) ? gantry_cmd_error(cmd)
						       : "unknown error");
		break;
	}
	gantry_cmd_free(cmd);
	return rc;
}
