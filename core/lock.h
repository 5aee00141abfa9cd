/*
 * lock.h - one deploy at a time per (service, environment).
 *
 * <state_dir>/locks/<service>@<environment>.lock is held with flock(2)
 * for the whole deploy; its content is the holder record (one JSON
 * object: id, user, host, pid, started).  The kernel drops the flock
 * when the holder dies, so a lock file with a holder record but no flock
 * is a stale lock: it is reported and taken over.  Releasing truncates
 * the record and drops the flock; the file itself stays (unlinking a
 * flock'd file races with the next opener).
 */
#ifndef GANTRY_LOCK_H
#define GANTRY_LOCK_H

#include "core.h"

struct lock_holder {
	char *id;
	char *user;
	char *host;
	long pid;
	double started;		/* epoch seconds */
};

struct deploy_lock {
	int fd;			/* -1 when not held */
	char *path;
};

void lock_holder_release(struct lock_holder *h);
/* A holder record, as both state backends keep it: one line of JSON
   (id, user, host, pid, started), redacted; free it.  me's pid when
   set, else this process's. */
char *lock_holder_to_json(const struct lock_holder *me);
/* Fills h from a holder record (text may be NULL); what is missing or
   corrupt reads as "?" (the lock is then stale to whoever asks). */
void lock_holder_from_json(const char *text, struct lock_holder *h);

/*
 * Takes the lock for a deploy described by me.  Returns 0 when taken
 * (and *stale is set to 1 with *prev filled when a stale holder record
 * was taken over), 1 when another live deploy holds it (*prev filled),
 * -1 on error (a line in e).
 */
int lock_acquire(struct deploy_lock *l, const char *state_dir,
		 const char *service, const char *environment,
		 const struct lock_holder *me, struct lock_holder *prev,
		 int *stale, struct errs *e);

/* Clears the holder record and drops the flock. */
void lock_release(struct deploy_lock *l);

/*
 * Inspects the lock without taking it: 0 free, 1 held by a live deploy,
 * 2 stale (record left by a dead holder); h filled for 1 and 2.
 * -1 on error.
 */
int lock_inspect(const char *state_dir, const char *service,
		 const char *environment, struct lock_holder *h,
		 struct errs *e);

/*
 * Removes a stale or free lock's record: 0 done (or nothing to do),
 * 1 refused because a live deploy holds it (h filled), -1 on error.
 */
int lock_remove(const char *state_dir, const char *service,
		const char *environment, struct lock_holder *h,
		struct errs *e);

#endif
