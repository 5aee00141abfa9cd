/*
 * context.c - contexts handed to stage callbacks, their key/value lists,
 * the error sink, plan lines and events.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

volatile sig_atomic_t gantry_i_interrupted;

int gantry_i_kv_valid_key(const char *key)
{
	const char *p = key;
	int word = 0;

	if (!key || !*key)
		return 0;
	for (; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-' || (*p >= 'A' && *p <= 'Z')) {
			word = 1;
		} else if (*p == '.' && word) {
			word = 0;
		} else {
			return 0;
		}
	}
	return word;
}

const struct gantry_kv *gantry_i_kv_find(const struct gantry_kvlist *l,
					 const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return &l->v[i];
	return NULL;
}

void gantry_i_kv_set(struct gantry_kvlist *l, const char *key,
		     const char *value, int secret)
{
	struct gantry_kv *kv = (struct gantry_kv *)gantry_i_kv_find(l, key);

	if (!kv) {
		GANTRY_GROW(l->v, l->n + 1, l->alloc);
		kv = &l->v[l->n++];
		kv->key = gantry_xstrdup(key);
		kv->value = NULL;
	}
	free(kv->value);
	kv->value = gantry_xstrdup(value);
	kv->secret = secret;
}

void gantry_i_kv_clear(struct gantry_kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

struct gantry_ctx *gantry_i_ctx_new(const char *stage)
{
	struct gantry_ctx *ctx = gantry_xcalloc(1, sizeof(*ctx));

	ctx->stage = gantry_xstrdup(stage ? stage : "");
	gantry_buf_init(&ctx->plan);
	clock_gettime(CLOCK_MONOTONIC, &ctx->started);
	return ctx;
}

void gantry_i_ctx_free(struct gantry_ctx *ctx)
{
	if (!ctx)
		return;
	gantry_i_kv_clear(&ctx->values);
	gantry_i_kv_clear(&ctx->outputs);
	gantry_buf_release(&ctx->plan);
	free(ctx->stage);
	free(ctx->err_msg);
	free(ctx);
}

const char *gantry_ctx_get(const struct gantry_ctx *ctx, const char *key)
{
	const struct gantry_kv *kv;

	if (!ctx || !key)
		return NULL;
	kv = gantry_i_kv_find(&ctx->values, key);
	return kv ? kv->value : NULL;
}

static int ctx_publish(struct gantry_ctx *ctx, const char *key,
		       const char *value, int secret)
{
	if (!ctx || !gantry_i_kv_valid_key(key) || !value)
		return GANTRY_EFAIL;
	if (secret)
		gantry_secret_add(value);
	gantry_i_kv_set(&ctx->outputs, key, value, secret);
	/* Later calls in the same callback see it too. */
	gantry_i_kv_set(&ctx->values, key, value, secret);
	return GANTRY_OK;
}

int gantry_ctx_set(struct gantry_ctx *ctx, const char *key, const char *value)
{
	return ctx_publish(ctx, key, value, 0);
}

int gantry_ctx_set_secret(struct gantry_ctx *ctx, const char *key,
			  const char *value)
{
	return ctx_publish(ctx, key, value, 1);
}

const char *gantry_ctx_stage(const struct gantry_ctx *ctx)
{
	return ctx ? ctx->stage : "";
}

unsigned gantry_ctx_timeout(const struct gantry_ctx *ctx)
{
	return ctx ? ctx->timeout : 0;
}

long gantry_ctx_remaining(const struct gantry_ctx *ctx)
{
	struct timespec now;
	long used;

	if (!ctx || !ctx->timeout)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	used = (long)(now.tv_sec - ctx->started.tv_sec);
	return used >= (long)ctx->timeout ? 0 : (long)ctx->timeout - used;
}

/* Milliseconds since the callback started. */
static long elapsed_ms(const struct gantry_ctx *ctx)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - ctx->started.tv_sec) * 1000L +
	       (now.tv_nsec - ctx->started.tv_nsec) / 1000000L;
}

long gantry_i_ctx_remaining_ms(const struct gantry_ctx *ctx)
{
	long used;

	if (!ctx || !ctx->timeout)
		return -1;
	used = elapsed_ms(ctx);
	return used >= (long)ctx->timeout * 1000L ?
	       0 : (long)ctx->timeout * 1000L - used;
}

long gantry_i_ctx_budget_ms(const struct gantry_ctx *ctx, long floor_ms)
{
	long left = gantry_i_ctx_remaining_ms(ctx), grace;

	if (left < 0)
		return -1;
	if (left > 0)
		return left > floor_ms ? left : floor_ms;
	grace = ((long)ctx->timeout + (long)ctx->kill_grace) * 1000L -
		elapsed_ms(ctx) - 1000L;
	return grace >= floor_ms && grace > 0 ? grace : 0;
}

int gantry_ctx_dry_run(const struct gantry_ctx *ctx)
{
	return ctx ? ctx->dry_run : 0;
}

int gantry_ctx_interrupted(const struct gantry_ctx *ctx)
{
	(void)ctx;
	return gantry_i_interrupted != 0;
}

void gantry_ctx_clear_interrupt(struct gantry_ctx *ctx)
{
	(void)ctx;
	gantry_i_interrupted = 0;
}

int gantry_fail(struct gantry_ctx *ctx, int code, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	if (code >= 0)
		code = GANTRY_EFAIL;
	if (!ctx)
		return code;
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&b);
	free(ctx->err_msg);
	ctx->err_msg = gantry_buf_detach(&b);
	ctx->err_code = code;
	return code;
}

void gantry_plan_line(struct gantry_ctx *ctx, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	if (!ctx)
		return;
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&b);
	gantry_buf_add(&ctx->plan, b.buf, b.len);
	gantry_buf_addch(&ctx->plan, '\n');
	gantry_buf_release(&b);
}

const char *gantry_event_name(const struct gantry_event *ev)
{
	return ev ? ev->name : NULL;
}

const char *gantry_event_get(const struct gantry_event *ev, const char *key)
{
	const struct gantry_kv *kv;

	if (!ev || !key)
		return NULL;
	kv = gantry_i_kv_find(&ev->fields, key);
	return kv ? kv->value : NULL;
}
