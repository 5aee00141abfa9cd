/*
 * betterstack-notify.c - the `betterstack-notify` notifier: sends each
 * deploy event it is subscribed to as one JSON log record to a Better
 * Stack (Logtail) HTTP source, so deploys sit next to the service's logs:
 *
 *   {"dt": "2024-05-01T12:00:00.123Z", "message": "address-api
 *    v0.1.0-rc.1 to staging: deploy.succeeded", "event":
 *    "deploy.succeeded", "result": "succeeded", "service": ...,
 *    "environment": ..., "version": ..., "tag": ..., "commit": ...,
 *    "deploy_id": ..., "actor": ..., "stage": ... or null, "reason":
 *    ... or null, "duration": 42, "exit_code": 0, "source": "gantry"}
 *
 * approval.* events (the approval stage) add "approval_by",
 * "approval_command" and "approval_message" (or null).
 *
 * `duration` is whole seconds (the SDK's JSON builder has no floats).
 * The source token goes in an `Authorization: Bearer` header and is a
 * secret option, so it is redacted wherever gantry writes.  Delivery:
 * 3 attempts (429 and 5xx retried by gantry_http) of 10 s at most; a
 * failure is reported with gantry_fail, which the core logs as a warning
 * without touching the deploy.
 *
 * A contrib plugin: built with gantry but written only against the
 * public SDK, so it also builds out of tree from sdk/template (see
 * README.md).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L	/* clock_gettime, gmtime_r */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gantry/gantry.h>

#ifdef HAVE_CONFIG_H
#include "banned.h"
#endif

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define BS_ATTEMPTS 3
#define BS_TIMEOUT_MS 10000L

static const struct gantry_option bs_options[] = {
	{ "url", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED, NULL,
	  "the source's ingestion URL, e.g. "
	  "\"https://in.logs.betterstack.com\"" },
	{ "token", GANTRY_OPT_STRING, GANTRY_OPT_REQUIRED | GANTRY_OPT_SECRET,
	  NULL, "the source token (sent as a bearer token)" },
	{ NULL, 0, 0, NULL, NULL }
};

struct bs_state {
	/* Strings point into the config tree, which outlives fini. */
	const char *url;
	const char *token;
};

static int bs_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		   void **state)
{
	struct bs_state *st;
	const char *url = gantry_config_string(cfg, "url", "");

	*state = NULL;
	if (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: option 'url' must start with https:// (or "
			"http://), not '%s'",
			gantry_config_where(gantry_config_lookup(cfg, "url")),
			url);
	st = gantry_xcalloc(1, sizeof(*st));
	st->url = url;
	st->token = gantry_config_string(cfg, "token", "");
	gantry_secret_add(st->token);
	*state = st;
	return GANTRY_OK;
}

static void bs_fini(void *state)
{
	free(state);
}

/* A member from the deploy's context, or null when it is unknown. */
static void set_ctx(struct gantry_json *o, const char *member,
		    const struct gantry_ctx *ctx, const char *key)
{
	const char *v = gantry_ctx_get(ctx, key);

	if (v && *v)
		gantry_json_set_string(o, member, v);
	else
		gantry_json_set_null(o, member);
}

static void set_field(struct gantry_json *o, const char *member,
		      const struct gantry_event *ev, const char *key)
{
	const char *v = gantry_event_get(ev, key);

	if (v && *v)
		gantry_json_set_string(o, member, v);
	else
		gantry_json_set_null(o, member);
}

/* ISO 8601 in UTC with milliseconds, as Better Stack reads "dt". */
static void iso_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char secs[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(secs, sizeof(secs), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", secs, ts.tv_nsec / 1000000L);
}

static struct gantry_json *build_record(const struct gantry_ctx *ctx,
					const struct gantry_event *ev)
{
	struct gantry_json *o = gantry_json_new_object();
	const char *name = gantry_event_name(ev);
	const char *stage = gantry_event_get(ev, "stage");
	const char *duration = gantry_event_get(ev, "duration");
	const char *code = gantry_event_get(ev, "exit_code");
	const char *svc = gantry_ctx_get(ctx, "service");
	const char *tag = gantry_ctx_get(ctx, "release.tag");
	const char *env = gantry_ctx_get(ctx, "release.environment");
	char dt[48], msg[512];

	if (!o)
		return NULL;
	iso_now(dt, sizeof(dt));
	if (stage && name && (!strncmp(name, "stage.", 6) ||
			      !strncmp(name, "approval.", 9)))
		snprintf(msg, sizeof(msg), "%s %s to %s: %s '%s'",
			 svc ? svc : "?", tag ? tag : "?", env ? env : "?",
			 name, stage);
	else
		snprintf(msg, sizeof(msg), "%s %s to %s: %s", svc ? svc : "?",
			 tag ? tag : "?", env ? env : "?", name ? name : "?");
	gantry_json_set_string(o, "dt", dt);
	gantry_json_set_string(o, "message", msg);
	gantry_json_set_string(o, "event", name ? name : "");
	set_field(o, "result", ev, "result");
	set_ctx(o, "service", ctx, "service");
	set_ctx(o, "environment", ctx, "release.environment");
	set_ctx(o, "version", ctx, "release.version");
	set_ctx(o, "tag", ctx, "release.tag");
	set_ctx(o, "commit", ctx, "release.commit");
	set_ctx(o, "deploy_id", ctx, "deploy.id");
	set_ctx(o, "actor", ctx, "deploy.actor");
	set_field(o, "stage", ev, "stage");
	set_field(o, "reason", ev, "reason");
	gantry_json_set_int(o, "duration", duration ?
			    (long long)(strtod(duration, NULL) + 0.5) : 0);
	gantry_json_set_int(o, "exit_code", code ? strtoll(code, NULL, 10) : 0);
	/* The approval stage's events say who decided and how to. */
	if (name && !strncmp(name, "approval.", 9)) {
		set_field(o, "approval_by", ev, "by");
		set_field(o, "approval_command", ev, "command");
		set_field(o, "approval_message", ev, "message");
	}
	gantry_json_set_string(o, "source", "gantry");
	return o;
}

static int bs_event(void *state, struct gantry_ctx *ctx,
		    const struct gantry_event *ev)
{
	const struct bs_state *st = state;
	struct gantry_json *rec = build_record(ctx, ev);
	struct gantry_http *req = gantry_http_new("POST", st->url);
	long left = gantry_ctx_remaining(ctx), status;
	const char *body = rec ? gantry_json_text(rec, 0) : NULL;
	char *auth = NULL;
	size_t n;
	int rc;

	if (!rec || !req || !body) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
		goto out;
	}
	auth = gantry_xasprintf("Bearer %s", st->token);
	gantry_http_header(req, "Authorization", auth);
	gantry_http_header(req, "Content-Type", "application/json");
	gantry_http_body(req, body, strlen(body));
	gantry_http_attempts(req, BS_ATTEMPTS);
	gantry_http_timeout_ms(req, left > 0 && left * 1000 < BS_TIMEOUT_MS ?
			       left * 1000 : BS_TIMEOUT_MS);
	rc = gantry_http_perform(req, ctx);
	if (rc < 0) {
		rc = gantry_fail(ctx, rc, "cannot deliver to Better Stack: %s",
				 gantry_http_error(req));
		goto out;
	}
	status = gantry_http_status(req);
	if (status < 200 || status > 299) {
		const char *answer = gantry_http_response(req, &n);

		rc = gantry_fail(ctx, GANTRY_EFAIL,
			"Better Stack answered %ld '%.100s'; %s", status,
			answer, status == 401 || status == 403 ?
			"check option 'token' (the source token)" :
			"check option 'url' (the source's ingestion URL)");
	}
out:
	free(auth);
	gantry_http_free(req);
	gantry_json_free(rec);
	return rc;
}

static const struct gantry_stage bs_stage = {
	GANTRY_STAGE_HEADER,
	.name = "betterstack-notify",
	.version = PACKAGE_VERSION,
	.summary = "send deploy events to a Better Stack log source",
	.kind = GANTRY_KIND_NOTIFIER,
	.options = bs_options,
	.init = bs_init,
	.fini = bs_fini,
	.event = bs_event,
};

GANTRY_STAGE_EXPORT(bs_stage)
