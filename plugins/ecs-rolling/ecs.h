/*
 * ecs.h - the ecs-rolling stage's private interface: its options, the
 * ECS calls it makes, the wait for a deployment and the explanation of a
 * failed one.  Nothing here is seen outside the plugin.
 *
 *   ecs-rolling.c  the descriptor, options, init/fini and plan
 *   deploy.c       run: start or find the deployment and wait for it
 *   rollback.c     going back: the stage's own recovery, ECS's rollback
 *                  told from success, the rollback callback
 *   ecsapi.c       the ECS and CloudWatch calls
 *   watch.c        polling a deployment until a verdict
 *   explain.c      why a deployment failed
 *   strategy.c     the ECS-native strategies: options, the deployment
 *                  configuration sent for them, plan lines
 *   sdeploy.c      service deployments: waiting for one's outcome, pauses,
 *                  continue, their rollback and in-flight rollback
 */
#ifndef ECS_ROLLING_H
#define ECS_ROLLING_H

#include <stddef.h>

#include <gantry/gantry.h>

/* deploymentConfiguration.strategy */
enum ecs_strategy { S_ROLLING = 0, S_BLUE_GREEN, S_LINEAR, S_CANARY };

struct ecs_opts {
	const char *cluster, *service, *mode, *container, *image;
	int strategy;			/* enum ecs_strategy */
	const char *pause_at;		/* a lifecycle stage, or NULL */
	int canary_tenths, linear_tenths;	/* percent x 10; -1: unset */
	long long canary_bake, linear_bake;	/* seconds; -1: unset */
	long long min_healthy, max_percent, grace, timeout, poll_interval;
	long long desired_count;	/* -1: unchanged */
	long long bake_time, follow_since;
	int circuit_breaker, rollback, force_new;
	const char **alarms;		/* NULL-terminated */
	size_t nalarms;
};

/* One entry of services[].deployments[]; strings point into the
   snapshot's document. */
struct ecs_dep {
	const char *id, *status, *td, *rollout, *reason;
	long long desired, running, pending, failed;
	double created;			/* createdAt, epoch seconds */
};

#define ECS_MAX_DEPS 16

/* One DescribeServices answer for our service. */
struct ecs_snap {
	struct gantry_json *doc;
	struct gantry_json *svc;	/* services[0] */
	struct ecs_dep deps[ECS_MAX_DEPS];
	size_t ndeps;
	long long desired, running;
};

/* What run, plan and rollback share. */
struct ecs {
	struct ecs_opts o;
	struct gantry_ctx *ctx;
	struct gantry_aws *aws;
	double t0;			/* monotonic start of the callback */
	double deadline;		/* monotonic end of the whole budget */
	unsigned budget;		/* seconds: entry timeout or option */
	int sd_api;			/* 1 yes, 0 unknown, -1 absent */
	int has_lb;			/* the service has load balancers (as
					   the last ecs_describe saw it) */

	/* the deployment being followed */
	char *dep_id, *td, *prev_td, *sd_arn;
	char *reason;			/* why it failed, at the end */
	char **seen;			/* event ids already shown */
	size_t nseen;
	size_t nseen_start;		/* events there before we began */
	char *last_progress;
	struct gantry_buf events;		/* the newest events, " | " joined */
	int restore_started;
	int completed;			/* the deployment completed */

	/* service deployments (non-rolling strategies, pauses) */
	int sd_strategy;		/* the strategy followed */
	char *stage;			/* its lifecycle stage, last seen */
	char *hook_id;			/* the PAUSE hook awaiting action */
	char *svc_hooks;		/* the service's lifecycleHooks (JSON
					   text) as ecs_describe saw them */
	int svc_pauses;			/* ... of which PAUSE hooks */
	char *svc_strategy;		/* the service's strategy, or NULL */
};

/* ---- deploy.c */
/* The stage's run callback. */
int ecs_run(void *state, struct gantry_ctx *ctx);
/* Publishes ecs.task_definition, ecs.previous_task_definition,
   ecs.deployment_id, ecs.outcome, ecs.seconds, ecs.strategy,
   ecs.service_deployment, ecs.lifecycle_stage and ecs.hook_id. */
void ecs_publish(struct ecs *e, const char *outcome);
/* 1 in follow mode. */
int ecs_following(const struct ecs *e);
/* The COMPLETED deployment's task definition, else the service's. */
const char *ecs_current_td(const struct ecs_snap *s);

/* ---- ecsapi.c */
/* One ECS call; on failure returns the code with the message recorded
   through gantry_fail ("<what>: <aws error line>"). */
int ecs_call(struct ecs *e, const char *op, const char *body,
	     struct gantry_json **out, const char *what);
int ecs_describe(struct ecs *e, struct ecs_snap *snap);
void ecs_snap_free(struct ecs_snap *snap);
/* The deployment with that id, or the PRIMARY one (id NULL). */
const struct ecs_dep *ecs_find(const struct ecs_snap *snap, const char *id);
/* DescribeTaskDefinition of td; with_tags asks for its tags too
   (include TAGS: a top-level "tags" beside "taskDefinition"). */
int ecs_describe_td(struct ecs *e, const char *td, int with_tags,
		    struct gantry_json **out);
/* The container to update: the named one, the only one, or the one named
   like the service; NULL with a failure recorded. */
struct gantry_json *ecs_pick_container(struct ecs *e, struct gantry_json *td);
/* RegisterTaskDefinition of doc's taskDefinition (a DescribeTaskDefinition
   answer) with container's image replaced: only the members the request
   has, and doc's tags; the new ARN in *arn (malloc'd). */
int ecs_register(struct ecs *e, struct gantry_json *doc, const char *container,
		 const char *image, char **arn);
/* UpdateService to td (NULL: unchanged) with the deployment
   configuration of the options when with_config is set, else (a
   rollback) with the deployment alarms turned off; fills e->dep_id and
   e->sd_arn from the answer when track is set. */
int ecs_update(struct ecs *e, const char *td, int with_config, int track);
/* Asks ECS to roll the tracked deployment back (service deployments API)
   or redeploys prev_td; sets e->restore_started. */
int ecs_restore(struct ecs *e);
/* The service deployment's status ("ROLLBACK_SUCCESSFUL"...), malloc'd,
   or NULL when unknown (no API); its statusReason in *reason (malloc'd)
   and its createdAt in *created, for those not NULL. */
char *ecs_sd_status(struct ecs *e, char **reason, double *created);
/* The task definition of the service deployment's target revision
   (DescribeServiceDeployments, DescribeServiceRevisions), malloc'd, or
   NULL when unknown. */
char *ecs_sd_target_td(struct ecs *e);
/* The first of the alarms in state ALARM (malloc'd), or NULL. */
char *ecs_alarm_firing(struct ecs *e);

/* ---- watch.c */
/* Remembers the service's events so that only newer ones are shown. */
void ecs_events_seen(struct ecs *e, const struct ecs_snap *snap);

enum ecs_verdict {
	V_DONE = 0,		/* the deployment succeeded */
	V_FAILED,		/* FAILED, vanished or replaced */
	V_ALARM,		/* a watched alarm fired */
	V_TIMEOUT,
	V_INTERRUPTED,
	V_ERROR,		/* an API call failed (recorded) */
	/* service deployments */
	V_PAUSED,		/* a PAUSE hook awaits action at pause_at */
	V_ROLLED_BACK,		/* ROLLBACK_SUCCESSFUL */
	V_ROLLBACK_FAILED,	/* ROLLBACK_FAILED */
	V_STOPPED		/* STOPPED */
};

/* Waits for e->dep_id until done, failed or until, a monotonic time. */
enum ecs_verdict ecs_wait(struct ecs *e, double until, char **alarm);
/* Waits until the service runs only td, COMPLETED, running == desired.
   V_FAILED when that deployment fails too. */
enum ecs_verdict ecs_wait_restored(struct ecs *e, const char *td,
				   double until);
/* Watches the alarms for seconds after success. */
enum ecs_verdict ecs_bake(struct ecs *e, double seconds, char **alarm);
/* Sleeps up to seconds, showing the status line; -1 once interrupted. */
int ecs_nap(const struct ecs *e, double seconds);
/* Between two polls: V_TIMEOUT once until (monotonic) has passed,
   V_INTERRUPTED on an interrupt, else -1 after napping the adaptive
   interval (quiet: polls without change, counted up). */
int ecs_next_poll(struct ecs *e, double until, unsigned *quiet);
/* The poll interval after n polls without change, in seconds. */
double ecs_poll_interval(const struct ecs *e, unsigned quiet);

/* ---- rollback.c */
/* The stage's rollback callback. */
int ecs_rollback(void *state, struct gantry_ctx *ctx);
/* The stage's own recovery: back to prev_td within until. */
enum ecs_verdict ecs_recover(struct ecs *e, double until);
/* After ecs_recover gave r: the stage's result, rolled back (outcome)
   or the recovery failed; why is what went wrong first. */
int ecs_recovered(struct ecs *e, enum ecs_verdict r, const char *outcome,
		  const char *why);
/* The deployment failed in ECS: whether ECS rolled back, as the stage's
   result. */
int ecs_failed(struct ecs *e);
/* Interrupted while waiting: rolls back when allowed, in the little time
   left; the stage's result. */
int ecs_interrupted(struct ecs *e);
/* Follow mode, before anything else: 1 when ECS has not rolled the
   release back already, else the stage's result (that of ecs_failed).
   p is s's PRIMARY deployment. */
int ecs_rolled_back_first(struct ecs *e, const struct ecs_snap *s,
			  const struct ecs_dep *p);

/* ---- strategy.c */
/* "ROLLING", "BLUE_GREEN"... and back (-1: unknown). */
const char *ecs_strategy_api(int s);
const char *ecs_strategy_word(int s);	/* "rolling", "blue_green"... */
int ecs_strategy_of(const char *api);
/* Reads strategy, pause_at and the strategies' options and refuses
   those that do not belong together (GANTRY_ECONFIG). */
int ecs_strategy_read(struct ecs *e, const struct gantry_config *cfg);
/* The members of deploymentConfiguration for the strategy in force
   (",\"strategy\":..." ...), appended to b. */
void ecs_strategy_members(struct ecs *e, struct gantry_buf *b);
/* The service's lifecycleHooks without its PAUSE hooks, plus a PAUSE
   hook at pause_at when pause is set: a JSON array appended to b. */
void ecs_strategy_hooks(struct ecs *e, struct gantry_buf *b, int pause);
/* Refuses (GANTRY_ECONFIG) a non-rolling strategy on a service whose
   load balancer lacks advancedConfiguration, naming what is missing. */
int ecs_strategy_check_lb(struct ecs *e, const struct ecs_snap *s);
/* plan: the deployment configuration a non-rolling strategy applies. */
void ecs_strategy_plan(struct ecs *e, const struct ecs_snap *s);

/* ---- sdeploy.c */
/* Waits for the service deployment e->sd_arn and turns its outcome into
   the stage's result; with pause_at, returns once paused there. */
int ecs_sd_watch(struct ecs *e);
/* Follow mode on a service with a non-rolling strategy: its current
   service deployment. */
int ecs_sd_follow(struct ecs *e, const struct ecs_snap *s);
/* mode = "continue". */
int ecs_continue(struct ecs *e);
/* The rollback callback for a service deployment (ecs.strategy not
   rolling, or paused): 1 when it does not apply (the classic rollback
   should run), else the callback's result. */
int ecs_sd_rollback(struct ecs *e);
/* deploy.rollback: 1 when no service deployment is in flight, else the
   stage's result after asking ECS to roll it back. */
int ecs_sd_inflight(struct ecs *e, const struct ecs_snap *s);

/* ---- explain.c */
/* "stopped tasks: ...; last events: ...; log lines: ..." for the
   deployment, malloc'd (never NULL). */
char *ecs_explain(struct ecs *e, const char *dep_id, const char *td);

#endif
