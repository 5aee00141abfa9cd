/*
 * lock.c - the deploy lock: flock(2) on a file per (service, environment)
 * whose content names the holder.
 *
 * What must stay true:
 *   - the holder writes its record only while holding LOCK_EX and clears
 *     it before dropping the flock, so a record found under a flock we
 *     could take was left by a holder that died: a stale lock;
 *   - readers look at the record only while they hold the flock (shared
 *     or exclusive) or while a live holder owns it, so they never see a
 *     record half written by a concurrent acquirer;
 *   - the lock file is never unlinked: an unlink between another
 *     process's open() and flock() would give two deploys two different
 *     files, each "locked".
 *
 * The descriptor is O_CLOEXEC, so programs a deploy executes do not
 * inherit the lock.  Stage runners the core forks without exec do share
 * the open file description, hence the flock: the lock then stays held
 * until such a child exits as well, which is right (the deploy is not
 * over while one of its stages still runs).  Only the process that took
 * the lock may call lock_release, since it clears the holder record.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "filecheck.h"
#include "lock.h"
#include "statedir.h"

#define RECORD_MAX 65536
/* How long a holder may hold the flock with an empty record (it writes
   its record right after flock() and clears it right before close()). */
#define EMPTY_RECORD_TRIES 50
#define EMPTY_RECORD_WAIT_NS 10000000L

void lock_holder_release(struct lock_holder *h)
{
	if (!h)
		return;
	free(h->id);
	free(h->user);
	free(h->host);
	memset(h, 0, sizeof(*h));
}


static int name_ok(const char *s)
{
	return s && *s && *s != '.' && !strchr(s, '/');
}

static char *lock_path(const char *state_dir, const char *service,
		       const char *environment, struct errs *e)
{
	if (!name_ok(service) || !name_ok(environment)) {
		errs_add(e, "invalid lock name '%s@%s': service and "
			 "environment must be non-empty, must not start with "
			 "'.' and must not contain '/'", service ? service : "",
			 environment ? environment : "");
		return NULL;
	}
	return gantry_xasprintf("%s/locks/%s@%s.lock", state_dir, service,
				  environment);
}

void lock_holder_from_json(const char *text, struct lock_holder *h)
{
	struct gantry_json *o = gantry_json_parse(text, text ? strlen(text) : 0,
						  NULL, 0);

	lock_holder_release(h);
	if (gantry_json_type(o) != GANTRY_JSON_OBJECT) {
		gantry_json_free(o);
		o = NULL;
	}
	h->id = gantry_xstrdup(gantry_json_string(o, "id", "?"));
	h->user = gantry_xstrdup(gantry_json_string(o, "user", "?"));
	h->host = gantry_xstrdup(gantry_json_string(o, "host", "?"));
	h->pid = (long)gantry_json_int(o, "pid", h->pid);
	h->started = gantry_json_double(o, "started", h->started);
	gantry_json_free(o);
}

char *lock_holder_to_json(const struct lock_holder *me)
{
	struct gantry_json *o = gantry_json_new_object();
	double started = me->started;
	char num[64], *text;

	if (!isfinite(started) || started < 0)
		started = 0;
	snprintf(num, sizeof(num), "%.3f", started);
	gantry_json_set_string(o, "id", me->id ? me->id : "?");
	gantry_json_set_string(o, "user", me->user ? me->user : "?");
	gantry_json_set_string(o, "host", me->host ? me->host : "?");
	gantry_json_set_int(o, "pid", me->pid > 0 ? (long long)me->pid :
			    (long long)getpid());
	gantry_i_json_set_number(o, "started", started, num);
	text = gantry_i_redact(gantry_json_text(o, 0));
	gantry_json_free(o);
	return text;
}

/* The record (possibly ""), or NULL with errno. */
static char *read_record(int fd)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char chunk[4096];
	off_t off = 0;

	for (;;) {
		ssize_t got = pread(fd, chunk, sizeof(chunk), off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			gantry_buf_release(&b);
			return NULL;
		}
		if (!got || b.len >= RECORD_MAX)
			break;
		gantry_buf_add(&b, chunk, (size_t)got);
		off += got;
	}
	return gantry_buf_detach(&b);
}

static int is_blank(const char *s)
{
	while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
		s++;
	return !*s;
}

/*
 * Takes flock(op | LOCK_NB) on fd.  0 taken; 1 a live holder has it (h
 * filled); -1 error with errno.  A holder seen with an empty record is
 * between flock() and writing it, or between clearing it and close():
 * wait a moment for either to finish rather than report a nameless one.
 */
static int take_flock(int fd, int op, struct lock_holder *h)
{
	struct timespec pause = { 0, EMPTY_RECORD_WAIT_NS };
	int tries;

	for (tries = 0; ; tries++) {
		char *rec;

		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return -1;
		rec = read_record(fd);
		if (!rec)
			return -1;
		if (!is_blank(rec) || tries >= EMPTY_RECORD_TRIES) {
			lock_holder_from_json(rec, h);
			free(rec);
			return 1;
		}
		free(rec);
		nanosleep(&pause, NULL);
	}
}

static int write_record(int fd, const char *text)
{
	size_t n = strlen(text), done = 0;

	if (ftruncate(fd, 0) < 0)
		return -1;
	while (done < n) {
		ssize_t w = pwrite(fd, text + done, n - done, (off_t)done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		done += (size_t)w;
	}
	return fsync(fd);
}

static const char *fix_for(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return "free space in the state directory or set --state-dir";
	case EACCES:
	case EPERM:
	case EROFS:
		return "make the state directory writable or set --state-dir";
	default:
		return "check the state directory or set --state-dir";
	}
}

/*
 * Opens a lock file: never through a symlink, never blocking (a FIFO
 * planted there would hang a read-only open), and only a regular file
 * nobody else could have written (its record decides what `unlock` and
 * the stale-lock takeover believe).  The fd, -1 with errno ENOENT when
 * there is none, else -1 with a line in e.
 */
static int open_lock(const char *path, int flags, mode_t mode,
		     struct errs *e)
{
	int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
		      O_NOCTTY, mode);
	struct stat st;
	char *problem;

	if (fd < 0) {
		int err = errno;

		if (err != ENOENT || (flags & O_CREAT))
			errs_add(e, "cannot open lock '%s': %s; %s", path,
				 err == ELOOP ? "it is a symlink" :
				 strerror(err), err == ELOOP ? "remove it" :
				 fix_for(err));
		errno = err;
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		errs_add(e, "cannot open lock '%s': %s; %s", path,
			 strerror(errno), fix_for(errno));
		close(fd);
		errno = EIO;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		errs_add(e, "lock '%s' is %s, not a regular file; remove it",
			 path, file_kind(st.st_mode));
		close(fd);
		errno = EINVAL;
		return -1;
	}
	problem = file_trust_problem("it", path, &st, "remove it");
	if (problem) {
		errs_add(e, "cannot trust lock '%s': %s", path, problem);
		free(problem);
		close(fd);
		errno = EPERM;
		return -1;
	}
	return fd;
}

int lock_acquire(struct deploy_lock *l, const char *state_dir,
		 const char *service, const char *environment,
		 const struct lock_holder *me, struct lock_holder *prev,
		 int *stale, struct errs *e)
{
	struct lock_holder scratch = { 0 };
	struct lock_holder *h = prev ? prev : &scratch;
	char *dir, *rec, *json, *text;
	int fd, rc, err;

	l->fd = -1;
	l->path = NULL;
	memset(h, 0, sizeof(*h));
	if (stale)
		*stale = 0;
	l->path = lock_path(state_dir, service, environment, e);
	if (!l->path)
		return -1;
	dir = gantry_xasprintf("%s/locks", state_dir);
	rc = state_mkdirs(dir);
	free(dir);
	if (rc < 0) {
		errs_add(e, "cannot create lock '%s': %s; %s", l->path,
			 strerror(errno), fix_for(errno));
		goto fail;
	}
	fd = open_lock(l->path, O_RDWR | O_CREAT, 0600, e);
	if (fd < 0)
		goto fail;
	rc = take_flock(fd, LOCK_EX, h);
	if (rc != 0) {
		err = errno;
		close(fd);
		if (rc > 0) {
			lock_holder_release(&scratch);
			free(l->path);
			l->path = NULL;
			return 1;
		}
		errs_add(e, "cannot lock '%s': %s; %s", l->path,
			 strerror(err), fix_for(err));
		goto fail;
	}
	rec = read_record(fd);
	if (rec && !is_blank(rec)) {
		lock_holder_from_json(rec, h);
		if (stale)
			*stale = 1;
	}
	free(rec);
	json = lock_holder_to_json(me);
	text = gantry_xasprintf("%s\n", json);
	free(json);
	rc = write_record(fd, text);
	err = errno;
	free(text);
	if (rc < 0) {
		/* Dropping the flock with a half-written record would look
		   stale to the next deploy; clear it if we can. */
		if (ftruncate(fd, 0) < 0) {
			/* reported below either way */
		}
		close(fd);
		errs_add(e, "cannot write lock '%s': %s; %s", l->path,
			 strerror(err), fix_for(err));
		goto fail;
	}
	lock_holder_release(&scratch);
	l->fd = fd;
	return 0;
fail:
	lock_holder_release(h);
	if (stale)
		*stale = 0;
	free(l->path);
	l->path = NULL;
	return -1;
}

void lock_release(struct deploy_lock *l)
{
	/* path is set only while held, so a zeroed struct (fd 0!) is left
	   alone. */
	if (!l || !l->path) {
		if (l)
			l->fd = -1;
		return;
	}
	if (l->fd >= 0) {
		if (ftruncate(l->fd, 0) == 0)
			fsync(l->fd);
		close(l->fd);
	}
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}

/* Opens an existing lock file: the fd, -1 when there is none (a free
   lock), -2 on another error (reported in e). */
static int open_existing(const char *path, int flags, struct errs *e)
{
	int fd = open_lock(path, flags, 0, e);

	if (fd >= 0)
		return fd;
	return errno == ENOENT ? -1 : -2;
}

int lock_inspect(const char *state_dir, const char *service,
		 const char *environment, struct lock_holder *h,
		 struct errs *e)
{
	struct lock_holder scratch = { 0 };
	char *path, *rec;
	int fd, rc, err;

	if (!h)
		h = &scratch;
	memset(h, 0, sizeof(*h));
	path = lock_path(state_dir, service, environment, e);
	if (!path)
		return -1;
	/* Read-only and without O_CREAT: inspecting creates nothing. */
	fd = open_existing(path, O_RDONLY, e);
	if (fd < 0) {
		free(path);
		return fd == -1 ? 0 : -1;
	}
	rc = take_flock(fd, LOCK_SH, h);
	if (rc == 0) {
		rec = read_record(fd);
		if (!rec) {
			rc = -1;
		} else if (!is_blank(rec)) {
			lock_holder_from_json(rec, h);
			rc = 2;
		}
		free(rec);
	}
	if (rc < 0) {
		err = errno;
		errs_add(e, "cannot inspect lock '%s': %s; %s", path,
			 strerror(err), fix_for(err));
	}
	close(fd);
	free(path);
	lock_holder_release(&scratch);
	return rc;
}

int lock_remove(const char *state_dir, const char *service,
		const char *environment, struct lock_holder *h,
		struct errs *e)
{
	struct lock_holder scratch = { 0 };
	char *path, *rec;
	int fd, rc, err;

	if (!h)
		h = &scratch;
	memset(h, 0, sizeof(*h));
	path = lock_path(state_dir, service, environment, e);
	if (!path)
		return -1;
	fd = open_existing(path, O_RDWR, e);
	if (fd < 0) {
		free(path);
		return fd == -1 ? 0 : -1;
	}
	rc = take_flock(fd, LOCK_EX, h);
	if (rc == 0) {
		/* h gets the stale record removed, if any, so the caller
		   can say whose lock it was. */
		rec = read_record(fd);
		if (rec && !is_blank(rec))
			lock_holder_from_json(rec, h);
		free(rec);
		if (ftruncate(fd, 0) < 0 || fsync(fd) < 0)
			rc = -1;
	}
	if (rc < 0) {
		err = errno;
		errs_add(e, "cannot remove lock '%s': %s; %s", path,
			 strerror(err), fix_for(err));
		lock_holder_release(h);
	}
	close(fd);
	free(path);
	lock_holder_release(&scratch);
	return rc;
}
