/*
 * check_journal.c - deploy ids, the record's JSON form, atomic writes,
 * redaction on disk, listing and the error paths.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "journal.h"
#include "state.h"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_journal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char chunk[4096];
	ssize_t got;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	while ((got = read(fd, chunk, sizeof(chunk))) > 0)
		gantry_buf_add(&b, chunk, (size_t)got);
	close(fd);
	return gantry_buf_detach(&b);
}

static void spit(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* A record with every field set and three stages with outputs. */
static void fill(struct deploy_record *r, const char *id, const char *svc,
		 const char *env)
{
	struct stage_record *s;

	memset(r, 0, sizeof(*r));
	r->id = gantry_xstrdup(id);
	r->service = gantry_xstrdup(svc);
	r->environment = gantry_xstrdup(env);
	r->tag = gantry_xstrdup("v0.1.0-rc.1");
	r->version = gantry_xstrdup("0.1.0-rc.1");
	r->commit = gantry_xstrdup("0123456789abcdef"
				     "0123456789abcdef01234567");
	r->image_digest = gantry_xstrdup("sha256:feedbeef");
	r->actor = gantry_xstrdup("alice");
	r->host = gantry_xstrdup("ci-runner-7");
	r->approved_by = gantry_xstrdup("bob");
	r->forced_promotion = 1;
	r->dry_run = 0;
	r->started = 1700000000.125;
	r->finished = 1700000123.5;
	r->result = gantry_xstrdup("rolled_back");
	r->exit_code = 3;
	r->reason = gantry_xstrdup("smoke: '/healthz' answered 503 \"down\"");
	r->failed_stage = gantry_xstrdup("smoke");
	r->resumed = 2;
	gantry_i_kv_set(&r->context, "service", svc, 0);
	gantry_i_kv_set(&r->context, "release.tag", "v0.1.0-rc.1", 0);
	gantry_i_kv_set(&r->context, "image.uri",
			"1234.dkr.ecr.eu-west-1.amazonaws.com/api:0.1.0", 0);

	s = deploy_record_add_stage(r, "git-release", "git-release");
	s->status = ST_SUCCEEDED;
	s->started = 1700000000.25;
	s->finished = 1700000001.75;
	s->attempts = 1;
	gantry_i_kv_set(&s->outputs, "release.commit", "0123abc", 0);

	s = deploy_record_add_stage(r, "integration-tests", "exec");
	s->status = ST_ROLLED_BACK;
	s->started = 1700000002.001;
	s->finished = 1700000050.999;
	s->attempts = 3;
	gantry_i_kv_set(&s->outputs, "tests.passed", "42", 0);
	gantry_i_kv_set(&s->outputs, "tests.log",
			"line 1\nline\t2 / \\ end", 0);

	s = deploy_record_add_stage(r, "smoke", "smoke");
	s->status = ST_FAILED;
	s->started = 1700000060;
	s->finished = 1700000120.5;
	s->attempts = 2;
	s->error = gantry_xstrdup("'/healthz' answered 503");
	gantry_i_kv_set(&s->outputs, "smoke.latency_ms", "12", 0);
}

static void assert_kv_eq(const struct gantry_kvlist *a,
			 const struct gantry_kvlist *b)
{
	size_t i;

	ck_assert_uint_eq(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		ck_assert_str_eq(a->v[i].key, b->v[i].key);
		ck_assert_str_eq(a->v[i].value, b->v[i].value);
	}
}

#define ck_assert_opt_str_eq(a, b) do { \
	if ((a) == NULL || (b) == NULL) \
		ck_assert_ptr_eq((a), (b)); \
	else \
		ck_assert_str_eq((a), (b)); \
} while (0)

static void assert_records_eq(const struct deploy_record *a,
			      const struct deploy_record *b)
{
	size_t i;

	ck_assert_str_eq(a->id, b->id);
	ck_assert_str_eq(a->service, b->service);
	ck_assert_str_eq(a->environment, b->environment);
	ck_assert_opt_str_eq(a->tag, b->tag);
	ck_assert_opt_str_eq(a->version, b->version);
	ck_assert_opt_str_eq(a->commit, b->commit);
	ck_assert_opt_str_eq(a->image_digest, b->image_digest);
	ck_assert_opt_str_eq(a->actor, b->actor);
	ck_assert_opt_str_eq(a->host, b->host);
	ck_assert_opt_str_eq(a->approved_by, b->approved_by);
	ck_assert_int_eq(a->forced_promotion, b->forced_promotion);
	ck_assert_int_eq(a->dry_run, b->dry_run);
	ck_assert(a->started == b->started);
	ck_assert(a->finished == b->finished);
	ck_assert_str_eq(a->result, b->result);
	ck_assert_int_eq(a->exit_code, b->exit_code);
	ck_assert_opt_str_eq(a->reason, b->reason);
	ck_assert_opt_str_eq(a->failed_stage, b->failed_stage);
	ck_assert_int_eq(a->resumed, b->resumed);
	assert_kv_eq(&a->context, &b->context);
	ck_assert_uint_eq(a->nstages, b->nstages);
	for (i = 0; i < a->nstages; i++) {
		const struct stage_record *x = &a->stages[i];
		const struct stage_record *y = &b->stages[i];

		ck_assert_str_eq(x->name, y->name);
		ck_assert_str_eq(x->stage, y->stage);
		ck_assert_int_eq(x->status, y->status);
		ck_assert(x->started == y->started);
		ck_assert(x->finished == y->finished);
		ck_assert_int_eq(x->attempts, y->attempts);
		ck_assert_opt_str_eq(x->error, y->error);
		assert_kv_eq(&x->outputs, &y->outputs);
	}
}

START_TEST(id_has_format_and_sorts_by_time)
{
	char *a = journal_new_id(), *b, *c, stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	size_t i;

	ck_assert_uint_eq(strlen(a), 23);
	for (i = 0; i < 23; i++) {
		if (i == 8)
			ck_assert_int_eq(a[i], 'T');
		else if (i == 15)
			ck_assert_int_eq(a[i], 'Z');
		else if (i == 16)
			ck_assert_int_eq(a[i], '-');
		else if (i > 16)
			ck_assert(strchr("0123456789abcdef", a[i]));
		else
			ck_assert(a[i] >= '0' && a[i] <= '9');
	}
	/* UTC, to the second (allow the clock to tick once). */
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H", &tm);
	ck_assert(!strncmp(a, stamp, 11) || now % 3600 == 0);

	b = journal_new_id();
	ck_assert_str_ne(a, b);
	sleep(1);
	c = journal_new_id();
	ck_assert_int_lt(strcmp(a, c), 0);
	ck_assert_int_lt(strcmp(b, c), 0);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(status_names_round_trip)
{
	int s;

	for (s = ST_PENDING; s <= ST_TIMED_OUT; s++)
		ck_assert_int_eq(stage_status_parse(stage_status_name(s)), s);
	ck_assert_str_eq(stage_status_name(ST_ROLLBACK_FAILED),
			 "rollback_failed");
	ck_assert_str_eq(stage_status_name(ST_TIMED_OUT), "timed_out");
	ck_assert_int_eq(stage_status_parse("bogus"), -1);
}
END_TEST

START_TEST(json_round_trip_is_lossless)
{
	struct deploy_record r, back;
	struct errs e = { 0 };
	char *json;

	fill(&r, "20240102T030405Z-0a1b2c", "address-api", "staging");
	json = deploy_record_to_json(&r, 1);
	ck_assert(strstr(json, "\"started_at\": \"2023-11-14T22:13:20Z\""));
	ck_assert(strstr(json, "\"status\": \"rolled_back\""));
	ck_assert(strstr(json, "1700000000.125"));
	ck_assert_int_eq(deploy_record_from_json(&back, json, "mem", &e), 0);
	ck_assert_uint_eq(e.n, 0);
	assert_records_eq(&r, &back);
	free(json);
	deploy_record_release(&back);

	/* NULL fields and no stages survive as well. */
	free(r.approved_by);
	r.approved_by = NULL;
	free(r.reason);
	r.reason = NULL;
	json = deploy_record_to_json(&r, 0);
	ck_assert_ptr_null(strchr(json, '\n'));
	ck_assert_int_eq(deploy_record_from_json(&back, json, "mem", &e), 0);
	assert_records_eq(&r, &back);
	free(json);
	deploy_record_release(&back);
	deploy_record_release(&r);
}
END_TEST

START_TEST(from_json_ignores_unknown_and_names_missing_keys)
{
	struct deploy_record r;
	struct errs e = { 0 };

	ck_assert_int_eq(deploy_record_from_json(&r,
		"{\"id\":\"20240102T030405Z-0a1b2c\",\"service\":\"s\","
		"\"environment\":\"e\",\"result\":\"succeeded\","
		"\"added_in_v9\":{\"x\":[1,2]},"
		"\"stages\":[{\"name\":\"a\",\"status\":\"skipped\","
		"\"future\":true}]}", "f.json", &e), 0);
	ck_assert_uint_eq(r.nstages, 1);
	ck_assert_int_eq(r.stages[0].status, ST_SKIPPED);
	deploy_record_release(&r);

	ck_assert_int_eq(deploy_record_from_json(&r,
		"{\"service\":\"s\",\"environment\":\"e\","
		"\"result\":\"succeeded\"}", "/x/f.json", &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], "journal record '/x/f.json': missing key "
			 "'id'; repair or remove the file");
	ck_assert_ptr_null(r.service);
	errs_clear(&e);

	ck_assert_int_eq(deploy_record_from_json(&r, "{\"id\": 4",
						 "/x/g.json", &e), -1);
	ck_assert(strstr(e.msg[0], "'/x/g.json': not valid JSON"));
	errs_clear(&e);

	ck_assert_int_eq(deploy_record_from_json(&r,
		"{\"id\":\"i\",\"service\":\"s\",\"environment\":\"e\","
		"\"result\":\"r\",\"stages\":[{\"name\":\"a\","
		"\"status\":\"exploded\"}]}", "h.json", &e), -1);
	ck_assert(strstr(e.msg[0], "unknown status 'exploded'"));
	ck_assert(strstr(e.msg[0], "stages[0].status"));
	errs_clear(&e);
}
END_TEST

START_TEST(write_redacts_secrets_and_is_private)
{
	struct deploy_record r, back;
	struct errs e = { 0 };
	struct stat st;
	char *state = gantry_xasprintf("%s/a/b/state", tmpdir);
	char *path, *text, *p;
	const char *id = "20240102T030405Z-0a1b2c";

	gantry_secret_add("tok-3x4mpl3-s3cr3t");
	/* Would be escaped in JSON ("\/" or "\"") if redaction ran only on
	   the finished text. */
	gantry_secret_add("pa/ss\"wd-42");
	fill(&r, id, "address-api", "staging");
	gantry_i_kv_set(&r.context, "slack.url",
			"https://hooks/x?token=tok-3x4mpl3-s3cr3t", 0);
	gantry_i_kv_set(&r.context, "db.password", "pa/ss\"wd-42", 0);
	gantry_i_kv_set(&r.stages[1].outputs, "aws.session_token",
			"unregistered-but-secret-value", 1);
	free(r.stages[2].error);
	r.stages[2].error = gantry_xstrdup("auth failed with "
					     "tok-3x4mpl3-s3cr3t");

	ck_assert_int_eq(journal_write(state, &r, &e), 0);
	ck_assert_uint_eq(e.n, 0);
	path = gantry_xasprintf("%s/journal/%s.json", state, id);
	text = slurp(path);
	ck_assert_ptr_null(strstr(text, "tok-3x4mpl3-s3cr3t"));
	ck_assert_ptr_null(strstr(text, "3x4mpl3"));
	ck_assert_ptr_null(strstr(text, "wd-42"));
	ck_assert_ptr_null(strstr(text, "unregistered-but-secret-value"));
	ck_assert(strstr(text, "\"aws.session_token\": \"***\""));
	ck_assert(strstr(text, "token=***"));
	ck_assert(strstr(text, "auth failed with ***"));
	ck_assert(strstr(text, "\"db.password\": \"***\""));
	ck_assert_int_eq(text[strlen(text) - 1], '\n');

	/* 0700 for every directory created, 0600 for the record. */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	p = gantry_xasprintf("%s/journal", state);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	free(p);
	ck_assert_int_eq(stat(state, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	p = gantry_xasprintf("%s/a", tmpdir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	free(p);

	/* Reads back with the secret entry as "***". */
	ck_assert_int_eq(journal_read(state, id, &back, &e), 0);
	ck_assert_str_eq(gantry_i_kv_find(&back.stages[1].outputs,
					  "aws.session_token")->value, "***");
	ck_assert_str_eq(gantry_i_kv_find(&back.stages[1].outputs,
					  "tests.passed")->value, "42");
	deploy_record_release(&back);

	free(text);
	free(path);
	free(state);
	deploy_record_release(&r);
}
END_TEST

START_TEST(write_replaces_and_leaves_no_temp_files)
{
	struct deploy_record r, back;
	struct errs e = { 0 };
	char *jdir = gantry_xasprintf("%s/journal", tmpdir);
	const char *id = "20240102T030405Z-0a1b2c";
	struct dirent *de;
	int files = 0;
	DIR *d;

	fill(&r, id, "address-api", "staging");
	ck_assert_int_eq(journal_write(tmpdir, &r, &e), 0);
	free(r.result);
	r.result = gantry_xstrdup("succeeded");
	ck_assert_int_eq(journal_write(tmpdir, &r, &e), 0);
	ck_assert_int_eq(journal_read(tmpdir, id, &back, &e), 0);
	ck_assert_str_eq(back.result, "succeeded");
	deploy_record_release(&back);

	d = opendir(jdir);
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		ck_assert_ptr_null(strstr(de->d_name, ".tmp"));
		files++;
	}
	closedir(d);
	ck_assert_int_eq(files, 1);
	free(jdir);
	deploy_record_release(&r);
}
END_TEST

START_TEST(list_filters_sorts_and_skips_corrupt)
{
	static const struct {
		const char *id, *svc, *env;
	} recs[] = {
		{ "20240101T000000Z-000001", "api", "staging" },
		{ "20240301T000000Z-000003", "api", "production" },
		{ "20240201T000000Z-000002", "api", "staging" },
		{ "20240401T000000Z-000004", "worker", "staging" },
	};
	struct deploy_record r, *list;
	struct errs e = { 0 };
	size_t i, n;
	char *p;

	/* No journal yet: an empty list. */
	ck_assert_int_eq(journal_list(tmpdir, NULL, NULL, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	journal_list_free(list, n);

	for (i = 0; i < GANTRY_ARRAY_SIZE(recs); i++) {
		fill(&r, recs[i].id, recs[i].svc, recs[i].env);
		ck_assert_int_eq(journal_write(tmpdir, &r, &e), 0);
		deploy_record_release(&r);
	}
	/* Newest of all, but corrupt; and files that are not records. */
	p = gantry_xasprintf("%s/journal/20250101T000000Z-00000f.json",
			       tmpdir);
	spit(p, "{\"id\": \"20250101T000000Z-00000f\", \"serv");
	free(p);
	p = gantry_xasprintf("%s/journal/20250102T000000Z-00000f.json"
			       ".tmp.123", tmpdir);
	spit(p, "{}");
	free(p);
	p = gantry_xasprintf("%s/journal/notes.json", tmpdir);
	spit(p, "{}");
	free(p);

	ck_assert_int_eq(journal_list(tmpdir, NULL, NULL, &list, &n, &e), 0);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(list[0].id, "20240401T000000Z-000004");
	ck_assert_str_eq(list[1].id, "20240301T000000Z-000003");
	ck_assert_str_eq(list[2].id, "20240201T000000Z-000002");
	ck_assert_str_eq(list[3].id, "20240101T000000Z-000001");
	ck_assert_uint_eq(list[0].nstages, 3);
	journal_list_free(list, n);

	ck_assert_int_eq(journal_list(tmpdir, "api", "staging", &list, &n,
				      &e), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].id, "20240201T000000Z-000002");
	ck_assert_str_eq(list[1].id, "20240101T000000Z-000001");
	journal_list_free(list, n);

	ck_assert_int_eq(journal_list(tmpdir, NULL, "staging", &list, &n,
				      &e), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(list[0].service, "worker");
	journal_list_free(list, n);

	ck_assert_int_eq(journal_list(tmpdir, "api", NULL, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 3);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(list[i].service, "api");
	journal_list_free(list, n);

	ck_assert_int_eq(journal_list(tmpdir, "nope", NULL, &list, &n, &e), 0);
	ck_assert_uint_eq(n, 0);
	journal_list_free(list, n);
}
END_TEST

START_TEST(read_missing_id_says_so)
{
	struct deploy_record r;
	struct errs e = { 0 };
	char *want;

	ck_assert_int_eq(journal_read(tmpdir, "20240102T030405Z-0a1b2c", &r,
				      &e), -1);
	ck_assert_uint_eq(e.n, 1);
	want = gantry_xasprintf("no deploy '20240102T030405Z-0a1b2c' in "
				  "%s/journal; see 'gantry history'", tmpdir);
	ck_assert_str_eq(e.msg[0], want);
	free(want);
	errs_clear(&e);

	/* An id that is no id never becomes a path. */
	ck_assert_int_eq(journal_read(tmpdir, "../../etc/passwd", &r, &e), -1);
	ck_assert(!strncmp(e.msg[0], "no deploy '../../etc/passwd'", 28));
	errs_clear(&e);
}
END_TEST

START_TEST(write_failure_reports_path_and_errno)
{
	struct deploy_record r;
	struct errs e = { 0 };
	char *file = gantry_xasprintf("%s/not-a-dir", tmpdir);
	char *want, *p;
	struct dirent *de;
	DIR *d;

	spit(file, "x");
	fill(&r, "20240102T030405Z-0a1b2c", "api", "staging");
	ck_assert_int_eq(journal_write(file, &r, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	want = gantry_xasprintf("cannot write journal record "
				  "'%s/journal/20240102T030405Z-0a1b2c.json': "
				  "%s; ", file, strerror(ENOTDIR));
	ck_assert_msg(!strncmp(e.msg[0], want, strlen(want)), "got '%s'",
		      e.msg[0]);
	ck_assert(strstr(e.msg[0], "--state-dir"));
	ck_assert_ptr_null(strchr(e.msg[0], '\n'));
	free(want);
	errs_clear(&e);

	/* Nothing left behind next to the file either. */
	d = opendir(tmpdir);
	while ((de = readdir(d)))
		ck_assert_ptr_null(strstr(de->d_name, ".tmp"));
	closedir(d);

	/* An id that is no id is refused before any path is built. */
	free(r.id);
	r.id = gantry_xstrdup("../escape");
	p = gantry_xasprintf("%s/s", tmpdir);
	ck_assert_int_eq(journal_write(p, &r, &e), -1);
	ck_assert(strstr(e.msg[0], "invalid deploy id '../escape'"));
	errs_clear(&e);
	free(p);
	free(file);
	deploy_record_release(&r);
}
END_TEST

START_TEST(approvals_round_trip_and_pending)
{
	struct deploy_record r = { 0 }, back;
	struct approval_record *a;
	struct errs e = { 0 };
	char *text;

	r.id = journal_new_id();
	r.service = gantry_xstrdup("svc");
	r.environment = gantry_xstrdup("production");
	r.result = gantry_xstrdup("running");
	ck_assert_ptr_null(deploy_record_pending_approval(&r));
	a = deploy_record_add_approval(&r);
	a->entry = gantry_xstrdup("gate");
	a->key = gantry_xasprintf("%s.gate.0", r.id);
	a->approvers = gantry_xstrdup("bob,carol");
	a->message = gantry_xstrdup("look at the canary");
	a->requested = 1700000000.5;
	a->timeout = 600;
	ck_assert_ptr_eq(deploy_record_pending_approval(&r), a);
	text = deploy_record_to_json(&r, 0);
	ck_assert_int_eq(deploy_record_from_json(&back, text, "t", &e), 0);
	ck_assert_uint_eq(back.napprovals, 1);
	ck_assert_str_eq(back.approvals[0].approvers, "bob,carol");
	ck_assert_str_eq(back.approvals[0].message, "look at the canary");
	ck_assert_uint_eq(back.approvals[0].timeout, 600);
	ck_assert_ptr_null(back.approvals[0].verdict);
	ck_assert_ptr_nonnull(deploy_record_pending_approval(&back));
	deploy_record_release(&back);
	free(text);

	a->verdict = gantry_xstrdup("rejected");
	a->by = gantry_xstrdup("bob");
	a->reason = gantry_xstrdup("canary errors");
	a->decided = 1700000060.25;
	ck_assert_ptr_null(deploy_record_pending_approval(&r));
	text = deploy_record_to_json(&r, 0);
	ck_assert_int_eq(deploy_record_from_json(&back, text, "t", &e), 0);
	ck_assert_str_eq(back.approvals[0].verdict, "rejected");
	ck_assert_str_eq(back.approvals[0].by, "bob");
	ck_assert_str_eq(back.approvals[0].reason, "canary errors");
	ck_assert(back.approvals[0].decided > 1700000060.2);
	deploy_record_release(&back);
	free(text);
	deploy_record_release(&r);
}
END_TEST

START_TEST(decision_is_written_once)
{
	struct approval_decision d = { "approved", "bob", NULL, 1700000000 };
	struct approval_decision late = { "rejected", "gantry",
					  "no decision within 60 s", 1 };
	struct approval_decision got = { 0 }, first = { 0 };
	struct errs e = { 0 };
	char *path;
	struct stat st;

	ck_assert_int_eq(decision_local_get(tmpdir, "x.gate.0", &got, &e), 1);
	ck_assert_int_eq(decision_local_put(tmpdir, "x.gate.0", &d, &first,
					    &e), 0);
	/* The second writer learns the first decision; nothing changes. */
	ck_assert_int_eq(decision_local_put(tmpdir, "x.gate.0", &late,
					    &first, &e), 1);
	ck_assert_str_eq(first.verdict, "approved");
	ck_assert_str_eq(first.by, "bob");
	ck_assert_int_eq(decision_local_get(tmpdir, "x.gate.0", &got, &e), 0);
	ck_assert_str_eq(got.by, "bob");
	ck_assert_ptr_null(got.reason);
	ck_assert_uint_eq(e.n, 0);
	path = gantry_xasprintf("%s/approvals/x.gate.0.json", tmpdir);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	free(path);
	approval_decision_release(&got);
	approval_decision_release(&first);
}
END_TEST

START_TEST(decision_refuses_path_keys_and_damage)
{
	struct approval_decision d = { "approved", "bob", NULL, 1 };
	struct approval_decision got = { 0 };
	struct errs e = { 0 };
	char *path;
	FILE *f;

	ck_assert_int_eq(decision_local_put(tmpdir, "../x", &d, &got, &e),
			 -1);
	ck_assert_int_eq(decision_local_get(tmpdir, ".hidden", &got, &e), -1);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_ptr_nonnull(strstr(e.msg[0], "invalid approval key '../x'"));
	errs_clear(&e);
	path = gantry_xasprintf("%s/approvals", tmpdir);
	mkdir(path, 0700);
	free(path);
	path = gantry_xasprintf("%s/approvals/y.gate.0.json", tmpdir);
	f = fopen(path, "w");
	fputs("{\"verdict\": \"maybe\"}", f);
	fclose(f);
	chmod(path, 0600);
	ck_assert_int_eq(decision_local_get(tmpdir, "y.gate.0", &got, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg[0], "is damaged"));
	errs_clear(&e);
	free(path);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, id_has_format_and_sorts_by_time);
	tcase_add_test(tc, status_names_round_trip);
	tcase_add_test(tc, json_round_trip_is_lossless);
	tcase_add_test(tc, from_json_ignores_unknown_and_names_missing_keys);
	tcase_add_test(tc, write_redacts_secrets_and_is_private);
	tcase_add_test(tc, write_replaces_and_leaves_no_temp_files);
	tcase_add_test(tc, list_filters_sorts_and_skips_corrupt);
	tcase_add_test(tc, read_missing_id_says_so);
	tcase_add_test(tc, write_failure_reports_path_and_errno);
	tcase_add_test(tc, approvals_round_trip_and_pending);
	tcase_add_test(tc, decision_is_written_once);
	tcase_add_test(tc, decision_refuses_path_keys_and_damage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(journal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
