/*
 * state.h - where deploys are recorded and locked: the journal and the
 * lock behind one interface, with two backends.
 *
 *   local (default): files under the state directory (journal.c, lock.c);
 *   aws: the journal in S3, the lock as a DynamoDB lease (state_aws.c),
 *        for teams whose deploys run on many machines.
 *
 * gantry.cfg chooses:  state = { backend = "aws"; bucket = "..."; table =
 * "..."; prefix = "gantry"; region = "..."; lease_seconds = 60; };
 * Every command goes through a struct state, so history, status, lock,
 * rollback and promotion see the same records whichever backend holds them.
 */
#ifndef GANTRY_STATE_H
#define GANTRY_STATE_H

#include "journal.h"
#include "lock.h"

struct state;

/*
 * A decision on an `approval` entry's request (approval.c), stored under
 * the request's key ("<deploy id>.<entry>.<resumed>").  It is written at
 * most once: the backends create it atomically or not at all.
 */
struct approval_decision {
	char *verdict;		/* "approved" or "rejected" */
	char *by;		/* the actor */
	char *reason;		/* or NULL */
	double decided;		/* epoch seconds */
};
void approval_decision_release(struct approval_decision *d);

struct state_ops {
	const char *name;
	int (*journal_write)(struct state *st, const struct deploy_record *r,
			     struct errs *e);
	int (*journal_read)(struct state *st, const char *id,
			    struct deploy_record *r, struct errs *e);
	int (*journal_list)(struct state *st, const char *service,
			    const char *environment, struct deploy_record **out,
			    size_t *n, struct errs *e);
	/* As lock_acquire: 0 taken (stale set when a dead holder's lock was
	   taken over), 1 held by another live deploy, -1 error. */
	int (*lock_acquire)(struct state *st, const char *service,
			    const char *environment,
			    const struct lock_holder *me,
			    struct lock_holder *prev, int *stale,
			    struct errs *e);
	void (*lock_release)(struct state *st);
	int (*lock_inspect)(struct state *st, const char *service,
			    const char *environment, struct lock_holder *h,
			    struct errs *e);
	int (*lock_remove)(struct state *st, const char *service,
			   const char *environment, struct lock_holder *h,
			   struct errs *e);
	/* Creates the decision of key unless there is one: 0 written, 1
	   one was there (*first holds it), -1 error. */
	int (*decision_put)(struct state *st, const char *key,
			    const struct approval_decision *d,
			    struct approval_decision *first,
			    struct errs *e);
	/* The decision of key: 0 (*d filled), 1 none yet, -1 error. */
	int (*decision_get)(struct state *st, const char *key,
			    struct approval_decision *d, struct errs *e);
	/* Called about once a second while a deploy holds the lock (lease
	   renewal); may be NULL. */
	void (*tick)(struct state *st);
	void (*close)(struct state *st);
};

struct state {
	const struct state_ops *ops;
	char *where;		/* for messages: "/home/x/.local/state/gantry" */
	char *dir;		/* local: the state directory */
	struct deploy_lock lock;	/* local: the held lock */
	void *priv;		/* backend data */
};

/*
 * Opens the backend named by gantry.cfg's `state` group (NULL: local)
 * with dir as the local state directory.  0, or -1 with e.
 */
int state_open(struct state **st, const char *dir,
	       const struct gantry_config *cfg, struct errs *e);
void state_close(struct state *st);

/* The AWS backend's constructor (state_aws.c). */
int state_aws_open(struct state *st, const struct gantry_config *cfg,
		   struct errs *e);

#define state_journal_write(st, r, e)  ((st)->ops->journal_write((st), (r), (e)))
#define state_journal_read(st, id, r, e) ((st)->ops->journal_read((st), (id), (r), (e)))
#define state_journal_list(st, s, env, out, n, e) \
	((st)->ops->journal_list((st), (s), (env), (out), (n), (e)))
#define state_lock_acquire(st, s, env, me, prev, stale, e) \
	((st)->ops->lock_acquire((st), (s), (env), (me), (prev), (stale), (e)))
#define state_lock_release(st) ((st)->ops->lock_release((st)))
#define state_lock_inspect(st, s, env, h, e) \
	((st)->ops->lock_inspect((st), (s), (env), (h), (e)))
#define state_lock_remove(st, s, env, h, e) \
	((st)->ops->lock_remove((st), (s), (env), (h), (e)))

#define state_decision_put(st, key, d, first, e) \
	((st)->ops->decision_put((st), (key), (d), (first), (e)))
#define state_decision_get(st, key, d, e) \
	((st)->ops->decision_get((st), (key), (d), (e)))

/* The local backend's decisions: <dir>/approvals/<key>.json (decision.c). */
int decision_local_put(const char *dir, const char *key,
		       const struct approval_decision *d,
		       struct approval_decision *first, struct errs *e);
int decision_local_get(const char *dir, const char *key,
		       struct approval_decision *d, struct errs *e);
/* A decision as JSON (malloc'd) and back: 0, or -1 with a line in e. */
char *decision_to_json(const struct approval_decision *d);
int decision_from_json(const char *text, const char *what,
		       struct approval_decision *d, struct errs *e);

/* Renews the lease of a held lock if the backend needs it. */
void state_tick(struct state *st);

#endif
