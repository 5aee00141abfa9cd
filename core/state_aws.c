/*
 * state_aws.c - the shared state backend: the journal in S3, the lock as
 * a DynamoDB lease, for teams whose deploys run on many machines.
 *
 * The lock of (service, env) is the item {id: "<service>@<env>", holder:
 * the holder record (JSON, as lock.c writes it), lease_until: epoch
 * seconds, token: random, ours} in the table.  What must stay true:
 *   - it is taken only by a conditional PutItem ("no item, or its lease
 *     has run out"): DynamoDB serialises writes to one item, so of two
 *     runners trying at the same moment exactly one wins;
 *   - every later write of the holder (renewal, release) is conditional
 *     on its token, so a deploy whose lease ran out and was taken over
 *     can never renew or delete the new holder's lease;
 *   - an item whose lease ran out is stale: its holder died or lost its
 *     way to AWS.  Leases compare wall clocks of different machines, so
 *     their clocks must agree to well within lease_seconds (NTP).
 * The lease is renewed from state_tick every lease_seconds / 3.  A deploy
 * that loses its lease anyway (stuck longer than the lease, or taken
 * over) cannot be stopped from here: it logs an error line and goes on.
 *
 * The journal: each record is s3://bucket/<prefix>/<service>/<env>/<id>.json,
 * rewritten whole at each stage boundary (a PUT replaces an object
 * atomically).  The id alone names neither service nor environment, so
 * the first write of a record also puts <prefix>/ids/<id> ("service/env")
 * for journal_read.  Listing needs no S3 listing call (the client signs
 * no query strings; see state_aws_journal_list): the table keeps, per
 * (service, env), the item "journal-ids:<bucket>/<prefix>/<service>/<env>"
 * with the string set of its ids, and per service the item
 * "journal-envs:<bucket>/<prefix>/<service>" with the set of its
 * environments, both grown with UpdateItem ADD, which is atomic, so
 * concurrent deploys never lose each other's entries.
 *
 * state_aws.c holds the settings, the DynamoDB plumbing and the errors;
 * state_aws_lock.c the lease; state_aws_journal.c the records.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_aws.h"

#define LEASE_DEFAULT 60
#define LEASE_MIN 3
#define LEASE_MAX 3600

/*
 * Errors: one line naming the backend, the AWS error and what to do.
 */

static const char *ddb_fix(struct aws_state *a)
{
	const char *code = gantry_aws_error_code(a->aws);

	if (!strcmp(code, "ResourceNotFoundException"))
		return "create the table (partition key 'id', type S) or fix "
			"state.table and state.region in gantry.cfg";
	if (!strcmp(code, "ValidationException"))
		return "the table's partition key must be the string 'id'";
	return "check state.table, state.region and the credentials";
}

void state_aws_ddb_error(struct state *st, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);

	errs_add(e, "state backend (%s): %s; %s (table '%s')", st->where,
		 gantry_aws_error_line(a->aws), ddb_fix(a), a->table);
}

/*
 * DynamoDB requests are built as JSON documents (the values are user
 * text and must be escaped) and sent through the libgantry client.
 */

void state_aws_attr_s(struct gantry_json *o, const char *key, const char *v)
{
	gantry_json_set_string(gantry_json_set_object(o, key), "S", v);
}

/* A request on the item id of the table: {"TableName", "Key"}. */
struct gantry_json *state_aws_request(struct aws_state *a, const char *id)
{
	struct gantry_json *req = gantry_json_new_object();

	gantry_json_set_string(req, "TableName", a->table);
	state_aws_attr_s(gantry_json_set_object(req, "Key"), "id", id);
	return req;
}

/* ExpressionAttributeValues, created on first use. */
struct gantry_json *state_aws_values(struct gantry_json *req)
{
	struct gantry_json *vals = gantry_json_get(req,
						   "ExpressionAttributeValues");

	return vals ? vals : gantry_json_set_object(req,
					"ExpressionAttributeValues");
}

/* Sends req (consumed); 0 with *out (may be NULL), or a negative code. */
int state_aws_ddb(struct aws_state *a, const char *op,
		  struct gantry_json *req, struct gantry_json **out)
{
	int rc = gantry_aws_json(a->aws, "dynamodb", op,
				 gantry_json_text(req, 0), out);

	gantry_json_free(req);
	return rc;
}

/* Reads item id with a consistent read: 0 with *item (NULL when there
   is none; else the response, attributes under "Item."), or < 0. */
int state_aws_get(struct aws_state *a, const char *id,
		  struct gantry_json **item)
{
	struct gantry_json *req = state_aws_request(a, id);
	struct gantry_json *out = NULL;
	int rc;

	*item = NULL;
	gantry_json_set_bool(req, "ConsistentRead", 1);
	rc = state_aws_ddb(a, "GetItem", req, &out);
	if (rc)
		return rc;
	if (gantry_json_get(out, "Item"))
		*item = out;
	else
		gantry_json_free(out);
	return 0;
}

int state_aws_name_ok(const char *s)
{
	return s && *s && *s != '.' && !strchr(s, '/');
}

/*
 * Opening and closing.
 */

static void aws_close(struct state *st)
{
	struct aws_state *a = state_aws_priv(st);

	if (!a)
		return;
	/* The core releases the lock itself; this is for error paths. */
	state_aws_lock_release(st);
	gantry_aws_free(a->aws);
	gantry_i_ctx_free(a->ctx);
	free(a->bucket);
	free(a->table);
	free(a->prefix);
	free(a->indexed);
	free(a);
	st->priv = NULL;
}

static const struct state_ops aws_ops = {
	.name = "aws",
	.journal_write = state_aws_journal_write,
	.journal_read = state_aws_journal_read,
	.journal_list = state_aws_journal_list,
	.lock_acquire = state_aws_lock_acquire,
	.lock_release = state_aws_lock_release,
	.lock_inspect = state_aws_lock_inspect,
	.lock_remove = state_aws_lock_remove,
	.decision_put = state_aws_decision_put,
	.decision_get = state_aws_decision_get,
	.tick = state_aws_tick,
	.close = aws_close,
};

static const char *where_of(const struct gantry_config *cfg, const char *key)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	return gantry_config_where(c ? c : cfg);
}

/* A required non-empty string; NULL with e. */
static const char *required(const struct gantry_config *cfg, const char *key,
			    const char *what, struct errs *e)
{
	const char *v = gantry_config_string(cfg, key, NULL);

	if (v && *v)
		return v;
	errs_add(e, "%s: state backend \"aws\" needs '%s' (%s); add it to "
		 "the state group", where_of(cfg, "backend"), key, what);
	return NULL;
}

static char *trim_slashes(const char *s)
{
	size_t n;

	while (*s == '/')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	return gantry_xstrndup(s, n);
}

static void ctx_set(struct gantry_ctx *ctx, const struct gantry_config *cfg,
		    const char *key, const char *ctx_key)
{
	const char *v = gantry_config_string(cfg, key, NULL);

	if (v && *v)
		gantry_i_kv_set(&ctx->values, ctx_key, v, 0);
}

int state_aws_open(struct state *st, const struct gantry_config *cfg,
		   struct errs *e)
{
	const struct gantry_config *lc = gantry_config_lookup(cfg,
							      "lease_seconds");
	const char *bucket, *table;
	struct aws_state *a;
	long long lease = LEASE_DEFAULT;
	char num[32];

	st->ops = &aws_ops;
	bucket = required(cfg, "bucket", "the S3 bucket of the journal", e);
	table = required(cfg, "table", "the DynamoDB table of the locks, "
			 "partition key 'id' of type S", e);
	if (lc) {
		lease = gantry_config_type(lc) == GANTRY_OPT_INT ?
			gantry_config_int(cfg, "lease_seconds", 0) : -1;
		if (lease < LEASE_MIN || lease > LEASE_MAX) {
			errs_add(e, "%s: 'lease_seconds' must be a number of "
				 "seconds from %d to %d",
				 gantry_config_where(lc), LEASE_MIN, LEASE_MAX);
			return -1;
		}
	}
	if (!bucket || !table)
		return -1;

	a = gantry_xcalloc(1, sizeof(*a));
	st->priv = a;
	a->bucket = gantry_xstrdup(bucket);
	a->table = gantry_xstrdup(table);
	a->prefix = trim_slashes(gantry_config_string(cfg, "prefix", "gantry"));
	a->lease = (long)lease;
	st->where = *a->prefix ?
		gantry_xasprintf("s3://%s/%s", a->bucket, a->prefix) :
		gantry_xasprintf("s3://%s", a->bucket);

	a->ctx = gantry_i_ctx_new("state");
	ctx_set(a->ctx, cfg, "region", "aws.region");
	ctx_set(a->ctx, cfg, "role_arn", "aws.role_arn");
	ctx_set(a->ctx, cfg, "endpoint_url", "aws.endpoint_url");
	/* A renewal that retries or waits longer than a third of the lease
	   blocks the deploy's wait loop and may lose the lease anyway. */
	snprintf(num, sizeof(num), "%ld", a->lease / 3 > 5 ? a->lease / 3 : 5);
	gantry_i_kv_set(&a->ctx->values, "aws.max_retry_seconds", num, 0);
	snprintf(num, sizeof(num), "%ld", a->lease * 1000 / 3 < 5000 ? 5000 :
		 a->lease * 1000 / 3 > 30000 ? 30000 : a->lease * 1000 / 3);
	gantry_i_kv_set(&a->ctx->values, "aws.timeout_ms", num, 0);
	a->aws = gantry_aws_new(a->ctx);
	return 0;
}
