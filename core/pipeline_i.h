/*
 * pipeline_i.h - what pipeline.c (running a deploy), pipeline_plan.c and
 * pipeline_rollback.c share: the deploy in progress and the helpers
 * that build its context and call its entries.  Private to them;
 * everyone else sees pipeline.h.
 */
#ifndef GANTRY_PIPELINE_I_H
#define GANTRY_PIPELINE_I_H

#include "pipeline.h"
#include "runner.h"

struct deploy {
	struct session *s;
	struct gconf *gc;
	const char *tag;
	struct gantry_kvlist ctx;	/* the deploy's context */
	struct deploy_record rec;
	int journal_on;			/* record to the journal */
	double t0;
};

/* Writes d's record to the journal when it keeps one; a failure is
   logged, never fatal.  pipeline.c */
void deploy_journal_save(struct deploy *d);

/* Sets key in the deploy's context and its record's.  pipeline.c */
void deploy_publish(struct deploy *d, const char *key, const char *value,
	     int secret);

/* The context every stage starts from (docs/configuration.md,
   "References").  pipeline.c */
void deploy_base_context(struct deploy *d);

/* Runs one callback of en with context ctx; resolves en's options first
   (a reference that cannot resolve fails the callback).  pipeline.c */
void deploy_call_entry(struct deploy *d, struct entry *en, enum callback cb,
		const struct gantry_kvlist *ctx,
		const struct gantry_event *ev, struct run_result *res);

/* Sends event bit to every notifier that takes it, with the fields
   stage, reason, result, duration, exit_code and those of extra (may be
   NULL).  pipeline.c */
void deploy_notify_fields(struct deploy *d, unsigned bit, const char *stage,
			  const char *reason, const char *result,
			  int exit_code, const struct gantry_kvlist *extra);

/* True when en runs under --only / --skip.  pipeline.c */
int deploy_selected(const struct options *o, const struct entry *en);

/* Runs the rollback callback of every completed stage before upto,
   newest first.  Returns how many were rolled back, or -1 when one of
   them failed.  pipeline_rollback.c */
int deploy_roll_back(struct deploy *d, size_t upto);

/* Publishes what a `gantry rollback` redeploy starts from (the target's
   recorded outputs); nothing for other deploys.  pipeline_rollback.c */
void deploy_rollback_context(struct deploy *d);

#endif
