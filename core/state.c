/*
 * state.c - the state interface and its local backend (journal.c and
 * lock.c under the state directory).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "state.h"

static int local_journal_write(struct state *st, const struct deploy_record *r,
			       struct errs *e)
{
	return journal_write(st->dir, r, e);
}

static int local_journal_read(struct state *st, const char *id,
			      struct deploy_record *r, struct errs *e)
{
	return journal_read(st->dir, id, r, e);
}

static int local_journal_list(struct state *st, const char *service,
			      const char *environment,
			      struct deploy_record **out, size_t *n,
			      struct errs *e)
{
	return journal_list(st->dir, service, environment, out, n, e);
}

static int local_lock_acquire(struct state *st, const char *service,
			      const char *environment,
			      const struct lock_holder *me,
			      struct lock_holder *prev, int *stale,
			      struct errs *e)
{
	return lock_acquire(&st->lock, st->dir, service, environment, me, prev,
			    stale, e);
}

static void local_lock_release(struct state *st)
{
	lock_release(&st->lock);
}

static int local_lock_inspect(struct state *st, const char *service,
			      const char *environment, struct lock_holder *h,
			      struct errs *e)
{
	return lock_inspect(st->dir, service, environment, h, e);
}

static int local_lock_remove(struct state *st, const char *service,
			     const char *environment, struct lock_holder *h,
			     struct errs *e)
{
	return lock_remove(st->dir, service, environment, h, e);
}

static int local_decision_put(struct state *st, const char *key,
			      const struct approval_decision *d,
			      struct approval_decision *first,
			      struct errs *e)
{
	return decision_local_put(st->dir, key, d, first, e);
}

static int local_decision_get(struct state *st, const char *key,
			      struct approval_decision *d, struct errs *e)
{
	return decision_local_get(st->dir, key, d, e);
}

static const struct state_ops local_ops = {
	.name = "local",
	.journal_write = local_journal_write,
	.journal_read = local_journal_read,
	.journal_list = local_journal_list,
	.lock_acquire = local_lock_acquire,
	.lock_release = local_lock_release,
	.lock_inspect = local_lock_inspect,
	.lock_remove = local_lock_remove,
	.decision_put = local_decision_put,
	.decision_get = local_decision_get,
};

int state_open(struct state **out, const char *dir,
	       const struct gantry_config *cfg, struct errs *e)
{
	struct state *st = gantry_xcalloc(1, sizeof(*st));
	const char *backend = gantry_config_string(cfg, "backend", "local");

	st->dir = gantry_xstrdup(dir);
	st->lock.fd = -1;
	*out = st;
	if (!strcmp(backend, "local")) {
		st->ops = &local_ops;
		st->where = gantry_xstrdup(dir);
		return 0;
	}
	if (!strcmp(backend, "aws"))
		return state_aws_open(st, cfg, e);
	errs_add(e, "%s: unknown state backend '%s'; use \"local\" or \"aws\"",
		 gantry_config_where(gantry_config_lookup(cfg, "backend")),
		 backend);
	st->ops = &local_ops;
	return -1;
}

void state_tick(struct state *st)
{
	if (st && st->ops->tick)
		st->ops->tick(st);
}

void state_close(struct state *st)
{
	if (!st)
		return;
	if (st->ops && st->ops->close)
		st->ops->close(st);
	lock_release(&st->lock);
	free(st->where);
	free(st->dir);
	free(st);
}
