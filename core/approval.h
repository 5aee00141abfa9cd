/*
 * approval.h - the `approval` stage and `gantry approve|reject`
 * (docs/approvals.md).
 *
 * The stage is part of the core rather than a plugin: what it waits on
 * is a decision in the state backend the core has open (local files, or
 * DynamoDB shared by every machine), and what it announces are events
 * only the core sends to notifiers.  As a plugin it would run in a
 * forked child with neither; it would need host functions that hand the
 * state backend (and its writes) to any plugin, plus a message channel
 * back to the core.  As core code it runs in the gantry process itself:
 * no third-party code runs, so there is nothing to contain.
 *
 * A request is journaled in the deploy's record (struct approval_record);
 * `gantry approve|reject` finds it there, checks who may decide, and
 * writes the decision once (state_decision_put); the waiting stage polls
 * for it (state_decision_get).
 */
#ifndef GANTRY_APPROVAL_H
#define GANTRY_APPROVAL_H

#include "core.h"

struct deploy;
struct entry;
struct run_result;
struct session;

/* The descriptor the loader serves for stage "approval". */
extern const struct gantry_stage approval_stage;

/* Runs entry en (an approval stage, options resolved) of deploy d in the
   gantry process: journals the request, notifies, waits for a decision
   or the entry's timeout.  Fills res as runner_call does. */
void approval_run(struct deploy *d, struct entry *en,
		  const struct gantry_config *opts, struct run_result *res);

/* `gantry approve|reject ENV [ID] [--reason TEXT]` (cli_approve.c):
   verdict is "approved" or "rejected".  Returns the exit code. */
int cmd_decide(struct session *s, const char *envname, const char *id,
	       const char *verdict);

/* True when actor may decide on request a of a deploy started by
   deployer; when not, why (a line's tail) in *why (static text). */
struct approval_record;
int approval_may_decide(const struct approval_record *a,
			const char *deployer, const char *actor,
			const char *verdict, const char **why);

#endif
