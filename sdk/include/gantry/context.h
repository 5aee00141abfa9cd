/*
 * gantry/context.h - what a stage sees of the deploy, and what it says.
 *
 * A struct gantry_ctx is handed to every callback.  It holds the deploy's
 * context values (`service`, `deploy.id`, `deploy.actor`, `release.tag`,
 * `release.version`, `release.environment`, and every output published by
 * earlier stages, e.g. `image.uri`), the stage's own settings (name,
 * timeout, dry run), and an error sink.
 *
 * Rules that must stay true:
 *   - a string returned by a getter lives until the callback returns;
 *   - everything written through gantry_log() or recorded by gantry_fail()
 *     passes through the redactor, so a value registered with
 *     gantry_secret_add() never leaves the process in clear;
 *   - outputs published during run reach later stages, the journal
 *     (secret ones redacted) and this stage's rollback.
 *
 * Since ABI 1.0.
 */
#ifndef GANTRY_CONTEXT_H
#define GANTRY_CONTEXT_H

#include <stdarg.h>
#include <gantry/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GANTRY_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GANTRY_PRINTF(f, a)
#endif

/* A context value by key, or NULL. */
const char *gantry_ctx_get(const struct gantry_ctx *ctx, const char *key);

/* Publishes an output for later stages, as `key` (e.g. "image.uri").
   Returns 0, or a negative code for an invalid key. */
int gantry_ctx_set(struct gantry_ctx *ctx, const char *key, const char *value);

/* Publishes an output whose value is a secret: usable by later stages,
   redacted in logs and the journal. */
int gantry_ctx_set_secret(struct gantry_ctx *ctx, const char *key,
			  const char *value);

/* The pipeline entry's name ("integration-tests"), or the stage name. */
const char *gantry_ctx_stage(const struct gantry_ctx *ctx);

/* The entry's timeout in seconds (0: none).  The stage finishes its own
   waiting and clean-up inside it; the core kills a stage still running
   a grace period (60 s by default) after it. */
unsigned gantry_ctx_timeout(const struct gantry_ctx *ctx);

/* Seconds left of the timeout, counted from the callback's start (0 when
   it has passed; -1 without a timeout). */
long gantry_ctx_remaining(const struct gantry_ctx *ctx);

/* Non-zero in `plan` / `--dry-run`. */
int gantry_ctx_dry_run(const struct gantry_ctx *ctx);

/* Non-zero once SIGINT or SIGTERM asked the stage to stop: long waits
   should check it and return GANTRY_EINTERRUPTED. */
int gantry_ctx_interrupted(const struct gantry_ctx *ctx);

/* Acknowledges an interrupt so the stage can make the calls of its own
   clean-up (e.g. restoring the previous release) before it returns
   GANTRY_EINTERRUPTED.  gantry kills the stage if it is still running
   kill_grace seconds after the signal, or at once on a second signal.
   Since libgantry 0.1. */
void gantry_ctx_clear_interrupt(struct gantry_ctx *ctx);

/* Registers a secret value: from now on it is redacted from every log
   line, error, journal entry and notification.  Each line of a
   multi-line value is registered too, since output is redacted a line at
   a time.  Values (and lines) shorter than 4 bytes are ignored (they
   would redact ordinary text); gantry refuses such secrets in a
   configuration. */
void gantry_secret_add(const char *value);

/* Log levels. */
enum gantry_log_level {
	GANTRY_LOG_ERROR = 0,
	GANTRY_LOG_WARN,
	GANTRY_LOG_INFO,
	GANTRY_LOG_DEBUG
};

/* Writes one line to stderr, prefixed with the stage name and redacted.
   ctx may be NULL (no prefix). */
void gantry_log(const struct gantry_ctx *ctx, enum gantry_log_level level,
		const char *fmt, ...) GANTRY_PRINTF(3, 4);
void gantry_logv(const struct gantry_ctx *ctx, enum gantry_log_level level,
		 const char *fmt, va_list ap);

/* A live status line for a long wait ("1/2 running, 35 s"): on a
   terminal it is drawn below the log lines and replaced in place by the
   next status, and it disappears when a log line is written or the
   callback ends.  Anywhere else (CI logs, batch log files, --quiet) it
   is not written at all: log what must stay on record with gantry_info.
   Redacted and cut to the terminal's width like any line.  Since ABI
   1.0 (libgantry 0.1). */
void gantry_status(const struct gantry_ctx *ctx, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);

#define gantry_error(ctx, ...) gantry_log((ctx), GANTRY_LOG_ERROR, __VA_ARGS__)
#define gantry_warn(ctx, ...)  gantry_log((ctx), GANTRY_LOG_WARN, __VA_ARGS__)
#define gantry_info(ctx, ...)  gantry_log((ctx), GANTRY_LOG_INFO, __VA_ARGS__)
#define gantry_debug(ctx, ...) gantry_log((ctx), GANTRY_LOG_DEBUG, __VA_ARGS__)

/* Records why the callback failed and returns `code` (a negative
   GANTRY_E* value), so that callbacks can `return gantry_fail(...)`.
   The message follows the house style: lowercase, the error first, the
   subject quoted, then what to do.  The last message recorded wins. */
int gantry_fail(struct gantry_ctx *ctx, int code, const char *fmt, ...)
	GANTRY_PRINTF(3, 4);

/* Writes one line of the stage's plan (shown by `gantry plan`). */
void gantry_plan_line(struct gantry_ctx *ctx, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);

/*
 * Events, for notifiers.  Names: deploy.started, deploy.succeeded,
 * deploy.failed, deploy.rolled_back, deploy.timed_out, deploy.interrupted,
 * stage.started, stage.succeeded, stage.failed, and the approval stage's
 * approval.requested, approval.granted, approval.rejected.  New names
 * come without an ABI bump: a notifier ignores (or renders generically)
 * names it does not know.
 */
const char *gantry_event_name(const struct gantry_event *ev);

/* An event field by key, or NULL.  Keys: "stage" (the stage concerned or
   the failing one), "reason" (why it failed), "duration" (seconds, as
   text), "result" (final result word), "exit_code". The deploy's context
   (service, release.version, deploy.actor, ...) is in ctx.  approval.*
   events add "by" (who decided; "gantry" for a timeout), "command" (the
   exact `gantry approve ENV ID`), "reject_command", "message",
   "approvers" (comma-separated, "" = anyone), "deploy_id" and "timeout";
   "reason" is a rejection's reason and "result" is "waiting",
   "approved" or "rejected". */
const char *gantry_event_get(const struct gantry_event *ev, const char *key);

#ifdef __cplusplus
}
#endif

#endif
