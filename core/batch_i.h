/*
 * batch_i.h - what batch_file.c (reading and validating the batch file),
 * batch.c (running it) and batch_draw.c (showing it) share: one batch
 * and its deploys.  Private to `gantry batch`; cli.c sees only batch.h.
 */
#ifndef GANTRY_BATCH_I_H
#define GANTRY_BATCH_I_H

#include <limits.h>
#include <sys/types.h>

#include "batch.h"

#define MAX_JOBS 1024

enum job_state { J_QUEUED, J_RUNNING, J_DONE, J_SKIPPED };

struct job {
	/* From the batch file (pointers into the tree). */
	const char *name, *config, *tag, *env_arg, *where;
	const struct gantry_config *after_list;
	/* Resolved by validation. */
	char *shown;		/* config path as a user would type it */
	char *path;		/* absolute */
	char *dir;		/* its directory: the deploy's working directory */
	char *env;		/* the environment the deploy goes to */
	char *service;
	size_t *after;		/* indices of the deploys this one waits for */
	size_t nafter;
	unsigned wave;		/* 0 = no dependencies */
	/* Running. */
	enum job_state state;
	pid_t pid;
	int out_fd, log_rd;
	struct gantry_buf out;	/* the child's stdout: its JSON document */
	char *log;
	off_t log_off;
	struct gantry_buf partial;	/* an unfinished log line */
	char *stage;		/* the latest "[i/n] name" progress */
	double t0, t1;
	int code;
	char *result, *deploy_id, *reason;
};

struct batch {
	const struct options *o;
	const char *file;
	struct gantry_config *tree;
	struct job *jobs;
	size_t n;
	char *id, *logdir;
	char self[PATH_MAX];
	unsigned max_running, running;
	int tty, quiet;
	size_t drawn;		/* lines of the live display on screen */
	long drawn_sec;		/* the second the display was drawn in */
	int stop;		/* start nothing new */
	int interrupted;
	char *stop_reason;
};

/* batch_file.c: checks the whole batch; EXIT_OK, else prints why. */
int batch_validate(struct batch *b);
/* batch_file.c: prints the deploys of a validated batch by wave (--matrix). */
int batch_print_matrix(struct batch *b);
/* batch_file.c: prints doc on stdout, pretty and redacted. */
void batch_print_doc(struct gantry_json *doc);

/* batch_draw.c: the word for j's state ("running", "succeeded", ...). */
const char *batch_job_word(const struct job *j);
/* batch_draw.c: on a terminal, redraws every deploy's line (at most once
   a second unless force). */
void batch_draw(struct batch *b, int force);
/* batch_draw.c: tells of a change to j (what, else its status line):
   redraws on a terminal, else one plain line. */
void batch_report(struct batch *b, const struct job *j, const char *what);
/* batch_draw.c: the final table of deploys on stdout. */
void batch_print_table(const struct batch *b, int code);

#endif
