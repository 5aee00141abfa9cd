/*
 * runner.h - running one plugin callback in a child process.
 *
 * Every callback runs in a forked child in its own process group: a
 * stage that crashes (SIGSEGV, abort) or hangs fails that stage only.
 * The child calls init, then the callback, then fini, and sends its
 * result (code, message, outputs, plan lines, secrets) back over a pipe
 * as one JSON document.  The parent enforces the timeout: the stage
 * sees it and should finish inside it; a child still running kill_grace
 * seconds past it is killed (SIGTERM to its group, SIGKILL 5 s later).
 * On SIGINT/SIGTERM to gantry the child's group gets SIGTERM, and the
 * same escalation follows.
 */
#ifndef GANTRY_RUNNER_H
#define GANTRY_RUNNER_H

#include "core.h"
#include "loader.h"

enum callback {
	CB_PLAN,
	CB_RUN,
	CB_ROLLBACK,
	CB_EVENT
};

struct run_request {
	const struct plugin *plugin;
	const char *entry;		/* entry name */
	enum callback which;
	const struct gantry_config *opts;	/* resolved */
	const struct gantry_kvlist *context;
	const struct gantry_event *event;	/* CB_EVENT */
	unsigned timeout;		/* seconds, 0 = none */
	unsigned kill_grace;		/* seconds past timeout */
	int dry_run;
};

struct run_result {
	int rc;			/* GANTRY_OK or a negative GANTRY_E* */
	char *error;		/* message, redacted; NULL on success */
	struct gantry_kvlist outputs;
	char *plan;		/* plan lines (CB_PLAN), or NULL */
	int signal;		/* the child died of this signal, or 0 */
	int killed;		/* killed by us after timeout + grace */
	int interrupted;	/* gantry was interrupted meanwhile */
	double seconds;
};

/* Runs the callback; always fills res (release with run_result_release). */
void runner_call(const struct run_request *req, struct run_result *res);
void run_result_release(struct run_result *res);

/* Calls fn(arg) about once a second while waiting for a callback (lease
   renewal of the deploy lock); NULL to stop. */
void runner_set_tick(void (*fn)(void *), void *arg);

/* Installs gantry's SIGINT/SIGTERM handlers (set gantry_i_interrupted). */
void runner_install_signals(void);

#endif
