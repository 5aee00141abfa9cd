/*
 * progress.c - live progress on stderr.
 */
#include "config.h"

#include <json-c/json.h>
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

static const char *col(const char *c)
{
	return gantry_i_log_color() ? c : "";
}

static void say(const char *fmt, ...) GANTRY_PRINTF(1, 2);
static void say(const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	if (gantry_i_log_verbosity() < 0)
		return;
	gantry_i_line_start(&b);
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&b);
	gantry_buf_addch(&b, '\n');
	if (write(STDERR_FILENO, b.buf, b.len) < 0) {
		/* stderr is gone; nothing to tell */
	}
	gantry_buf_release(&b);
}

void progress_deploy_start(const char *id, const char *service,
			   const char *tag, const char *env, const char *actor,
			   int resumed)
{
	say("%s==> %s deploy %s: %s %s -> %s (by %s)%s", col(C_BOLD),
	    resumed ? "resuming" : "starting", id, service, tag, env, actor,
	    col(C_OFF));
}

void progress_stage_start(size_t idx, size_t total, const char *name,
			  const char *stage)
{
	if (strcmp(name, stage))
		say("%s[%zu/%zu] %s (%s)%s", col(C_BOLD), idx, total, name,
		    stage, col(C_OFF));
	else
		say("%s[%zu/%zu] %s%s", col(C_BOLD), idx, total, name,
		    col(C_OFF));
}

void progress_stage_end(size_t idx, size_t total, const char *name,
			enum stage_status st, double seconds,
			const char *error)
{
	int ok = st == ST_SUCCEEDED;

	say("%s[%zu/%zu] %s %s%s (%.2fs)", col(ok ? C_GREEN : C_RED), idx,
	    total, name, stage_status_name(st), col(C_OFF), seconds);
	if (!ok && error)
		gantry_log(NULL, GANTRY_LOG_ERROR, "stage '%s': %s", name,
			   error);
}

void progress_stage_skip(size_t idx, size_t total, const char *name,
			 const char *why)
{
	say("%s[%zu/%zu] %s skipped (%s)%s", col(C_DIM), idx, total, name,
	    why, col(C_OFF));
}

void progress_note(const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	say("    %s%s%s", col(C_YEL), b.buf, col(C_OFF));
	gantry_buf_release(&b);
}

void progress_result(const char *result, int code, double seconds,
		     const char *stage, const char *reason)
{
	int ok = code == 0;

	if (stage)
		say("%s==> deploy %s at stage '%s' (exit %d, %.2fs)%s",
		    col(ok ? C_GREEN : C_RED), result, stage, code, seconds,
		    col(C_OFF));
	else
		say("%s==> deploy %s (exit %d, %.2fs)%s",
		    col(ok ? C_GREEN : C_RED), result, code, seconds,
		    col(C_OFF));
	(void)reason;
}

void progress_plan_start(const char *service, const char *tag,
			 const char *env, int approval,
			 const struct gantry_kvlist *ctx)
{
	size_t i;

	say("%s==> plan: %s %s -> %s%s%s", col(C_BOLD), service, tag, env,
	    approval ? " (approval required)" : "", col(C_OFF));
	for (i = 0; ctx && i < ctx->n; i++)
		say("    %s = %s", ctx->v[i].key,
		    ctx->v[i].secret ? "***" : ctx->v[i].value);
}

void progress_plan_stage(size_t idx, size_t total, const struct entry *en,
			 const struct gantry_config *opts,
			 const struct run_result *res)
{
	struct gantry_buf js = GANTRY_BUF_INIT;
	const char *p, *nl;

	say("%s[%zu/%zu] %s (%s)%s on_failure=%s timeout=%us retries=%u",
	    col(C_BOLD), idx, total, en->name, en->stage, col(C_OFF),
	    policy_name(en->on_failure), en->timeout, en->retries);
	gantry_i_config_to_json(opts, &js);
	say("      %soptions: %s%s", col(C_DIM), js.buf, col(C_OFF));
	gantry_buf_release(&js);
	for (p = res->plan; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		say("      %.*s", (int)(nl ? nl - p : (long)strlen(p)), p);
	}
	if (res->rc != GANTRY_OK)
		gantry_log(NULL, GANTRY_LOG_ERROR, "stage '%s' cannot plan: %s",
			   en->name, res->error ? res->error : "failed");
}

void progress_json_error(const char *command, int code)
{
	json_object *o = json_object_new_object();
	const char *last = gantry_i_log_last_error();
	char *text;

	json_object_object_add(o, "command", json_object_new_string(command));
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "exit_code", json_object_new_int(code));
	json_object_object_add(o, "error",
			       json_object_new_string(last ? last : ""));
	text = gantry_i_redact(gantry_i_json_text(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	puts(text);
	free(text);
	json_object_put(o);
}
