/*
 * fuzz_config.c - the configuration loader (core/profile*.c) from the
 * file up: @include expansion, libconfig, the tree with its file:line
 * origins, gantry.cfg's checks (profile_load), an environment's profile
 * (profile_select_env), then the interpolator over every entry in CHECK
 * and PLAN modes (core/interp.c).
 *
 * Input: gantry.cfg, optionally a line "----" and a second file,
 * inc.cfg, which gantry.cfg can @include or name as a profile.  Inputs
 * whose @include or ${secret:file:...} paths hold a '/' are passed over:
 * they reach files outside the harness (a terminal, a FIFO) that say
 * nothing about the loader and can block it; ${secret:aws-sm:...} is
 * passed over in PLAN mode, which would call AWS.
 */
#include "config.h"

#include "fuzz.h"

#include "interp.h"
#include "profile.h"

#define SEP "\n----\n"

/* Each line naming @include has no '/' after it. */
static int includes_stay_inside(const char *text)
{
	const char *p = text;

	while ((p = strstr(p, "@include"))) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (memchr(p, '/', n))
			return 0;
		p += 8;
	}
	return 1;
}

/* No value of the tree makes PLAN mode leave the harness. */
static int plan_safe(const struct gantry_config *c)
{
	size_t i;

	if (c->text && (strstr(c->text, "aws-sm") ||
			(strstr(c->text, "file:") && strchr(c->text, '/'))))
		return 0;
	for (i = 0; i < c->nkids; i++)
		if (!plan_safe(c->kids[i]))
			return 0;
	return 1;
}

static void interp_entries(struct gconf *gc)
{
	static const char *const modes[] = { "check", "plan" };
	struct gantry_kvlist ctx = { 0 };
	size_t i, m;

	gantry_i_kv_set(&ctx, "release.version", "1.2.3", 0);
	gantry_i_kv_set(&ctx, "service", gc->service, 0);
	for (i = 0; i < gc->nentries; i++) {
		for (m = 0; m < 2; m++) {
			struct gantry_config *opts;
			struct errs e = { 0 };
			int rc;

			if (m == 1 && !plan_safe(gc->entries[i].raw))
				continue;
			opts = gantry_i_config_clone(gc->entries[i].raw);
			rc = interp_resolve(opts, &ctx, m ? INTERP_PLAN :
					    INTERP_CHECK, gc->entries[i].name,
					    gc->dir, &e);
			if ((rc < 0) != (e.n > 0)) {
				fprintf(stderr, "fuzz_config: %s mode: rc %d "
					"with %zu messages\n", modes[m], rc,
					e.n);
				abort();
			}
			errs_clear(&e);
			gantry_i_config_free(opts);
		}
	}
	gantry_i_kv_clear(&ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	setenv("FUZZ_TOKEN", "tok-12345", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size), *sep = strstr(in, SEP);
	const char *inc = sep ? sep + strlen(SEP) : "";
	char path[256], incpath[256];
	struct gantry_config *tree = NULL;
	struct gantry_buf json = GANTRY_BUF_INIT;
	struct gconf gc;
	struct errs e = { 0 };
	int rc;

	if (sep)
		*sep = '\0';
	if (!includes_stay_inside(in) || !includes_stay_inside(inc)) {
		free(in);
		return 0;
	}
	fuzz_write("gantry.cfg", in, strlen(in));
	fuzz_write("inc.cfg", inc, strlen(inc));
	fuzz_path(path, sizeof(path), "gantry.cfg");
	fuzz_path(incpath, sizeof(incpath), "inc.cfg");

	rc = profile_read_tree(path, &tree, &e);
	if ((rc < 0) != (tree == NULL) || (rc < 0 && !e.n))
		abort();
	if (tree) {
		gantry_i_config_to_json(tree, &json);
		gantry_buf_release(&json);
		gantry_i_config_free(tree);
	}
	errs_clear(&e);

	rc = profile_load(&gc, path, &e);
	if (rc < 0 && !e.n)
		abort();
	if (rc == 0) {
		interp_entries(&gc);
		if (gc.nenvs && gc.envs[0].profile &&
		    !strcmp(gc.envs[0].profile, incpath) &&
		    includes_stay_inside(inc)) {
			if (profile_select_env(&gc, NULL, gc.envs[0].name,
					       &e) < 0 && !e.n)
				abort();
		}
	}
	profile_unload(&gc);
	errs_clear(&e);
	fuzz_reset();
	free(in);
	return 0;
}
