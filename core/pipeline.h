/*
 * pipeline.h - deploys and plans: stages in order, policies on failure,
 * rollback, notifiers, journal and lock.
 */
#ifndef GANTRY_PIPELINE_H
#define GANTRY_PIPELINE_H

#include "session.h"

/* `gantry deploy TAG` (incl. --dry-run, --resume).  Returns the exit code. */
int pipeline_deploy(struct session *s, const char *tag);

/* `gantry rollback ENV [--to TAG]`: redeploys the last good release
   before the current one (or TAG) through the same pipeline. */
int pipeline_rollback(struct session *s, const char *env);

/* `gantry plan TAG`: every stage's plan, no side effects. */
int pipeline_plan(struct session *s, const char *tag);

#endif
