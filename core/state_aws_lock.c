/*
 * state_aws_lock.c - the deploy lock as a DynamoDB lease (see state_aws.c).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "state_aws.h"

/* Acquire and remove retry when the item changed hands between their
   conditional write and the read that explains its failure. */
#define RACE_TRIES 5

static int ddb_condition_failed(struct aws_state *a)
{
	return !strcmp(gantry_aws_error_code(a->aws),
		       "ConditionalCheckFailedException");
}

static json_object *attr_n(long long v)
{
	json_object *o = json_object_new_object();
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	json_object_object_add(o, "N", json_object_new_string(num));
	return o;
}

static long long item_num(const struct gantry_json *doc, const char *path)
{
	const char *v = gantry_json_string(doc, path, NULL);

	return v ? strtoll(v, NULL, 10) : 0;
}

static long long wall_now(void)
{
	return (long long)time(NULL);
}

/*
 * Holder records: the same JSON object as lock.c's (id, user, host,
 * pid, started), so both backends show a refused deploy the same thing.
 */

static char *holder_json(const struct lock_holder *me)
{
	json_object *o = json_object_new_object();
	double started = me->started;
	char num[64], *text;

	if (!isfinite(started) || started < 0)
		started = 0;
	snprintf(num, sizeof(num), "%.3f", started);
	state_aws_add_str(o, "id", me->id ? me->id : "?");
	state_aws_add_str(o, "user", me->user ? me->user : "?");
	state_aws_add_str(o, "host", me->host ? me->host : "?");
	json_object_object_add(o, "pid", json_object_new_int64(
		me->pid > 0 ? (int64_t)me->pid : (int64_t)getpid()));
	json_object_object_add(o, "started",
			       json_object_new_double_s(started, num));
	text = gantry_i_redact(gantry_i_json_text(o,
			       JSON_C_TO_STRING_PLAIN |
			       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return text;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "?";
	return json_object_get_string(v);
}

/* Fills h from the holder attribute at path of doc; "?" when corrupt. */
static void holder_from(const struct gantry_json *doc, const char *path,
			struct lock_holder *h)
{
	json_object *o = json_tokener_parse(gantry_json_string(doc, path, ""));
	json_object *v;

	lock_holder_release(h);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	h->id = gantry_xstrdup(json_str(o, "id"));
	h->user = gantry_xstrdup(json_str(o, "user"));
	h->host = gantry_xstrdup(json_str(o, "host"));
	if (o && json_object_object_get_ex(o, "pid", &v) &&
	    json_object_is_type(v, json_type_int))
		h->pid = (long)json_object_get_int64(v);
	if (o && json_object_object_get_ex(o, "started", &v) &&
	    (json_object_is_type(v, json_type_double) ||
	     json_object_is_type(v, json_type_int)))
		h->started = json_object_get_double(v);
	if (o)
		json_object_put(o);
}

static char *lock_id(const char *service, const char *environment,
		     struct errs *e)
{
	if (!state_aws_name_ok(service) || !state_aws_name_ok(environment)) {
		errs_add(e, "invalid lock name '%s@%s': service and "
			 "environment must be non-empty, must not start with "
			 "'.' and must not contain '/'", service ? service : "",
			 environment ? environment : "");
		return NULL;
	}
	return gantry_xasprintf("%s@%s", service, environment);
}

static char *new_token(void)
{
	unsigned char rnd[16];
	char hex[2 * sizeof(rnd) + 1];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		/* Tokens only tell our lease from a later holder's; the
		   clock and pid keep them apart well enough. */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		for (i = 0; i < sizeof(rnd); i++)
			rnd[i] = (unsigned char)
				(((unsigned long)ts.tv_nsec >> (i % 4 * 8)) ^
				 ((unsigned long)getpid() >> i));
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	return gantry_xstrdup(hex);
}

/*
 * The lease.
 */

static void held_clear(struct aws_state *a)
{
	free(a->lock_id);
	free(a->service);
	free(a->environment);
	free(a->token);
	a->lock_id = a->service = a->environment = a->token = NULL;
	a->lost = 0;
	a->renew_failing = 0;
}

/* The conditional PutItem: 0 taken (*stale, prev when an expired lease
   was replaced), 1 the condition failed, < 0 error. */
static int lease_put(struct aws_state *a, const char *id, const char *holder,
		     const char *token, struct lock_holder *prev, int *stale)
{
	json_object *req = json_object_new_object(), *item;
	struct gantry_json *out = NULL;
	long long now = wall_now();
	int rc;

	state_aws_add_str(req, "TableName", a->table);
	item = json_object_new_object();
	json_object_object_add(item, "id", state_aws_attr_s(id));
	json_object_object_add(item, "holder", state_aws_attr_s(holder));
	json_object_object_add(item, "lease_until", attr_n(now + a->lease));
	json_object_object_add(item, "token", state_aws_attr_s(token));
	json_object_object_add(req, "Item", item);
	state_aws_add_str(req, "ConditionExpression",
			  "attribute_not_exists(id) OR lease_until < :now");
	state_aws_add_value(req, ":now", attr_n(now));
	state_aws_add_str(req, "ReturnValues", "ALL_OLD");
	rc = state_aws_ddb(a, "PutItem", req, &out);
	if (rc)
		return ddb_condition_failed(a) ? 1 : rc;
	/* Released items are deleted: one still there had run out. */
	if (gantry_json_get(out, "Attributes.holder")) {
		holder_from(out, "Attributes.holder.S", prev);
		*stale = 1;
	}
	gantry_json_free(out);
	return 0;
}

int state_aws_lock_acquire(struct state *st, const char *service,
			   const char *environment,
			   const struct lock_holder *me,
			   struct lock_holder *prev, int *stale,
			   struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct lock_holder scratch = { 0 };
	struct lock_holder *h = prev ? prev : &scratch;
	struct gantry_json *item = NULL;
	char *id, *holder, *token;
	int tries, rc = -1, dummy = 0;

	memset(h, 0, sizeof(*h));
	if (!stale)
		stale = &dummy;
	*stale = 0;
	if (!(id = lock_id(service, environment, e)))
		return -1;
	holder = holder_json(me);
	token = new_token();
	for (tries = 0; tries < RACE_TRIES; tries++) {
		rc = lease_put(a, id, holder, token, h, stale);
		if (rc <= 0)
			break;
		/* Someone holds it: who, unless it went in between. */
		if ((rc = state_aws_get(a, id, &item)) < 0)
			break;
		rc = 1;
		if (item &&
		    item_num(item, "Item.lease_until.N") >= wall_now()) {
			holder_from(item, "Item.holder.S", h);
			break;
		}
		gantry_json_free(item);
		item = NULL;
	}
	gantry_json_free(item);
	if (rc < 0) {
		state_aws_ddb_error(st, e);
	} else if (rc == 1 && tries == RACE_TRIES) {
		errs_add(e, "state backend (%s): the lock of %s kept changing "
			 "hands while being taken; try again", st->where, id);
		rc = -1;
	}
	if (rc == 0) {
		held_clear(a);
		a->lock_id = id;
		a->service = gantry_xstrdup(service);
		a->environment = gantry_xstrdup(environment);
		a->token = token;
		a->renewed = gantry_now();
		id = token = NULL;
	} else {
		if (rc < 0)
			lock_holder_release(h);
		*stale = 0;
	}
	lock_holder_release(&scratch);
	free(holder);
	free(token);
	free(id);
	return rc;
}

/* Makes req conditional on the lease still being ours. */
static void if_mine(json_object *req, const char *token)
{
	json_object *names = json_object_new_object();

	/* "token" is a DynamoDB reserved word. */
	state_aws_add_str(names, "#t", "token");
	json_object_object_add(req, "ExpressionAttributeNames", names);
	state_aws_add_str(req, "ConditionExpression", "#t = :mine");
	state_aws_add_value(req, ":mine", state_aws_attr_s(token));
}

/* Logs who holds the lock we lost, once. */
static void report_lost(struct aws_state *a)
{
	struct gantry_json *item = NULL;
	struct lock_holder h = { 0 };

	a->lost = 1;
	if (state_aws_get(a, a->lock_id, &item) == 0 && item)
		holder_from(item, "Item.holder.S", &h);
	if (h.id)
		gantry_log(NULL, GANTRY_LOG_ERROR, "lost the deploy lock of "
			   "%s/%s to deploy '%s' of %s on %s; another deploy "
			   "may be running: this one goes on, check the "
			   "result of both", a->service, a->environment, h.id,
			   h.user, h.host);
	else
		gantry_log(NULL, GANTRY_LOG_ERROR, "lost the deploy lock of "
			   "%s/%s: its lease expired and was removed; another "
			   "deploy may start: this one goes on", a->service,
			   a->environment);
	lock_holder_release(&h);
	gantry_json_free(item);
}

void state_aws_tick(struct state *st)
{
	struct aws_state *a = state_aws_priv(st);
	double now = gantry_now();
	json_object *req;
	int rc;

	if (!a->lock_id || a->lost || now - a->renewed < a->lease / 3.0)
		return;
	req = state_aws_request(a, a->lock_id);
	state_aws_add_str(req, "UpdateExpression", "SET lease_until = :until");
	state_aws_add_value(req, ":until", attr_n(wall_now() + a->lease));
	if_mine(req, a->token);
	rc = state_aws_ddb(a, "UpdateItem", req, NULL);
	if (!rc) {
		if (a->renew_failing)
			gantry_log(NULL, GANTRY_LOG_INFO, "renewed the deploy "
				   "lock of %s/%s again", a->service,
				   a->environment);
		a->renewed = now;
		a->renew_failing = 0;
	} else if (ddb_condition_failed(a)) {
		report_lost(a);
	} else if (!a->renew_failing) {
		/* Tried again next tick, while the lease lasts. */
		a->renew_failing = 1;
		gantry_log(NULL, GANTRY_LOG_WARN, "cannot renew the deploy "
			   "lock of %s/%s (%s); retrying: it expires %ld s "
			   "after the last renewal", a->service,
			   a->environment, gantry_aws_error_line(a->aws),
			   a->lease);
	}
}

void state_aws_lock_release(struct state *st)
{
	struct aws_state *a = state_aws_priv(st);
	json_object *req;

	if (!a->lock_id)
		return;
	if (!a->lost) {
		req = state_aws_request(a, a->lock_id);
		if_mine(req, a->token);
		if (state_aws_ddb(a, "DeleteItem", req, NULL) &&
		    !ddb_condition_failed(a))
			gantry_log(NULL, GANTRY_LOG_WARN, "cannot release the "
				   "deploy lock of %s/%s (%s); it expires by "
				   "itself within %ld s", a->service,
				   a->environment,
				   gantry_aws_error_line(a->aws), a->lease);
	}
	held_clear(a);
}

int state_aws_lock_inspect(struct state *st, const char *service,
			   const char *environment, struct lock_holder *h,
			   struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct lock_holder scratch = { 0 };
	struct gantry_json *item = NULL;
	char *id;
	int rc;

	if (!h)
		h = &scratch;
	memset(h, 0, sizeof(*h));
	if (!(id = lock_id(service, environment, e)))
		return -1;
	rc = state_aws_get(a, id, &item);
	if (rc < 0) {
		state_aws_ddb_error(st, e);
		rc = -1;
	} else if (item) {
		holder_from(item, "Item.holder.S", h);
		rc = item_num(item, "Item.lease_until.N") >= wall_now() ? 1 : 2;
	}
	gantry_json_free(item);
	lock_holder_release(&scratch);
	free(id);
	return rc;
}

int state_aws_lock_remove(struct state *st, const char *service,
			  const char *environment, struct lock_holder *h,
			  struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct lock_holder scratch = { 0 };
	struct gantry_json *out = NULL;
	json_object *req;
	char *id;
	int rc = -1, tries;

	if (!h)
		h = &scratch;
	memset(h, 0, sizeof(*h));
	if (!(id = lock_id(service, environment, e)))
		return -1;
	for (tries = 0; tries < RACE_TRIES; tries++) {
		req = state_aws_request(a, id);
		state_aws_add_str(req, "ConditionExpression",
				  "attribute_not_exists(id) OR "
				  "lease_until < :now");
		state_aws_add_value(req, ":now", attr_n(wall_now()));
		state_aws_add_str(req, "ReturnValues", "ALL_OLD");
		rc = state_aws_ddb(a, "DeleteItem", req, &out);
		if (!rc) {
			/* h names whose stale lease went, if any. */
			if (gantry_json_get(out, "Attributes.holder"))
				holder_from(out, "Attributes.holder.S", h);
			break;
		}
		if (!ddb_condition_failed(a))
			break;
		rc = state_aws_get(a, id, &out);
		if (rc < 0)
			break;
		rc = 1;
		if (out && item_num(out, "Item.lease_until.N") >= wall_now()) {
			holder_from(out, "Item.holder.S", h);
			break;
		}
		gantry_json_free(out);
		out = NULL;
	}
	gantry_json_free(out);
	if (rc < 0) {
		state_aws_ddb_error(st, e);
		rc = -1;
	} else if (rc == 1 && tries == RACE_TRIES) {
		errs_add(e, "state backend (%s): the lock of %s kept changing "
			 "hands while being removed; try again", st->where, id);
		rc = -1;
	}
	if (rc < 0)
		lock_holder_release(h);
	lock_holder_release(&scratch);
	free(id);
	return rc;
}
