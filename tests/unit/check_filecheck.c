/*
 * check_filecheck.c - the trust rule and the regular-file reader: FIFOs,
 * directories and devices are refused at once (a FIFO must not block),
 * the size cap holds, FILE_NOFOLLOW refuses a symlink, and the trust
 * rule names the mode or the owner with the fix.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecheck.h"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_filecheck.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *in_tmp(const char *name)
{
	return gantry_xasprintf("%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Reads path expecting a refusal with errno err and reason why. */
static void assert_refused(const char *path, size_t max, unsigned flags,
			   int err, const char *why)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char *text;

	errno = 0;
	text = file_read_regular(path, max, flags, NULL, &b);
	ck_assert_ptr_null(text);
	ck_assert_int_eq(errno, err);
	ck_assert_str_eq(b.buf, why);
	gantry_buf_release(&b);
}

START_TEST(regular_file_is_read)
{
	char *path = in_tmp("f");
	struct stat st;
	char *text;

	write_text(path, "hello\n");
	text = file_read_regular(path, 6, 0, &st, NULL);
	ck_assert_str_eq(text, "hello\n");
	ck_assert(S_ISREG(st.st_mode));
	free(text);
	free(path);
}
END_TEST

START_TEST(fifo_is_refused_without_blocking)
{
	char *path = in_tmp("fifo");

	ck_assert_int_eq(mkfifo(path, 0600), 0);
	/* No writer: a blocking open would never return (the test times
	   out instead of passing). */
	assert_refused(path, 100, 0, EINVAL,
		       "it is a FIFO, not a regular file");
	free(path);
}
END_TEST

START_TEST(directory_and_device_are_refused)
{
	assert_refused(tmpdir, 100, 0, EINVAL,
		       "it is a directory, not a regular file");
	assert_refused("/dev/null", 100, 0, EINVAL,
		       "it is a character device, not a regular file");
}
END_TEST

START_TEST(size_cap_holds)
{
	char *path = in_tmp("big");

	write_text(path, "0123456789");
	assert_refused(path, 9, 0, EFBIG, "it is larger than 9 bytes");
	free(path);
}
END_TEST

START_TEST(nofollow_refuses_a_symlink)
{
	char *path = in_tmp("f"), *link = in_tmp("link");
	char *text;

	write_text(path, "x");
	ck_assert_int_eq(symlink(path, link), 0);
	assert_refused(link, 10, FILE_NOFOLLOW, ELOOP,
		       "it is a symlink, not a regular file");
	text = file_read_regular(link, 10, 0, NULL, NULL);
	ck_assert_str_eq(text, "x");
	free(text);
	free(link);
	free(path);
}
END_TEST

START_TEST(missing_file_keeps_enoent)
{
	char *path = in_tmp("none");

	assert_refused(path, 10, 0, ENOENT, strerror(ENOENT));
	free(path);
}
END_TEST

START_TEST(trust_rule)
{
	struct stat st;
	char *why;

	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFDIR | 0700;
	st.st_uid = geteuid();
	ck_assert_ptr_null(file_trust_problem("dir", "/x", &st, "go"));
	st.st_uid = 0;
	ck_assert_ptr_null(file_trust_problem("dir", "/x", &st, "go"));
	st.st_mode = S_IFDIR | 0755;
	ck_assert_ptr_null(file_trust_problem("dir", "/x", &st, "go"));

	st.st_mode = S_IFDIR | 01777;
	why = file_trust_problem("directory '/x'", "/x", &st, "go");
	ck_assert_str_eq(why, "directory '/x' is writable by group or others "
			 "(mode 1777); run chmod go-w '/x'");
	free(why);
	st.st_mode = S_IFREG | 0620;
	why = file_trust_problem("it", "/x", &st, "go");
	ck_assert_str_eq(why, "it is writable by group or others (mode 0620); "
			 "run chmod go-w '/x'");
	free(why);

	st.st_mode = S_IFREG | 0600;
	st.st_uid = 12345;
	why = file_trust_problem("it", "/x", &st, "remove it");
	ck_assert_ptr_nonnull(strstr(why, "it is owned by user '"));
	ck_assert_ptr_nonnull(strstr(why, "(uid 12345), not by root or by the "
				     "user running gantry"));
	ck_assert_ptr_nonnull(strstr(why, "'/x' if you trust it, or remove it"));
	free(why);
}
END_TEST

static Suite *filecheck_suite(void)
{
	Suite *s = suite_create("filecheck");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, regular_file_is_read);
	tcase_add_test(tc, fifo_is_refused_without_blocking);
	tcase_add_test(tc, directory_and_device_are_refused);
	tcase_add_test(tc, size_cap_holds);
	tcase_add_test(tc, nofollow_refuses_a_symlink);
	tcase_add_test(tc, missing_file_keeps_enoent);
	tcase_add_test(tc, trust_rule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(filecheck_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
