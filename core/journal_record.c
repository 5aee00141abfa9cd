/*
 * journal_record.c - deploy records in memory and their JSON form
 * (rendering and parsing); the files that hold them are journal.c's.
 *
 * Every string goes through the redactor on its own before it is
 * escaped as JSON (an escaped secret would no longer match), and the
 * finished text once more, so no registered secret reaches the disk.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"

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
	s->name = gantry_xstrdup(name);
	s->stage = gantry_xstrdup(stage ? stage : name);
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

struct approval_record *deploy_record_add_approval(struct deploy_record *r)
{
	struct approval_record *a;

	GANTRY_GROW(r->approvals, r->napprovals + 1, r->aapprovals);
	a = &r->approvals[r->napprovals++];
	memset(a, 0, sizeof(*a));
	return a;
}

struct approval_record *deploy_record_pending_approval(
	const struct deploy_record *r)
{
	struct approval_record *a;

	if (!r->napprovals)
		return NULL;
	a = &r->approvals[r->napprovals - 1];
	return a->verdict ? NULL : a;
}

static void approval_record_release(struct approval_record *a)
{
	free(a->entry);
	free(a->key);
	free(a->message);
	free(a->approvers);
	free(a->verdict);
	free(a->by);
	free(a->reason);
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
	for (i = 0; i < r->napprovals; i++)
		approval_record_release(&r->approvals[i]);
	free(r->approvals);
	memset(r, 0, sizeof(*r));
}

/*
 * Rendering.
 */

static void put_str(struct gantry_json *o, const char *key,
		    const char *value)
{
	char *red;

	if (!value) {
		gantry_json_set_null(o, key);
		return;
	}
	red = gantry_i_redact(value);
	gantry_json_set_string(o, key, red);
	free(red);
}

/* Epoch seconds with millisecond precision, plus the same instant in
   ISO-8601 for people reading the file (null when not set). */
static void put_time(struct gantry_json *o, const char *key,
		     const char *iso_key, double t)
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
	gantry_i_json_set_number(o, key, t, num);
	if (t <= 0) {
		gantry_json_set_null(o, iso_key);
		return;
	}
	secs = (time_t)t;
	gmtime_r(&secs, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gantry_json_set_string(o, iso_key, iso);
}

static void put_kvlist(struct gantry_json *o, const char *key,
		       const struct gantry_kvlist *l)
{
	struct gantry_json *obj = gantry_json_set_object(o, key);
	size_t i;

	for (i = 0; i < l->n; i++)
		put_str(obj, l->v[i].key,
			l->v[i].secret ? "***" : l->v[i].value);
}

static void put_stage(struct gantry_json *o, const struct stage_record *s)
{
	put_str(o, "name", s->name);
	put_str(o, "stage", s->stage);
	put_str(o, "status", stage_status_name(s->status));
	put_time(o, "started", "started_at", s->started);
	put_time(o, "finished", "finished_at", s->finished);
	gantry_json_set_int(o, "attempts", s->attempts);
	put_str(o, "error", s->error);
	put_kvlist(o, "outputs", &s->outputs);
}

static void put_approval(struct gantry_json *o,
			 const struct approval_record *a)
{
	put_str(o, "entry", a->entry);
	put_str(o, "key", a->key);
	put_str(o, "message", a->message);
	put_str(o, "approvers", a->approvers);
	gantry_json_set_bool(o, "allow_self", a->allow_self);
	put_time(o, "requested", "requested_at", a->requested);
	gantry_json_set_int(o, "timeout", a->timeout);
	put_str(o, "verdict", a->verdict);
	put_str(o, "by", a->by);
	put_str(o, "reason", a->reason);
	put_time(o, "decided", "decided_at", a->decided);
}

char *deploy_record_to_json(const struct deploy_record *r, int pretty)
{
	struct gantry_json *o = gantry_json_new_object(), *stages;
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
	gantry_json_set_bool(o, "forced_promotion", r->forced_promotion);
	gantry_json_set_bool(o, "dry_run", r->dry_run);
	put_time(o, "started", "started_at", r->started);
	put_time(o, "finished", "finished_at", r->finished);
	put_str(o, "result", r->result);
	gantry_json_set_int(o, "exit_code", r->exit_code);
	put_str(o, "reason", r->reason);
	put_str(o, "failed_stage", r->failed_stage);
	gantry_json_set_int(o, "resumed", r->resumed);
	put_kvlist(o, "context", &r->context);
	stages = gantry_json_set_array(o, "stages");
	for (i = 0; i < r->nstages; i++)
		put_stage(gantry_json_push_object(stages), &r->stages[i]);
	/* Only records of deploys that asked carry the key. */
	if (r->napprovals) {
		struct gantry_json *arr = gantry_json_set_array(o, "approvals");

		for (i = 0; i < r->napprovals; i++)
			put_approval(gantry_json_push_object(arr),
				     &r->approvals[i]);
	}

	text = gantry_i_redact(gantry_json_text(o, pretty));
	gantry_json_free(o);
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

static int type_ok(const struct gantry_json *v, enum gantry_json_type want)
{
	enum gantry_json_type t = gantry_json_type(v);

	if (want == GANTRY_JSON_DOUBLE)
		return t == GANTRY_JSON_DOUBLE || t == GANTRY_JSON_INT;
	if (want == GANTRY_JSON_BOOL)
		return t == GANTRY_JSON_BOOL || t == GANTRY_JSON_INT;
	return t == want;
}

static const char *type_words(enum gantry_json_type t)
{
	switch (t) {
	case GANTRY_JSON_BOOL:
		return "a boolean";
	case GANTRY_JSON_DOUBLE:
		return "a number";
	case GANTRY_JSON_INT:
		return "an integer";
	case GANTRY_JSON_OBJECT:
		return "an object";
	case GANTRY_JSON_ARRAY:
		return "an array";
	default:
		return "a string";
	}
}

/* The value of key in o (null counts as absent), or NULL. */
static struct gantry_json *rd_get(struct reader *rd,
				  const struct gantry_json *o,
				  const char *pfx, const char *key,
				  enum gantry_json_type want, int required)
{
	struct gantry_json *v;

	if (rd->bad)
		return NULL;
	/* The keys asked for are plain names, never paths. */
	v = gantry_json_get(o, key);
	if (!v) {
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

static char *rd_str(struct reader *rd, const struct gantry_json *o,
		    const char *pfx, const char *key, int required)
{
	struct gantry_json *v = rd_get(rd, o, pfx, key, GANTRY_JSON_STRING,
				       required);

	return v ? gantry_xstrdup(gantry_json_string(v, NULL, "")) : NULL;
}

static double rd_num(struct reader *rd, const struct gantry_json *o,
		     const char *pfx, const char *key)
{
	return gantry_json_double(rd_get(rd, o, pfx, key, GANTRY_JSON_DOUBLE,
					 0), NULL, 0);
}

static int rd_int(struct reader *rd, const struct gantry_json *o,
		  const char *pfx, const char *key)
{
	long long v = gantry_json_int(rd_get(rd, o, pfx, key, GANTRY_JSON_INT,
					     0), NULL, 0);

	/* Out of range is the nearest int, as it has always read. */
	return v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

static int rd_bool(struct reader *rd, const struct gantry_json *o,
		   const char *pfx, const char *key)
{
	struct gantry_json *v = rd_get(rd, o, pfx, key, GANTRY_JSON_BOOL, 0);

	/* An integer is read as a boolean: 0 is false. */
	if (gantry_json_type(v) == GANTRY_JSON_INT)
		return gantry_json_int(v, NULL, 0) != 0;
	return gantry_json_bool(v, NULL, 0);
}

/* Reads an object of strings; other scalars keep their JSON text. */
static void rd_kvlist(struct reader *rd, const struct gantry_json *o,
		      const char *pfx, const char *key,
		      struct gantry_kvlist *l)
{
	struct gantry_json *obj = rd_get(rd, o, pfx, key, GANTRY_JSON_OBJECT,
					 0);
	size_t i, n = gantry_json_keys(obj);

	for (i = 0; i < n && !rd->bad; i++) {
		const char *k = gantry_json_key_at(obj, i);
		struct gantry_json *v = gantry_json_value_at(obj, i);

		if (!v)
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
		gantry_i_kv_set(l, k, gantry_json_string(v, NULL, NULL) ?
				gantry_json_string(v, NULL, NULL) :
				gantry_i_json_text_ex(v, GANTRY_I_JSON_SPACED),
				0);
	}
}

static void rd_stage(struct reader *rd, const struct gantry_json *o,
		     size_t i, struct deploy_record *r)
{
	struct stage_record *s;
	char pfx[48];
	char *name, *stage, *status;
	int st;

	snprintf(pfx, sizeof(pfx), "stages[%zu].", i);
	if (gantry_json_type(o) != GANTRY_JSON_OBJECT) {
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

static void rd_approval(struct reader *rd, const struct gantry_json *o,
			size_t i, struct deploy_record *r)
{
	struct approval_record *a;
	char pfx[48];

	snprintf(pfx, sizeof(pfx), "approvals[%zu].", i);
	if (gantry_json_type(o) != GANTRY_JSON_OBJECT) {
		errs_add(rd->e, "journal record '%s': 'approvals[%zu]' must "
			 "be an object; repair or remove the file", rd->what,
			 i);
		rd->bad = 1;
		return;
	}
	a = deploy_record_add_approval(r);
	a->entry = rd_str(rd, o, pfx, "entry", 1);
	a->key = rd_str(rd, o, pfx, "key", 1);
	a->message = rd_str(rd, o, pfx, "message", 0);
	a->approvers = rd_str(rd, o, pfx, "approvers", 0);
	a->allow_self = rd_bool(rd, o, pfx, "allow_self");
	a->requested = rd_num(rd, o, pfx, "requested");
	a->timeout = (unsigned)(rd_int(rd, o, pfx, "timeout") < 0 ? 0 :
				rd_int(rd, o, pfx, "timeout"));
	a->verdict = rd_str(rd, o, pfx, "verdict", 0);
	a->by = rd_str(rd, o, pfx, "by", 0);
	a->reason = rd_str(rd, o, pfx, "reason", 0);
	a->decided = rd_num(rd, o, pfx, "decided");
	if (!a->approvers)
		a->approvers = gantry_xstrdup("");
}

int deploy_record_from_json(struct deploy_record *r, const char *text,
			    const char *what, struct errs *e)
{
	struct reader rd = { what ? what : "?", e, 0 };
	struct gantry_json *o, *stages;
	char err[128];
	size_t i, n;

	memset(r, 0, sizeof(*r));
	/* Strict JSON and UTF-8 only: what gantry writes, and all that a
	   rewrite of the record could write back the same. */
	o = gantry_json_parse(text ? text : "", text ? strlen(text) : 0, err,
			      sizeof(err));
	if (!o) {
		errs_add(e, "journal record '%s': not valid JSON (%s); repair "
			 "or remove the file", rd.what, err);
		return -1;
	}
	if (gantry_json_type(o) != GANTRY_JSON_OBJECT) {
		errs_add(e, "journal record '%s': not a JSON object; repair or "
			 "remove the file", rd.what);
		gantry_json_free(o);
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
	stages = rd_get(&rd, o, "", "stages", GANTRY_JSON_ARRAY, 0);
	n = gantry_json_length(stages);
	for (i = 0; i < n && !rd.bad; i++)
		rd_stage(&rd, gantry_json_at(stages, i), i, r);
	stages = rd_get(&rd, o, "", "approvals", GANTRY_JSON_ARRAY, 0);
	n = gantry_json_length(stages);
	for (i = 0; i < n && !rd.bad; i++)
		rd_approval(&rd, gantry_json_at(stages, i), i, r);
	gantry_json_free(o);
	if (rd.bad) {
		deploy_record_release(r);
		return -1;
	}
	return 0;
}
