/*
 * journal.h - one record per deploy, under the state directory.
 *
 * Layout: <state_dir>/journal/<id>.json, one JSON document per deploy.
 * Every write goes to a temporary file in the same directory, is
 * fsync'd, renamed over the record and the directory fsync'd: a crash or
 * kill at any instant leaves either the old or the new record, never a
 * torn one.  Secrets are redacted before anything is written.
 */
#ifndef GANTRY_JOURNAL_H
#define GANTRY_JOURNAL_H

#include <time.h>
#include "core.h"

enum stage_status {
	ST_PENDING = 0,
	ST_RUNNING,
	ST_SUCCEEDED,
	ST_FAILED,
	ST_SKIPPED,
	ST_ROLLED_BACK,		/* rollback callback ran and succeeded */
	ST_ROLLBACK_FAILED,
	ST_INTERRUPTED,
	ST_TIMED_OUT
};
const char *stage_status_name(enum stage_status s);
/* -1 when name is not a status word. */
int stage_status_parse(const char *name);

struct stage_record {
	char *name;		/* entry name */
	char *stage;		/* plugin (stage) name */
	enum stage_status status;
	double started;		/* epoch seconds, 0 when not started */
	double finished;
	int attempts;
	char *error;		/* failure message (redacted), or NULL */
	struct gantry_kvlist outputs;	/* secret values stored as "***" */
};

/*
 * One wait of an `approval` entry (docs/approvals.md): what was asked,
 * of whom, and the decision once there is one.  key names the decision
 * in the state backend (state.h): "<deploy id>.<entry>.<resumed>", so a
 * resumed deploy asks again.
 */
struct approval_record {
	char *entry;		/* the pipeline entry */
	char *key;
	char *message;		/* for approvers, or NULL */
	char *approvers;	/* comma-separated actors; "" = anyone */
	int allow_self;
	double requested;	/* epoch seconds */
	unsigned timeout;	/* seconds, 0 = none */
	/* NULL while waiting; "approved" or "rejected" */
	char *verdict;
	char *by;		/* who decided ("gantry" for a timeout) */
	char *reason;		/* why (a rejection's --reason), or NULL */
	double decided;		/* epoch seconds */
};

struct deploy_record {
	char *id;
	char *service;
	char *environment;
	char *tag;
	char *version;
	char *commit;		/* release.commit when known */
	char *image_digest;	/* image.digest when known */
	char *actor;
	char *host;
	char *approved_by;	/* NULL unless approval was given */
	int forced_promotion;
	int dry_run;
	double started, finished;
	/* "running", "succeeded", "failed", "rolled_back", "rollback_failed",
	   "timed_out", "interrupted", "failed_deployed" (mark-failed) */
	char *result;
	int exit_code;
	char *reason;		/* why it failed, or NULL */
	char *failed_stage;	/* entry name, or NULL */
	int resumed;		/* times resumed */
	struct gantry_kvlist context;	/* published context (redacted) */
	struct stage_record *stages;
	size_t nstages, astages;
	struct approval_record *approvals;	/* in the order asked */
	size_t napprovals, aapprovals;
};

/* A new id: "YYYYMMDDTHHMMSSZ-xxxxxx" (UTC time, 6 random hex digits). */
char *journal_new_id(void);

/* Appends a stage record (name, stage copied) and returns it. */
struct stage_record *deploy_record_add_stage(struct deploy_record *r,
					     const char *name,
					     const char *stage);
struct stage_record *deploy_record_stage(struct deploy_record *r,
					 const char *name);
void deploy_record_release(struct deploy_record *r);

/* Appends an approval record (every field zero) and returns it. */
struct approval_record *deploy_record_add_approval(struct deploy_record *r);
/* The approval r waits for (the last one, undecided), or NULL. */
struct approval_record *deploy_record_pending_approval(
	const struct deploy_record *r);

/* True when s is a deploy id ("YYYYMMDDTHHMMSSZ-xxxxxx"). */
int journal_id_valid(const char *s);

/* Renders r as one JSON document (redacted).  Malloc'd. */
char *deploy_record_to_json(const struct deploy_record *r, int pretty);
/* Parses a record; 0, or -1 with a line in e. */
int deploy_record_from_json(struct deploy_record *r, const char *text,
			    const char *what, struct errs *e);

/* Writes r atomically to <state_dir>/journal/<id>.json, creating
   directories (0700) as needed.  0, or -1 with a line in e that names
   the path and the errno text. */
int journal_write(const char *state_dir, const struct deploy_record *r,
		  struct errs *e);
/* Reads the record of id.  0, -1 with a line in e ("no deploy 'id' in
   <dir>; see 'gantry history'"). */
int journal_read(const char *state_dir, const char *id,
		 struct deploy_record *r, struct errs *e);

/*
 * Lists records, newest first (by id), optionally only those of service
 * and/or environment (NULL: any).  *out gets an array of n records the
 * caller frees with journal_list_free.  Unreadable files are skipped
 * with a warning logged.  0, or -1 with e.
 */
int journal_list(const char *state_dir, const char *service,
		 const char *environment, struct deploy_record **out,
		 size_t *n, struct errs *e);
void journal_list_free(struct deploy_record *list, size_t n);

#endif
