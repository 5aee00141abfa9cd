/*
 * report_text.c - `gantry report` as a text table (the default) or as one
 * JSON document (--json, --format json).
 *
 * Unknown values read "unknown" in text and null in JSON, never 0: a
 * script must not mistake a missing lead time for an instant one.
 */
#include "config.h"

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

/* v, or null when unknown (< 0). */
static void set_num(struct gantry_json *o, const char *key, double v)
{
	if (v < 0)
		gantry_json_set_null(o, key);
	else
		gantry_json_set_double(o, key, v);
}

/* ISO-8601 UTC, or null when not set. */
static void set_time(struct gantry_json *o, const char *key, double epoch)
{
	char buf[32];

	if (epoch <= 0) {
		gantry_json_set_null(o, key);
		return;
	}
	report_fmt_time(epoch, REPORT_ISO, buf, sizeof(buf));
	gantry_json_set_string(o, key, buf);
}

static void set_count(struct gantry_json *o, const char *key, size_t n)
{
	gantry_json_set_int(o, key, (long long)n);
}

/* gantry_json_set_string writes null for NULL, which is what unknown
   text is here. */
static void json_deploy(struct gantry_json *j, const struct report_deploy *d)
{
	const struct deploy_record *r = d->r;
	struct gantry_json *st;
	const char *stage = NULL, *msg = NULL;
	size_t i;

	if (d->change_failure)
		report_failure_of(d, &stage, &msg);
	gantry_json_set_string(j, "id", r->id);
	gantry_json_set_string(j, "tag", r->tag);
	gantry_json_set_string(j, "actor", r->actor);
	gantry_json_set_string(j, "result", d->outcome);
	gantry_json_set_bool(j, "rollback", d->rollback);
	gantry_json_set_bool(j, "change_failure", d->change_failure);
	gantry_json_set_bool(j, "reverted", d->reverted);
	set_time(j, "started", r->started);
	set_time(j, "finished", r->finished);
	set_num(j, "duration", d->duration);
	gantry_json_set_string(j, "failed_stage", stage);
	gantry_json_set_string(j, "reason", msg);
	st = gantry_json_set_array(j, "stages");
	for (i = 0; i < r->nstages; i++) {
		const struct stage_record *s = &r->stages[i];
		struct gantry_json *o = gantry_json_push_object(st);

		gantry_json_set_string(o, "name", s->name);
		gantry_json_set_string(o, "status",
				       stage_status_name(s->status));
		if (report_stage_measured(s))
			gantry_json_set_double(o, "duration",
					       s->finished - s->started);
		else
			gantry_json_set_null(o, "duration");
	}
}

static void json_group(struct gantry_json *j, const struct report_group *g)
{
	struct gantry_json *a, *o;
	size_t i;

	gantry_json_set_string(j, "service", g->service);
	gantry_json_set_string(j, "environment", g->environment);
	set_count(j, "deploys", g->ndeploys);
	set_count(j, "finished", g->finished);
	set_count(j, "succeeded", g->succeeded);
	set_count(j, "change_failures", g->failures);
	set_count(j, "running", g->running);
	set_count(j, "interrupted", g->interrupted);
	set_count(j, "rollback_deploys", g->rollbacks);
	set_count(j, "clock_skew", g->skewed);
	gantry_json_set_double(j, "deploys_per_day", g->per_day);
	gantry_json_set_double(j, "deploys_per_week", g->per_week);
	set_num(j, "change_failure_rate", g->cfr);
	o = gantry_json_set_object(j, "lead_time");
	set_num(o, "median", g->lead_median);
	set_num(o, "p90", g->lead_p90);
	set_count(o, "count", g->lead_n);
	set_count(o, "unknown", g->lead_unknown);
	o = gantry_json_set_object(j, "time_to_restore");
	set_num(o, "median", g->restore_median);
	set_count(o, "count", g->restore_n);
	gantry_json_set_bool(o, "open", g->restore_open);
	a = gantry_json_set_array(j, "days");
	for (i = 0; i < g->ndays; i++) {
		o = gantry_json_push_object(a);
		gantry_json_set_string(o, "date", g->days[i].date);
		set_count(o, "deploys", g->days[i].deploys);
		set_count(o, "succeeded", g->days[i].succeeded);
	}
	a = gantry_json_set_array(j, "stages");
	for (i = 0; i < g->nstages; i++) {
		o = gantry_json_push_object(a);
		gantry_json_set_string(o, "name", g->stages[i].name);
		set_count(o, "count", g->stages[i].count);
		set_num(o, "median", g->stages[i].median);
		set_num(o, "p90", g->stages[i].p90);
	}
	gantry_json_set_string(j, "slowest_stage", g->slowest);
	a = gantry_json_set_array(j, "failure_reasons");
	for (i = 0; i < g->nreasons; i++) {
		o = gantry_json_push_object(a);
		gantry_json_set_string(o, "stage", g->reasons[i].stage);
		gantry_json_set_string(o, "class", g->reasons[i].cls);
		set_count(o, "count", g->reasons[i].count);
		gantry_json_set_string(o, "example", g->reasons[i].example);
	}
	a = gantry_json_set_array(j, "timeline");
	for (i = 0; i < g->ndeploys; i++)
		json_deploy(gantry_json_push_object(a), &g->deploys[i]);
}

char *report_json(const struct report *rep)
{
	struct gantry_json *j = gantry_json_new_object(), *a;
	char *text;
	size_t i;

	set_time(j, "since", rep->since);
	set_time(j, "until", rep->until);
	gantry_json_set_double(j, "days", (rep->until - rep->since) / 86400);
	set_time(j, "generated", rep->generated);
	set_count(j, "skipped", rep->skipped);
	a = gantry_json_set_array(j, "groups");
	for (i = 0; i < rep->ngroups; i++)
		json_group(gantry_json_push_object(a), &rep->groups[i]);
	text = gantry_xasprintf("%s\n", gantry_i_json_text_ex(j,
						GANTRY_I_JSON_PRETTY));
	gantry_json_free(j);
	return text;
}
