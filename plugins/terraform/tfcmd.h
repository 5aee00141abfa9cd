/*
 * tfcmd.h - running the terraform CLI for the terraform stage.
 *
 * One command at a time, from an argv array, in the configuration's
 * directory, with TF_IN_AUTOMATION=1 and TF_INPUT=0 on top of the user's
 * environment.  Output is logged line by line under the stage's prefix
 * (stdout of a captured command is kept for parsing instead, since
 * `show -json` and `output -json` print sensitive values in clear).
 * What a failure message needs is kept on the side: terraform's "Error:"
 * lines, the last lines of output and the "Lock Info:" block of a held
 * state lock.
 */
#ifndef TERRAFORM_TFCMD_H
#define TERRAFORM_TFCMD_H

#include <stddef.h>
#include <time.h>

#include <gantry/gantry.h>

/* What every command of one callback shares. */
struct tf_job {
	struct gantry_ctx *ctx;
	const char *binary;	/* the program as configured */
	char *dir;		/* the configuration's directory, resolved */
	const char *workspace;
	const char *image_tag;	/* passed as TF_VAR_image_tag, or NULL */
	/* `vars`, passed as TF_VAR_<name>: never on the command line,
	   which every user of the machine can read in /proc. */
	const struct gantry_config *vars;
	/* allow_replace: address globs whose replacement is let through. */
	const struct gantry_config *allow_replace;
	unsigned limit;		/* seconds for the whole callback, 0: none */
	double started;		/* gantry_now() at its start */
};

/* A growing, NULL-terminated argv. */
struct tf_args {
	char **v;
	size_t n, alloc;
};

void tf_args_add(struct tf_args *a, const char *arg);
void tf_args_addf(struct tf_args *a, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);
void tf_args_free(struct tf_args *a);

#define TF_TAIL_LINES 10

/* Fields of terraform's "Lock Info:" block, in this order. */
enum tf_lock_field { TF_LOCK_ID, TF_LOCK_PATH, TF_LOCK_OPERATION,
		     TF_LOCK_WHO, TF_LOCK_CREATED, TF_LOCK_NFIELDS };

/* What one command said; tf_result_clear() frees it. */
struct tf_result {
	int status;			/* exit status, -1 for a signal */
	char *out;			/* stdout of a TF_CAPTURE command */
	char *errors;			/* "Error: ..." lines, "; "-joined */
	char *ring[TF_TAIL_LINES];	/* the last lines, oldest at pos */
	size_t nring, pos;
	int lock_block;			/* inside "Error acquiring the
					   state lock" */
	char *lock[TF_LOCK_NFIELDS];
	struct gantry_ctx *ctx;
	unsigned flags;
};

/* tf_exec() flags. */
#define TF_CAPTURE   0x1u	/* keep stdout in res->out; do not log it */
#define TF_WORKSPACE 0x2u	/* run in job->workspace (TF_WORKSPACE) */

/*
 * Runs `binary args...` and waits for it.  GANTRY_OK when it ran to the
 * end, whatever its exit status (res->status); otherwise the failure is
 * recorded (it could not start, it timed out, it was interrupted) and
 * its negative code returned.  `what` names the command in messages
 * ("plan").  res is filled in both cases; clear it after.
 */
int tf_exec(struct tf_job *job, const char *what, struct tf_args *args,
	    unsigned flags, struct tf_result *res);

/* Records why `terraform what` exited with res->status != 0 (a held
   state lock, or its "Error:" lines and last output) and returns
   GANTRY_EFAIL. */
int tf_failed(struct tf_job *job, const char *what,
	      const struct tf_result *res);

/* tf_exec(), then tf_failed() unless the command exited 0. */
int tf_must(struct tf_job *job, const char *what, struct tf_args *args,
	    unsigned flags, struct tf_result *res);

/* The last output lines joined by '\n' (malloc'd; "" when none). */
char *tf_tail(const struct tf_result *res);

void tf_result_clear(struct tf_result *res);

#endif
