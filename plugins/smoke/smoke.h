/*
 * smoke.h - what the files of the smoke stage share: the checks, the
 * stage's state and a growing string.  Private to plugins/smoke/; the
 * plugin still exports nothing but its entry function.
 *
 *   smoke.c    the descriptor, plan, and run's rounds of attempts
 *   checks.c   the options read into checks
 *   attempt.c  one request of a check, judged and described
 */
#ifndef GANTRY_PLUGIN_SMOKE_H
#define GANTRY_PLUGIN_SMOKE_H

#include <stddef.h>

#include <gantry/gantry.h>

#define SMOKE_BACKOFF_CAP_MS 30000L
#define SMOKE_MAX_ATTEMPTS 1000
/* Attempts shown per check in a failure: the first ones (how it began)
   and the last ones (how it ended). */
#define SMOKE_SHOW_FIRST 2
#define SMOKE_SHOW_LAST 4
#define SMOKE_MAX_MESSAGE 2000
#define SMOKE_MAX_SHOWN_VALUE 60

struct expectation {
	char *path;			/* "build.version", "items[0].id" */
	const char *want;		/* text form, from the config tree */
};

struct check {
	/* Strings point into the config tree, which outlives fini. */
	const char *url;
	const char *method;
	const struct gantry_config *headers;
	long want_status;
	const char *want_body;
	struct expectation *json;
	size_t njson;
	long timeout_ms;

	unsigned tries;
	unsigned streak;		/* passes in a row */
	int passed;
	char **results;			/* one line per attempt */
};

struct smoke_state {
	struct check *checks;
	size_t n;
	unsigned attempts;
	unsigned consecutive;
	long interval_ms;
	long budget_ms;			/* -1: none */
	char *ca_file;
	int insecure;

	double *latency;		/* ms of every answer */
	size_t nlatency;
};

/* Reads the options into st (checks, attempts, TLS...); a negative code
   with the message recorded when they cannot work. */
int smoke_read_config(struct smoke_state *st, const struct gantry_config *cfg,
		      struct gantry_ctx *ctx);
void smoke_state_free(struct smoke_state *st);

/* "expect 200, body containing ..., version = ..." */
void smoke_describe_expectations(struct gantry_buf *b, const struct check *ck);
/* One attempt of ck: 1 passed, 0 failed, or GANTRY_EINTERRUPTED. */
int smoke_attempt(struct smoke_state *st, struct check *ck,
		  struct gantry_ctx *ctx);
/* Records the failure of every check not passed; returns code. */
int smoke_fail_checks(const struct smoke_state *st, struct gantry_ctx *ctx,
		      int code);

#endif
