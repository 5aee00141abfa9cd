/*
 * journal.c - deploy records: their JSON form, atomic writes, listing.
 *
 * A record is written whole to a temporary file beside its final name,
 * fsync'd, renamed and the directory fsync'd, so readers (and a deploy
 * resumed after a crash) only ever see complete records.  Every string
 * goes through the redactor on its own before it is escaped as JSON (an
 * escaped secret would no longer match), and the finished text once
 * more, so no registered secret reaches the disk.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "filecheck.h"
#include "journal.h"
#include "statedir.h"

/* "YYYYMMDDTHHMMSSZ-xxxxxx" */
#define ID_LEN 23
#define RECORD_MAX (64u << 20)

static const char *const status_names[] = {
	[ST_PENDING] = "pending",
	[ST_RUNNING] = "running",
	[ST_SUCCEEDED] = "succeeded",
	[ST_FAILED] = "failed",
	[ST_SKIPPED] = "skipped",
	[ST_ROLLED_BACK] = "rolled_back",
	[ST_ROLLBACK_FAILED] = "rollback_failed",
	[ST_INTERRUPTED] = "interrupted",
	[ST_TIMED_OUT] = "timed_out",
};

const char *stage_status_name(enum stage_status s)
{
	if ((size_t)s >= GANTRY_ARRAY_SIZE(status_names))
		return "unknown";
	return status_names[s];
}

int stage_status_parse(const char *name)
{
	size_t i;

	if (!name)
		return -1;
	for (i = 0; i < GANTRY_ARRAY_SIZE(status_names); i++)
		if (!strcmp(status_names[i], name))
			return (int)i;
	return -1;
}

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
	return gantry_i_xasprintf("%s-%02x%02x%02x", stamp, rnd[0], rnd[1],
				  rnd[2]);
}

/*
 * Records in memory.
 */

struct stage_record *deploy_record_add_stage(struct deploy_record *r,
					     const char *name,
					     const char *stage)
{
	struct stage_record *s;

	GANTRY_GROW(r->stages, r->nstages + 1, r->astages);
	s = &r->stages[r->nstages++];
	memset(s, 0, sizeof(*s));
	s->name = gantry_i_xstrdup(name);
	s->stage = gantry_i_xstrdup(stage ? stage : name);
	s->status = ST_PENDING;
	return s;
}

struct stage_record *deploy_record_stage(struct deploy_record *r,
					 const char *name)
{
	size_t i;

	for (i = 0; i < r->nstages; i++)
		if (!strcmp(r->stages[i].name, name))
			return &r->stages[i];
	return NULL;
}

static void stage_record_release(struct stage_record *s)
{
	free(s->name);
	free(s->stage);
	free(s->error);
	gantry_i_kv_clear(&s->outputs);
	memset(s, 0, sizeof(*s));
}

void deploy_record_release(struct deploy_record *r)
{
	size_t i;

	free(r->id);
	free(r->service);
	free(r->environment);
	free(r->tag);
	free(r->version);
	free(r->commit);
	free(r->image_digest);
	free(r->actor);
	free(r->host);
	free(r->approved_by);
	free(r->result);
	free(r->reason);
	free(r->failed_stage);
	gantry_i_kv_clear(&r->context);
	for (i = 0; i < r->nstages; i++)
		stage_record_release(&r->stages[i]);
	free(r->stages);
	memset(r, 0, sizeof(*r));
}

/*
 * Rendering.
 */

static void put_str(json_object *o, const char *key, const char *value)
{
	char *red;

	if (!value) {
		json_object_object_add(o, key, NULL);
		return;
	}
	red = gantry_i_redact(value);
	json_object_object_add(o, key, json_object_new_string(red));
	free(red);
}

/* Epoch seconds with millisecond precision, plus the same instant in
   ISO-8601 for people reading the file (null when not set). */
static void put_time(json_object *o, const char *key, const char *iso_key,
		     double t)
{
	char num[64], iso[32];
	struct tm tm;
	time_t secs;

	/* Past year 9999 is no time a deploy ran at (a damaged record):
	   it fits neither time_t nor num. */
	if (!isfinite(t) || t < 0 || t > 253402300799.0)
		t = 0;
	/* Written with millisecond precision: what prints as 0.000 is 0,
	   with no ISO time, or a record would not read back the same. */
	if (t < 0.0005)
		t = 0;
	snprintf(num, sizeof(num), "%.3f", t);
	json_object_object_add(o, key, json_object_new_double_s(t, num));
	if (t <= 0) {
		json_object_object_add(o, iso_key, NULL);
		return;
	}
	secs = (time_t)t;
	gmtime_r(&secs, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_object_add(o, iso_key, json_object_new_string(iso));
}

static json_object *kvlist_to_json(const struct gantry_kvlist *l)
{
	json_object *o = json_object_new_object();
	size_t i;

	for (i = 0; i < l->n; i++)
		put_str(o, l->v[i].key, l->v[i].secret ? "***" : l->v[i].value);
	return o;
}

static json_object *stage_to_json(const struct stage_record *s)
{
	json_object *o = json_object_new_object();

	put_str(o, "name", s->name);
	put_str(o, "stage", s->stage);
	put_str(o, "status", stage_status_name(s->status));
	put_time(o, "started", "started_at", s->started);
	put_time(o, "finished", "finished_at", s->finished);
	json_object_object_add(o, "attempts", json_object_new_int(s->attempts));
	put_str(o, "error", s->error);
	json_object_object_add(o, "outputs", kvlist_to_json(&s->outputs));
	return o;
}

char *deploy_record_to_json(const struct deploy_record *r, int pretty)
{
	json_object *o = json_object_new_object(), *stages;
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;
	char *text;
	size_t i;

	put_str(o, "id", r->id);
	put_str(o, "service", r->service);
	put_str(o, "environment", r->environment);
	put_str(o, "tag", r->tag);
	put_str(o, "version", r->version);
	put_str(o, "commit", r->commit);
	put_str(o, "image_digest", r->image_digest);
	put_str(o, "actor", r->actor);
	put_str(o, "host", r->host);
	put_str(o, "approved_by", r->approved_by);
	json_object_object_add(o, "forced_promotion",
			       json_object_new_boolean(r->forced_promotion));
	json_object_object_add(o, "dry_run",
			       json_object_new_boolean(r->dry_run));
	put_time(o, "started", "started_at", r->started);
	put_time(o, "finished", "finished_at", r->finished);
	put_str(o, "result", r->result);
	json_object_object_add(o, "exit_code",
			       json_object_new_int(r->exit_code));
	put_str(o, "reason", r->reason);
	put_str(o, "failed_stage", r->failed_stage);
	json_object_object_add(o, "resumed", json_object_new_int(r->resumed));
	json_object_object_add(o, "context", kvlist_to_json(&r->context));
	stages = json_object_new_array();
	for (i = 0; i < r->nstages; i++)
		json_object_array_add(stages, stage_to_json(&r->stages[i]));
	json_object_object_add(o, "stages", stages);

	if (pretty)
		flags |= JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
	text = gantry_i_redact(gantry_i_json_text(o, flags));
	json_object_put(o);
	return text;
}

/*
 * Parsing.  The first problem found is reported; unknown keys are
 * ignored so that older versions read newer records.
 */

struct reader {
	const char *what;
	struct errs *e;
	int bad;
};

static int type_ok(json_object *v, enum json_type want)
{
	enum json_type t = json_object_get_type(v);

	if (want == json_type_double)
		return t == json_type_double || t == json_type_int;
	if (want == json_type_boolean)
		return t == json_type_boolean || t == json_type_int;
	return t == want;
}

static const char *type_words(enum json_type t)
{
	switch (t) {
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	default:
		return "a string";
	}
}

/* The value of key in o (null counts as absent), or NULL. */
static json_object *rd_get(struct reader *rd, json_object *o,
			   const char *pfx, const char *key,
			   enum json_type want, int required)
{
	json_object *v = NULL;

	if (rd->bad)
		return NULL;
	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (required) {
			errs_add(rd->e, "journal record '%s': missing key "
				 "'%s%s'; repair or remove the file",
				 rd->what, pfx, key);
			rd->bad = 1;
		}
		return NULL;
	}
	if (!type_ok(v, want)) {
		errs_add(rd->e, "journal record '%s': key '%s%s' must be %s; "
			 "repair or remove the file", rd->what, pfx, key,
			 type_words(want));
		rd->bad = 1;
		return NULL;
	}
	return v;
}

static char *rd_str(struct reader *rd, json_object *o, const char *pfx,
		    const char *key, int required)
{
	json_object *v = rd_get(rd, o, pfx, key, json_type_string, required);

	return v ? gantry_i_xstrdup(json_object_get_string(v)) : NULL;
}

static double rd_num(struct reader *rd, json_object *o, const char *pfx,
		     const char *key)
{
	json_object *v = rd_get(rd, o, pfx, key, json_type_double, 0);

	return v ? json_object_get_double(v) : 0;
}

static int rd_int(struct reader *rd, json_object *o, const char *pfx,
		  const char *key)
{
	json_object *v = rd_get(rd, o, pfx, key, json_type_int, 0);

	return v ? json_object_get_int(v) : 0;
}

static int rd_bool(struct reader *rd, json_object *o, const char *pfx,
		   const char *key)
{
	json_object *v = rd_get(rd, o, pfx, key, json_type_boolean, 0);

	return v ? json_object_get_boolean(v) : 0;
}

/* Reads an object of strings; other scalars keep their JSON text. */
static void rd_kvlist(struct reader *rd, json_object *o, const char *pfx,
		      const char *key, struct gantry_kvlist *l)
{
	json_object *obj = rd_get(rd, o, pfx, key, json_type_object, 0);

	if (!obj)
		return;
	json_object_object_foreach(obj, k, v) {
		if (!v || rd->bad)
			continue;
		/* gantry writes only valid keys; another one (bytes that are
		   not UTF-8 among them) would not survive a rewrite. */
		if (!gantry_i_kv_valid_key(k)) {
			char *shown = errs_shown(k, 64);

			errs_add(rd->e, "journal record '%s': '%s%s' holds "
				 "'%s', which is not a context key; repair or "
				 "remove the file", rd->what, pfx, key, shown);
			free(shown);
			rd->bad = 1;
			continue;
		}
		gantry_i_kv_set(l, k, json_object_get_string(v), 0);
	}
}

static void rd_stage(struct reader *rd, json_object *o, size_t i,
		     struct deploy_record *r)
{
	struct stage_record *s;
	char pfx[48];
	char *name, *stage, *status;
	int st;

	snprintf(pfx, sizeof(pfx), "stages[%zu].", i);
	if (!json_object_is_type(o, json_type_object)) {
		errs_add(rd->e, "journal record '%s': 'stages[%zu]' must be "
			 "an object; repair or remove the file", rd->what, i);
		rd->bad = 1;
		return;
	}
	name = rd_str(rd, o, pfx, "name", 1);
	stage = rd_str(rd, o, pfx, "stage", 0);
	status = rd_str(rd, o, pfx, "status", 1);
	if (rd->bad)
		goto out;
	st = stage_status_parse(status);
	if (st < 0) {
		errs_add(rd->e, "journal record '%s': unknown status '%s' in "
			 "'%sstatus'; repair or remove the file", rd->what,
			 status, pfx);
		rd->bad = 1;
		goto out;
	}
	s = deploy_record_add_stage(r, name, stage);
	s->status = (enum stage_status)st;
	s->started = rd_num(rd, o, pfx, "started");
	s->finished = rd_num(rd, o, pfx, "finished");
	s->attempts = rd_int(rd, o, pfx, "attempts");
	s->error = rd_str(rd, o, pfx, "error", 0);
	rd_kvlist(rd, o, pfx, "outputs", &s->outputs);
out:
	free(name);
	free(stage);
	free(status);
}

int deploy_record_from_json(struct deploy_record *r, const char *text,
			    const char *what, struct errs *e)
{
	struct reader rd = { what ? what : "?", e, 0 };
	enum json_tokener_error jerr = json_tokener_success;
	json_object *o, *stages;
	size_t i, n;

	memset(r, 0, sizeof(*r));
	o = json_tokener_parse_verbose(text ? text : "", &jerr);
	if (!o) {
		errs_add(e, "journal record '%s': not valid JSON (%s); repair "
			 "or remove the file", rd.what,
			 jerr == json_tokener_success ? "null document" :
			 json_tokener_error_desc(jerr));
		return -1;
	}
	if (!json_object_is_type(o, json_type_object)) {
		errs_add(e, "journal record '%s': not a JSON object; repair or "
			 "remove the file", rd.what);
		json_object_put(o);
		return -1;
	}
	r->id = rd_str(&rd, o, "", "id", 1);
	r->service = rd_str(&rd, o, "", "service", 1);
	r->environment = rd_str(&rd, o, "", "environment", 1);
	r->result = rd_str(&rd, o, "", "result", 1);
	r->tag = rd_str(&rd, o, "", "tag", 0);
	r->version = rd_str(&rd, o, "", "version", 0);
	r->commit = rd_str(&rd, o, "", "commit", 0);
	r->image_digest = rd_str(&rd, o, "", "image_digest", 0);
	r->actor = rd_str(&rd, o, "", "actor", 0);
	r->host = rd_str(&rd, o, "", "host", 0);
	r->approved_by = rd_str(&rd, o, "", "approved_by", 0);
	r->forced_promotion = rd_bool(&rd, o, "", "forced_promotion");
	r->dry_run = rd_bool(&rd, o, "", "dry_run");
	r->started = rd_num(&rd, o, "", "started");
	r->finished = rd_num(&rd, o, "", "finished");
	r->exit_code = rd_int(&rd, o, "", "exit_code");
	r->reason = rd_str(&rd, o, "", "reason", 0);
	r->failed_stage = rd_str(&rd, o, "", "failed_stage", 0);
	r->resumed = rd_int(&rd, o, "", "resumed");
	rd_kvlist(&rd, o, "", "context", &r->context);
	stages = rd_get(&rd, o, "", "stages", json_type_array, 0);
	n = stages ? json_object_array_length(stages) : 0;
	for (i = 0; i < n && !rd.bad; i++)
		rd_stage(&rd, json_object_array_get_idx(stages, i), i, r);
	json_object_put(o);
	if (rd.bad) {
		deploy_record_release(r);
		return -1;
	}
	return 0;
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
	dir = gantry_i_xasprintf("%s/journal", state_dir);
	path = gantry_i_xasprintf("%s/%s.json", dir, r->id);
	tmp = gantry_i_xasprintf("%s.tmp.%ld", path, (long)getpid());
	json = deploy_record_to_json(r, 1);
	text = gantry_i_xasprintf("%s\n", json);

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
	char *dir = gantry_i_xasprintf("%s/journal", state_dir);
	char *path = NULL, *text = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!id || !id_valid(id, strlen(id))) {
		errs_add(e, "no deploy '%s' in %s; see 'gantry history'",
			 id ? id : "", dir);
		goto out;
	}
	path = gantry_i_xasprintf("%s/%s.json", dir, id);
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
	char *path = gantry_i_xasprintf("%s/%s.json", dir, id);
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
	char *dir = gantry_i_xasprintf("%s/journal", state_dir);
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
		ids[nids++] = gantry_i_xstrndup(de->d_name, ID_LEN);
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
