/*
 * state_aws_journal.c - the deploy journal in S3, listed through indexes
 * in the DynamoDB table (see state_aws.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_aws.h"

/* Lists read at most this many records (newest ids first), and the
   index of one environment keeps this many ids (older records stay in
   S3, readable by id). */
#define LIST_MAX 200
#define INDEX_KEEP 1000

/*
 * Errors and string sets.
 */

static const char *s3_fix(struct aws_state *a)
{
	const char *code = gantry_aws_error_code(a->aws);

	if (!strcmp(code, "NoSuchBucket"))
		return "create the bucket or fix state.bucket in gantry.cfg";
	return "check state.bucket, state.region and the credentials";
}

static void s3_error(struct state *st, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);

	errs_add(e, "state backend (%s): %s; %s", st->where,
		 gantry_aws_error_line(a->aws), s3_fix(a));
}

/* o.key = the string set attribute value {"SS": [v...]}. */
static void attr_ss(struct gantry_json *o, const char *key,
		    const char *const *v, size_t n)
{
	struct gantry_json *arr = gantry_json_set_array(
		gantry_json_set_object(o, key), "SS");
	size_t i;

	for (i = 0; i < n; i++)
		gantry_json_push_string(arr, v[i]);
}

/*
 * Names and keys.
 */

/* Ids become object keys: "YYYYMMDDTHHMMSSZ-xxxxxx", nothing else. */
static int id_ok(const char *id)
{
	size_t i;

	if (!id || strlen(id) != 23 || id[8] != 'T' || id[15] != 'Z' ||
	    id[16] != '-')
		return 0;
	for (i = 0; i < 23; i++) {
		char c = id[i];

		if (i == 8 || i == 15 || i == 16)
			continue;
		if (c >= '0' && c <= '9')
			continue;
		if (i < 17 || c < 'a' || c > 'f')
			return 0;
	}
	return 1;
}

/* "<prefix>/" or "" */
static const char *pfx_sep(const struct aws_state *a)
{
	return *a->prefix ? "/" : "";
}

static char *record_key(const struct aws_state *a, const char *service,
			const char *environment, const char *id)
{
	return gantry_xasprintf("%s%s%s/%s/%s.json", a->prefix, pfx_sep(a),
				  service, environment, id);
}

static char *ids_key(const struct aws_state *a, const char *id)
{
	return gantry_xasprintf("%s%sids/%s", a->prefix, pfx_sep(a), id);
}

static char *env_index_id(const struct aws_state *a, const char *service,
			  const char *environment)
{
	return gantry_xasprintf("journal-ids:%s/%s%s%s/%s", a->bucket,
				  a->prefix, pfx_sep(a), service, environment);
}

static char *service_index_id(const struct aws_state *a, const char *service)
{
	return gantry_xasprintf("journal-envs:%s/%s%s%s", a->bucket,
				  a->prefix, pfx_sep(a), service);
}

static int s3_put(struct aws_state *a, const char *key, const char *body)
{
	long status;
	char *resp = NULL;
	int rc;

	rc = gantry_aws_s3(a->aws, "PUT", a->bucket, key, body, strlen(body),
			   &status, &resp, NULL,
			   "Content-Type: application/json", NULL);
	free(resp);
	return rc;
}

/* GETs key: 0 with *text, 1 no such key, < 0 error. */
static int s3_get(struct aws_state *a, const char *key, char **text)
{
	long status = 0;
	int rc;

	*text = NULL;
	rc = gantry_aws_s3(a->aws, "GET", a->bucket, key, NULL, 0, &status,
			   text, NULL, NULL);
	if (rc && !strcmp(gantry_aws_error_code(a->aws), "NoSuchKey"))
		return 1;
	return rc;
}

/*
 * Readers find records through the table's indexes, which would simply
 * be empty for a mistyped bucket: check the bucket once, so the mistake
 * is reported instead of an empty history.
 */
static int check_bucket(struct state *st, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	long status = 0;
	char *resp = NULL;
	int rc;

	if (a->bucket_checked)
		return 0;
	rc = gantry_aws_s3(a->aws, "HEAD", a->bucket, NULL, NULL, 0, &status,
			   &resp, NULL, NULL);
	free(resp);
	if (rc && status == 404) {
		errs_add(e, "state backend (%s): bucket '%s' not found at %s; "
			 "create the bucket or fix state.bucket in gantry.cfg",
			 st->where, a->bucket,
			 gantry_aws_endpoint(a->aws, "s3"));
		return -1;
	}
	if (rc) {
		s3_error(st, e);
		return -1;
	}
	a->bucket_checked = 1;
	return 0;
}

/* Sorts strings newest (largest) first. */
static int cmp_desc(const void *x, const void *y)
{
	return strcmp(*(char *const *)y, *(char *const *)x);
}

/* Drops the oldest ids of an index grown past INDEX_KEEP. */
static void index_trim(struct aws_state *a, const char *index,
		       const struct gantry_json *set)
{
	size_t n = gantry_json_length(set), i;
	const char **ids;
	struct gantry_json *req;

	if (n <= INDEX_KEEP)
		return;
	ids = gantry_xcalloc(n, sizeof(*ids));
	for (i = 0; i < n; i++)
		ids[i] = gantry_json_string(gantry_json_at(set, i), "", "");
	qsort(ids, n, sizeof(*ids), cmp_desc);
	req = state_aws_request(a, index);
	gantry_json_set_string(req, "UpdateExpression", "DELETE ids :old");
	attr_ss(state_aws_values(req), ":old", ids + INDEX_KEEP,
		n - INDEX_KEEP);
	/* A failure leaves a longer index, which still works. */
	state_aws_ddb(a, "UpdateItem", req, NULL);
	free(ids);
}

/* Adds value to the string set attr of item index: 0 or < 0. */
static int index_add(struct aws_state *a, const char *index, const char *attr,
		     const char *value, int trim)
{
	struct gantry_json *out = NULL;
	struct gantry_json *req = state_aws_request(a, index);
	char *expr = gantry_xasprintf("ADD %s :v", attr);
	int rc;

	gantry_json_set_string(req, "UpdateExpression", expr);
	attr_ss(state_aws_values(req), ":v", &value, 1);
	gantry_json_set_string(req, "ReturnValues",
			       trim ? "UPDATED_NEW" : "NONE");
	rc = state_aws_ddb(a, "UpdateItem", req, &out);
	if (!rc && trim)
		index_trim(a, index, gantry_json_get(out, "Attributes.ids.SS"));
	gantry_json_free(out);
	free(expr);
	return rc;
}

static int bad_names(const struct deploy_record *r, struct errs *e)
{
	if (!r->id || !id_ok(r->id)) {
		errs_add(e, "cannot write journal record: invalid deploy id "
			 "'%s'", r->id ? r->id : "(none)");
		return 1;
	}
	if (!state_aws_name_ok(r->service) ||
	    !state_aws_name_ok(r->environment)) {
		errs_add(e, "cannot write journal record '%s': service and "
			 "environment must be plain names", r->id);
		return 1;
	}
	return 0;
}

int state_aws_journal_write(struct state *st, const struct deploy_record *r,
			    struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	char *json, *text, *key, *index = NULL, *where = NULL;
	int rc;

	if (bad_names(r, e))
		return -1;
	json = deploy_record_to_json(r, 1);
	text = gantry_xasprintf("%s\n", json);
	key = record_key(a, r->service, r->environment, r->id);
	rc = s3_put(a, key, text);
	if (rc) {
		s3_error(st, e);
		goto out;
	}
	/* The indexes, once per record and process (rewriting them is
	   harmless: a resumed deploy does it again). */
	if (a->indexed && !strcmp(a->indexed, r->id))
		goto out;
	free(key);
	key = ids_key(a, r->id);
	where = gantry_xasprintf("%s/%s\n", r->service, r->environment);
	if ((rc = s3_put(a, key, where))) {
		s3_error(st, e);
		goto out;
	}
	index = env_index_id(a, r->service, r->environment);
	if (!(rc = index_add(a, index, "ids", r->id, 1))) {
		free(index);
		index = service_index_id(a, r->service);
		rc = index_add(a, index, "envs", r->environment, 0);
	}
	if (rc) {
		state_aws_ddb_error(st, e);
		goto out;
	}
	free(a->indexed);
	a->indexed = gantry_xstrdup(r->id);
out:
	free(where);
	free(index);
	free(key);
	free(text);
	free(json);
	return rc ? -1 : 0;
}

/* Reads and parses the record at key: 0, 1 missing, -1 S3 error, -2
   unreadable record (a line in e either way). */
static int read_record(struct state *st, const char *key,
		       struct deploy_record *r, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	char *text = NULL, *what;
	int rc;

	rc = s3_get(a, key, &text);
	if (rc < 0) {
		s3_error(st, e);
		return -1;
	}
	if (rc > 0)
		return 1;
	what = gantry_xasprintf("s3://%s/%s", a->bucket, key);
	rc = deploy_record_from_json(r, text, what, e) < 0 ? -2 : 0;
	free(what);
	free(text);
	return rc;
}

int state_aws_journal_read(struct state *st, const char *id,
			   struct deploy_record *r, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	char *key = NULL, *where = NULL, *slash;
	int rc = 1;

	memset(r, 0, sizeof(*r));
	if (check_bucket(st, e) < 0)
		return -1;
	if (id_ok(id)) {
		key = ids_key(a, id);
		rc = s3_get(a, key, &where);
		free(key);
		key = NULL;
	}
	if (rc < 0) {
		s3_error(st, e);
		return -1;
	}
	if (rc == 0) {
		where[strcspn(where, "\n")] = '\0';
		slash = strchr(where, '/');
		if (slash && slash != where && slash[1] &&
		    !strchr(slash + 1, '/')) {
			*slash = '\0';
			key = record_key(a, where, slash + 1, id);
			rc = read_record(st, key, r, e);
		} else {
			rc = 1;
		}
	}
	if (rc > 0)
		errs_add(e, "no deploy '%s' in %s; see 'gantry history'",
			 id ? id : "", st->where);
	free(where);
	free(key);
	return rc ? -1 : 0;
}

struct listed {
	char *id;
	const char *env;	/* points into the envs array */
};

static int cmp_listed(const void *x, const void *y)
{
	const struct listed *p = x, *q = y;

	return strcmp(q->id, p->id);
}

/* Newest first by start time; ids break ties (as journal_list). */
static int cmp_records(const void *x, const void *y)
{
	const struct deploy_record *p = x, *q = y;

	if (p->started != q->started)
		return p->started < q->started ? 1 : -1;
	return strcmp(q->id, p->id);
}

/* Appends the members of string-set path of doc to *v. */
static void set_collect(const struct gantry_json *doc, const char *path,
			char ***v, size_t *n, size_t *alloc)
{
	const struct gantry_json *set = gantry_json_get(doc, path);
	size_t i;

	for (i = 0; i < gantry_json_length(set); i++) {
		const char *s = gantry_json_string(gantry_json_at(set, i), "",
						   NULL);

		if (!s)
			continue;
		GANTRY_GROW(*v, *n + 1, *alloc);
		(*v)[(*n)++] = gantry_xstrdup(s);
	}
}

/* The ids of (service, each of envs), newest first, at most LIST_MAX. */
static int list_ids(struct aws_state *a, const char *service, char **envs,
		    size_t nenvs, struct listed **out, size_t *n)
{
	size_t alloc = 0, i, k, nids, aids;
	struct gantry_json *item;
	char *index, **ids;
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (i = 0; i < nenvs && !rc; i++) {
		index = env_index_id(a, service, envs[i]);
		rc = state_aws_get(a, index, &item);
		free(index);
		if (rc)
			break;
		ids = NULL;
		nids = aids = 0;
		set_collect(item, "Item.ids.SS", &ids, &nids, &aids);
		gantry_json_free(item);
		for (k = 0; k < nids; k++) {
			if (!id_ok(ids[k])) {
				free(ids[k]);
				continue;
			}
			GANTRY_GROW(*out, *n + 1, alloc);
			(*out)[*n].id = ids[k];
			(*out)[(*n)++].env = envs[i];
		}
		free(ids);
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_listed);
	for (i = LIST_MAX; i < *n; i++)
		free((*out)[i].id);
	if (*n > LIST_MAX)
		*n = LIST_MAX;
	return rc;
}

/*
 * Lists through the table's indexes rather than S3 ListObjectsV2: the
 * libgantry client signs no query strings, and the indexes are updated
 * atomically by every writer.  Then one GET per record, newest LIST_MAX.
 */
int state_aws_journal_list(struct state *st, const char *service,
			   const char *environment,
			   struct deploy_record **out, size_t *n,
			   struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct gantry_json *item = NULL;
	struct listed *ids = NULL;
	char **envs = NULL, *key;
	size_t nenvs = 0, aenvs = 0, nids = 0, alloc = 0, i;
	int rc;

	*out = NULL;
	*n = 0;
	if (!state_aws_name_ok(service)) {
		errs_add(e, "state backend (%s): deploys are listed per "
			 "service; give a service", st->where);
		return -1;
	}
	if (check_bucket(st, e) < 0)
		return -1;
	if (environment) {
		GANTRY_GROW(envs, 1, aenvs);
		envs[nenvs++] = gantry_xstrdup(environment);
	} else {
		key = service_index_id(a, service);
		rc = state_aws_get(a, key, &item);
		free(key);
		if (rc) {
			state_aws_ddb_error(st, e);
			return -1;
		}
		set_collect(item, "Item.envs.SS", &envs, &nenvs, &aenvs);
		gantry_json_free(item);
	}
	rc = list_ids(a, service, envs, nenvs, &ids, &nids);
	if (rc)
		state_aws_ddb_error(st, e);
	for (i = 0; i < nids && !rc; i++) {
		struct errs re = { 0 };
		struct deploy_record *r;
		int got;

		GANTRY_GROW(*out, *n + 1, alloc);
		r = &(*out)[*n];
		key = record_key(a, service, ids[i].env, ids[i].id);
		got = read_record(st, key, r, &re);
		if (got == -1) {
			/* S3 itself failed: the list would be wrong. */
			errs_add(e, "%s", re.msg[0]);
			rc = -1;
		} else if (got == -2) {
			/* As the local journal: a bad record is skipped. */
			gantry_log(NULL, GANTRY_LOG_WARN, "skipping %s",
				   re.msg[0]);
		} else if (got > 0) {
			gantry_log(NULL, GANTRY_LOG_WARN, "skipping deploy "
				   "'%s': s3://%s/%s is missing", ids[i].id,
				   a->bucket, key);
		} else if (strcmp(r->service, service) ||
			   strcmp(r->environment, ids[i].env)) {
			deploy_record_release(r);
		} else {
			(*n)++;
		}
		errs_clear(&re);
		free(key);
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_records);
	for (i = 0; i < nids; i++)
		free(ids[i].id);
	free(ids);
	for (i = 0; i < nenvs; i++)
		free(envs[i]);
	free(envs);
	if (rc) {
		journal_list_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
