/*
 * check_exec.c - the exec stage, its descriptor called directly: runs,
 * failure messages, shell or not, env, cwd, capture, timeout, plan and
 * configuration errors.
 */
#include "config.h"

#include <check.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "optrules.h"

/* Defined by plugins/exec/exec.c, compiled into this test. */
const struct gantry_stage *gantry_stage_entry(void);

#define WHERE "test.cfg:2"

/* A stage block with command = [args...] (NULL-terminated). */
static struct gantry_config *block(const char *arg, ...)
{
	struct gantry_config *root = gantry_i_config_new(GANTRY_OPT_GROUP, "",
							 "test.cfg:1");
	struct gantry_config *cmd = gantry_i_config_new(GANTRY_OPT_LIST,
							"command", WHERE);
	va_list ap;

	va_start(ap, arg);
	for (; arg; arg = va_arg(ap, const char *))
		gantry_i_config_add(cmd, gantry_i_config_scalar(
			GANTRY_OPT_STRING, "", arg, WHERE));
	va_end(ap);
	gantry_i_config_add(root, cmd);
	return root;
}

static void opt(struct gantry_config *c, enum gantry_option_type type,
		const char *name, const char *text)
{
	gantry_i_config_add(c, gantry_i_config_scalar(type, name, text,
						      "test.cfg:3"));
}

static void env(struct gantry_config *c, const char *name, const char *val)
{
	struct gantry_config *e = gantry_i_config_child(c, "env");

	if (!e) {
		e = gantry_i_config_new(GANTRY_OPT_GROUP, "env", "test.cfg:4");
		gantry_i_config_add(c, e);
	}
	gantry_i_config_add(e, gantry_i_config_scalar(GANTRY_OPT_STRING, name,
						      val, "test.cfg:4"));
}

/* init + run + fini, as the core calls them. */
static int run(struct gantry_config *cfg, struct gantry_ctx *ctx)
{
	const struct gantry_stage *st = gantry_stage_entry();
	void *state = NULL;
	int rc;

	rc = st->init(cfg, ctx, &state);
	if (rc == GANTRY_OK) {
		ck_assert_ptr_nonnull(state);
		rc = st->run(state, ctx);
	} else {
		ck_assert_ptr_null(state);
	}
	st->fini(state);
	gantry_i_config_free(cfg);
	return rc;
}

static const char *output(const struct gantry_ctx *ctx, const char *key)
{
	const struct gantry_kv *kv = gantry_i_kv_find(&ctx->outputs, key);

	return kv ? kv->value : NULL;
}

START_TEST(descriptor_is_complete)
{
	const struct gantry_stage *st = gantry_stage_entry();
	const struct gantry_option *o;
	int has_command = 0;

	ck_assert_uint_eq(st->header.magic, GANTRY_ABI_MAGIC);
	ck_assert_uint_eq(st->header.major, GANTRY_ABI_MAJOR);
	ck_assert_uint_eq(st->header.size, sizeof(struct gantry_stage));
	ck_assert_str_eq(st->name, "exec");
	ck_assert_ptr_nonnull(st->init);
	ck_assert_ptr_nonnull(st->plan);
	ck_assert_ptr_nonnull(st->run);
	ck_assert_ptr_nonnull(st->fini);
	ck_assert_ptr_null(st->rollback);
	for (o = st->options; o->key; o++)
		if (!strcmp(o->key, "command"))
			has_command = o->type == GANTRY_OPT_LIST &&
				      (o->flags & GANTRY_OPT_REQUIRED);
	ck_assert(has_command);
}
END_TEST

START_TEST(success_returns_ok)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("integration-tests");

	ck_assert_int_eq(run(block("sh", "-c", "echo all good", NULL), ctx),
			 GANTRY_OK);
	ck_assert_ptr_null(ctx->err_msg);
	ck_assert_uint_eq(ctx->outputs.n, 0);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(failure_names_status_and_last_output)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("integration-tests");

	ck_assert_int_eq(run(block("sh", "-c",
				   "echo ok 1; echo FAIL: TestX; exit 2",
				   NULL), ctx), GANTRY_EFAIL);
	ck_assert_str_eq(ctx->err_msg,
			 "command 'sh -c echo ok 1; echo FAIL: TestX; exit 2' "
			 "exited with status 2; last output:\n"
			 "ok 1\nFAIL: TestX");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(signal_death_is_named)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");

	ck_assert_int_eq(run(block("sh", "-c", "kill -9 $$", NULL), ctx),
			 GANTRY_EFAIL);
	ck_assert_str_eq(ctx->err_msg, "command 'sh -c kill -9 $$' killed by "
			 "signal 9 (SIGKILL)");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(missing_program_is_explained)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");

	ck_assert_int_eq(run(block("nosuchprog", "x", NULL), ctx),
			 GANTRY_EFAIL);
	ck_assert_str_eq(ctx->err_msg, "cannot run 'nosuchprog': No such file "
			 "or directory; check option 'command' (" WHERE
			 ") and PATH");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(no_shell_unless_asked)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c = block("echo", "$HOME", "a;b", NULL);

	env(c, "HOME", "/gantry-home");
	opt(c, GANTRY_OPT_STRING, "capture", "out");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "out"), "$HOME a;b");

	c = block("echo $HOME; echo done", NULL);
	env(c, "HOME", "/gantry-home");
	opt(c, GANTRY_OPT_BOOL, "shell", "true");
	opt(c, GANTRY_OPT_STRING, "capture", "out");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "out"), "done");

	c = block("echo $HOME", NULL);
	env(c, "HOME", "/gantry-home");
	opt(c, GANTRY_OPT_BOOL, "shell", "true");
	opt(c, GANTRY_OPT_STRING, "capture", "out");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "out"), "/gantry-home");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(env_is_added)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c = block("sh", "-c", "echo \"$A-$B\"", NULL);

	env(c, "A", "first value");
	env(c, "B", "2");
	opt(c, GANTRY_OPT_STRING, "capture", "envtest");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "envtest"), "first value-2");
	ck_assert_ptr_null(getenv("A"));
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(cwd_defaults_to_the_config_dir)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c;

	gantry_i_kv_set(&ctx->values, "config.dir", "/usr/share", 0);
	c = block("pwd", NULL);
	opt(c, GANTRY_OPT_STRING, "capture", "dir");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "dir"), "/usr/share");

	/* A relative cwd is taken from the config's directory too. */
	c = block("pwd", NULL);
	opt(c, GANTRY_OPT_STRING, "cwd", "doc");
	opt(c, GANTRY_OPT_STRING, "capture", "dir");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "dir"), "/usr/share/doc");

	c = block("pwd", NULL);
	opt(c, GANTRY_OPT_STRING, "cwd", "/etc");
	opt(c, GANTRY_OPT_STRING, "capture", "dir");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert_str_eq(output(ctx, "dir"), "/etc");

	c = block("pwd", NULL);
	opt(c, GANTRY_OPT_STRING, "cwd", "no-such-dir");
	ck_assert_int_eq(run(c, ctx), GANTRY_EFAIL);
	ck_assert_str_eq(ctx->err_msg, "cannot chdir to '/usr/share/"
			 "no-such-dir': No such file or directory; check "
			 "option 'cwd' or create the directory");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(capture_publishes_json_members)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c = block("sh", "-c", "echo building; echo "
		"'{\"digest\": \"sha256:ab\", \"count\": 3, \"ok\": true, "
		"\"ratio\": 0.5, \"nested\": {\"x\": 1}, \"bad key\": 1}'; "
		"echo", NULL);

	opt(c, GANTRY_OPT_STRING, "capture", "build");
	ck_assert_int_eq(run(c, ctx), GANTRY_OK);
	ck_assert(!strncmp(output(ctx, "build"), "{\"digest\"", 9));
	ck_assert_str_eq(output(ctx, "build.digest"), "sha256:ab");
	ck_assert_str_eq(output(ctx, "build.count"), "3");
	ck_assert_str_eq(output(ctx, "build.ok"), "true");
	ck_assert_str_eq(output(ctx, "build.ratio"), "0.5");
	ck_assert_ptr_null(output(ctx, "build.nested"));
	ck_assert_ptr_null(output(ctx, "build.nested.x"));
	ck_assert_uint_eq(ctx->outputs.n, 5);
	/* Later stages see them through the context too. */
	ck_assert_str_eq(gantry_ctx_get(ctx, "build.digest"), "sha256:ab");
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(timeout_stops_the_command)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c = block("sleep", "30", NULL);
	double t0 = gantry_now();

	opt(c, GANTRY_OPT_INT, "timeout", "1");
	ck_assert_int_eq(run(c, ctx), GANTRY_ETIMEOUT);
	ck_assert(gantry_now() - t0 < 4.0);
	ck_assert_msg(strstr(ctx->err_msg, "'sleep 30' timed out after 1s"),
		      "got '%s'", ctx->err_msg);

	/* Without the option, the pipeline entry's timeout applies. */
	ctx->timeout = 1;
	t0 = gantry_now();
	ck_assert_int_eq(run(block("sleep", "30", NULL), ctx),
			 GANTRY_ETIMEOUT);
	ck_assert(gantry_now() - t0 < 4.0);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(config_errors_are_refused)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("t");
	struct gantry_config *c;

	ck_assert_int_eq(run(block(NULL), ctx), GANTRY_ECONFIG);
	ck_assert_str_eq(ctx->err_msg, WHERE ": option 'command' is empty; "
			 "give the program and its arguments, e.g. "
			 "[\"go\", \"test\", \"./...\"]");

	c = block("make", "test", NULL);
	opt(c, GANTRY_OPT_BOOL, "shell", "true");
	ck_assert_int_eq(run(c, ctx), GANTRY_ECONFIG);
	ck_assert(!strncmp(ctx->err_msg, WHERE ": with shell = true", 24));

	c = block("true", NULL);
	opt(c, GANTRY_OPT_STRING, "capture", "not a key");
	ck_assert_int_eq(run(c, ctx), GANTRY_ECONFIG);
	ck_assert(strstr(ctx->err_msg, "'not a key'") != NULL);

	c = block("true", NULL);
	env(c, "BAD-NAME", "x");
	ck_assert_int_eq(run(c, ctx), GANTRY_ECONFIG);
	ck_assert(strstr(ctx->err_msg, "'BAD-NAME'") != NULL);

	/* A negative timeout is the core's to refuse, before init: the
	   descriptor's option rule says so (t0100 checks such refusals). */
	{
		const struct gantry_stage *st = gantry_stage_entry();
		const struct gantry_option_rule *r = optrules_find(st,
								   "timeout");

		ck_assert_ptr_nonnull(r);
		ck_assert(r->bounds & GANTRY_BOUND_MIN);
		ck_assert_int_eq(r->min, 0);
	}
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(plan_describes_without_running)
{
	const struct gantry_stage *st = gantry_stage_entry();
	struct gantry_ctx *ctx = gantry_i_ctx_new("integration-tests");
	char marker[] = "/tmp/gantry-exec-plan-XXXXXX";
	struct gantry_config *c;
	void *state;
	int fd = mkstemp(marker);

	ck_assert_int_ge(fd, 0);
	close(fd);
	unlink(marker);
	gantry_i_kv_set(&ctx->values, "config.dir", "/srv/app", 0);
	ctx->timeout = 900;
	c = block("touch", marker, NULL);
	ck_assert_int_eq(st->init(c, ctx, &state), GANTRY_OK);
	ck_assert_int_eq(st->plan(state, ctx), GANTRY_OK);
	st->fini(state);
	gantry_i_config_free(c);
	ck_assert_int_ne(access(marker, F_OK), 0);

	c = block("go", "test", "./...", NULL);
	env(c, "GOFLAGS", "-count=1");
	ck_assert_int_eq(st->init(c, ctx, &state), GANTRY_OK);
	gantry_buf_reset(&ctx->plan);
	ck_assert_int_eq(st->plan(state, ctx), GANTRY_OK);
	ck_assert_str_eq(ctx->plan.buf,
			 "run 'go test ./...' in /srv/app (timeout 900s)\n"
			 "  with GOFLAGS set\n");
	st->fini(state);
	gantry_i_config_free(c);
	gantry_i_ctx_free(ctx);
}
END_TEST

static Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, descriptor_is_complete);
	tcase_add_test(tc, success_returns_ok);
	tcase_add_test(tc, failure_names_status_and_last_output);
	tcase_add_test(tc, signal_death_is_named);
	tcase_add_test(tc, missing_program_is_explained);
	tcase_add_test(tc, no_shell_unless_asked);
	tcase_add_test(tc, env_is_added);
	tcase_add_test(tc, cwd_defaults_to_the_config_dir);
	tcase_add_test(tc, capture_publishes_json_members);
	tcase_add_test(tc, timeout_stops_the_command);
	tcase_add_test(tc, config_errors_are_refused);
	tcase_add_test(tc, plan_describes_without_running);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(exec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
