/*
 * filecheck.h - judging files gantry did not write itself before it
 * trusts or reads them.
 *
 * Two rules, each written once:
 *   - trust: a file or directory whose content gantry acts on (a plugin,
 *     the state directory and what lives in it) must be owned by root or
 *     by the user running gantry, and not writable by group or others;
 *     whoever could write it could make gantry run their code or deploy
 *     their release;
 *   - kind: only regular files are read.  A FIFO, a device or a socket
 *     met where a file is expected is refused at once instead of blocking
 *     gantry forever, and the judgement is made on the descriptor that is
 *     read (fstat after open), so the file cannot be swapped in between.
 */
#ifndef GANTRY_FILECHECK_H
#define GANTRY_FILECHECK_H

#include <sys/stat.h>

#include "core.h"

/*
 * Judges st (the file or directory at path) by the trust rule.  NULL when
 * it passes, else the malloc'd problem and its fix, to follow a prefix
 * that names the context:
 *   "<what> is writable by group or others (mode 0777); run chmod go-w
 *    '<path>'"
 *   "<what> is owned by user 'bob' (uid 1000), not by root or by the
 *    user running gantry ('alice'); run chown alice '<path>' if you trust
 *    it, or <otherwise>"
 * what is the subject as the message should show it ("file",
 * "directory '/x'").
 */
char *file_trust_problem(const char *what, const char *path,
			 const struct stat *st, const char *otherwise);

/* "a FIFO", "a directory", "a socket", ... (for messages). */
const char *file_kind(mode_t mode);

#define FILE_NOFOLLOW 0x1	/* refuse a symlink (ELOOP) */

/*
 * Reads the whole regular file at path (at most max bytes) into a
 * malloc'd string.  The file is opened non-blocking (a FIFO cannot hang
 * the open) and judged with fstat on that descriptor.  st, when not NULL,
 * gets that fstat.  NULL on failure, with errno set (ENOENT for a missing
 * file, ELOOP for a symlink under FILE_NOFOLLOW, EFBIG when larger than
 * max, EINVAL when not a regular file) and, when why is not NULL, the
 * reason in words appended to it ("it is a FIFO, not a regular file",
 * "it is larger than 16 MiB", or the strerror text).
 */
char *file_read_regular(const char *path, size_t max, unsigned flags,
			struct stat *st, struct gantry_buf *why);

#endif
