/*
 * state_aws_decision.c - decisions on approval requests in the aws
 * backend: one DynamoDB item per request in the lock table, id
 * "approval@<key>", its decision as JSON in attribute "decision".
 * A conditional PutItem (attribute_not_exists) writes it at most once,
 * whichever machine decides first; reads are consistent.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "state_aws.h"

static char *item_id(const char *key)
{
	return gantry_xasprintf("approval@%s", key);
}

int state_aws_decision_get(struct state *st, const char *key,
			   struct approval_decision *d, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct gantry_json *item = NULL;
	char *id = item_id(key), *what;
	const char *text;
	int rc;

	memset(d, 0, sizeof(*d));
	rc = state_aws_get(a, id, &item);
	if (rc) {
		state_aws_ddb_error(st, e);
		free(id);
		return -1;
	}
	if (!item) {
		free(id);
		return 1;
	}
	text = gantry_json_string(item, "Item.decision.S", "");
	what = gantry_xasprintf("%s (item '%s')", st->where, id);
	rc = decision_from_json(text, what, d, e);
	free(what);
	free(id);
	gantry_json_free(item);
	return rc;
}

int state_aws_decision_put(struct state *st, const char *key,
			   const struct approval_decision *d,
			   struct approval_decision *first, struct errs *e)
{
	struct aws_state *a = state_aws_priv(st);
	struct gantry_json *req = gantry_json_new_object(), *item;
	char *id = item_id(key), *text = decision_to_json(d);
	int rc;

	gantry_json_set_string(req, "TableName", a->table);
	item = gantry_json_set_object(req, "Item");
	state_aws_attr_s(item, "id", id);
	state_aws_attr_s(item, "decision", text);
	gantry_json_set_string(req, "ConditionExpression",
			       "attribute_not_exists(id)");
	rc = state_aws_ddb(a, "PutItem", req, NULL);
	free(text);
	free(id);
	if (!rc)
		return 0;
	if (!strcmp(gantry_aws_error_code(a->aws),
		    "ConditionalCheckFailedException"))
		return state_aws_decision_get(st, key, first, e) == 0 ? 1 : -1;
	state_aws_ddb_error(st, e);
	return -1;
}
