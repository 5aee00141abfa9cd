/*
 * decision.c - decisions on approval requests: their JSON form and the
 * local backend's files, <state dir>/approvals/<key>.json.
 *
 * What must stay true: a decision is written at most once.  The file is
 * written whole to a temporary name, then link()ed to its own name,
 * which fails when the name exists: two deciders racing (or a decision
 * racing the waiting stage's timeout) leave exactly the first one, and
 * the other learns which.  Files are read as journal records are: a
 * regular file, not through a symlink, that nobody else could have
 * written (a forged approval would let a deploy through).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecheck.h"
#include "state.h"
#include "statedir.h"

#define DECISION_MAX (64u << 10)

void approval_decision_release(struct approval_decision *d)
{
	free(d->verdict);
	free(d->by);
	free(d->reason);
	memset(d, 0, sizeof(*d));
}

char *decision_to_json(const struct approval_decision *d)
{
	struct gantry_json *o = gantry_json_new_object();
	char *text;

	gantry_json_set_string(o, "verdict", d->verdict);
	gantry_json_set_string(o, "by", d->by);
	if (d->reason)
		gantry_json_set_string(o, "reason", d->reason);
	else
		gantry_json_set_null(o, "reason");
	gantry_json_set_double(o, "decided", d->decided);
	text = gantry_i_redact(gantry_json_text(o, 0));
	gantry_json_free(o);
	return text;
}

int decision_from_json(const char *text, const char *what,
		       struct approval_decision *d, struct errs *e)
{
	struct gantry_json *o = gantry_json_parse(text, strlen(text), NULL, 0);
	const char *verdict = gantry_json_string(o, "verdict", NULL);
	const char *by = gantry_json_string(o, "by", NULL);
	const char *reason = gantry_json_string(o, "reason", NULL);

	memset(d, 0, sizeof(*d));
	if (!verdict || !by || (strcmp(verdict, "approved") &&
				strcmp(verdict, "rejected"))) {
		errs_add(e, "decision '%s' is damaged (no verdict or no "
			 "decider); remove it and decide again", what);
		gantry_json_free(o);
		return -1;
	}
	d->verdict = gantry_xstrdup(verdict);
	d->by = gantry_xstrdup(by);
	d->reason = reason ? gantry_xstrdup(reason) : NULL;
	d->decided = gantry_json_double(o, "decided", 0);
	gantry_json_free(o);
	return 0;
}

/* <dir>/approvals/<key>.json, or NULL when key is no plain name (it
   comes from a journal record, which is data). */
static char *decision_path(const char *dir, const char *key, struct errs *e)
{
	const char *p;

	for (p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		      *p == '.'))
			break;
	if (!*key || *key == '.' || *p || strstr(key, "..")) {
		char *shown = errs_shown(key, 64);

		errs_add(e, "invalid approval key '%s' in the journal; repair "
			 "or remove the deploy's record", shown);
		free(shown);
		return NULL;
	}
	return gantry_xasprintf("%s/approvals/%s.json", dir, key);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int decision_local_get(const char *dir, const char *key,
		       struct approval_decision *d, struct errs *e)
{
	struct gantry_buf why = GANTRY_BUF_INIT;
	char *path = decision_path(dir, key, e), *text, *problem;
	struct stat st;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (!path)
		return -1;
	text = file_read_regular(path, DECISION_MAX, FILE_NOFOLLOW, &st, &why);
	if (!text && errno == ENOENT) {
		rc = 1;
	} else if (!text) {
		errs_add(e, "cannot read decision '%s': %s; remove it", path,
			 why.buf);
	} else if ((problem = file_trust_problem("it", path, &st,
						 "remove it"))) {
		errs_add(e, "decision '%s': %s", path, problem);
		free(problem);
	} else {
		rc = decision_from_json(text, path, d, e);
	}
	free(text);
	free(path);
	gantry_buf_release(&why);
	return rc;
}

int decision_local_put(const char *dir, const char *key,
		       const struct approval_decision *d,
		       struct approval_decision *first, struct errs *e)
{
	char *path = decision_path(dir, key, e), *sub, *tmp, *text;
	int fd, rc = -1, err = 0;

	if (!path)
		return -1;
	sub = gantry_xasprintf("%s/approvals", dir);
	tmp = gantry_xasprintf("%s.tmp.%ld", path, (long)getpid());
	text = decision_to_json(d);
	unlink(tmp);
	if (state_mkdirs(sub) < 0 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		       0600)) < 0) {
		err = errno;
	} else {
		if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0)
			err = errno;
		if (close(fd) < 0 && !err)
			err = errno;
		if (!err && link(tmp, path) < 0)
			err = errno;
		unlink(tmp);
	}
	if (!err) {
		rc = 0;
	} else if (err == EEXIST) {
		rc = decision_local_get(dir, key, first, e) == 0 ? 1 : -1;
	} else {
		errs_add(e, "cannot write decision '%s': %s; check the state "
			 "directory or set --state-dir", path, strerror(err));
	}
	free(text);
	free(tmp);
	free(sub);
	free(path);
	return rc;
}
