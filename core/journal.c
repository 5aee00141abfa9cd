/*
 * journal.c - the journal's store: record files under the state
 * directory (ids, atomic writes, reading, listing).  A record's JSON
 * form is journal_record.c's job.
 *
 * A record is written whole to a temporary file beside its final name,
 * fsync'd, renamed and the directory fsync'd, so readers (and a deploy
 * resumed after a crash) only ever see complete records.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filecheck.h"
#include "journal.h"
#include "statedir.h"

/* "YYYYMMDDTHHMMSSZ-xxxxxx" */
#define ID_LEN 23
#define RECORD_MAX (64u << 20)

/*
 * Ids.
 */

static int is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* True when the n bytes at s are an id; ids become file names, so this
   is also what keeps "../" out of journal paths. */
static int id_valid(const char *s, size_t n)
{
	size_t i;

	if (!s || n != ID_LEN || strnlen(s, ID_LEN) != ID_LEN)
		return 0;
	if (!is_digits(s, 8) || s[8] != 'T' || !is_digits(s + 9, 6) ||
	    s[15] != 'Z' || s[16] != '-')
		return 0;
	for (i = 17; i < ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void random_bytes(unsigned char *p, size_t n)
{
	struct timespec ts;
	size_t i;
	int fd;

	if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t got = read(fd, p, n);

		close(fd);
		if (got == (ssize_t)n)
			return;
	}
	/* Ids only need to differ between deploys started in the same
	   second; the clock and pid are enough for that. */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(((unsigned long)ts.tv_nsec >> (i * 8)) ^
				       ((unsigned long)getpid() >> (i * 4)));
}

char *journal_new_id(void)
{
	unsigned char rnd[3];
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	random_bytes(rnd, sizeof(rnd));
	return gantry_xasprintf("%s-%02x%02x%02x", stamp, rnd[0], rnd[1],
				  rnd[2]);
}
int journal_id_valid(const char *s)
{
	return s && id_valid(s, strlen(s));
}

/*
 * Files.
 */


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

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, err;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	err = errno;
	close(fd);
	/* Some file systems cannot sync a directory; the rename stands. */
	if (rc < 0 && err == EINVAL)
		rc = 0;
	errno = err;
	return rc;
}

/* Writes the temporary file: -1 with errno (the file removed). */
static int write_tmp(const char *tmp, const char *text)
{
	int fd, err, tries;

	for (tries = 0; ; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		/* A leftover of an earlier process that had our pid. */
		if (fd < 0 && errno == EEXIST && tries == 0) {
			unlink(tmp);
			continue;
		}
		break;
	}
	if (fd < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		errno = err;
		return -1;
	}
	if (close(fd) < 0) {
		err = errno;
		unlink(tmp);
		errno = err;
		return -1;
	}
	return 0;
}

int journal_write(const char *state_dir, const struct deploy_record *r,
		  struct errs *e)
{
	char *dir, *path, *tmp, *json, *text;
	int rc = -1, err = 0;

	if (!r->id || !id_valid(r->id, strlen(r->id))) {
		errs_add(e, "cannot write journal record: invalid deploy id "
			 "'%s'", r->id ? r->id : "(none)");
		return -1;
	}
	dir = gantry_xasprintf("%s/journal", state_dir);
	path = gantry_xasprintf("%s/%s.json", dir, r->id);
	tmp = gantry_xasprintf("%s.tmp.%ld", path, (long)getpid());
	json = deploy_record_to_json(r, 1);
	text = gantry_xasprintf("%s\n", json);

	if (state_mkdirs(dir) < 0 || write_tmp(tmp, text) < 0) {
		err = errno;
	} else if (rename(tmp, path) < 0) {
		err = errno;
		unlink(tmp);
	} else if (fsync_dir(dir) < 0) {
		err = errno;
	} else {
		rc = 0;
	}
	if (rc < 0)
		errs_add(e, "cannot write journal record '%s': %s; %s", path,
			 strerror(err), fix_for(err));
	free(text);
	free(json);
	free(tmp);
	free(path);
	free(dir);
	return rc;
}

/*
 * Reads the record file at path: only a regular file (a FIFO must not
 * hang gantry), not through a symlink, and only one nobody else could
 * have written (a forged record is what `rollback` would deploy).  The
 * text, or NULL with errno and, in why, the reason and its fix.
 */
static char *read_record(const char *path, struct gantry_buf *why)
{
	struct gantry_buf reason = GANTRY_BUF_INIT;
	struct stat st;
	char *text, *problem;

	text = file_read_regular(path, RECORD_MAX, FILE_NOFOLLOW, &st,
				 &reason);
	if (!text) {
		int err = errno;

		gantry_buf_addf(why, "%s; %s", reason.buf, err == ENOENT ||
				err == EACCES || err == EIO || err == ENOMEM ?
				fix_for(err) : "remove it");
		gantry_buf_release(&reason);
		errno = err;
		return NULL;
	}
	problem = file_trust_problem("it", path, &st, "remove it");
	if (problem) {
		gantry_buf_adds(why, problem);
		free(problem);
		free(text);
		errno = EPERM;
		return NULL;
	}
	return text;
}

int journal_read(const char *state_dir, const char *id,
		 struct deploy_record *r, struct errs *e)
{
	struct gantry_buf why = GANTRY_BUF_INIT;
	char *dir = gantry_xasprintf("%s/journal", state_dir);
	char *path = NULL, *text = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!id || !id_valid(id, strlen(id))) {
		errs_add(e, "no deploy '%s' in %s; see 'gantry history'",
			 id ? id : "", dir);
		goto out;
	}
	path = gantry_xasprintf("%s/%s.json", dir, id);
	text = read_record(path, &why);
	if (!text && errno == ENOENT)
		errs_add(e, "no deploy '%s' in %s; see 'gantry history'", id,
			 dir);
	else if (!text)
		errs_add(e, "cannot read journal record '%s': %s", path,
			 why.buf);
	else
		rc = deploy_record_from_json(r, text, path, e);
out:
	gantry_buf_release(&why);
	free(text);
	free(path);
	free(dir);
	return rc;
}

static int cmp_newest_first(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* Newest first by start time; ids (second resolution) break ties. */
static int cmp_records(const void *a, const void *b)
{
	const struct deploy_record *x = a, *y = b;

	if (x->started != y->started)
		return x->started < y->started ? 1 : -1;
	return strcmp(y->id, x->id);
}

/* Reads one listed record: 0 kept, 1 filtered out or skipped. */
static int list_one(const char *dir, const char *id, const char *service,
		    const char *environment, struct deploy_record *r)
{
	struct gantry_buf why = GANTRY_BUF_INIT;
	struct errs e = { 0 };
	char *path = gantry_xasprintf("%s/%s.json", dir, id);
	char *text = read_record(path, &why);
	int rc = 1;

	/* One bad file must not take the whole history down: it is skipped
	   and named, and commands go on with the records that are sound. */
	if (!text) {
		gantry_log(NULL, GANTRY_LOG_WARN, "skipping journal record "
			   "'%s': %s", path, why.buf);
	} else if (deploy_record_from_json(r, text, path, &e) < 0) {
		gantry_log(NULL, GANTRY_LOG_WARN, "skipping %s",
			   e.n ? e.msg[0] : path);
	} else if ((service && strcmp(r->service, service)) ||
		   (environment && strcmp(r->environment, environment))) {
		deploy_record_release(r);
	} else {
		rc = 0;
	}
	errs_clear(&e);
	gantry_buf_release(&why);
	free(text);
	free(path);
	return rc;
}

int journal_list(const char *state_dir, const char *service,
		 const char *environment, struct deploy_record **out,
		 size_t *n, struct errs *e)
{
	char *dir = gantry_xasprintf("%s/journal", state_dir);
	char **ids = NULL;
	size_t nids = 0, aids = 0, i, alloc = 0;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d) {
		/* No journal yet: no deploys, not an error. */
		if (errno != ENOENT) {
			errs_add(e, "cannot read journal directory '%s': %s; "
				 "%s", dir, strerror(errno), fix_for(errno));
			rc = -1;
		}
		free(dir);
		return rc;
	}
	for (;;) {
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		len = strlen(de->d_name);
		/* Temporary files ("<id>.json.tmp.<pid>") fail this test. */
		if (len != ID_LEN + 5 || strcmp(de->d_name + ID_LEN, ".json") ||
		    !id_valid(de->d_name, ID_LEN))
			continue;
		GANTRY_GROW(ids, nids + 1, aids);
		ids[nids++] = gantry_xstrndup(de->d_name, ID_LEN);
	}
	if (errno) {
		errs_add(e, "cannot read journal directory '%s': %s; %s", dir,
			 strerror(errno), fix_for(errno));
		rc = -1;
	}
	closedir(d);
	if (nids)
		qsort(ids, nids, sizeof(*ids), cmp_newest_first);
	for (i = 0; i < nids && !rc; i++) {
		GANTRY_GROW(*out, *n + 1, alloc);
		if (!list_one(dir, ids[i], service, environment, &(*out)[*n]))
			(*n)++;
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_records);
	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
	free(dir);
	if (rc < 0) {
		journal_list_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

void journal_list_free(struct deploy_record *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		deploy_record_release(&list[i]);
	free(list);
}
