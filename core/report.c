/*
 * report.c - `gantry report`: deploy metrics from the journal, rendered
 * as a text table or one JSON document (the HTML page is report_html.c).
 *
 * Every definition here is written down in docs/report.md; change both
 * together.  All times are UTC epoch seconds; day buckets are UTC days
 * whatever TZ says, so a report reads the same on every machine.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gantry/cmd.h>

#include "report.h"
#include "session.h"

/* Without --since, the report covers this many days before --until. */
#define DEFAULT_DAYS 30

static const char *str_or(const char *s, const char *def)
{
	return s && *s ? s : def;
}

/* ---- small numbers ------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double report_quantile(double *v, size_t n, double q)
{
	size_t k;

	if (!n)
		return -1;
	qsort(v, n, sizeof(*v), cmp_double);
	if (q == 0.5)
		return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* Nearest rank: the smallest value with a fraction q of all values
	   at or below it. */
	k = (size_t)(q * (double)n);
	if ((double)k < q * (double)n)
		k++;
	return v[k ? k - 1 : 0];
}

void report_fmt_duration(double s, char *buf, size_t len)
{
	long t;

	if (s < 0) {
		snprintf(buf, len, "unknown");
		return;
	}
	t = (long)(s + 0.5);
	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, len, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
}

void report_fmt_time(double epoch, enum report_time style, char *buf,
		     size_t len)
{
	time_t t = (time_t)epoch;
	struct tm tm;
	size_t got = 0;

	if (epoch <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	/* Literal formats, one per style, so the compiler checks them. */
	switch (style) {
	case REPORT_DATE:
		got = strftime(buf, len, "%Y-%m-%d", &tm);
		break;
	case REPORT_MINUTE:
		got = strftime(buf, len, "%Y-%m-%d %H:%MZ", &tm);
		break;
	case REPORT_SECOND:
		got = strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
		break;
	case REPORT_ISO:
		got = strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
		break;
	case REPORT_SHORT:
		got = strftime(buf, len, "%m-%d %H:%M", &tm);
		break;
	case REPORT_CLOCK:
		got = strftime(buf, len, "%H:%M:%S", &tm);
		break;
	}
	if (!got && len)
		buf[0] = '\0';
}

int report_parse_time(const char *text, double now, int end, double *out)
{
	struct tm tm;
	char *rest;
	long n;
	time_t t;

	if (!text || !*text)
		return -1;
	errno = 0;
	n = strtol(text, &rest, 10);
	if (rest != text && n >= 0 && !errno && rest[0] && !rest[1] &&
	    isdigit((unsigned char)text[0])) {
		static const struct { char unit; double secs; } units[] = {
			{ 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 },
		};
		size_t i;

		for (i = 0; i < GANTRY_ARRAY_SIZE(units); i++)
			if (rest[0] == units[i].unit) {
				*out = now - (double)n * units[i].secs;
				return 0;
			}
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	rest = strptime(text, "%Y-%m-%d", &tm);
	if (!rest || *rest || strlen(text) != 10)
		return -1;
	if (end)
		tm.tm_mday++;	/* timegm normalises the day after */
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*out = (double)t;
	return 0;
}

char *report_failure_class(const char *msg)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *p = msg ? msg : "";

	while (*p && b.len < 120) {
		unsigned char c = (unsigned char)*p;

		if (isdigit(c)) {
			while (isdigit((unsigned char)*p) || *p == '.')
				p++;
			gantry_buf_addch(&b, '#');
		} else if (c == '\'' || c == '"') {
			const char *close = strchr(p + 1, c);

			if (!close) {
				gantry_buf_addch(&b, (char)c);
				p++;
				continue;
			}
			gantry_buf_add(&b, p, 1);
			gantry_buf_addch(&b, '*');
			gantry_buf_add(&b, p, 1);
			p = close + 1;
		} else if (isspace(c)) {
			while (isspace((unsigned char)*p))
				p++;
			if (b.len && *p)
				gantry_buf_addch(&b, ' ');
		} else {
			gantry_buf_addch(&b, (char)c);
			p++;
		}
	}
	return gantry_buf_detach(&b);
}

/* ---- classifying deploys ------------------------------------------------ */

static int is_failure_word(const char *w)
{
	static const char *const words[] = { "failed", "rolled_back",
		"rollback_failed", "timed_out", "failed_deployed" };
	size_t i;

	for (i = 0; w && i < GANTRY_ARRAY_SIZE(words); i++)
		if (!strcmp(w, words[i]))
			return 1;
	return 0;
}

static const char *ctx_get(const struct deploy_record *r, const char *key)
{
	const struct gantry_kv *kv = gantry_i_kv_find(&r->context, key);

	return kv ? kv->value : NULL;
}

static int is_rollback_deploy(const struct deploy_record *r)
{
	const char *v = ctx_get(r, "deploy.rollback");

	return v && !strcmp(v, "true");
}

static int succeeded(const struct report_deploy *d)
{
	return !strcmp(d->outcome, "succeeded");
}

static void classify(struct report_deploy *d, const struct deploy_record *r)
{
	memset(d, 0, sizeof(*d));
	d->r = r;
	d->outcome = str_or(r->result, "running");
	d->finished = succeeded(d) || is_failure_word(d->outcome);
	d->change_failure = is_failure_word(d->outcome);
	d->rollback = is_rollback_deploy(r);
	d->duration = r->started > 0 && r->finished >= r->started &&
		      strcmp(d->outcome, "running") ?
		      r->finished - r->started : -1;
}

/*
 * Marks the deploy a rollback deploy undid: the newest successful deploy
 * before it (the one whose tag is deploy.rollback_of when that is
 * recorded), when the rollback started within REPORT_ROLLBACK_WINDOW of
 * its finish.  all[] is one group, oldest first.
 */
static void mark_reverted(struct report_deploy *all, size_t n, size_t j)
{
	const char *of = ctx_get(all[j].r, "deploy.rollback_of");
	size_t i, hit = n, any = n;

	for (i = j; i-- > 0;) {
		if (!succeeded(&all[i]))
			continue;
		if (any == n)
			any = i;
		if (of && all[i].r->tag && !strcmp(all[i].r->tag, of)) {
			hit = i;
			break;
		}
	}
	if (hit == n)
		hit = any;
	if (hit == n)
		return;
	{
		const struct deploy_record *d = all[hit].r;
		double end = d->finished > 0 ? d->finished : d->started;

		if (all[j].r->started - end > REPORT_ROLLBACK_WINDOW)
			return;
	}
	all[hit].reverted = 1;
	all[hit].change_failure = 1;
}

/* ---- one group ---------------------------------------------------------- */

static void add_day(struct report_group *g, const struct report_deploy *d,
		    size_t *alloc)
{
	char date[16];

	report_fmt_time(d->r->started, REPORT_DATE, date, sizeof(date));
	if (!g->ndays || strcmp(g->days[g->ndays - 1].date, date)) {
		GANTRY_GROW(g->days, g->ndays + 1, *alloc);
		memset(&g->days[g->ndays], 0, sizeof(g->days[0]));
		snprintf(g->days[g->ndays].date, sizeof(g->days[0].date), "%s",
			 date);
		g->ndays++;
	}
	g->days[g->ndays - 1].deploys++;
	if (succeeded(d))
		g->days[g->ndays - 1].succeeded++;
}

static const char *record_commit(const struct deploy_record *r)
{
	return r->commit && *r->commit ? r->commit :
	       ctx_get(r, "release.commit");
}

static void lead_times(struct report_group *g, report_commit_time_fn fn,
		       void *arg)
{
	double *v = gantry_i_xcalloc(g->ndeploys + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < g->ndeploys; i++) {
		const struct report_deploy *d = &g->deploys[i];
		const char *commit = record_commit(d->r);
		double ct;

		if (!succeeded(d) || d->rollback)
			continue;
		ct = commit && fn ? fn(arg, commit) : -1;
		if (ct < 0 || d->r->finished <= 0 || d->r->finished < ct) {
			g->lead_unknown++;
			continue;
		}
		v[g->lead_n++] = d->r->finished - ct;
	}
	g->lead_median = report_quantile(v, g->lead_n, 0.5);
	g->lead_p90 = report_quantile(v, g->lead_n, 0.9);
	free(v);
}

/* An incident opens at the finish of a change failure and closes at the
   finish of the next successful deploy that is not one itself. */
static void restore_times(struct report_group *g)
{
	double *v = gantry_i_xcalloc(g->ndeploys + 1, sizeof(*v));
	double open = -1;
	size_t i;

	for (i = 0; i < g->ndeploys; i++) {
		const struct report_deploy *d = &g->deploys[i];
		const struct deploy_record *r = d->r;

		if (d->change_failure) {
			if (open < 0)
				open = r->finished > 0 ? r->finished :
				       r->started;
		} else if (succeeded(d) && open >= 0) {
			if (r->finished > 0 && r->finished >= open)
				v[g->restore_n++] = r->finished - open;
			else
				g->skewed++;
			open = -1;
		}
	}
	g->restore_open = open >= 0;
	g->restore_median = report_quantile(v, g->restore_n, 0.5);
	free(v);
}

static int stage_measured(const struct stage_record *s)
{
	return s->name && s->started > 0 && s->finished >= s->started &&
	       s->status != ST_PENDING && s->status != ST_RUNNING &&
	       s->status != ST_SKIPPED && s->status != ST_INTERRUPTED;
}

static void stage_stats(struct report_group *g)
{
	size_t alloc = 0, i, j, k, m;
	double *v = NULL, best = -1;

	/* Names in the order of the newest deploy's pipeline, then older
	   entries that have since left it. */
	for (i = g->ndeploys; i-- > 0;) {
		const struct deploy_record *r = g->deploys[i].r;

		for (j = 0; j < r->nstages; j++) {
			if (!r->stages[j].name)
				continue;
			for (k = 0; k < g->nstages; k++)
				if (!strcmp(g->stages[k].name,
					    r->stages[j].name))
					break;
			if (k < g->nstages)
				continue;
			GANTRY_GROW(g->stages, g->nstages + 1, alloc);
			memset(&g->stages[k], 0, sizeof(g->stages[k]));
			g->stages[k].name = gantry_i_xstrdup(r->stages[j].name);
			g->nstages++;
		}
	}
	v = gantry_i_xcalloc(g->ndeploys + 1, sizeof(*v));
	for (k = 0; k < g->nstages; k++) {
		struct report_stat *st = &g->stages[k];

		for (m = i = 0; i < g->ndeploys; i++) {
			const struct deploy_record *r = g->deploys[i].r;

			for (j = 0; j < r->nstages; j++) {
				const struct stage_record *s = &r->stages[j];

				if (!stage_measured(s) ||
				    strcmp(s->name, st->name))
					continue;
				v[m++] = s->finished - s->started;
				st->total += s->finished - s->started;
				break;
			}
		}
		st->count = m;
		st->median = report_quantile(v, m, 0.5);
		st->p90 = report_quantile(v, m, 0.9);
		if (m && st->median > best) {
			best = st->median;
			g->slowest = st->name;
		}
	}
	free(v);
}

static int cmp_reason(const void *a, const void *b)
{
	const struct report_reason *x = a, *y = b;
	int c;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	c = strcmp(x->stage, y->stage);
	return c ? c : strcmp(x->cls, y->cls);
}

/* Where and why a failed deploy failed: the failing stage's error, else
   the record's reason, else its result word. */
static void failure_of(const struct report_deploy *d, const char **stage,
		       const char **msg)
{
	const struct deploy_record *r = d->r;
	size_t j;

	*stage = r->failed_stage;
	*msg = NULL;
	if (d->reverted) {
		*stage = "-";
		*msg = "undone by a rollback deploy";
		return;
	}
	for (j = 0; j < r->nstages; j++) {
		const struct stage_record *s = &r->stages[j];
		int bad = s->status == ST_FAILED || s->status == ST_TIMED_OUT ||
			  s->status == ST_ROLLBACK_FAILED;

		if (!s->name)
			continue;
		if (*stage ? !strcmp(s->name, *stage) : bad) {
			*stage = s->name;
			*msg = s->error;
			break;
		}
	}
	if (!*stage)
		*stage = "-";
	if (!*msg)
		*msg = r->reason ? r->reason : d->outcome;
}

static void failure_reasons(struct report_group *g)
{
	size_t alloc = 0, i, k;

	for (i = 0; i < g->ndeploys; i++) {
		const struct report_deploy *d = &g->deploys[i];
		const char *stage, *msg;
		char *cls;

		if (!d->change_failure)
			continue;
		failure_of(d, &stage, &msg);
		cls = report_failure_class(msg);
		for (k = 0; k < g->nreasons; k++)
			if (!strcmp(g->reasons[k].stage, stage) &&
			    !strcmp(g->reasons[k].cls, cls))
				break;
		if (k == g->nreasons) {
			GANTRY_GROW(g->reasons, k + 1, alloc);
			memset(&g->reasons[k], 0, sizeof(g->reasons[k]));
			g->reasons[k].stage = gantry_i_xstrdup(stage);
			g->reasons[k].cls = cls;
			g->nreasons++;
		} else {
			free(cls);
		}
		free(g->reasons[k].example);
		g->reasons[k].example = gantry_i_xstrdup(msg);
		g->reasons[k].count++;
	}
	if (g->nreasons)
		qsort(g->reasons, g->nreasons, sizeof(*g->reasons), cmp_reason);
	while (g->nreasons > REPORT_MAX_REASONS) {
		struct report_reason *x = &g->reasons[--g->nreasons];

		free(x->stage);
		free(x->cls);
		free(x->example);
	}
}

static void build_group(struct report_group *g,
			const struct deploy_record *const *recs, size_t n,
			double since, double until, report_commit_time_fn fn,
			void *arg)
{
	struct report_deploy *all = gantry_i_xcalloc(n, sizeof(*all));
	size_t i, days_alloc = 0;
	double days = (until - since) / 86400;

	g->service = gantry_i_xstrdup(str_or(recs[0]->service, "?"));
	g->environment = gantry_i_xstrdup(str_or(recs[0]->environment, "?"));
	for (i = 0; i < n; i++)
		classify(&all[i], recs[i]);
	/* Over every record, so a rollback just after the window still
	   counts against a deploy inside it. */
	for (i = 0; i < n; i++)
		if (all[i].rollback)
			mark_reverted(all, n, i);
	g->deploys = gantry_i_xcalloc(n, sizeof(*g->deploys));
	for (i = 0; i < n; i++) {
		const struct report_deploy *d = &all[i];

		if (d->r->started < since || d->r->started >= until)
			continue;
		g->deploys[g->ndeploys++] = *d;
		add_day(g, d, &days_alloc);
		g->finished += d->finished;
		g->succeeded += succeeded(d);
		g->failures += d->finished && d->change_failure;
		g->running += !strcmp(d->outcome, "running");
		g->interrupted += !strcmp(d->outcome, "interrupted");
		g->rollbacks += d->rollback;
		g->skewed += d->r->finished > 0 &&
			     d->r->finished < d->r->started;
	}
	free(all);
	g->per_day = days > 0 ? (double)g->succeeded / days : 0;
	g->per_week = g->per_day * 7;
	g->cfr = g->finished ? (double)g->failures / (double)g->finished : -1;
	lead_times(g, fn, arg);
	restore_times(g);
	stage_stats(g);
	failure_reasons(g);
}

static void group_release(struct report_group *g)
{
	size_t k;

	free(g->service);
	free(g->environment);
	free(g->deploys);
	free(g->days);
	for (k = 0; k < g->nstages; k++)
		free(g->stages[k].name);
	free(g->stages);
	for (k = 0; k < g->nreasons; k++) {
		free(g->reasons[k].stage);
		free(g->reasons[k].cls);
		free(g->reasons[k].example);
	}
	free(g->reasons);
}

static int cmp_rec(const void *a, const void *b)
{
	const struct deploy_record *x = *(const struct deploy_record *const *)a;
	const struct deploy_record *y = *(const struct deploy_record *const *)b;
	int c = strcmp(str_or(x->service, "?"), str_or(y->service, "?"));

	if (c)
		return c;
	c = strcmp(str_or(x->environment, "?"), str_or(y->environment, "?"));
	if (c)
		return c;
	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(str_or(x->id, ""), str_or(y->id, ""));
}

static int same_group(const struct deploy_record *x,
		      const struct deploy_record *y)
{
	return !strcmp(str_or(x->service, "?"), str_or(y->service, "?")) &&
	       !strcmp(str_or(x->environment, "?"),
		       str_or(y->environment, "?"));
}

void report_build(struct report *rep, const struct deploy_record *recs,
		  size_t n, double since, double until,
		  report_commit_time_fn fn, void *arg)
{
	const struct deploy_record **v = gantry_i_xcalloc(n + 1, sizeof(*v));
	size_t i, m = 0, b, alloc = 0;

	memset(rep, 0, sizeof(*rep));
	rep->since = since;
	rep->until = until;
	rep->generated = (double)time(NULL);
	for (i = 0; i < n; i++) {
		if (recs[i].dry_run)
			continue;
		if (recs[i].started <= 0) {
			rep->skipped++;
			continue;
		}
		v[m++] = &recs[i];
	}
	qsort(v, m, sizeof(*v), cmp_rec);
	for (b = 0; b < m; b = i) {
		struct report_group g;

		for (i = b + 1; i < m && same_group(v[b], v[i]); i++)
			;
		memset(&g, 0, sizeof(g));
		build_group(&g, v + b, i - b, since, until, fn, arg);
		if (!g.ndeploys) {
			/* Nothing in the window: not a group worth showing. */
			group_release(&g);
			continue;
		}
		GANTRY_GROW(rep->groups, rep->ngroups + 1, alloc);
		rep->groups[rep->ngroups++] = g;
	}
	free(v);
}

void report_release(struct report *rep)
{
	size_t i;

	for (i = 0; i < rep->ngroups; i++)
		group_release(&rep->groups[i]);
	free(rep->groups);
	memset(rep, 0, sizeof(*rep));
}

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
		failure_of(d, &stage, &msg);
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
		jadd(o, "duration", stage_measured(s) ?
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
	text = gantry_i_xasprintf("%s\n", json_object_to_json_string_ext(j,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
	return text;
}

/* ---- the command ------------------------------------------------------- */

struct commit_times {
	const char *dir;
	struct gantry_kvlist seen;	/* commit -> "%.0f" or "-1" */
};

static int drop_line(void *arg, enum gantry_cmd_stream stream,
		     const char *line)
{
	(void)arg;
	(void)stream;
	(void)line;
	return 0;
}

/* `git log -1 --format=%ct COMMIT` in the configuration's directory,
   where git-release resolved the tag; once per commit. */
static double git_commit_time(void *arg, const char *commit)
{
	struct commit_times *c = arg;
	const struct gantry_kv *kv = gantry_i_kv_find(&c->seen, commit);
	struct gantry_cmd *cmd;
	double t = -1;
	char buf[32];
	size_t i;

	if (kv)
		return strtod(kv->value, NULL);
	for (i = 0; commit[i]; i++)
		if (!isxdigit((unsigned char)commit[i]))
			return -1;
	if (i < 4 || i > 64 || !gantry_i_kv_valid_key(commit))
		return -1;
	cmd = gantry_cmd_new("git");
	if (!cmd)
		return -1;
	gantry_cmd_cwd(cmd, c->dir);
	gantry_cmd_arg(cmd, "log");
	gantry_cmd_arg(cmd, "-1");
	gantry_cmd_arg(cmd, "--format=%ct");
	gantry_cmd_arg(cmd, commit);
	gantry_cmd_arg(cmd, "--");
	gantry_cmd_capture(cmd);
	gantry_cmd_on_line(cmd, drop_line, NULL);
	gantry_cmd_timeout(cmd, 10);
	if (gantry_cmd_run(cmd, NULL) == 0 &&
	    gantry_cmd_exit_status(cmd) == 0) {
		char *end;
		double v = strtod(gantry_cmd_stdout(cmd), &end);

		if (end != gantry_cmd_stdout(cmd) && v > 0)
			t = v;
	}
	gantry_cmd_free(cmd);
	snprintf(buf, sizeof(buf), "%.0f", t);
	gantry_i_kv_set(&c->seen, commit, buf, 0);
	return t;
}

static int report_usage(const char *fmt, ...) GANTRY_PRINTF(1, 2);
static int report_usage(const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_log(NULL, GANTRY_LOG_ERROR, "%s; see 'gantry help report'",
		   b.buf);
	gantry_buf_release(&b);
	return EXIT_USAGE;
}

static int write_out(const char *path, const char *doc)
{
	FILE *f = path ? fopen(path, "w") : stdout;
	int bad;

	if (!f) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot write '%s': %s; "
			   "check the path given to -o", path, strerror(errno));
		return EXIT_FAILED;
	}
	fputs(doc, f);
	bad = fflush(f) != 0 || ferror(f);
	if (path && fclose(f) != 0)
		bad = 1;
	if (bad) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot write '%s': %s",
			   path ? path : "stdout", strerror(errno));
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* Resolves the window; EXIT_OK or a usage error (printed). */
static int window(const struct options *o, double *since, double *until)
{
	double now = (double)time(NULL);

	*until = now;
	if (o->until && report_parse_time(o->until, now, 1, until) < 0)
		return report_usage("--until '%s' is not a date (YYYY-MM-DD) "
				    "or an age (7d, 24h, 2w)", o->until);
	*since = *until - DEFAULT_DAYS * 86400.0;
	if (o->since && report_parse_time(o->since, now, 0, since) < 0)
		return report_usage("--since '%s' is not a date (YYYY-MM-DD) "
				    "or an age (7d, 24h, 2w)", o->since);
	if (*since >= *until)
		return report_usage("--since '%s' is not before --until '%s'",
				    o->since ? o->since : "", o->until ?
				    o->until : "now");
	return EXIT_OK;
}

/* Reads the records of the chosen environments (all when none) into one
   array; the records are owned by lists[]. */
static int read_journal(struct session *s, const char *service,
			const char *const *envs, size_t nenvs,
			struct deploy_record **all, size_t *n)
{
	struct state *st = session_state(s);
	size_t k, got;

	*all = NULL;
	*n = 0;
	if (!st)
		return EXIT_USAGE;
	for (k = 0; k < (nenvs ? nenvs : 1); k++) {
		struct deploy_record *list = NULL;
		struct errs e = { 0 };

		got = 0;
		if (state_journal_list(st, service, nenvs ? envs[k] : NULL,
				       &list, &got, &e) < 0) {
			errs_print(&e);
			errs_clear(&e);
			return EXIT_FAILED;
		}
		/* The records move into *all; only the array is freed. */
		*all = gantry_i_xrealloc(*all, (*n + got + 1) * sizeof(**all));
		if (got)
			memcpy(*all + *n, list, got * sizeof(*list));
		*n += got;
		free(list);
	}
	return EXIT_OK;
}

int report_command(struct session *s, int nargs, char **args)
{
	const struct options *o = s->opt;
	const char *format = o->format ? o->format : o->json ? "json" : "text";
	static const char *const formats[] = { "text", "json", "html" };
	const char **envs = gantry_i_xcalloc((size_t)nargs + 2, sizeof(*envs));
	struct commit_times ct = { 0 };
	struct deploy_record *all = NULL;
	const char *service;
	struct report rep;
	size_t nenvs = 0, n = 0;
	double since, until;
	char *doc;
	int rc, i;

	rc = window(o, &since, &until);
	if (rc != EXIT_OK)
		goto out;
	if (strcmp(format, "text") && strcmp(format, "json") &&
	    strcmp(format, "html")) {
		const char *dym = did_you_mean(format, formats, 3);

		rc = report_usage("unknown report format '%s'%s%s%s; use text, "
				  "json or html", format, dym ?
				  "; did you mean '" : "", dym ? dym : "",
				  dym ? "'?" : "");
		goto out;
	}
	if (o->json && strcmp(format, "json")) {
		rc = report_usage("--json prints the JSON report; it cannot be "
				  "combined with --format %s", format);
		goto out;
	}
	for (i = 0; i < nargs || (!nargs && o->env && i == 0); i++) {
		const char *name = nargs ? args[i] : o->env;

		if (s->have_conf) {
			const struct env_def *env = session_env_arg(s, name);

			if (!env) {
				rc = EXIT_USAGE;
				goto out;
			}
			name = env->name;
		}
		envs[nenvs++] = name;
	}
	service = o->service ? o->service : s->have_conf ? s->conf.service :
		  NULL;
	rc = read_journal(s, service, envs, nenvs, &all, &n);
	if (rc != EXIT_OK)
		goto out;
	ct.dir = s->have_conf ? s->conf.dir : NULL;
	report_build(&rep, all, n, since, until,
		     ct.dir ? git_commit_time : NULL, &ct);
	doc = !strcmp(format, "json") ? report_json(&rep) :
	      !strcmp(format, "html") ? report_html(&rep) : report_text(&rep);
	rc = write_out(o->output, doc);
	if (rc == EXIT_OK && o->output && !o->json)
		fprintf(stderr, "report written to %s\n", o->output);
	free(doc);
	report_release(&rep);
	gantry_i_kv_clear(&ct.seen);
out:
	journal_list_free(all, n);
	free(envs);
	return rc;
}
