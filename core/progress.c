/*
 * progress.c - live progress on stderr.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

#define C_BOLD  "\033[1m"
#define C_GREEN "\033[32m"
#define C_RED   "\033[31m"
#define C_YEL   "\033[33m"
#define C_DIM   "\033[2m"
#define C_OFF   "\033[0m"

/*
 * A line on stderr, built a piece at a time.  Each piece is redacted and
 * cleaned (tags, actors, stage names and plans come from outside), then
 * wrapped in its colour: only gantry's own escape sequences reach the
 * terminal.
 */
static void line_begin(struct gantry_buf *b)
{
	if (gantry_i_log_verbosity() >= 0)
		gantry_i_line_start(b);
}

static void piece(struct gantry_buf *b, const char *color, const char *fmt,
		  ...) GANTRY_PRINTF(3, 4);
static void piece(struct gantry_buf *b, const char *color, const char *fmt,
		  ...)
{
	struct gantry_buf t = GANTRY_BUF_INIT;
	int c = color && gantry_i_log_color();
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&t, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&t);
	gantry_i_term_clean(&t, 0, 0);
	if (c)
		gantry_buf_adds(b, color);
	gantry_buf_add(b, t.buf, t.len);
	if (c)
		gantry_buf_adds(b, C_OFF);
	gantry_buf_release(&t);
}

static void line_end(struct gantry_buf *b)
{
	gantry_buf_addch(b, '\n');
	if (gantry_i_log_verbosity() >= 0 &&
	    write(STDERR_FILENO, b->buf, b->len) < 0) {
		/* stderr is gone; nothing to tell */
	}
	gantry_buf_release(b);
}

/* A line of one piece, after indent (uncoloured). */
static void vsay(const char *indent, const char *color, const char *fmt,
		 va_list ap) GANTRY_PRINTF(3, 0);
static void vsay(const char *indent, const char *color, const char *fmt,
		 va_list ap)
{
	struct gantry_buf b = GANTRY_BUF_INIT, t = GANTRY_BUF_INIT;

	gantry_buf_vaddf(&t, fmt, ap);
	line_begin(&b);
	if (*indent)
		piece(&b, NULL, "%s", indent);
	piece(&b, color, "%s", t.buf);
	line_end(&b);
	gantry_buf_release(&t);
}

static void say(const char *color, const char *fmt, ...) GANTRY_PRINTF(2, 3);
static void say(const char *color, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", color, fmt, ap);
	va_end(ap);
}

void progress_deploy_start(const char *id, const char *service,
			   const char *tag, const char *env, const char *actor,
			   int resumed)
{
	say(C_BOLD, "==> %s deploy %s: %s %s -> %s (by %s)",
	    resumed ? "resuming" : "starting", id, service, tag, env, actor);
}

void progress_stage_start(size_t idx, size_t total, const char *name,
			  const char *stage)
{
	if (strcmp(name, stage))
		say(C_BOLD, "[%zu/%zu] %s (%s)", idx, total, name, stage);
	else
		say(C_BOLD, "[%zu/%zu] %s", idx, total, name);
}

void progress_stage_end(size_t idx, size_t total, const char *name,
			enum stage_status st, double seconds,
			const char *error)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int ok = st == ST_SUCCEEDED;

	line_begin(&b);
	piece(&b, ok ? C_GREEN : C_RED, "[%zu/%zu] %s %s", idx, total, name,
	      stage_status_name(st));
	piece(&b, NULL, " (%.2fs)", seconds);
	line_end(&b);
	if (!ok && error)
		gantry_log(NULL, GANTRY_LOG_ERROR, "stage '%s': %s", name,
			   error);
}

void progress_stage_skip(size_t idx, size_t total, const char *name,
			 const char *why)
{
	say(C_DIM, "[%zu/%zu] %s skipped (%s)", idx, total, name, why);
}

void progress_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("    ", C_YEL, fmt, ap);
	va_end(ap);
}

void progress_result(const char *result, int code, double seconds,
		     const char *stage, const char *reason)
{
	const char *color = code == 0 ? C_GREEN : C_RED;

	if (stage)
		say(color, "==> deploy %s at stage '%s' (exit %d, %.2fs)",
		    result, stage, code, seconds);
	else
		say(color, "==> deploy %s (exit %d, %.2fs)", result, code,
		    seconds);
	(void)reason;
}

void progress_plan_start(const char *service, const char *tag,
			 const char *env, int approval,
			 const struct gantry_kvlist *ctx)
{
	size_t i;

	say(C_BOLD, "==> plan: %s %s -> %s%s", service, tag, env,
	    approval ? " (approval required)" : "");
	for (i = 0; ctx && i < ctx->n; i++)
		say(NULL, "    %s = %s", ctx->v[i].key,
		    ctx->v[i].secret ? "***" : ctx->v[i].value);
}

void progress_plan_stage(size_t idx, size_t total, const struct entry *en,
			 const struct gantry_config *opts,
			 const struct run_result *res)
{
	struct gantry_buf b = GANTRY_BUF_INIT, js = GANTRY_BUF_INIT;
	const char *p, *nl;

	line_begin(&b);
	piece(&b, C_BOLD, "[%zu/%zu] %s (%s)", idx, total, en->name,
	      en->stage);
	piece(&b, NULL, " on_failure=%s timeout=%us retries=%u",
	      policy_name(en->on_failure), en->timeout, en->retries);
	line_end(&b);
	gantry_i_config_to_json(opts, &js);
	line_begin(&b);
	piece(&b, NULL, "      ");
	piece(&b, C_DIM, "options: %s", js.buf);
	line_end(&b);
	gantry_buf_release(&js);
	for (p = res->plan; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		say(NULL, "      %.*s", (int)(nl ? nl - p : (long)strlen(p)),
		    p);
	}
	if (res->rc != GANTRY_OK)
		gantry_log(NULL, GANTRY_LOG_ERROR, "stage '%s' cannot plan: %s",
			   en->name, res->error ? res->error : "failed");
}

void progress_print_json(struct gantry_json *doc)
{
	char *text = gantry_i_redact(gantry_i_json_text_ex(doc,
						GANTRY_I_JSON_PRETTY));

	puts(text);
	free(text);
	gantry_json_free(doc);
}

void progress_json_error(const char *command, int code)
{
	struct gantry_json *o = gantry_json_new_object();
	const char *last = gantry_i_log_last_error();

	gantry_json_set_string(o, "command", command);
	gantry_json_set_bool(o, "ok", 0);
	gantry_json_set_int(o, "exit_code", code);
	gantry_json_set_string(o, "error", last ? last : "");
	progress_print_json(o);
}
