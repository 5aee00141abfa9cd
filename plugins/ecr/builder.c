/*
 * builder.c - `push = builder`: buildah pushes the image from its store.
 *
 * buildah reads credentials from an auth file.  It gets a private one: a
 * mkdtemp directory (0700, so only we can even look) holding config.json
 * (0600), named by REGISTRY_AUTH_FILE, DOCKER_CONFIG and --authfile, and
 * removed as soon as the push ends, whatever its outcome.  The user's
 * ~/.docker/config.json is never read or written, and the token is never
 * on a command line (argv is visible in ps) nor in a log.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ecr.h"

#include "banned.h"

static const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t == '/' ? t : "/tmp";
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes dir/config.json; 0 or -1 (errno). */
static int write_auth(const char *path, const struct builder_push *b)
{
	struct gantry_json *doc = gantry_json_new_object();
	struct gantry_json *auths = gantry_json_set_object(doc, "auths");
	struct gantry_json *entry = gantry_json_set_object(auths, b->host);
	const char *text;
	int fd, rc, saved;

	gantry_json_set_string(entry, "auth", b->auth);
	text = gantry_json_text(doc, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0) {
		saved = errno;
		gantry_json_free(doc);
		errno = saved;
		return -1;
	}
	rc = write_all(fd, text, strlen(text));
	saved = errno;
	if (close(fd) < 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	gantry_json_free(doc);
	errno = saved;
	return rc;
}

static int read_digest(const char *path, char *digest)
{
	char buf[128] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n ")] = '\0';
	if (!ecr_digest_valid(buf))
		return -1;
	snprintf(digest, ECR_DIGEST_LEN, "%s", buf);
	return 0;
}

int builder_push(const struct builder_push *b, struct gantry_ctx *ctx,
		 char *digest)
{
	char *dir = gantry_xasprintf("%s/gantry-ecr-auth.XXXXXX", tmp_base());
	char *auth = NULL, *digest_file = NULL, *dest = NULL, *storage = NULL;
	struct gantry_cmd *cmd = NULL;
	long left = gantry_ctx_remaining(ctx);
	int rc;

	if (!mkdtemp(dir)) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot create a private "
				 "directory for the registry credentials in "
				 "'%s': %s", tmp_base(), strerror(errno));
		free(dir);
		return rc;
	}
	auth = gantry_xasprintf("%s/config.json", dir);
	digest_file = gantry_xasprintf("%s/digest", dir);
	if (write_auth(auth, b) < 0) {
		rc = gantry_fail(ctx, GANTRY_EFAIL, "cannot write the private "
				 "auth file '%s': %s", auth, strerror(errno));
		goto out;
	}
	dest = gantry_xasprintf("docker://%s/%s:%s", b->host, b->repo, b->tag);
	cmd = gantry_cmd_new("buildah");
	if (!cmd)
		abort();
	if (b->storage) {
		gantry_cmd_arg(cmd, "--root");
		storage = gantry_xasprintf("%s/root", b->storage);
		gantry_cmd_arg(cmd, storage);
		free(storage);
		gantry_cmd_arg(cmd, "--runroot");
		storage = gantry_xasprintf("%s/run", b->storage);
		gantry_cmd_arg(cmd, storage);
		gantry_cmd_arg(cmd, "--storage-driver");
		gantry_cmd_arg(cmd, "vfs");
	}
	gantry_cmd_arg(cmd, "push");
	gantry_cmd_arg(cmd, "--authfile");
	gantry_cmd_arg(cmd, auth);
	gantry_cmd_arg(cmd, "--digestfile");
	gantry_cmd_arg(cmd, digest_file);
	if (b->plain_http)
		gantry_cmd_arg(cmd, "--tls-verify=false");
	gantry_cmd_arg(cmd, b->image);
	gantry_cmd_arg(cmd, dest);
	gantry_cmd_env(cmd, "REGISTRY_AUTH_FILE", auth);
	gantry_cmd_env(cmd, "DOCKER_CONFIG", dir);
	if (left >= 0)
		gantry_cmd_timeout(cmd, left > 0 ? (unsigned)left : 1);
	gantry_info(ctx, "buildah push %s %s", b->image, dest + 9);
	rc = gantry_cmd_run(cmd, ctx);
	if (rc < 0)
		rc = gantry_fail(ctx, rc, "cannot run buildah push: %s",
				 gantry_cmd_error(cmd) ? gantry_cmd_error(cmd) :
				 "timed out or interrupted");
	else if (gantry_cmd_exit_status(cmd) != 0)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "buildah push of '%s' to "
				 "'%s' failed (exit %d); last output:\n%s",
				 b->image, dest + 9,
				 gantry_cmd_exit_status(cmd),
				 gantry_cmd_tail(cmd));
	else if (read_digest(digest_file, digest) < 0)
		rc = gantry_fail(ctx, GANTRY_EFAIL, "buildah pushed '%s' but "
				 "wrote no digest to '%s'", dest + 9,
				 digest_file);
out:
	/* the credentials leave the disk whatever happened */
	unlink(auth);
	unlink(digest_file);
	if (rmdir(dir) < 0)
		gantry_warn(ctx, "cannot remove '%s': %s", dir,
			    strerror(errno));
	gantry_cmd_free(cmd);
	free(storage);
	free(dest);
	free(auth);
	free(digest_file);
	free(dir);
	return rc;
}
