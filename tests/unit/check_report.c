/*
 * check_report.c - the metrics of `gantry report` on hand-built journals
 * with known answers: one deploy, all failures, rollbacks, clock skew,
 * UTC day buckets, partial records; and what the renderers promise.
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "journal.h"
#include "report.h"

/* 2024-03-01T00:00:00Z */
#define T0 1709251200.0
#define HOUR 3600.0
#define DAY 86400.0

struct journal {
	struct deploy_record r[32];
	size_t n;
};

static struct deploy_record *add(struct journal *j, const char *env,
				 const char *tag, const char *result,
				 double started, double finished)
{
	struct deploy_record *r = &j->r[j->n];

	ck_assert_uint_lt(j->n, GANTRY_ARRAY_SIZE(j->r));
	memset(r, 0, sizeof(*r));
	r->id = gantry_xasprintf("id-%02zu", j->n);
	r->service = gantry_xstrdup("svc");
	r->environment = env ? gantry_xstrdup(env) : NULL;
	r->tag = tag ? gantry_xstrdup(tag) : NULL;
	r->actor = gantry_xstrdup("alice");
	r->commit = gantry_xstrdup("abc123");
	r->result = result ? gantry_xstrdup(result) : NULL;
	r->started = started;
	r->finished = finished;
	j->n++;
	return r;
}

static void stage(struct deploy_record *r, const char *name,
		  enum stage_status st, double started, double finished,
		  const char *error)
{
	struct stage_record *s = deploy_record_add_stage(r, name ? name : "x",
							 "x");

	if (!name) {		/* as a damaged record can have it */
		free(s->name);
		s->name = NULL;
	}
	s->status = st;
	s->started = started;
	s->finished = finished;
	s->error = error ? gantry_xstrdup(error) : NULL;
	if (st == ST_FAILED || st == ST_TIMED_OUT) {
		free(r->failed_stage);
		r->failed_stage = gantry_xstrdup(name);
	}
}

static void rollback_of(struct deploy_record *r, const char *tag)
{
	gantry_i_kv_set(&r->context, "deploy.rollback", "true", 0);
	gantry_i_kv_set(&r->context, "deploy.rollback_of", tag, 0);
}

static void journal_free(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		deploy_record_release(&j->r[i]);
}

/* Every commit was made at T0. */
static double commit_at_t0(void *arg, const char *commit)
{
	int *calls = arg;

	(*calls)++;
	return strcmp(commit, "abc123") ? -1 : T0;
}

static const struct report_group *group(const struct report *rep,
					const char *env)
{
	size_t i;

	for (i = 0; i < rep->ngroups; i++)
		if (!strcmp(rep->groups[i].environment, env))
			return &rep->groups[i];
	ck_abort_msg("no group for %s", env);
	return NULL;
}

static size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

#define ck_assert_near(a, b) ck_assert_double_eq_tol((a), (b), 1e-6)

START_TEST(quantiles_by_nearest_rank)
{
	double a[] = { 5, 1, 3 }, b[] = { 4, 1, 3, 2 }, one[] = { 7 };
	double ten[] = { 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };

	ck_assert_near(report_quantile(a, 3, 0.5), 3);
	ck_assert_near(report_quantile(b, 4, 0.5), 2.5);
	ck_assert_near(report_quantile(ten, 10, 0.9), 9);
	ck_assert_near(report_quantile(ten, 10, 1), 10);
	ck_assert_near(report_quantile(one, 1, 0.9), 7);
	ck_assert_near(report_quantile(NULL, 0, 0.5), -1);
}
END_TEST

START_TEST(times_parse_as_utc_dates_or_ages)
{
	double t = 0, now = 2e9;

	setenv("TZ", "Pacific/Auckland", 1);
	tzset();
	ck_assert_int_eq(report_parse_time("2024-03-01", now, 0, &t), 0);
	ck_assert_near(t, T0);
	ck_assert_int_eq(report_parse_time("2024-02-29", now, 1, &t), 0);
	ck_assert_near(t, T0);		/* the whole of the 29th */
	ck_assert_int_eq(report_parse_time("2024-12-31", now, 1, &t), 0);
	ck_assert_near(t, 1735689600.0);	/* 2025-01-01 */
	ck_assert_int_eq(report_parse_time("7d", now, 0, &t), 0);
	ck_assert_near(t, now - 7 * DAY);
	ck_assert_int_eq(report_parse_time("24h", now, 0, &t), 0);
	ck_assert_near(t, now - DAY);
	ck_assert_int_eq(report_parse_time("2w", now, 0, &t), 0);
	ck_assert_near(t, now - 14 * DAY);
	ck_assert_int_eq(report_parse_time("yesterday", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("7x", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("7dd", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("-7d", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("2024-3-1", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("2024-03-01x", now, 0, &t), -1);
	ck_assert_int_eq(report_parse_time("", now, 0, &t), -1);
}
END_TEST

START_TEST(failure_class_hides_values)
{
	char *c = report_failure_class("stopped task 'abc-1' exit code 137 "
				       "after 12.5s:\n\t\"oom\"  killed");

	ck_assert_str_eq(c,
			 "stopped task '*' exit code # after #s: \"*\" killed");
	free(c);
	c = report_failure_class("status 503 from 'http://x:1/healthz'");
	ck_assert_str_eq(c, "status # from '*'");
	free(c);
	c = report_failure_class("it's broken");	/* unbalanced quote */
	ck_assert_str_eq(c, "it's broken");
	free(c);
	c = report_failure_class(NULL);
	ck_assert_str_eq(c, "");
	free(c);
}
END_TEST

START_TEST(empty_journal_gives_an_empty_report)
{
	struct report rep;
	char *text, *json, *html;
	json_object *j;

	report_build(&rep, NULL, 0, T0, T0 + 7 * DAY, NULL, NULL);
	ck_assert_uint_eq(rep.ngroups, 0);
	text = report_text(&rep);
	json = report_json(&rep);
	html = report_html(&rep);
	ck_assert_ptr_nonnull(strstr(text, "no deploys in this period"));
	j = json_tokener_parse(json);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(j,
						  "groups")), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j,
			 "since")), "2024-03-01T00:00:00Z");
	ck_assert_uint_eq(count_of(html, "class=\"deploy-mark"), 0);
	ck_assert_ptr_nonnull(strstr(html, "no deploys in this period"));
	json_object_put(j);
	free(text);
	free(json);
	free(html);
	report_release(&rep);
}
END_TEST

START_TEST(single_deploy)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	const struct report_group *g;
	struct report rep;
	int calls = 0;

	r = add(&jl, "staging", "v1.0.0-rc.1", "succeeded", T0 + HOUR,
		T0 + HOUR + 120);
	stage(r, "build", ST_SUCCEEDED, T0 + HOUR, T0 + HOUR + 100, NULL);
	stage(r, "deploy", ST_SUCCEEDED, T0 + HOUR + 100, T0 + HOUR + 120,
	      NULL);
	stage(r, "smoke", ST_SKIPPED, 0, 0, NULL);
	report_build(&rep, jl.r, jl.n, T0, T0 + 7 * DAY, commit_at_t0, &calls);
	ck_assert_uint_eq(rep.ngroups, 1);
	g = group(&rep, "staging");
	ck_assert_uint_eq(g->ndeploys, 1);
	ck_assert_uint_eq(g->succeeded, 1);
	ck_assert_uint_eq(g->finished, 1);
	ck_assert_near(g->cfr, 0);
	ck_assert_near(g->per_day, 1.0 / 7);
	ck_assert_near(g->per_week, 1.0);
	ck_assert_uint_eq(g->lead_n, 1);
	ck_assert_near(g->lead_median, HOUR + 120);
	ck_assert_near(g->lead_p90, HOUR + 120);
	ck_assert_int_eq(calls, 1);
	ck_assert_uint_eq(g->restore_n, 0);
	ck_assert_near(g->restore_median, -1);
	ck_assert_int_eq(g->restore_open, 0);
	ck_assert_near(g->deploys[0].duration, 120);
	ck_assert_uint_eq(g->nstages, 3);
	ck_assert_str_eq(g->stages[0].name, "build");
	ck_assert_near(g->stages[0].median, 100);
	ck_assert_uint_eq(g->stages[2].count, 0);	/* skipped: no time */
	ck_assert_near(g->stages[2].median, -1);
	ck_assert_str_eq(g->slowest, "build");
	ck_assert_uint_eq(g->nreasons, 0);
	report_release(&rep);

	/* Without a way to read commit times, lead time is unknown. */
	report_build(&rep, jl.r, jl.n, T0, T0 + 7 * DAY, NULL, NULL);
	ck_assert_uint_eq(rep.groups[0].lead_n, 0);
	ck_assert_uint_eq(rep.groups[0].lead_unknown, 1);
	ck_assert_near(rep.groups[0].lead_median, -1);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(all_failures)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	const struct report_group *g;
	struct report rep;
	int calls = 0;

	r = add(&jl, "production", "v1.0.0", "failed", T0, T0 + 60);
	stage(r, "smoke", ST_FAILED, T0 + 30, T0 + 60,
	      "status 503 from 'http://a:8080/healthz'");
	r = add(&jl, "production", "v1.0.1", "rolled_back", T0 + DAY,
		T0 + DAY + 60);
	stage(r, "smoke", ST_FAILED, T0 + DAY, T0 + DAY + 60,
	      "status 502 from 'http://b/healthz'");
	r = add(&jl, "production", "v1.0.2", "timed_out", T0 + 2 * DAY,
		T0 + 2 * DAY + 900);
	stage(r, "ecs", ST_TIMED_OUT, T0 + 2 * DAY, T0 + 2 * DAY + 900,
	      "not stable after 900s");
	r = add(&jl, "production", "v1.0.3", "failed_deployed", T0 + 3 * DAY,
		T0 + 3 * DAY + 10);
	r->reason = gantry_xstrdup("smoke said no");	/* no stage record */
	report_build(&rep, jl.r, jl.n, T0, T0 + 7 * DAY, commit_at_t0, &calls);
	g = group(&rep, "production");
	ck_assert_uint_eq(g->ndeploys, 4);
	ck_assert_uint_eq(g->finished, 4);
	ck_assert_uint_eq(g->failures, 4);
	ck_assert_uint_eq(g->succeeded, 0);
	ck_assert_near(g->cfr, 1.0);
	ck_assert_near(g->per_day, 0);
	ck_assert_uint_eq(g->lead_n, 0);
	ck_assert_uint_eq(g->lead_unknown, 0);
	ck_assert_int_eq(calls, 0);
	ck_assert_uint_eq(g->restore_n, 0);
	ck_assert_int_eq(g->restore_open, 1);
	ck_assert_uint_eq(g->nreasons, 3);
	ck_assert_str_eq(g->reasons[0].stage, "smoke");
	ck_assert_str_eq(g->reasons[0].cls, "status # from '*'");
	ck_assert_uint_eq(g->reasons[0].count, 2);
	ck_assert_str_eq(g->reasons[0].example,
			 "status 502 from 'http://b/healthz'");
	ck_assert_str_eq(g->reasons[1].stage, "-");
	ck_assert_str_eq(g->reasons[1].cls, "smoke said no");
	ck_assert_str_eq(g->reasons[2].stage, "ecs");
	ck_assert_str_eq(g->reasons[2].cls, "not stable after #s");
	ck_assert_str_eq(g->slowest, "ecs");
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(rollback_deploy_marks_the_previous_failed)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	const struct report_group *g;
	struct report rep;
	int calls = 0;
	double until = T0 + 7 * DAY;

	add(&jl, "staging", "v1", "succeeded", T0 + HOUR, T0 + HOUR + 60);
	add(&jl, "staging", "v2", "succeeded", T0 + 2 * HOUR,
	    T0 + 2 * HOUR + 60);
	r = add(&jl, "staging", "v1", "succeeded", T0 + 3 * HOUR,
		T0 + 3 * HOUR + 60);
	rollback_of(r, "v2");
	/* A rollback more than 24 h later does not count against v3. */
	add(&jl, "staging", "v3", "succeeded", T0 + DAY, T0 + DAY + 60);
	r = add(&jl, "staging", "v2", "succeeded", T0 + 2 * DAY + 120,
		T0 + 2 * DAY + 180);
	rollback_of(r, "v3");
	/* The rollback of v4 happens after the window: v4 still counts. */
	add(&jl, "staging", "v4", "succeeded", until - HOUR, until - HOUR + 60);
	r = add(&jl, "staging", "v3", "succeeded", until + HOUR,
		until + HOUR + 60);
	rollback_of(r, "v4");
	report_build(&rep, jl.r, jl.n, T0, until, commit_at_t0, &calls);
	g = group(&rep, "staging");
	ck_assert_uint_eq(g->ndeploys, 6);
	ck_assert_uint_eq(g->rollbacks, 2);
	ck_assert_uint_eq(g->succeeded, 6);
	ck_assert_int_eq(g->deploys[1].reverted, 1);
	ck_assert_int_eq(g->deploys[1].change_failure, 1);
	ck_assert_int_eq(g->deploys[0].change_failure, 0);
	ck_assert_int_eq(g->deploys[3].reverted, 0);
	ck_assert_int_eq(g->deploys[5].reverted, 1);
	ck_assert_uint_eq(g->failures, 2);
	ck_assert_near(g->cfr, 2.0 / 6);
	/* v2 broke at +2h01, the rollback restored at +3h01; v4's incident
	   is still open at the end of the window. */
	ck_assert_uint_eq(g->restore_n, 1);
	ck_assert_near(g->restore_median, HOUR);
	ck_assert_int_eq(g->restore_open, 1);
	/* Rollback deploys redeploy old commits: no lead time. */
	ck_assert_uint_eq(g->lead_n, 4);
	ck_assert_uint_eq(g->nreasons, 1);
	ck_assert_str_eq(g->reasons[0].cls, "undone by a rollback deploy");
	ck_assert_uint_eq(g->reasons[0].count, 2);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(restore_spans_consecutive_failures)
{
	struct journal jl = { .n = 0 };
	const struct report_group *g;
	struct report rep;

	add(&jl, "production", "v1", "failed", T0, T0 + 100);
	add(&jl, "production", "v2", "rollback_failed", T0 + 1000, T0 + 1100);
	add(&jl, "production", "v3", "succeeded", T0 + 2000, T0 + 2100);
	add(&jl, "production", "v4", "failed", T0 + 5000, T0 + 5100);
	add(&jl, "production", "v5", "interrupted", T0 + 5200, T0 + 5300);
	add(&jl, "production", "v6", "succeeded", T0 + 6000, T0 + 9100);
	add(&jl, "production", "v7", "failed", T0 + 9500, T0 + 9600);
	add(&jl, "production", "v8", "succeeded", T0 + 9700, T0 + 9700 + 400);
	report_build(&rep, jl.r, jl.n, T0, T0 + DAY, NULL, NULL);
	g = group(&rep, "production");
	/* 2100-100 = 2000, 9100-5100 = 4000, 10100-9600 = 500: median 2000 */
	ck_assert_uint_eq(g->restore_n, 3);
	ck_assert_near(g->restore_median, 2000);
	ck_assert_int_eq(g->restore_open, 0);
	ck_assert_uint_eq(g->interrupted, 1);
	ck_assert_uint_eq(g->finished, 7);	/* interrupted is not */
	ck_assert_near(g->cfr, 4.0 / 7);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(clock_skew_is_left_out_not_fatal)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	const struct report_group *g;
	struct report rep;
	int calls = 0;
	char *html;

	/* Machine A's clock runs ahead: the failure "finished" after the
	   success that followed it on machine B. */
	add(&jl, "staging", "v1", "failed", T0 + 100, T0 + 5000);
	add(&jl, "staging", "v2", "succeeded", T0 + 200, T0 + 300);
	r = add(&jl, "staging", "v3", "succeeded", T0 + 1000, T0 + 900);
	stage(r, "build", ST_SUCCEEDED, T0 + 1000, T0 + 990, NULL);
	stage(r, "deploy", ST_SUCCEEDED, T0 + 990, T0 + 995, NULL);
	report_build(&rep, jl.r, jl.n, T0, T0 + DAY, commit_at_t0, &calls);
	g = group(&rep, "staging");
	ck_assert_uint_eq(g->ndeploys, 3);
	ck_assert_near(g->deploys[2].duration, -1);
	ck_assert_uint_eq(g->skewed, 2);
	ck_assert_uint_eq(g->restore_n, 0);
	ck_assert_int_eq(g->restore_open, 0);
	ck_assert_uint_eq(g->stages[0].count, 0);	/* ran backwards */
	ck_assert_uint_eq(g->stages[1].count, 1);
	ck_assert_str_eq(g->slowest, "deploy");
	ck_assert_uint_eq(g->lead_n, 2);
	html = report_html(&rep);
	ck_assert_uint_eq(count_of(html, "class=\"deploy-mark"), 3);
	free(html);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(days_are_utc_whatever_tz_says)
{
	static const char *const zones[] = { "America/Los_Angeles",
					     "Pacific/Kiritimati", "UTC" };
	struct journal jl = { .n = 0 };
	const struct report_group *g;
	struct report rep;
	size_t z;

	add(&jl, "staging", "a", "succeeded", T0 - 1, T0 + 10);
	add(&jl, "staging", "b", "succeeded", T0, T0 + 10);
	add(&jl, "staging", "c", "failed", T0 + DAY - 1, T0 + DAY + 10);
	add(&jl, "staging", "d", "succeeded", T0 + DAY, T0 + DAY + 10);
	add(&jl, "staging", "e", "succeeded", T0 - DAY - 1, T0 - DAY);
	add(&jl, "staging", "f", "succeeded", T0 + 2 * DAY, T0 + 2 * DAY + 1);
	for (z = 0; z < GANTRY_ARRAY_SIZE(zones); z++) {
		setenv("TZ", zones[z], 1);
		tzset();
		/* [since, until): e is before, f exactly at the end. */
		report_build(&rep, jl.r, jl.n, T0 - DAY, T0 + 2 * DAY, NULL,
			     NULL);
		g = group(&rep, "staging");
		ck_assert_uint_eq(g->ndeploys, 4);
		ck_assert_uint_eq(g->ndays, 3);
		ck_assert_str_eq(g->days[0].date, "2024-02-29");
		ck_assert_uint_eq(g->days[0].deploys, 1);
		ck_assert_str_eq(g->days[1].date, "2024-03-01");
		ck_assert_uint_eq(g->days[1].deploys, 2);
		ck_assert_uint_eq(g->days[1].succeeded, 1);
		ck_assert_str_eq(g->days[2].date, "2024-03-02");
		ck_assert_near(g->per_day, 3.0 / 3);
		report_release(&rep);
	}
	journal_free(&jl);
}
END_TEST

START_TEST(partial_records_still_report)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	const struct report_group *g;
	struct report rep;
	char *text, *json, *html;
	json_object *j, *grp;

	add(&jl, "staging", "v1", NULL, T0 + 10, 0);		/* running */
	r = add(&jl, "staging", NULL, "interrupted", T0 + 20, T0 + 30);
	free(r->actor);
	r->actor = NULL;
	free(r->commit);
	r->commit = NULL;
	stage(r, NULL, ST_INTERRUPTED, T0 + 20, T0 + 30, NULL);
	stage(r, "deploy", ST_RUNNING, T0 + 25, 0, NULL);
	add(&jl, "staging", "v0", "succeeded", 0, 0);	/* no start time */
	r = add(&jl, "staging", "v9", "succeeded", T0 + 40, T0 + 50);
	r->dry_run = 1;
	add(&jl, NULL, "v2", "some_future_word", T0 + 60, T0 + 70);
	report_build(&rep, jl.r, jl.n, T0, T0 + DAY, NULL, NULL);
	ck_assert_uint_eq(rep.skipped, 1);
	ck_assert_uint_eq(rep.ngroups, 2);
	g = group(&rep, "staging");
	ck_assert_uint_eq(g->ndeploys, 2);
	ck_assert_uint_eq(g->running, 1);
	ck_assert_uint_eq(g->interrupted, 1);
	ck_assert_uint_eq(g->finished, 0);
	ck_assert_near(g->cfr, -1);
	ck_assert_near(g->deploys[0].duration, -1);
	ck_assert_uint_eq(g->stages[0].count, 0);
	g = group(&rep, "?");
	ck_assert_uint_eq(g->finished, 0);
	text = report_text(&rep);
	ck_assert_ptr_nonnull(strstr(text, "change failures   unknown"));
	ck_assert_ptr_nonnull(strstr(text, "1 records without a start time"));
	json = report_json(&rep);
	j = json_tokener_parse(json);
	ck_assert_ptr_nonnull(j);
	grp = json_object_array_get_idx(json_object_object_get(j, "groups"), 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(grp,
			 "environment")), "staging");
	ck_assert_ptr_null(json_object_object_get(grp, "change_failure_rate"));
	html = report_html(&rep);
	ck_assert_uint_eq(count_of(html, "class=\"deploy-mark"), 3);
	ck_assert_ptr_nonnull(strstr(html, "o-other"));
	json_object_put(j);
	free(text);
	free(json);
	free(html);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(html_is_self_contained_and_escaped)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	struct report rep;
	char *html;

	r = add(&jl, "staging", "<v1&\">", "failed", T0, T0 + 65);
	stage(r, "smoke", ST_FAILED, T0, T0 + 65, "got <b>503</b>");
	add(&jl, "production", "v1", "succeeded", T0 + 100, T0 + 200);
	add(&jl, "production", "v2", "succeeded", T0 + 300, T0 + 400);
	report_build(&rep, jl.r, jl.n, T0, T0 + DAY, NULL, NULL);
	html = report_html(&rep);
	ck_assert_uint_eq(count_of(html, "class=\"deploy-mark"), 3);
	ck_assert_uint_eq(count_of(html, "<title>v1 - succeeded"), 1);
	ck_assert_ptr_nonnull(strstr(html, "&lt;v1&amp;&quot;&gt; - failed\nby "
				    "alice at 2024-03-01 00:00:00Z, took 1m05s"
				    "\nfailing stage: smoke"));
	ck_assert_ptr_null(strstr(html, "<b>503"));
	ck_assert_ptr_null(strstr(html, "<script"));
	ck_assert_ptr_null(strstr(html, "http"));	/* nothing to fetch */
	ck_assert_ptr_nonnull(strstr(html, "prefers-color-scheme:dark"));
	ck_assert_ptr_nonnull(strstr(html, "@media print"));
	free(html);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

START_TEST(json_document_has_the_documented_fields)
{
	struct journal jl = { .n = 0 };
	struct deploy_record *r;
	struct report rep;
	char *json;
	json_object *j, *g, *o, *d;

	r = add(&jl, "staging", "v1", "failed", T0, T0 + 60);
	stage(r, "smoke", ST_FAILED, T0 + 10, T0 + 60, "no");
	add(&jl, "staging", "v2", "succeeded", T0 + 100, T0 + 160);
	report_build(&rep, jl.r, jl.n, T0, T0 + DAY, NULL, NULL);
	json = report_json(&rep);
	j = json_tokener_parse(json);
	ck_assert_ptr_nonnull(j);
	g = json_object_array_get_idx(json_object_object_get(j, "groups"), 0);
	ck_assert_near(json_object_get_double(json_object_object_get(g,
		       "change_failure_rate")), 0.5);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(g,
			 "deploys")), 2);
	o = json_object_object_get(g, "time_to_restore");
	ck_assert_near(json_object_get_double(json_object_object_get(o,
		       "median")), 100);
	o = json_object_object_get(g, "lead_time");
	ck_assert_ptr_null(json_object_object_get(o, "median"));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o,
			 "unknown")), 1);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(g,
			 "slowest_stage")), "smoke");
	d = json_object_array_get_idx(json_object_object_get(g, "timeline"), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(d,
			 "failed_stage")), "smoke");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(d,
			 "started")), "2024-03-01T00:00:00Z");
	ck_assert_int_eq(json_object_array_length(json_object_object_get(g,
			 "failure_reasons")), 1);
	json_object_put(j);
	free(json);
	report_release(&rep);
	journal_free(&jl);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, quantiles_by_nearest_rank);
	tcase_add_test(tc, times_parse_as_utc_dates_or_ages);
	tcase_add_test(tc, failure_class_hides_values);
	tcase_add_test(tc, empty_journal_gives_an_empty_report);
	tcase_add_test(tc, single_deploy);
	tcase_add_test(tc, all_failures);
	tcase_add_test(tc, rollback_deploy_marks_the_previous_failed);
	tcase_add_test(tc, restore_spans_consecutive_failures);
	tcase_add_test(tc, clock_skew_is_left_out_not_fatal);
	tcase_add_test(tc, days_are_utc_whatever_tz_says);
	tcase_add_test(tc, partial_records_still_report);
	tcase_add_test(tc, html_is_self_contained_and_escaped);
	tcase_add_test(tc, json_document_has_the_documented_fields);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
