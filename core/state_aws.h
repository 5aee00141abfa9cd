/*
 * state_aws.h - private to the aws state backend: state_aws.c (settings,
 * DynamoDB requests, errors), state_aws_lock.c (the lease) and
 * state_aws_journal.c (records in S3).  See state_aws.c for the design.
 */
#ifndef GANTRY_STATE_AWS_H
#define GANTRY_STATE_AWS_H

#include <gantry/aws.h>

#include "state.h"

struct aws_state {
	struct gantry_ctx *ctx;		/* the client's settings */
	struct gantry_aws *aws;
	char *bucket, *table, *prefix;	/* prefix without slashes, maybe "" */
	long lease;			/* seconds */
	/* the held lock: lock_id is NULL when none is */
	char *lock_id, *service, *environment, *token;
	double renewed;			/* monotonic time of the last renewal */
	int lost;			/* taken over: renew no more */
	int renew_failing;		/* a renewal failed; warned once */
	char *indexed;			/* id of the last record indexed */
	int bucket_checked;		/* the bucket exists */
};

static inline struct aws_state *state_aws_priv(struct state *st)
{
	return st->priv;
}

/* Appends "state backend (<where>): <AWS error line>; <what to do>" for
   the client's last DynamoDB error. */
void state_aws_ddb_error(struct state *st, struct errs *e);

/* Builders for DynamoDB JSON: o.key = the string attribute value
   {"S": v}; a request on item id ({"TableName", "Key"}); the request's
   ExpressionAttributeValues (created on first use), to add values to. */
void state_aws_attr_s(struct gantry_json *o, const char *key, const char *v);
struct gantry_json *state_aws_request(struct aws_state *a, const char *id);
struct gantry_json *state_aws_values(struct gantry_json *req);

/* Sends req (consumed) as operation op: 0 with *out (when out is not
   NULL; free it), or a negative code (gantry_aws_error_*). */
int state_aws_ddb(struct aws_state *a, const char *op,
		  struct gantry_json *req, struct gantry_json **out);
/* Reads item id consistently: 0 with *item (NULL when there is none,
   else the response: attributes under "Item."), or a negative code. */
int state_aws_get(struct aws_state *a, const char *id,
		  struct gantry_json **item);

/* True for a service or environment name usable in keys and ids. */
int state_aws_name_ok(const char *s);

/* The operations (struct state_ops). */
int state_aws_lock_acquire(struct state *st, const char *service,
			   const char *environment,
			   const struct lock_holder *me,
			   struct lock_holder *prev, int *stale,
			   struct errs *e);
void state_aws_lock_release(struct state *st);
int state_aws_lock_inspect(struct state *st, const char *service,
			   const char *environment, struct lock_holder *h,
			   struct errs *e);
int state_aws_lock_remove(struct state *st, const char *service,
			  const char *environment, struct lock_holder *h,
			  struct errs *e);
void state_aws_tick(struct state *st);
int state_aws_journal_write(struct state *st, const struct deploy_record *r,
			    struct errs *e);
int state_aws_journal_read(struct state *st, const char *id,
			   struct deploy_record *r, struct errs *e);
int state_aws_journal_list(struct state *st, const char *service,
			   const char *environment,
			   struct deploy_record **out, size_t *n,
			   struct errs *e);
int state_aws_decision_put(struct state *st, const char *key,
			   const struct approval_decision *d,
			   struct approval_decision *first, struct errs *e);
int state_aws_decision_get(struct state *st, const char *key,
			   struct approval_decision *d, struct errs *e);

#endif
