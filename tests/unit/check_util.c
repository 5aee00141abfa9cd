/*
 * check_util.c - libgantry's strings, redaction, config trees; the core's
 * error lists and "did you mean".
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

START_TEST(buf_grows_and_formats)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int i;

	ck_assert_str_eq(b.buf, "");
	for (i = 0; i < 1000; i++)
		gantry_buf_addf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.buf));
	ck_assert(!strncmp(b.buf, "0,1,2,", 6));
	ck_assert(strstr(b.buf, ",999,") != NULL);
	gantry_buf_release(&b);
	ck_assert_str_eq(b.buf, "");
}
END_TEST

/* The public string builder: add, reset, detach, and JSON literals that
   json-c reads back as the same string. */
START_TEST(buf_json_literal_reads_back)
{
	static const char *const texts[] = {
		"", "plain", "quote \" and \\ back", "tab\tnew\nline\r",
		"\x01\x1f ctl", "caf\xc3\xa9 UTF-8",
	};
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(texts); i++) {
		struct gantry_json *doc;
		char err[128], *text;

		gantry_buf_reset(&b);
		gantry_buf_adds(&b, "{\"v\": ");
		gantry_buf_add_json(&b, texts[i]);
		gantry_buf_addch(&b, '}');
		doc = gantry_json_parse(b.buf, b.len, err, sizeof(err));
		ck_assert_msg(doc != NULL, "%s: %s", b.buf, err);
		ck_assert_str_eq(gantry_json_string(doc, "v", NULL), texts[i]);
		gantry_json_free(doc);
		text = gantry_buf_detach(&b);
		ck_assert_ptr_ne(text, gantry_buf_empty);
		free(text);
		ck_assert_uint_eq(b.len, 0);
		ck_assert_str_eq(b.buf, "");
	}
	/* An empty buffer detaches as a string of its own. */
	{
		char *text = gantry_buf_detach(&b);

		ck_assert_str_eq(text, "");
		ck_assert_ptr_ne(text, gantry_buf_empty);
		free(text);
	}
	gantry_buf_add(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.buf, "a\0b", 4), 0);
	gantry_buf_release(&b);
}
END_TEST

START_TEST(redact_replaces_every_secret)
{
	char *s;

	gantry_secret_add("hunter2-password");
	gantry_secret_add("abc"); /* too short: ignored */
	gantry_secret_add("hunter2");
	s = gantry_i_redact("user abc, pw hunter2-password and hunter2.");
	ck_assert_str_eq(s, "user abc, pw *** and ***.");
	free(s);
}
END_TEST

START_TEST(redact_hides_each_line_of_a_multiline_secret)
{
	char *s;

	gantry_secret_add("-----BEGIN KEY-----\r\nAAAAline-one\n\nBBBBline-two\n"
			  "ab\n-----END KEY-----\n");
	/* Output arrives a line at a time: each line must match alone. */
	s = gantry_i_redact("[stage] AAAAline-one");
	ck_assert_str_eq(s, "[stage] ***");
	free(s);
	s = gantry_i_redact("BBBBline-two ab -----END KEY-----");
	ck_assert_str_eq(s, "*** ab ***");
	free(s);
	s = gantry_i_redact("-----BEGIN KEY-----\r");
	ck_assert_str_eq(s, "***\r");
	free(s);
}
END_TEST

/* Text bound for a terminal: nothing in it drives the terminal. */
START_TEST(term_clean_neutralises_controls)
{
	static const struct {
		const char *in;
		int how;
		const char *out;
	} cases[] = {
		{ "\r\033[2K2026-12-01 production v9.9.9 succeeded", 0,
		  "\\x0d\\x1b[2K2026-12-01 production v9.9.9 succeeded" },
		{ "caf\xc3\xa9 \xc2\x9b" "31m \xff\xfe", 0,
		  "caf\xc3\xa9 \\x9b31m \\xff\\xfe" },
		{ "a\tb\nc\x7f", 0, "a\\x09b\\x0ac\\x7f" },
		{ "a\tb\nc\033", GANTRY_I_TERM_LINES, "a\tb\n    c\\x1b" },
		{ "a\tb\nc\rd\007", GANTRY_I_TERM_SPACES, "a b c d\\x07" },
		{ "a\tb\nc\rd\033", GANTRY_I_TERM_DOC, "a\tb\nc\\x0dd\\x1b" },
	};
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(cases); i++) {
		gantry_buf_reset(&b);
		gantry_buf_adds(&b, "\033[1mkept ");
		gantry_buf_adds(&b, cases[i].in);
		gantry_i_term_clean(&b, 9, cases[i].how);
		ck_assert_str_eq(b.buf + 9, cases[i].out);
		ck_assert_int_eq(memcmp(b.buf, "\033[1mkept ", 9), 0);
		ck_assert_uint_eq(b.len, strlen(b.buf));
	}
	gantry_buf_release(&b);
}
END_TEST

START_TEST(config_merge_overrides_and_keeps)
{
	struct gantry_config *base = gantry_i_config_new(GANTRY_OPT_GROUP, "", "a:1");
	struct gantry_config *over = gantry_i_config_new(GANTRY_OPT_GROUP, "", "b:1");
	struct gantry_config *env = gantry_i_config_new(GANTRY_OPT_GROUP, "env", "a:2");
	struct gantry_config *env2 = gantry_i_config_new(GANTRY_OPT_GROUP, "env", "b:2");

	gantry_i_config_add(base, gantry_i_config_scalar(GANTRY_OPT_INT, "timeout", "60", "a:3"));
	gantry_i_config_add(env, gantry_i_config_scalar(GANTRY_OPT_STRING, "A", "1", "a:4"));
	gantry_i_config_add(base, env);
	gantry_i_config_add(over, gantry_i_config_scalar(GANTRY_OPT_INT, "timeout", "90", "b:3"));
	gantry_i_config_add(env2, gantry_i_config_scalar(GANTRY_OPT_STRING, "B", "2", "b:4"));
	gantry_i_config_add(over, env2);

	gantry_i_config_merge(base, over);
	ck_assert_int_eq(gantry_config_int(base, "timeout", 0), 90);
	ck_assert_str_eq(gantry_config_where(gantry_config_lookup(base, "timeout")), "b:3");
	ck_assert_str_eq(gantry_config_string(base, "env.A", NULL), "1");
	ck_assert_str_eq(gantry_config_string(base, "env.B", NULL), "2");
	ck_assert_ptr_null(gantry_config_string(base, "env.C", NULL));
	gantry_i_config_free(base);
	gantry_i_config_free(over);
}
END_TEST

START_TEST(did_you_mean_finds_close_words)
{
	static const char *const keys[] = { "command", "shell", "env", "cwd",
					    "timeout", "capture" };

	ck_assert_str_eq(did_you_mean("comand", keys, 6), "command");
	ck_assert_str_eq(did_you_mean("timeuot", keys, 6), "timeout");
	ck_assert_ptr_null(did_you_mean("zzzzzzzz", keys, 6));
}
END_TEST

/* gantry_read_file: the whole file with its length (NULs included), an
   empty one, and errno for one too large or missing. */
START_TEST(read_file_reads_whole_or_says_why)
{
	char dir[] = "/tmp/check_util.XXXXXX", *path, *text;
	FILE *f;
	size_t len = 99;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = gantry_xasprintf("%s/f", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite("ab\0cd\n", 1, 6, f), 6);
	ck_assert_int_eq(fclose(f), 0);

	text = gantry_read_file(path, 6, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(len, 6);
	ck_assert_int_eq(memcmp(text, "ab\0cd\n", 7), 0);
	free(text);

	errno = 0;
	ck_assert_ptr_null(gantry_read_file(path, 5, &len));
	ck_assert_int_eq(errno, EFBIG);

	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fclose(f), 0);
	text = gantry_read_file(path, 0, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	free(text);

	ck_assert_int_eq(unlink(path), 0);
	errno = 0;
	ck_assert_ptr_null(gantry_read_file(path, 100, NULL));
	ck_assert_int_eq(errno, ENOENT);
	free(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, buf_grows_and_formats);
	tcase_add_test(tc, buf_json_literal_reads_back);
	tcase_add_test(tc, redact_replaces_every_secret);
	tcase_add_test(tc, redact_hides_each_line_of_a_multiline_secret);
	tcase_add_test(tc, term_clean_neutralises_controls);
	tcase_add_test(tc, config_merge_overrides_and_keeps);
	tcase_add_test(tc, did_you_mean_finds_close_words);
	tcase_add_test(tc, read_file_reads_whole_or_says_why);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(util_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
