/*
 * watch.c - waiting for a deployment, the way docs/ecs.md says it must be
 * judged: "stable" is not "succeeded".  Success is the deployment we
 * track being PRIMARY, COMPLETED, the only one, with running == desired;
 * it failing, vanishing or being replaced as PRIMARY is a failure, even
 * when the service is stable again on the old task definition.
 *
 * One DescribeServices per poll (plus DescribeAlarms when alarms are
 * watched); the interval starts at 1 s and grows while nothing changes.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecs.h"

#include "banned.h"

#define POLL_FIRST 1.0
#define POLL_GROWTH 1.5
#define POLL_CAP 10.0
#define RECENT_EVENTS 3

double ecs_poll_interval(const struct ecs *e, unsigned quiet)
{
	double cap = e->budget / 60.0, iv = POLL_FIRST;

	if (e->o.poll_interval > 0)
		return (double)e->o.poll_interval;
	/* Short budgets (tests, small services) poll at least 60 times;
	   long ones settle at POLL_CAP. */
	if (cap > POLL_CAP)
		cap = POLL_CAP;
	if (cap < POLL_FIRST)
		cap = POLL_FIRST;
	while (quiet-- > 0 && iv < cap)
		iv *= POLL_GROWTH;
	return iv < cap ? iv : cap;
}

/* Sleeps up to seconds, in slices, so an interrupt is noticed at once;
   -1 once interrupted.  On a terminal, the status line counts the
   seconds meanwhile. */
int ecs_nap(const struct ecs *e, double seconds)
{
	double end = gantry_now() + seconds, shown = 0;

	while (!gantry_ctx_interrupted(e->ctx)) {
		double now = gantry_now(), left = end - now;
		struct timespec ts;

		if (now - shown >= 1) {
			shown = now;
			gantry_status(e->ctx, "%s, %.0f s",
				      e->last_progress ? e->last_progress :
				      "waiting", now - e->t0);
		}
		if (left <= 0)
			return 0;
		if (left > 0.1)
			left = 0.1;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Whether id is among the first n events remembered. */
static int among(const struct ecs *e, const char *id, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(e->seen[i], id))
			return 1;
	return 0;
}

static void remember(struct ecs *e, const char *id)
{
	e->seen = gantry_xrealloc(e->seen, (e->nseen + 1) * sizeof(*e->seen));
	e->seen[e->nseen++] = gantry_xstrdup(id);
}

void ecs_events_seen(struct ecs *e, const struct ecs_snap *snap)
{
	struct gantry_json *ev = gantry_json_get(snap->svc, "events");
	size_t i;

	for (i = 0; i < gantry_json_length(ev); i++) {
		const char *id = gantry_json_string(gantry_json_at(ev, i),
						    "id", "");

		if (*id && !among(e, id, e->nseen))
			remember(e, id);
	}
	e->nseen_start = e->nseen;
}

static int telling(const struct ecs *e, const char *msg)
{
	return strstr(msg, "fail") || strstr(msg, "unhealthy") ||
	       strstr(msg, "rolling back") || strstr(msg, "alarm") ||
	       (e->dep_id && strstr(msg, e->dep_id));
}

/* Shows each new event once, oldest first, and keeps the newest few for
   explanations.  Returns how many were new. */
static int new_events(struct ecs *e, const struct ecs_snap *snap)
{
	struct gantry_json *ev = gantry_json_get(snap->svc, "events");
	size_t i, n = gantry_json_length(ev), kept = 0;
	int fresh = 0, pass;

	for (i = n; i-- > 0; ) {
		struct gantry_json *x = gantry_json_at(ev, i);
		const char *id = gantry_json_string(x, "id", "");

		if (!*id || among(e, id, e->nseen))
			continue;
		remember(e, id);
		gantry_info(e->ctx, "event: %s",
			    gantry_json_string(x, "message", ""));
		fresh++;
	}
	/* events[] is newest first.  The recent ones since we started that
	   tell of trouble, or of our deployment, explain a failure best;
	   without any, the newest. */
	gantry_buf_release(&e->events);
	for (pass = 0; pass < 2 && !kept; pass++)
		for (i = 0; i < n && kept < RECENT_EVENTS; i++) {
			struct gantry_json *x = gantry_json_at(ev, i);
			const char *msg = gantry_json_string(x, "message", "");

			if (among(e, gantry_json_string(x, "id", ""),
				  e->nseen_start))
				break;
			if (!pass && !telling(e, msg))
				continue;
			gantry_buf_addf(&e->events, "%s%s", kept ? " | " : "", msg);
			kept++;
		}
	return fresh;
}

/* One line per change of the deployment's counts or state. */
static int progress(struct ecs *e, const struct ecs_dep *d)
{
	char line[512];

	snprintf(line, sizeof(line), "deployment %s: %lld/%lld running, "
		 "%lld pending, %lld failed (%s)", d->id, d->running,
		 d->desired, d->pending, d->failed,
		 *d->rollout ? d->rollout : "no rolloutState");
	if (e->last_progress && !strcmp(e->last_progress, line))
		return 0;
	free(e->last_progress);
	e->last_progress = gantry_xstrdup(line);
	gantry_info(e->ctx, "%s", line);
	return 1;
}

static void set_reason(struct ecs *e, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);
static void set_reason(struct ecs *e, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	free(e->reason);
	e->reason = gantry_xstrdup(buf);
}

/* Done: PRIMARY, COMPLETED, alone, running == desired.  Without a
   rolloutState: alone, running == desired, and the task definition is
   the one we deployed (docs/ecs.md). */
static int finished(const struct ecs_snap *s, const struct ecs_dep *d,
		    const char *td)
{
	if (s->ndeps != 1 || strcmp(d->status, "PRIMARY") ||
	    d->running != d->desired || s->running != s->desired)
		return 0;
	if (*d->rollout)
		return !strcmp(d->rollout, "COMPLETED");
	return !strcmp(d->td, td);
}

/* Describes once and judges the tracked deployment: V_DONE, V_FAILED,
   V_ERROR, or -1 to keep waiting. */
static int judge(struct ecs *e, unsigned *quiet)
{
	struct ecs_snap s;
	const struct ecs_dep *d, *p;
	int rc, verdict = -1;

	rc = ecs_describe(e, &s);
	if (rc < 0)
		return rc == GANTRY_EINTERRUPTED ? V_INTERRUPTED : V_ERROR;
	if (new_events(e, &s))
		*quiet = 0;
	d = ecs_find(&s, e->dep_id);
	p = ecs_find(&s, NULL);
	if (!d) {
		set_reason(e, "deployment %s vanished from the service (now "
			   "on %s)", e->dep_id, p ? p->td : "nothing");
		verdict = V_FAILED;
	} else {
		if (progress(e, d))
			*quiet = 0;
		if (!strcmp(d->rollout, "FAILED")) {
			set_reason(e, "%s", d->reason);
			verdict = V_FAILED;
		} else if (strcmp(d->status, "PRIMARY")) {
			set_reason(e, "deployment %s was replaced as PRIMARY "
				   "by %s", e->dep_id, p ? p->id : "?");
			verdict = V_FAILED;
		} else if (finished(&s, d, e->td)) {
			verdict = V_DONE;
		}
	}
	ecs_snap_free(&s);
	return verdict;
}

int ecs_next_poll(struct ecs *e, double until, unsigned *quiet)
{
	double left = until - gantry_now(), iv;

	if (left <= 0)
		return V_TIMEOUT;
	iv = ecs_poll_interval(e, (*quiet)++);
	if (ecs_nap(e, iv < left ? iv : left) < 0)
		return V_INTERRUPTED;
	return -1;
}

enum ecs_verdict ecs_wait(struct ecs *e, double until, char **alarm)
{
	unsigned quiet = 0;

	*alarm = NULL;
	for (;;) {
		int v;

		if (gantry_ctx_interrupted(e->ctx))
			return V_INTERRUPTED;
		v = judge(e, &quiet);
		if (v >= 0)
			return (enum ecs_verdict)v;
		if (e->o.nalarms && (*alarm = ecs_alarm_firing(e)))
			return V_ALARM;
		if ((v = ecs_next_poll(e, until, &quiet)) >= 0)
			return (enum ecs_verdict)v;
	}
}

enum ecs_verdict ecs_wait_restored(struct ecs *e, const char *td,
				   double until)
{
	unsigned quiet = 0;

	for (;;) {
		struct ecs_snap s;
		const struct ecs_dep *p;
		enum ecs_verdict v = V_TIMEOUT;
		int done = 0, rc, w;

		if (gantry_ctx_interrupted(e->ctx))
			return V_INTERRUPTED;
		rc = ecs_describe(e, &s);
		if (rc < 0)
			return rc == GANTRY_EINTERRUPTED ? V_INTERRUPTED
							 : V_ERROR;
		if (new_events(e, &s))
			quiet = 0;
		p = ecs_find(&s, NULL);
		if (p && !strcmp(p->td, td)) {
			if (progress(e, p))
				quiet = 0;
			if (!strcmp(p->rollout, "FAILED")) {
				set_reason(e, "%s", p->reason);
				v = V_FAILED;
				done = 1;
			} else if (finished(&s, p, td)) {
				v = V_DONE;
				done = 1;
			}
		}
		ecs_snap_free(&s);
		if (done)
			return v;
		if ((w = ecs_next_poll(e, until, &quiet)) >= 0)
			return (enum ecs_verdict)w;
	}
}

enum ecs_verdict ecs_bake(struct ecs *e, double seconds, char **alarm)
{
	double end = gantry_now() + seconds;

	*alarm = NULL;
	gantry_info(e->ctx, "watching %zu alarm%s for %.0f s of bake time",
		    e->o.nalarms, e->o.nalarms == 1 ? "" : "s", seconds);
	for (;;) {
		double left, iv = ecs_poll_interval(e, 100);

		if (e->o.nalarms && (*alarm = ecs_alarm_firing(e)))
			return V_ALARM;
		left = end - gantry_now();
		if (left <= 0)
			return V_DONE;
		if (ecs_nap(e, iv < left ? iv : left) < 0)
			return V_INTERRUPTED;
	}
}
