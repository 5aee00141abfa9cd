/*
 * report_text.c - `gantry report` as a text table (the default) or as one
 * JSON document (--json, --format json).
 *
 * Unknown values read "unknown" in text and null in JSON, never 0: a
 * script must not mistake a missing lead time for an instant one.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdint.h>

#include "report.h"

/* ---- text ---------------------------------------------------------------- */

static void add_pct(struct gantry_buf *b, double frac)
{
	if (frac < 0)
		gantry_buf_adds(b, "unknown");
	else
		gantry_buf_addf(b, "%.0f%%", frac * 100);
}

static void text_group(struct gantry_buf *b, const struct report_group *g)
{
	char d1[32], d2[32];
	size_t i;

	gantry_buf_addf(b, "\n%s / %s\n", g->service, g->environment);
	gantry_buf_addf(b, "  deploys           %zu: %zu succeeded, %zu "
			  "change failures, %zu running, %zu interrupted, "
			  "%zu rollback deploys\n", g->ndeploys, g->succeeded,
			  g->failures, g->running, g->interrupted,
			  g->rollbacks);
	gantry_buf_addf(b, "  frequency         %.2f/day  %.1f/week "
			  "(successful deploys)\n", g->per_day, g->per_week);
	report_fmt_duration(g->lead_median, d1, sizeof(d1));
	report_fmt_duration(g->lead_p90, d2, sizeof(d2));
	if (g->lead_n)
		gantry_buf_addf(b, "  lead time         median %s  p90 %s "
				  "(%zu deploys, %zu unknown)\n", d1, d2,
				  g->lead_n, g->lead_unknown);
	else
		gantry_buf_addf(b, "  lead time         unknown (no commit "
				  "time for %zu deploys)\n", g->lead_unknown);
	gantry_buf_adds(b, "  change failures   ");
	add_pct(b, g->cfr);
	gantry_buf_addf(b, " (%zu of %zu finished)\n", g->failures,
			  g->finished);
	report_fmt_duration(g->restore_median, d1, sizeof(d1));
	gantry_buf_addf(b, "  time to restore   %s%s (%zu restored%s)\n",
			  g->restore_n ? "median " : "", d1, g->restore_n,
			  g->restore_open ? ", 1 still failing" : "");
	if (g->skewed)
		gantry_buf_addf(b, "  clock skew        %zu times ended "
				  "before they started; left out\n", g->skewed);
	if (g->nstages)
		gantry_buf_addf(b, "  %-18s %5s %9s %9s\n", "stage", "n",
				  "median", "p90");
	for (i = 0; i < g->nstages; i++) {
		const struct report_stat *st = &g->stages[i];

		report_fmt_duration(st->median, d1, sizeof(d1));
		report_fmt_duration(st->p90, d2, sizeof(d2));
		gantry_buf_addf(b, "  %-18s %5zu %9s %9s%s\n", st->name,
				  st->count, d1, d2,
				  st->name == g->slowest ? "  slowest" : "");
	}
	for (i = 0; i < g->nreasons && i < 5; i++) {
		const struct report_reason *r = &g->reasons[i];

		gantry_buf_addf(b, "  %s %3zux %-14s %s\n",
				  i ? "               " : "failure reasons",
				  r->count, r->stage, r->cls);
	}
}

char *report_text(const struct report *rep)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char from[32], to[32];
	size_t i;

	report_fmt_time(rep->since, REPORT_MINUTE, from, sizeof(from));
	report_fmt_time(rep->until, REPORT_MINUTE, to, sizeof(to));
	gantry_buf_addf(&b, "deploys from %s to %s (%.1f days, UTC)\n",
			  from, to, (rep->until - rep->since) / 86400);
	for (i = 0; i < rep->ngroups; i++)
		text_group(&b, &rep->groups[i]);
	if (!rep->ngroups)
		gantry_buf_adds(&b, "\nno deploys in this period\n");
	if (rep->skipped)
		gantry_buf_addf(&b, "\n%zu records without a start time "
				  "were left out\n", rep->skipped);
	return gantry_buf_detach(&b);
}

/* ---- JSON ---------------------------------------------------------------- */

static json_object *jnum(double v)
{
	return v < 0 ? NULL : json_object_new_double(v);
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *jtime(double epoch)
{
	char buf[32];

	if (epoch <= 0)
		return NULL;
	report_fmt_time(epoch, REPORT_ISO, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *jcount(size_t n)
{
	return json_object_new_int64((int64_t)n);
}

static void jadd(json_object *o, const char *key, json_object *v)
{
	json_object_object_add(o, key, v);
}

static json_object *json_deploy(const struct report_deploy *d)
{
	const struct deploy_record *r = d->r;
	json_object *j = json_object_new_object();
	json_object *st = json_object_new_array();
	const char *stage = NULL, *msg = NULL;
	size_t i;

	if (d->change_failure)
		report_failure_of(d, &stage, &msg);
	jadd(j, "id", jstr(r->id));
	jadd(j, "tag", jstr(r->tag));
	jadd(j, "actor", jstr(r->actor));
	jadd(j, "result", json_object_new_string(d->outcome));
	jadd(j, "rollback", json_object_new_boolean(d->rollback));
	jadd(j, "change_failure", json_object_new_boolean(d->change_failure));
	jadd(j, "reverted", json_object_new_boolean(d->reverted));
	jadd(j, "started", jtime(r->started));
	jadd(j, "finished", jtime(r->finished));
	jadd(j, "duration", jnum(d->duration));
	jadd(j, "failed_stage", jstr(stage));
	jadd(j, "reason", jstr(msg));
	for (i = 0; i < r->nstages; i++) {
		const struct stage_record *s = &r->stages[i];
		json_object *o = json_object_new_object();

		jadd(o, "name", jstr(s->name));
		jadd(o, "status", json_object_new_string(
			stage_status_name(s->status)));
		jadd(o, "duration", report_stage_measured(s) ?
		     json_object_new_double(s->finished - s->started) : NULL);
		json_object_array_add(st, o);
	}
	jadd(j, "stages", st);
	return j;
}

static json_object *json_group(const struct report_group *g)
{
	json_object *j = json_object_new_object(), *a, *o;
	size_t i;

	jadd(j, "service", jstr(g->service));
	jadd(j, "environment", jstr(g->environment));
	jadd(j, "deploys", jcount(g->ndeploys));
	jadd(j, "finished", jcount(g->finished));
	jadd(j, "succeeded", jcount(g->succeeded));
	jadd(j, "change_failures", jcount(g->failures));
	jadd(j, "running", jcount(g->running));
	jadd(j, "interrupted", jcount(g->interrupted));
	jadd(j, "rollback_deploys", jcount(g->rollbacks));
	jadd(j, "clock_skew", jcount(g->skewed));
	jadd(j, "deploys_per_day", json_object_new_double(g->per_day));
	jadd(j, "deploys_per_week", json_object_new_double(g->per_week));
	jadd(j, "change_failure_rate", jnum(g->cfr));
	o = json_object_new_object();
	jadd(o, "median", jnum(g->lead_median));
	jadd(o, "p90", jnum(g->lead_p90));
	jadd(o, "count", jcount(g->lead_n));
	jadd(o, "unknown", jcount(g->lead_unknown));
	jadd(j, "lead_time", o);
	o = json_object_new_object();
	jadd(o, "median", jnum(g->restore_median));
	jadd(o, "count", jcount(g->restore_n));
	jadd(o, "open", json_object_new_boolean(g->restore_open));
	jadd(j, "time_to_restore", o);
	a = json_object_new_array();
	for (i = 0; i < g->ndays; i++) {
		o = json_object_new_object();
		jadd(o, "date", json_object_new_string(g->days[i].date));
		jadd(o, "deploys", jcount(g->days[i].deploys));
		jadd(o, "succeeded",
		     jcount(g->days[i].succeeded));
		json_object_array_add(a, o);
	}
	jadd(j, "days", a);
	a = json_object_new_array();
	for (i = 0; i < g->nstages; i++) {
		o = json_object_new_object();
		jadd(o, "name", jstr(g->stages[i].name));
		jadd(o, "count", jcount(g->stages[i].count));
		jadd(o, "median", jnum(g->stages[i].median));
		jadd(o, "p90", jnum(g->stages[i].p90));
		json_object_array_add(a, o);
	}
	jadd(j, "stages", a);
	jadd(j, "slowest_stage", jstr(g->slowest));
	a = json_object_new_array();
	for (i = 0; i < g->nreasons; i++) {
		o = json_object_new_object();
		jadd(o, "stage", jstr(g->reasons[i].stage));
		jadd(o, "class", jstr(g->reasons[i].cls));
		jadd(o, "count", jcount(g->reasons[i].count));
		jadd(o, "example", jstr(g->reasons[i].example));
		json_object_array_add(a, o);
	}
	jadd(j, "failure_reasons", a);
	a = json_object_new_array();
	for (i = 0; i < g->ndeploys; i++)
		json_object_array_add(a, json_deploy(&g->deploys[i]));
	jadd(j, "timeline", a);
	return j;
}

char *report_json(const struct report *rep)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();
	char *text;
	size_t i;

	jadd(j, "since", jtime(rep->since));
	jadd(j, "until", jtime(rep->until));
	jadd(j, "days",
	     json_object_new_double((rep->until - rep->since) / 86400));
	jadd(j, "generated", jtime(rep->generated));
	jadd(j, "skipped", jcount(rep->skipped));
	for (i = 0; i < rep->ngroups; i++)
		json_object_array_add(a, json_group(&rep->groups[i]));
	jadd(j, "groups", a);
	text = gantry_xasprintf("%s\n", gantry_i_json_text(j,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return text;
}
