/*
 * smoke.c - the `smoke` stage: HTTP checks against the service just
 * deployed (the seed's /healthz step).  Each check asks one URL and
 * compares the status, the body and JSON members with what the release
 * should answer ("the new version is the one answering"); checks are
 * retried with backoff until each passed `consecutive` times in a row,
 * or attempts or the stage's timeout run out.
 *
 * Checks go in rounds: every check not yet passed is tried once per
 * round, then the stage waits `interval` seconds, 1.5 times longer after
 * each round with a failure (capped at 30 s).  The stage does its own
 * retrying, so every request is a single attempt of gantry_http.
 *
 * Redirects are not followed: a 3xx is the answer, and it fails a 200
 * expectation showing its Location, so a check never passes on a page
 * it did not name.
 *
 * Built only on the public SDK.  No mutable globals.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smoke.h"

#include "banned.h"

static const struct gantry_option smoke_options[] = {
	{ "url", GANTRY_OPT_STRING, 0, NULL,
	  "shortcut for one check of this URL expecting 200" },
	{ "checks", GANTRY_OPT_LIST, 0, NULL,
	  "checks: groups of url, method, headers, expect_status, "
	  "expect_body, expect_json, timeout" },
	{ "attempts", GANTRY_OPT_INT, 0, "10",
	  "attempts per check before the stage fails" },
	{ "interval", GANTRY_OPT_INT, 0, "3",
	  "seconds between attempts; x1.5 after a failed round, up to 30" },
	{ "consecutive", GANTRY_OPT_INT, 0, "1",
	  "passes in a row each check needs" },
	{ "latency_budget_ms", GANTRY_OPT_INT, 0, NULL,
	  "fail when the p95 latency of the answers is above this" },
	{ "ca_file", GANTRY_OPT_STRING, 0, NULL,
	  "CA bundle verifying https peers (relative to gantry.cfg's "
	  "directory)" },
	{ "insecure", GANTRY_OPT_BOOL, 0, "false",
	  "do not verify TLS peers; refused for production unless "
	  "insecure_production" },
	{ "insecure_production", GANTRY_OPT_BOOL, 0, "false",
	  "allow insecure = true when release.environment is production" },
	{ NULL, 0, 0, NULL, NULL }
};

/* The core enforces these before init. */
static const struct gantry_option_rule smoke_rules[] = {
	{ .key = "attempts", GANTRY_RANGE(1, SMOKE_MAX_ATTEMPTS) },
	{ .key = "interval", GANTRY_RANGE(0, 3600) },
	{ .key = "consecutive", GANTRY_RANGE(1, SMOKE_MAX_ATTEMPTS) },
	{ .key = "latency_budget_ms", GANTRY_RANGE(1, 3600000) },
	{ .key = NULL }
};

static void smoke_fini(void *state)
{
	smoke_state_free(state);
}

static int smoke_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		      void **state)
{
	struct smoke_state *st = gantry_xcalloc(1, sizeof(*st));
	int rc;

	*state = NULL;
	st->budget_ms = -1;
	rc = smoke_read_config(st, cfg, ctx);
	if (rc < 0) {
		smoke_state_free(st);
		return rc;
	}
	*state = st;
	return GANTRY_OK;
}

static int smoke_plan(void *state, struct gantry_ctx *ctx)
{
	const struct smoke_state *st = state;
	size_t i, j;

	for (i = 0; i < st->n; i++) {
		const struct check *ck = &st->checks[i];
		struct gantry_buf b = GANTRY_BUF_INIT;
		char *line;

		gantry_buf_addf(&b, "%s %s: ", ck->method, ck->url);
		smoke_describe_expectations(&b, ck);
		gantry_buf_addf(&b, "; %ld s per request", ck->timeout_ms / 1000);
		/* Header names only: their values may be credentials. */
		for (j = 0; j < gantry_config_length(ck->headers); j++)
			gantry_buf_addf(&b, "%s%s", j ? ", " : "; headers ",
				  gantry_config_name(gantry_config_at(
					  ck->headers, j)));
		line = gantry_buf_detach(&b);
		gantry_plan_line(ctx, "%s", line);
		free(line);
	}
	gantry_plan_line(ctx, "up to %u attempts per check, %ld s apart "
			 "(x1.5 after a failed round, up to 30 s); %u pass%s "
			 "in a row", st->attempts, st->interval_ms / 1000,
			 st->consecutive, st->consecutive == 1 ? "" : "es");
	if (st->budget_ms >= 0)
		gantry_plan_line(ctx, "p95 latency of the answers within %ld "
				 "ms", st->budget_ms);
	if (st->ca_file)
		gantry_plan_line(ctx, "TLS peers verified with %s",
				 st->ca_file);
	if (st->insecure)
		gantry_plan_line(ctx, "TLS verification OFF (insecure = true)");
	return GANTRY_OK;
}

/* Sleeps ms in short slices: 0, GANTRY_EINTERRUPTED or GANTRY_ETIMEOUT. */
static int pause_ms(struct gantry_ctx *ctx, long ms)
{
	while (ms > 0) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = { 0, slice * 1000000L };

		if (gantry_ctx_interrupted(ctx))
			return GANTRY_EINTERRUPTED;
		if (gantry_ctx_remaining(ctx) == 0)
			return GANTRY_ETIMEOUT;
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return GANTRY_OK;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The nearest-rank 95th percentile of the answers' latencies, in ms. */
static long p95(struct smoke_state *st)
{
	size_t rank;

	if (!st->nlatency)
		return 0;
	qsort(st->latency, st->nlatency, sizeof(*st->latency), by_value);
	rank = (95 * st->nlatency + 99) / 100;
	return (long)(st->latency[rank ? rank - 1 : 0] + 0.5);
}

/* One round: every check not yet passed is tried once.  Returns 1 when a
   try failed, 0 when none did, GANTRY_EINTERRUPTED, or GANTRY_ETIMEOUT
   when the stage's time ran out before a try. */
static int round_once(struct smoke_state *st, struct gantry_ctx *ctx)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < st->n; i++) {
		struct check *ck = &st->checks[i];
		int rc;

		if (ck->passed)
			continue;
		if (gantry_ctx_remaining(ctx) == 0)
			return GANTRY_ETIMEOUT;
		rc = smoke_attempt(st, ck, ctx);
		if (rc < 0)
			return rc;
		if (rc) {
			if (++ck->streak >= st->consecutive)
				ck->passed = 1;
		} else {
			ck->streak = 0;
			failed = 1;
		}
	}
	return failed;
}

static int finish(struct smoke_state *st, struct gantry_ctx *ctx)
{
	long p = p95(st);
	char num[32];

	snprintf(num, sizeof(num), "%ld", p);
	if (st->budget_ms >= 0 && p > st->budget_ms)
		return gantry_fail(ctx, GANTRY_EFAIL,
			"p95 latency %ld ms of %zu answers is over "
			"latency_budget_ms %ld (slowest %.0f ms); find what "
			"slows the new release or raise the budget", p,
			st->nlatency, st->budget_ms,
			st->latency[st->nlatency - 1]);
	gantry_ctx_set(ctx, "smoke.latency_ms", num);
	gantry_info(ctx, "%zu check%s passed; p95 latency %ld ms", st->n,
		    st->n == 1 ? "" : "s", p);
	return GANTRY_OK;
}

static int smoke_run(void *state, struct gantry_ctx *ctx)
{
	struct smoke_state *st = state;
	long backoff = st->interval_ms;
	unsigned round;

	if (st->insecure)
		gantry_warn(ctx, "TLS verification is off (insecure = true)");
	/* Journaled, so a check that trusted any peer is on the record. */
	gantry_ctx_set(ctx, "smoke.tls_verify", st->insecure ? "off" : "on");
	for (round = 1;; round++) {
		size_t i, pending = 0;
		int failed, rc;

		failed = round_once(st, ctx);
		if (failed == GANTRY_ETIMEOUT)
			return smoke_fail_checks(st, ctx, GANTRY_ETIMEOUT);
		if (failed < 0)
			return gantry_fail(ctx, GANTRY_EINTERRUPTED,
				"smoke checks interrupted after %u round%s",
				round, round == 1 ? "" : "s");
		for (i = 0; i < st->n; i++) {
			if (st->checks[i].passed)
				continue;
			/* A check out of attempts fails the stage now. */
			if (st->checks[i].tries >= st->attempts)
				return smoke_fail_checks(st, ctx, GANTRY_EFAIL);
			pending++;
		}
		if (!pending)
			return finish(st, ctx);

		rc = pause_ms(ctx, failed ? backoff : st->interval_ms);
		if (rc == GANTRY_EINTERRUPTED)
			return gantry_fail(ctx, rc, "smoke checks interrupted "
					   "after %u round%s", round,
					   round == 1 ? "" : "s");
		if (rc == GANTRY_ETIMEOUT || gantry_ctx_remaining(ctx) == 0)
			return smoke_fail_checks(st, ctx, GANTRY_ETIMEOUT);
		if (failed) {
			backoff = backoff * 3 / 2;
			if (backoff > SMOKE_BACKOFF_CAP_MS)
				backoff = SMOKE_BACKOFF_CAP_MS;
		} else {
			backoff = st->interval_ms;
		}
	}
}

static const struct gantry_stage smoke_stage = {
	GANTRY_STAGE_HEADER,
	.name = "smoke",
	.version = PACKAGE_VERSION,
	.summary = "HTTP checks (/healthz): status, body and JSON "
		   "expectations, retries with backoff, latency budget",
	.kind = GANTRY_KIND_STAGE,
	.options = smoke_options,
	.option_rules = smoke_rules,
	.init = smoke_init,
	.plan = smoke_plan,
	.run = smoke_run,
	.fini = smoke_fini,
};

GANTRY_STAGE_EXPORT(smoke_stage)
