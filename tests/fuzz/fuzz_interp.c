/*
 * fuzz_interp.c - the ${...} interpolator (core/interp.c) on a one-node
 * tree: one option value, resolved in each mode.
 *
 * Input: the value.  The context holds a few keys (one secret), the
 * environment a few variables, the base directory one secret file.
 * References that would reach outside the harness are left to CHECK
 * mode: ${secret:aws-sm:...} calls AWS, and a ${secret:file:...} path
 * with a '/' can name a FIFO or a terminal that blocks.
 */
#include "config.h"

#include "fuzz.h"

#include "interp.h"

static struct gantry_kvlist ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	gantry_i_kv_set(&ctx, "release.version", "1.2.3-rc.1", 0);
	gantry_i_kv_set(&ctx, "image.uri", "1.dkr.ecr/a:1.2.3", 0);
	gantry_i_kv_set(&ctx, "db.password", "hunter2-ctx", 1);
	gantry_i_kv_set(&ctx, "empty", "", 0);
	setenv("FUZZ_TOKEN", "tok-12345", 1);
	setenv("FUZZ_EMPTY", "", 1);
	fuzz_write("token", "file-secret\r\n\n", 14);
	return 0;
}

static void one(const char *text, enum interp_mode mode)
{
	struct gantry_config *node;
	struct errs e = { 0 };
	int rc;

	node = gantry_i_config_scalar(GANTRY_OPT_STRING, "opt", text,
				      "fuzz.cfg:1");
	rc = interp_resolve(node, &ctx, mode, "entry", fuzz_dir(), &e);
	/* Failure and messages go together. */
	if ((rc < 0) != (e.n > 0))
		abort();
	if (rc == 0 && !node->text)
		abort();
	/* A value that took a secret in is a secret. */
	if (rc == 0 && mode != INTERP_CHECK && strstr(text, "${secret:") &&
	    !node->secret && strstr(node->text, "${secret:") == NULL)
		abort();
	errs_clear(&e);
	gantry_i_config_free(node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size);

	one(in, INTERP_CHECK);
	if (!strstr(in, "aws-sm") && !(strstr(in, "file:") &&
				       strchr(in, '/'))) {
		one(in, INTERP_PLAN);
		one(in, INTERP_RUN);
	}
	fuzz_reset();
	free(in);
	return 0;
}
