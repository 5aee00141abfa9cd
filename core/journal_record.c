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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json.h>

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

	return v ? gantry_xstrdup(json_object_get_string(v)) : NULL;
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
