/*
 * state_aws.c - the shared state backend: the journal in S3, the lock as
 * a DynamoDB lease.  (Not written yet: refuses with a clear message.)
 */
#include "config.h"

#include "state.h"

int state_aws_open(struct state *st, const struct gantry_config *cfg,
		   struct errs *e)
{
	(void)st;
	errs_add(e, "%s: the aws state backend is not available in this "
		 "build yet; use backend = \"local\"",
		 gantry_config_where(gantry_config_lookup(cfg, "backend")));
	return -1;
}
