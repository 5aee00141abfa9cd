/*
 * check_cmd.c - running programs: exit status, signals, timeout and
 * interrupt, environment, working directory, start failures, stdin, line
 * splitting, the tail, stdout capture.
 */
#include "config.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

/* Lines the callback saw, "1:" / "2:" prefixed by stream, '|' joined. */
struct seen {
	struct gantry_buf all;
	size_t n;
	size_t stop_after;	/* 0: never ask to stop */
};

static int collect(void *arg, enum gantry_cmd_stream stream,
		   const char *line)
{
	struct seen *s = arg;

	if (s->n++)
		gantry_buf_addch(&s->all, '|');
	gantry_buf_addf(&s->all, "%d:%s", (int)stream, line);
	return s->stop_after && s->n >= s->stop_after;
}

/* Runs /bin/sh -c script, collecting lines into *s. */
static struct gantry_cmd *sh(const char *script, struct seen *s)
{
	struct gantry_cmd *cmd = gantry_cmd_new("/bin/sh");

	gantry_cmd_arg(cmd, "-c");
	gantry_cmd_arg(cmd, script);
	if (s)
		gantry_cmd_on_line(cmd, collect, s);
	return cmd;
}

START_TEST(exit_status_is_reported)
{
	struct gantry_cmd *cmd = sh("exit 3", NULL);

	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_int_eq(gantry_cmd_exit_status(cmd), 3);
	ck_assert_int_eq(gantry_cmd_signal(cmd), 0);
	ck_assert_ptr_null(gantry_cmd_error(cmd));
	gantry_cmd_free(cmd);

	cmd = gantry_cmd_new("true");
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_int_eq(gantry_cmd_exit_status(cmd), 0);
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(signal_is_reported)
{
	struct gantry_cmd *cmd = sh("kill -9 $$", NULL);

	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_int_eq(gantry_cmd_exit_status(cmd), -1);
	ck_assert_int_eq(gantry_cmd_signal(cmd), SIGKILL);
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(timeout_stops_the_program)
{
	struct gantry_cmd *cmd = gantry_cmd_new("sleep");
	double t0 = gantry_now(), took;

	gantry_cmd_arg(cmd, "30");
	gantry_cmd_timeout(cmd, 1);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), GANTRY_ETIMEOUT);
	took = gantry_now() - t0;
	ck_assert_msg(took >= 0.9 && took < 3.0, "took %.2fs", took);
	ck_assert_int_eq(gantry_cmd_signal(cmd), SIGTERM);
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(timeout_kills_what_ignores_sigterm)
{
	/* The trap is inherited by sleep, so only SIGKILL stops the group;
	   the grandchild's death is proven by the pipes closing. */
	struct gantry_cmd *cmd = sh("trap '' TERM; sleep 30; echo survived",
				    NULL);
	double t0 = gantry_now(), took;

	gantry_cmd_timeout(cmd, 1);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), GANTRY_ETIMEOUT);
	took = gantry_now() - t0;
	ck_assert_msg(took >= 5.5 && took < 9.0, "took %.2fs", took);
	ck_assert_int_eq(gantry_cmd_signal(cmd), SIGKILL);
	ck_assert(strstr(gantry_cmd_tail(cmd), "survived") == NULL);
	gantry_cmd_free(cmd);
}
END_TEST

static void on_alarm(int sig)
{
	(void)sig;
	gantry_i_interrupted = 1;
}

START_TEST(interrupt_stops_the_program)
{
	struct gantry_cmd *cmd = gantry_cmd_new("sleep");
	struct sigaction sa;
	double t0 = gantry_now(), took;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(1);
	gantry_cmd_arg(cmd, "30");
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), GANTRY_EINTERRUPTED);
	took = gantry_now() - t0;
	ck_assert_msg(took < 3.0, "took %.2fs", took);
	ck_assert_int_eq(gantry_cmd_signal(cmd), SIGTERM);
	gantry_cmd_free(cmd);
	gantry_i_interrupted = 0;
}
END_TEST

START_TEST(env_reaches_the_child_only)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd = sh("echo \"$GANTRY_T1 $GANTRY_T2\"", &s);

	gantry_cmd_env(cmd, "GANTRY_T1", "one two");
	gantry_cmd_env(cmd, "GANTRY_T2", "$HOME");
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(s.all.buf, "1:one two $HOME");
	ck_assert_ptr_null(getenv("GANTRY_T1"));
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(cwd_is_used)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd = gantry_cmd_new("pwd");
	char before[4096];

	ck_assert_ptr_nonnull(getcwd(before, sizeof(before)));
	gantry_cmd_on_line(cmd, collect, &s);
	gantry_cmd_cwd(cmd, "/usr/share");
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(s.all.buf, "1:/usr/share");
	ck_assert_str_eq(getcwd(before, sizeof(before)), before);
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(bad_cwd_is_reported)
{
	struct gantry_cmd *cmd = gantry_cmd_new("true");

	gantry_cmd_cwd(cmd, "/nonexistent/gantry-dir");
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), GANTRY_EFAIL);
	ck_assert_str_eq(gantry_cmd_error(cmd),
			 "cannot chdir to '/nonexistent/gantry-dir': "
			 "No such file or directory");
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(missing_program_is_reported)
{
	struct gantry_cmd *cmd = gantry_cmd_new("nosuchprog-gantry");

	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), GANTRY_EFAIL);
	ck_assert_str_eq(gantry_cmd_error(cmd),
			 "cannot run 'nosuchprog-gantry': "
			 "No such file or directory");
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(stdin_data_is_fed)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd = gantry_cmd_new("cat");
	/* Larger than a pipe buffer both ways: a deadlock would hang. */
	size_t big = 1024 * 1024, i;
	char *data = malloc(big);

	for (i = 0; i < big; i++)
		data[i] = (i % 100 == 99) ? '\n' : 'x';
	gantry_cmd_capture(cmd);
	gantry_cmd_on_line(cmd, collect, &s);
	gantry_cmd_stdin(cmd, data, big);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_uint_eq(strlen(gantry_cmd_stdout(cmd)), big);
	ck_assert(!memcmp(gantry_cmd_stdout(cmd), data, big));
	/* Every 100th byte ends a line; the rest is one more. */
	ck_assert_uint_eq(s.n, big / 100 + 1);
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
	free(data);

	/* Default stdin is /dev/null: cat ends at once. */
	cmd = gantry_cmd_new("cat");
	gantry_cmd_capture(cmd);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(gantry_cmd_stdout(cmd), "");
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(stdin_ignored_by_the_program_is_fine)
{
	struct gantry_cmd *cmd = gantry_cmd_new("true");
	size_t big = 4 * 1024 * 1024;
	char *data = calloc(1, big);

	gantry_cmd_stdin(cmd, data, big);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_int_eq(gantry_cmd_exit_status(cmd), 0);
	gantry_cmd_free(cmd);
	free(data);
}
END_TEST

/* Order across streams is not defined, so each gets its own list. */
static int by_stream(void *arg, enum gantry_cmd_stream stream,
		     const char *line)
{
	struct gantry_buf *b = (struct gantry_buf *)arg + (stream - 1);

	gantry_buf_addf(b, "[%s]", line);
	return 0;
}

START_TEST(lines_are_split_per_stream)
{
	struct gantry_buf b[2] = { GANTRY_BUF_INIT, GANTRY_BUF_INIT };
	struct gantry_cmd *cmd =
		sh("printf 'a\\nb\\r\\n\\nc'; printf 'e1\\ne2' >&2", NULL);

	gantry_cmd_on_line(cmd, by_stream, b);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	/* CR LF counts as a line end; a last line needs no newline. */
	ck_assert_str_eq(b[0].buf, "[a][b][][c]");
	ck_assert_str_eq(b[1].buf, "[e1][e2]");
	gantry_cmd_free(cmd);
	gantry_buf_release(&b[0]);
	gantry_buf_release(&b[1]);
}
END_TEST

START_TEST(long_lines_are_split)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd =
		sh("head -c 150000 /dev/zero | tr '\\0' y; echo; echo z", &s);

	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	/* 150000 = 65536 + 65536 + 18928, then "z". */
	ck_assert_uint_eq(s.n, 4);
	ck_assert_uint_eq(s.all.len, (2 + 65536) + (3 + 65536) +
			  (3 + 18928) + (3 + 1));
	ck_assert(!strcmp(s.all.buf + s.all.len - 4, "|1:z"));
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(tail_keeps_the_last_lines)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd = sh("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do "
				    "echo line$i; done", &s);

	ck_assert_str_eq(gantry_cmd_tail(cmd), "");
	gantry_cmd_keep_lines(cmd, 3);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(gantry_cmd_tail(cmd), "line10\nline11\nline12");
	ck_assert_uint_eq(s.n, 12);
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);

	cmd = sh("for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo l$i; done",
		 NULL);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(gantry_cmd_tail(cmd),
			 "l3\nl4\nl5\nl6\nl7\nl8\nl9\nl10\nl11\nl12");
	gantry_cmd_free(cmd);
}
END_TEST

START_TEST(capture_keeps_stdout_only)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	struct gantry_cmd *cmd = sh("echo out1; echo err >&2; printf out2",
				    &s);

	gantry_cmd_capture(cmd);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_str_eq(gantry_cmd_stdout(cmd), "out1\nout2");
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(callback_can_stop_the_program)
{
	struct seen s = { GANTRY_BUF_INIT, 0, 2 };
	struct gantry_cmd *cmd = sh("i=0; while :; do i=$((i+1)); echo $i; "
				    "sleep 0.05; done", &s);
	double t0 = gantry_now();

	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert(gantry_now() - t0 < 3.0);
	ck_assert_str_eq(s.all.buf, "1:1|1:2");
	ck_assert_int_eq(gantry_cmd_signal(cmd), SIGTERM);
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(background_child_does_not_hold_us)
{
	/* The grandchild keeps stdout open in a new session, out of
	   reach of the group kill; run must still return while it runs.
	   As a subreaper we see it, still running, afterwards: that, not
	   a time bound against its sleep, shows run did not wait for it. */
	struct gantry_cmd *cmd = sh("setsid sleep 300 & echo started $!", NULL);
	struct seen s = { GANTRY_BUF_INIT, 0, 0 };
	pid_t orphan;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	gantry_cmd_on_line(cmd, collect, &s);
	ck_assert_int_eq(gantry_cmd_run(cmd, NULL), 0);
	ck_assert_msg(!strncmp(s.all.buf, "1:started ", 10), "%s", s.all.buf);
	orphan = (pid_t)atol(s.all.buf + 10);
	ck_assert_int_gt(orphan, 0);
	ck_assert_int_eq(waitpid(orphan, NULL, WNOHANG), 0);
	ck_assert_int_eq(kill(orphan, SIGKILL), 0);
	ck_assert_int_eq(waitpid(orphan, NULL, 0), orphan);
	gantry_cmd_free(cmd);
	gantry_buf_release(&s.all);
}
END_TEST

START_TEST(default_lines_are_logged_redacted)
{
	/* Without a callback, lines go through gantry_log: prefixed and
	   redacted.  Capture our stderr in a pipe to see it. */
	struct gantry_ctx *ctx = gantry_i_ctx_new("unit-tests");
	struct gantry_cmd *cmd = sh("echo token=s3cr3t-value-42", NULL);
	int fds[2], saved;
	char got[256];
	ssize_t n;

	gantry_secret_add("s3cr3t-value-42");
	ck_assert_int_eq(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	ck_assert_int_eq(gantry_cmd_run(cmd, ctx), 0);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	ck_assert_int_gt(n, 0);
	got[n] = '\0';
	ck_assert_str_eq(got, "  [unit-tests] token=***\n");
	/* The tail keeps raw lines; whoever prints it redacts. */
	ck_assert_str_eq(gantry_cmd_tail(cmd), "token=s3cr3t-value-42");
	gantry_cmd_free(cmd);
	gantry_i_ctx_free(ctx);
}
END_TEST

static Suite *cmd_suite(void)
{
	Suite *s = suite_create("cmd");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, exit_status_is_reported);
	tcase_add_test(tc, signal_is_reported);
	tcase_add_test(tc, timeout_stops_the_program);
	tcase_add_test(tc, timeout_kills_what_ignores_sigterm);
	tcase_add_test(tc, interrupt_stops_the_program);
	tcase_add_test(tc, env_reaches_the_child_only);
	tcase_add_test(tc, cwd_is_used);
	tcase_add_test(tc, bad_cwd_is_reported);
	tcase_add_test(tc, missing_program_is_reported);
	tcase_add_test(tc, stdin_data_is_fed);
	tcase_add_test(tc, stdin_ignored_by_the_program_is_fine);
	tcase_add_test(tc, lines_are_split_per_stream);
	tcase_add_test(tc, long_lines_are_split);
	tcase_add_test(tc, tail_keeps_the_last_lines);
	tcase_add_test(tc, capture_keeps_stdout_only);
	tcase_add_test(tc, callback_can_stop_the_program);
	tcase_add_test(tc, background_child_does_not_hold_us);
	tcase_add_test(tc, default_lines_are_logged_redacted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cmd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
