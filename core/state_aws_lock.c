/*
 * state_aws_lock.c - the deploy lock as a DynamoDB lease (see state_aws.c).
 */
#include "config.h"

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

/* o.key = {"N": "v"}: DynamoDB numbers travel as strings. */
static void attr_n(struct gantry_json *o, const char *key, long long v)
{
	char num[32];

	snprintf(num, sizeof(num), "%lld", v);
	gantry_json_set_string(gantry_json_set_object(o, key), "N", num);
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

/* Fills h from the holder attribute at path of doc (a record as lock.c
   writes it); "?" when corrupt. */
static void holder_from(const struct gantry_json *doc, const char *path,
			struct lock_holder *h)
{
	lock_holder_from_json(gantry_json_string(doc, path, NULL), h);
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
	struct gantry_json *req = gantry_json_new_object(), *item;
	struct gantry_json *out = NULL;
	long long now = wall_now();
	int rc;

	gantry_json_set_string(req, "TableName", a->table);
	item = gantry_json_set_object(req, "Item");
	state_aws_attr_s(item, "id", id);
	state_aws_attr_s(item, "holder", holder);
	attr_n(item, "lease_until", now + a->lease);
	state_aws_attr_s(item, "token", token);
	gantry_json_set_string(req, "ConditionExpression",
			       "attribute_not_exists(id) OR "
			       "lease_until < :now");
	attr_n(state_aws_values(req), ":now", now);
	gantry_json_set_string(req, "ReturnValues", "ALL_OLD");
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
	holder = lock_holder_to_json(me);
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
static void if_mine(struct gantry_json *req, const char *token)
{
	struct gantry_json *names = gantry_json_set_object(req,
						"ExpressionAttributeNames");

	/* "token" is a DynamoDB reserved word. */
	gantry_json_set_string(names, "#t", "token");
	gantry_json_set_string(req, "ConditionExpression", "#t = :mine");
	state_aws_attr_s(state_aws_values(req), ":mine", token);
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
	struct gantry_json *req;
	int rc;

	if (!a->lock_id || a->lost || now - a->renewed < a->lease / 3.0)
		return;
	req = state_aws_request(a, a->lock_id);
	gantry_json_set_string(req, "UpdateExpression",
			       "SET lease_until = :until");
	attr_n(state_aws_values(req), ":until", wall_now() + a->lease);
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
	struct gantry_json *req;

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
	struct gantry_json *req;
	char *id;
	int rc = -1, tries;

	if (!h)
		h = &scratch;
	memset(h, 0, sizeof(*h));
	if (!(id = lock_id(service, environment, e)))
		return -1;
	for (tries = 0; tries < RACE_TRIES; tries++) {
		req = state_aws_request(a, id);
		gantry_json_set_string(req, "ConditionExpression",
				       "attribute_not_exists(id) OR "
				       "lease_until < :now");
		attr_n(state_aws_values(req), ":now", wall_now());
		gantry_json_set_string(req, "ReturnValues", "ALL_OLD");
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
