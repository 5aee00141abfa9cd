/*
 * gantry/cmd.h - running a program: argv, environment, working directory,
 * timeout, output line by line.
 *
 * Programs are started with fork+execvp on an argv array; no shell is
 * involved unless the caller runs one explicitly ("sh", "-c", ...).  The
 * program gets its own process group, so a timeout or an interrupt stops
 * it and everything it started.  Each line of its stdout and stderr is
 * handed to the line callback (or logged under the stage prefix when none
 * is set), redacted.
 *
 * Since ABI 1.0.
 */
#ifndef GANTRY_CMD_H
#define GANTRY_CMD_H

#include <stddef.h>
#include <gantry/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_cmd;

enum gantry_cmd_stream {
	GANTRY_CMD_STDOUT = 1,
	GANTRY_CMD_STDERR = 2
};

/* Called for each output line (without its newline); return non-zero to
   stop reading and kill the program. */
typedef int (*gantry_cmd_line_fn)(void *arg, enum gantry_cmd_stream stream,
				  const char *line);

/* A new command running `program` (looked up in PATH when it holds no
   slash).  NULL on allocation failure only. */
struct gantry_cmd *gantry_cmd_new(const char *program);

/* Appends one argument (copied). */
void gantry_cmd_arg(struct gantry_cmd *cmd, const char *arg);

/* Sets NAME=VALUE in the program's environment (on top of ours). */
void gantry_cmd_env(struct gantry_cmd *cmd, const char *name,
		    const char *value);

/* Runs in `dir` instead of the current directory. */
void gantry_cmd_cwd(struct gantry_cmd *cmd, const char *dir);

/* Kills the program (SIGTERM, then SIGKILL 5 s later) after `seconds`
   (0: no limit, the default). */
void gantry_cmd_timeout(struct gantry_cmd *cmd, unsigned seconds);

/* Feeds `data` to the program's stdin (copied); by default stdin is
   /dev/null. */
void gantry_cmd_stdin(struct gantry_cmd *cmd, const char *data, size_t len);

/* Sets the line callback. */
void gantry_cmd_on_line(struct gantry_cmd *cmd, gantry_cmd_line_fn fn,
			void *arg);

/* Keeps the last `n` output lines (both streams) for error messages;
   default 10. */
void gantry_cmd_keep_lines(struct gantry_cmd *cmd, size_t n);

/*
 * Runs the command and waits for it.  Returns 0 when it ran to the end
 * (whatever its exit status), or a negative GANTRY_E* code: GANTRY_EFAIL
 * when it could not be started (the reason is in gantry_cmd_error()),
 * GANTRY_ETIMEOUT, GANTRY_EINTERRUPTED.  ctx may be NULL.
 */
int gantry_cmd_run(struct gantry_cmd *cmd, struct gantry_ctx *ctx);

/* After run: the exit status (0..255), or -1 when killed by a signal. */
int gantry_cmd_exit_status(const struct gantry_cmd *cmd);
/* After run: the signal that killed it, or 0. */
int gantry_cmd_signal(const struct gantry_cmd *cmd);
/* After run: the last kept output lines joined by '\n' ("" when none). */
const char *gantry_cmd_tail(const struct gantry_cmd *cmd);
/* After run: all of stdout, when captured with gantry_cmd_capture(). */
const char *gantry_cmd_stdout(const struct gantry_cmd *cmd);
/* Keeps all of stdout in memory (up to 16 MiB) for gantry_cmd_stdout(). */
void gantry_cmd_capture(struct gantry_cmd *cmd);
/* Why the command could not start, or NULL. */
const char *gantry_cmd_error(const struct gantry_cmd *cmd);

void gantry_cmd_free(struct gantry_cmd *cmd);

#ifdef __cplusplus
}
#endif

#endif
