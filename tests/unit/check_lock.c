/*
 * check_lock.c - the deploy lock between real processes: refusal with
 * the holder's record, release, stale detection after a holder died,
 * inspection and removal.
 *
 * Other processes are forked children; a child reports through its exit
 * status (0 = every expectation held, else the number of the failed
 * one), frees what it allocated and leaves with _exit().
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "lock.h"

static char tmpdir[64];

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_lock.XXXXXX");
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

static int wait_child(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "child died of signal %d",
		      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return WEXITSTATUS(status);
}

static struct lock_holder me(const char *id)
{
	struct lock_holder h = { (char *)id, (char *)"alice",
				 (char *)"host-1", (long)getpid(),
				 1700000000.5 };

	return h;
}

/* In a child: lock_acquire must refuse with the parent's record. */
static int child_expects_refusal(pid_t parent)
{
	struct deploy_lock l = { -1, NULL };
	struct lock_holder mine = me("20240101T000000Z-c0ffee");
	struct lock_holder prev;
	struct errs e = { 0 };
	int stale = 7, rc, fail = 0;

	rc = lock_acquire(&l, tmpdir, "api", "staging", &mine, &prev,
			  &stale, &e);
	if (rc != 1)
		fail = 1;
	else if (!prev.id || strcmp(prev.id, "20240101T000000Z-aaaaaa"))
		fail = 2;
	else if (strcmp(prev.user, "alice") || strcmp(prev.host, "host-1"))
		fail = 3;
	else if (prev.pid != (long)parent || prev.started != 1700000000.5)
		fail = 4;
	else if (l.fd != -1)
		fail = 5;
	lock_holder_release(&prev);
	errs_clear(&e);
	return fail;
}

/* In a child: takes the lock; releases it or not (dies holding it). */
static int child_acquires(int release)
{
	struct deploy_lock l = { -1, NULL };
	struct lock_holder mine = me("20240101T000000Z-bbbbbb");
	struct lock_holder prev;
	struct errs e = { 0 };
	int stale = 7, rc, fail = 0;

	rc = lock_acquire(&l, tmpdir, "api", "staging", &mine, &prev,
			  &stale, &e);
	if (rc != 0)
		fail = 1;
	else if (stale != 0 || prev.id)
		fail = 2;
	lock_holder_release(&prev);
	errs_clear(&e);
	if (release) {
		lock_release(&l);
	} else {
		/* _exit drops the flock but leaves the record. */
		free(l.path);
	}
	return fail;
}

START_TEST(second_acquirer_is_refused_until_release)
{
	struct deploy_lock l = { -1, NULL };
	struct lock_holder mine = me("20240101T000000Z-aaaaaa");
	struct lock_holder prev;
	struct errs e = { 0 };
	struct stat st;
	pid_t parent = getpid(), pid;
	int stale = 7, flags;
	char *p;

	ck_assert_int_eq(lock_acquire(&l, tmpdir, "api", "staging", &mine,
				      &prev, &stale, &e), 0);
	ck_assert_int_eq(stale, 0);
	ck_assert_ptr_null(prev.id);
	ck_assert_int_ge(l.fd, 0);
	flags = fcntl(l.fd, F_GETFD);
	ck_assert(flags & FD_CLOEXEC);
	ck_assert_int_eq(stat(l.path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	p = gantry_xasprintf("%s/locks/api@staging.lock", tmpdir);
	ck_assert_str_eq(l.path, p);
	free(p);
	p = gantry_xasprintf("%s/locks", tmpdir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0700);
	free(p);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int rc = child_expects_refusal(parent);

		/* Not lock_release: that would clear the parent's record
		   (the description, hence the flock, is shared). */
		free(l.path);
		_exit(rc);
	}
	ck_assert_int_eq(wait_child(pid), 0);

	/* Another environment of the same service is a different lock. */
	{
		struct deploy_lock l2 = { -1, NULL };

		ck_assert_int_eq(lock_acquire(&l2, tmpdir, "api", "production",
					      &mine, NULL, NULL, &e), 0);
		lock_release(&l2);
	}

	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &prev, &e),
			 1);
	ck_assert_str_eq(prev.id, "20240101T000000Z-aaaaaa");
	ck_assert_int_eq(prev.pid, parent);
	lock_holder_release(&prev);

	lock_release(&l);
	ck_assert_int_eq(l.fd, -1);
	lock_release(&l);	/* twice is harmless */
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &prev, &e),
			 0);
	ck_assert_ptr_null(prev.id);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_acquires(1));
	ck_assert_int_eq(wait_child(pid), 0);
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", NULL, &e), 0);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

START_TEST(dead_holder_leaves_a_stale_lock)
{
	struct deploy_lock l = { -1, NULL };
	struct lock_holder mine = me("20240101T000000Z-aaaaaa");
	struct lock_holder h;
	struct errs e = { 0 };
	int stale = 0;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(child_acquires(0));
	ck_assert_int_eq(wait_child(pid), 0);

	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 2);
	ck_assert_str_eq(h.id, "20240101T000000Z-bbbbbb");
	ck_assert_int_eq(h.pid, pid);
	lock_holder_release(&h);

	ck_assert_int_eq(lock_acquire(&l, tmpdir, "api", "staging", &mine, &h,
				      &stale, &e), 0);
	ck_assert_int_eq(stale, 1);
	ck_assert_str_eq(h.id, "20240101T000000Z-bbbbbb");
	ck_assert_str_eq(h.user, "alice");
	ck_assert_int_eq(h.pid, pid);
	lock_holder_release(&h);

	/* Now ours, live. */
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 1);
	ck_assert_str_eq(h.id, "20240101T000000Z-aaaaaa");
	lock_holder_release(&h);
	lock_release(&l);
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 0);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

START_TEST(corrupt_record_is_stale_with_unknown_holder)
{
	struct deploy_lock l = { -1, NULL };
	struct lock_holder mine = me("20240101T000000Z-aaaaaa");
	struct lock_holder h;
	struct errs e = { 0 };
	char *dir = gantry_xasprintf("%s/locks", tmpdir);
	char *path = gantry_xasprintf("%s/api@staging.lock", dir);
	int fd, stale = 0;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "{\"id\": tru", 10), 10);
	close(fd);

	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 2);
	ck_assert_str_eq(h.id, "?");
	ck_assert_int_eq(h.pid, 0);
	lock_holder_release(&h);
	ck_assert_int_eq(lock_acquire(&l, tmpdir, "api", "staging", &mine, &h,
				      &stale, &e), 0);
	ck_assert_int_eq(stale, 1);
	ck_assert_str_eq(h.id, "?");
	lock_holder_release(&h);
	lock_release(&l);
	free(path);
	free(dir);
}
END_TEST

START_TEST(remove_refuses_a_live_holder)
{
	struct lock_holder h;
	struct errs e = { 0 };
	int ready[2], hold[2];
	char c = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(hold), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct deploy_lock l = { -1, NULL };
		struct lock_holder mine = me("20240101T000000Z-dddddd");
		int rc;

		close(ready[0]);
		close(hold[1]);
		rc = lock_acquire(&l, tmpdir, "api", "staging", &mine, NULL,
				  NULL, NULL);
		free(l.path);
		c = rc == 0 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		/* Held until killed (or the parent goes away). */
		while (read(hold[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	ck_assert_int_eq(c, 'y');

	ck_assert_int_eq(lock_remove(tmpdir, "api", "staging", &h, &e), 1);
	ck_assert_str_eq(h.id, "20240101T000000Z-dddddd");
	ck_assert_int_eq(h.pid, pid);
	lock_holder_release(&h);
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 1);
	lock_holder_release(&h);

	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	{
		int status;

		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFSIGNALED(status));
	}
	close(ready[0]);
	close(hold[1]);

	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 2);
	ck_assert_int_eq(h.pid, pid);
	lock_holder_release(&h);
	ck_assert_int_eq(lock_remove(tmpdir, "api", "staging", &h, &e), 0);
	ck_assert_str_eq(h.id, "20240101T000000Z-dddddd");
	lock_holder_release(&h);
	ck_assert_int_eq(lock_inspect(tmpdir, "api", "staging", &h, &e), 0);
	ck_assert_int_eq(lock_remove(tmpdir, "api", "staging", &h, &e), 0);
	ck_assert_ptr_null(h.id);
	ck_assert_uint_eq(e.n, 0);
}
END_TEST

START_TEST(inspect_creates_nothing)
{
	struct lock_holder h;
	struct errs e = { 0 };
	char *state = gantry_xasprintf("%s/missing", tmpdir);
	struct stat st;

	ck_assert_int_eq(lock_inspect(state, "api", "staging", &h, &e), 0);
	ck_assert_ptr_null(h.id);
	ck_assert_int_eq(stat(state, &st), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(lock_remove(state, "api", "staging", &h, &e), 0);
	ck_assert_int_eq(stat(state, &st), -1);
	ck_assert_uint_eq(e.n, 0);

	/* Names that would leave the locks directory are refused. */
	ck_assert_int_eq(lock_inspect(state, "../api", "staging", &h, &e), -1);
	ck_assert(strstr(e.msg[0], "invalid lock name '../api@staging'"));
	errs_clear(&e);
	free(state);
}
END_TEST

static Suite *lock_suite(void)
{
	Suite *s = suite_create("lock");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, second_acquirer_is_refused_until_release);
	tcase_add_test(tc, dead_holder_leaves_a_stale_lock);
	tcase_add_test(tc, corrupt_record_is_stale_with_unknown_holder);
	tcase_add_test(tc, remove_refuses_a_live_holder);
	tcase_add_test(tc, inspect_creates_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(lock_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
