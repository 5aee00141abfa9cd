/*
 * tfread.h - reading the saved plan and the outputs back from terraform
 * (tfread.c).
 */
#ifndef TERRAFORM_TFREAD_H
#define TERRAFORM_TFREAD_H

#include "tfcmd.h"

/* A plan's resource changes, counted by kind. */
struct tf_summary {
	int add, change, replace, destroy;
	int replace_allowed;	/* of replace, matched by allow_replace */
	char *guarded;		/* "a, b" of replace/destroy, for messages */
	int named;
};

/* Counts the resource changes of the saved plan (`show -json`) into
   *sum and says "plan: N to add, ..." and what would be replaced or
   destroyed, as plan lines when plan_lines, else as log lines.  Free
   sum->guarded after. */
int tf_summarise(struct tf_job *job, const char *planfile,
		 struct tf_summary *sum, int plan_lines);

/* The destroy guard: fails when the plan destroys anything, or replaces
   anything allow_replace does not match, and that is not allowed. */
int tf_guard(struct tf_job *job, int allowed, const struct tf_summary *sum);

/* Publishes `terraform output -json` as terraform.outputs.NAME:
   scalars as text, the rest as compact JSON, sensitive ones as
   secrets. */
int tf_publish_outputs(struct tf_job *job);

#endif
