/*
 * filecheck.c - the trust rule and the regular-file reader shared by the
 * plugin loader, the state directory, the journal, @include and
 * ${secret:file:}.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filecheck.h"

char *file_trust_problem(const char *what, const char *path,
			 const struct stat *st, const char *otherwise)
{
	uid_t me = geteuid();
	struct passwd *pw;
	char *who, *mine, *why;

	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return gantry_xasprintf("%s is writable by group or others "
					  "(mode %04o); run chmod go-w '%s'",
					  what,
					  (unsigned)(st->st_mode & 07777),
					  path);
	if (st->st_uid == 0 || st->st_uid == me)
		return NULL;
	pw = getpwuid(st->st_uid);
	who = gantry_xasprintf("'%s' (uid %u)", pw ? pw->pw_name : "?",
				 (unsigned)st->st_uid);
	pw = getpwuid(me);
	mine = gantry_xstrdup(pw ? pw->pw_name : "?");
	why = gantry_xasprintf("%s is owned by user %s, not by root or by "
				 "the user running gantry ('%s'); run chown "
				 "%s '%s' if you trust it, or %s", what, who,
				 mine, me ? mine : "root", path, otherwise);
	free(who);
	free(mine);
	return why;
}

const char *file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISLNK(mode))
		return "a symlink";
	return "not a regular file";
}

static char *fail(int fd, struct gantry_buf *b, struct gantry_buf *why,
		  int err, const char *text)
{
	if (fd >= 0)
		close(fd);
	gantry_buf_release(b);
	if (why)
		gantry_buf_adds(why, text ? text : strerror(err));
	errno = err;
	return NULL;
}

char *file_read_regular(const char *path, size_t max, unsigned flags,
			struct stat *stp, struct gantry_buf *why)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct stat st;
	char chunk[8192], text[96];
	int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int fd;

	if (flags & FILE_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	fd = open(path, oflags);
	if (fd < 0)
		return fail(-1, &b, why, errno, errno == ELOOP &&
			    (flags & FILE_NOFOLLOW) ? "it is a symlink, not "
			    "a regular file" : NULL);
	if (fstat(fd, &st) < 0)
		return fail(fd, &b, why, errno, NULL);
	if (stp)
		*stp = st;
	if (!S_ISREG(st.st_mode)) {
		snprintf(text, sizeof(text), "it is %s, not a regular file",
			 file_kind(st.st_mode));
		return fail(fd, &b, why, EINVAL, text);
	}
	if ((uintmax_t)st.st_size > max)
		goto too_big;
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return fail(fd, &b, why, errno, NULL);
		if (!got)
			break;
		/* It may grow while it is read. */
		if (b.len + (size_t)got > max)
			goto too_big;
		gantry_buf_add(&b, chunk, (size_t)got);
	}
	close(fd);
	return gantry_buf_detach(&b);
too_big:
	if (max >= (1u << 20) && !(max & ((1u << 20) - 1)))
		snprintf(text, sizeof(text), "it is larger than %zu MiB",
			 max >> 20);
	else
		snprintf(text, sizeof(text), "it is larger than %zu bytes",
			 max);
	return fail(fd, &b, why, EFBIG, text);
}
