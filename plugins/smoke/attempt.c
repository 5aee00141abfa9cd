/*
 * attempt.c - one request of a smoke check, judged against its
 * expectations and told in a few words ("503 (12 ms)", "200 version
 * \"0.0.9\", expected \"0.1.0\" (11 ms)", "connection refused"), and the
 * failure message built from those words.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smoke.h"

#include "banned.h"

void smoke_describe_expectations(struct gantry_buf *b, const struct check *ck)
{
	size_t i;

	gantry_buf_addf(b, "expect %ld", ck->want_status);
	if (ck->want_body)
		gantry_buf_addf(b, ", body containing \"%s\"", ck->want_body);
	for (i = 0; i < ck->njson; i++)
		gantry_buf_addf(b, ", %s = \"%s\"", ck->json[i].path,
			  ck->json[i].want);
}

/* A value as shown in a message: strings quoted, long ones cut. */
static void show_value(struct gantry_buf *b, struct gantry_json *v)
{
	const char *text;
	int quote = gantry_json_type(v) == GANTRY_JSON_STRING;
	size_t len;

	if (!v) {
		gantry_buf_addf(b, "absent");
		return;
	}
	text = quote ? gantry_json_string(v, NULL, "") : gantry_json_text(v, 0);
	len = strlen(text);
	if (len > SMOKE_MAX_SHOWN_VALUE)
		gantry_buf_addf(b, "%s%.*s...%s", quote ? "\"" : "",
			  SMOKE_MAX_SHOWN_VALUE, text, quote ? "\"" : "");
	else
		gantry_buf_addf(b, "%s%s%s", quote ? "\"" : "", text,
			  quote ? "\"" : "");
}

static int json_matches(struct gantry_json *v, const char *want)
{
	switch (gantry_json_type(v)) {
	case GANTRY_JSON_STRING:
		return !strcmp(gantry_json_string(v, NULL, ""), want);
	case GANTRY_JSON_ARRAY:
	case GANTRY_JSON_OBJECT:
		return 0;
	default:
		/* Numbers, booleans and null compare in their JSON text. */
		return !strcmp(gantry_json_text(v, 0), want);
	}
}

/*
 * Judges an answer: 1 when it meets the check's expectations, else 0.
 * Describes it in b ("200 version \"0.0.9\", expected \"0.1.0\"").
 */
static int judge(const struct check *ck, const struct gantry_http *req,
		 struct gantry_buf *b)
{
	long status = gantry_http_status(req);
	struct gantry_json *doc;
	const char *body;
	char err[128];
	size_t len, i;
	int ok = 1;

	gantry_buf_addf(b, "%ld", status);
	if (status != ck->want_status) {
		const char *loc = gantry_http_response_header(req, "Location");

		if (status >= 300 && status < 400 && loc)
			gantry_buf_addf(b, " (Location: %s)", loc);
		if (ck->want_status != 200)
			gantry_buf_addf(b, ", expected %ld", ck->want_status);
		return 0;
	}
	body = gantry_http_response(req, &len);
	if (ck->want_body && !strstr(body, ck->want_body)) {
		gantry_buf_addf(b, " body lacks \"%s\"", ck->want_body);
		return 0;
	}
	if (!ck->njson)
		return 1;
	doc = gantry_json_parse(body, len, err, sizeof(err));
	if (!doc) {
		gantry_buf_addf(b, " body is not JSON (%s)", err);
		return 0;
	}
	for (i = 0; i < ck->njson && ok; i++) {
		struct gantry_json *v = gantry_json_get(doc, ck->json[i].path);

		gantry_buf_addf(b, " %s ", ck->json[i].path);
		show_value(b, v);
		if (!v || !json_matches(v, ck->json[i].want)) {
			gantry_buf_addf(b, ", expected \"%s\"", ck->json[i].want);
			ok = 0;
		}
	}
	gantry_json_free(doc);
	return ok;
}

/* libgantry's "cannot reach URL: <curl's words>" made short. */
static void describe_error(const struct check *ck, const char *error,
			   long timeout_ms, struct gantry_buf *b)
{
	const char *why = error ? error : "no answer";
	const char *p = strstr(why, ck->url);

	if (p && !strncmp(p + strlen(ck->url), ": ", 2))
		why = p + strlen(ck->url) + 2;
	if (strstr(why, "timed out") || strstr(why, "Timeout was reached"))
		gantry_buf_addf(b, "no answer within %ld ms (timeout)", timeout_ms);
	else if (strstr(why, "Connection refused") ||
		 strstr(why, "Couldn't connect"))
		gantry_buf_addf(b, "connection refused");
	else if (strstr(why, "Could not resolve"))
		gantry_buf_addf(b, "host not found");
	else if (strstr(why, "certificate") || strstr(why, "SSL"))
		gantry_buf_addf(b, "TLS verification failed: %.120s (give the CA "
			  "with ca_file)", why);
	else
		gantry_buf_addf(b, "%.120s", why);
}

static long request_timeout(const struct check *ck, struct gantry_ctx *ctx)
{
	long left = gantry_ctx_remaining(ctx);

	if (left > 0 && left * 1000 < ck->timeout_ms)
		return left * 1000;
	return ck->timeout_ms;
}

/*
 * One attempt of check ck: 1 passed, 0 failed, or GANTRY_EINTERRUPTED.
 * The attempt's description is kept in ck->results.
 */
int smoke_attempt(struct smoke_state *st, struct check *ck,
		  struct gantry_ctx *ctx)
{
	struct gantry_http *req = gantry_http_new(ck->method, ck->url);
	long timeout = request_timeout(ck, ctx);
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;
	int rc, ok = 0;

	if (!req)
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
	gantry_http_attempts(req, 1);
	gantry_http_timeout_ms(req, timeout);
	for (i = 0; i < gantry_config_length(ck->headers); i++) {
		const struct gantry_config *h;

		h = gantry_config_at(ck->headers, i);
		gantry_http_header(req, gantry_config_name(h),
				   gantry_config_text(h));
	}
	if (st->ca_file)
		gantry_http_cacert(req, st->ca_file);
	if (st->insecure)
		gantry_http_insecure(req);

	rc = gantry_http_perform(req, ctx);
	if (rc == GANTRY_EINTERRUPTED) {
		gantry_http_free(req);
		return GANTRY_EINTERRUPTED;
	}
	if (rc < 0) {
		describe_error(ck, gantry_http_error(req), timeout, &b);
	} else {
		double ms = gantry_http_seconds(req) * 1000;

		ok = judge(ck, req, &b);
		gantry_buf_addf(&b, " (%.0f ms)", ms);
		st->latency = gantry_xrealloc(st->latency, (st->nlatency + 1) *
					      sizeof(*st->latency));
		st->latency[st->nlatency++] = ms;
	}
	gantry_http_free(req);

	ck->results = gantry_xrealloc(ck->results,
				      (ck->tries + 1) * sizeof(*ck->results));
	ck->results[ck->tries++] = gantry_buf_detach(&b);
	gantry_info(ctx, "%s %s: attempt %u/%u: %s%s", ck->method, ck->url,
		    ck->tries, st->attempts, ck->results[ck->tries - 1],
		    ok ? " - ok" : "");
	return ok;
}

/*
 * "check 'URL' failed after N attempts: r1, r2 (x3), ..., rN": runs of
 * the same result are counted, and when there are many runs only the
 * first (how it began) and the last (how it ended) are shown.
 */
static void describe_failure(const struct smoke_state *st,
			     const struct check *ck, struct gantry_buf *b)
{
	unsigned i, nruns = 0, run = 0;

	gantry_buf_addf(b, "check '%s' failed after %u attempt%s", ck->url,
		  ck->tries, ck->tries == 1 ? "" : "s");
	if (st->consecutive > 1)
		gantry_buf_addf(b, " (needs %u passes in a row)", st->consecutive);
	gantry_buf_addf(b, ": ");
	for (i = 0; i < ck->tries; i++)
		if (!i || strcmp(ck->results[i], ck->results[i - 1]))
			nruns++;
	for (i = 0; i < ck->tries; i++) {
		unsigned same = 1;
		int shown;

		while (i + same < ck->tries &&
		       !strcmp(ck->results[i], ck->results[i + same]))
			same++;
		shown = nruns <= SMOKE_SHOW_FIRST + SMOKE_SHOW_LAST ||
			run < SMOKE_SHOW_FIRST ||
			run >= nruns - SMOKE_SHOW_LAST;
		if (shown) {
			gantry_buf_addf(b, "%s", ck->results[i]);
			if (same > 1)
				gantry_buf_addf(b, " (x%u)", same);
		} else if (run == SMOKE_SHOW_FIRST) {
			gantry_buf_addf(b, "...");
		}
		if ((shown || run == SMOKE_SHOW_FIRST) && run + 1 < nruns)
			gantry_buf_addf(b, ", ");
		run++;
		i += same - 1;
	}
}

int smoke_fail_checks(const struct smoke_state *st, struct gantry_ctx *ctx,
		      int code)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;
	int n = 0, rc;

	if (code == GANTRY_ETIMEOUT)
		gantry_buf_addf(&b, "smoke checks did not pass within the stage's "
			  "timeout of %u s: ", gantry_ctx_timeout(ctx));
	for (i = 0; i < st->n; i++) {
		if (st->checks[i].passed)
			continue;
		if (n++)
			gantry_buf_addf(&b, "; ");
		describe_failure(st, &st->checks[i], &b);
	}
	if (b.len > SMOKE_MAX_MESSAGE) {
		b.len = SMOKE_MAX_MESSAGE;
		memcpy(b.buf + b.len - 3, "...", 4);
	}
	rc = gantry_fail(ctx, code, "%s", b.len ? b.buf : "smoke checks failed");
	gantry_buf_release(&b);
	return rc;
}
