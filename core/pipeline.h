/*
 * pipeline.h - deploys and plans: stages in order, policies on failure,
 * rollback, notifiers, journal and lock.
 */
#ifndef GANTRY_PIPELINE_H
#define GANTRY_PIPELINE_H

#include "session.h"

/* `gantry deploy TAG` (incl. --dry-run, --resume).  Returns the exit code. */
int pipeline_deploy(struct session *s, const char *tag);

/* `gantry plan TAG`: every stage's plan, no side effects. */
int pipeline_plan(struct session *s, const char *tag);

#endif
