/*
 * report.c - `gantry report`: deploy metrics from the journal, one group
 * per service and environment (rendered by report_text.c and
 * report_html.c; the command is cli_report.c).
 *
 * Every definition here is written down in docs/report.md; change both
 * together.  All times are UTC epoch seconds; day buckets are UTC days
 * whatever TZ says, so a report reads the same on every machine.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

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
	double *v = gantry_xcalloc(g->ndeploys + 1, sizeof(*v));
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
	double *v = gantry_xcalloc(g->ndeploys + 1, sizeof(*v));
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

int report_stage_measured(const struct stage_record *s)
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
			g->stages[k].name = gantry_xstrdup(r->stages[j].name);
			g->nstages++;
		}
	}
	v = gantry_xcalloc(g->ndeploys + 1, sizeof(*v));
	for (k = 0; k < g->nstages; k++) {
		struct report_stat *st = &g->stages[k];

		for (m = i = 0; i < g->ndeploys; i++) {
			const struct deploy_record *r = g->deploys[i].r;

			for (j = 0; j < r->nstages; j++) {
				const struct stage_record *s = &r->stages[j];

				if (!report_stage_measured(s) ||
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
void report_failure_of(const struct report_deploy *d, const char **stage,
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
		report_failure_of(d, &stage, &msg);
		cls = report_failure_class(msg);
		for (k = 0; k < g->nreasons; k++)
			if (!strcmp(g->reasons[k].stage, stage) &&
			    !strcmp(g->reasons[k].cls, cls))
				break;
		if (k == g->nreasons) {
			GANTRY_GROW(g->reasons, k + 1, alloc);
			memset(&g->reasons[k], 0, sizeof(g->reasons[k]));
			g->reasons[k].stage = gantry_xstrdup(stage);
			g->reasons[k].cls = cls;
			g->nreasons++;
		} else {
			free(cls);
		}
		free(g->reasons[k].example);
		g->reasons[k].example = gantry_xstrdup(msg);
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
	struct report_deploy *all = gantry_xcalloc(n, sizeof(*all));
	size_t i, days_alloc = 0;
	double days = (until - since) / 86400;

	g->service = gantry_xstrdup(str_or(recs[0]->service, "?"));
	g->environment = gantry_xstrdup(str_or(recs[0]->environment, "?"));
	for (i = 0; i < n; i++)
		classify(&all[i], recs[i]);
	/* Over every record, so a rollback just after the window still
	   counts against a deploy inside it. */
	for (i = 0; i < n; i++)
		if (all[i].rollback)
			mark_reverted(all, n, i);
	g->deploys = gantry_xcalloc(n, sizeof(*g->deploys));
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
	const struct deploy_record **v = gantry_xcalloc(n + 1, sizeof(*v));
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
