/*
 * check_loader.c - the plugin loader: search path, file checks, ABI and
 * descriptor checks, the exact refusal lines, caching, shadowing, scans.
 *
 * The fixture modules (tests/fixtures/loader/) are copied into a
 * private temporary tree for each test, so permissions and symlinks can
 * be arranged freely.  Each copy is a new file, so the dynamic linker
 * maps it afresh even when an earlier test loaded the same fixture.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "loader.h"
#include "optrules.h"

static char *root;		/* this test's temporary tree */

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = gantry_xasprintf("%s/check_loader.XXXXXX",
					tmp && *tmp ? tmp : "/tmp");

	root = mkdtemp(tmpl);
	ck_assert_msg(root != NULL, "mkdtemp: %s", strerror(errno));
	ck_assert_int_eq(chmod(root, 0755), 0);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
	root = NULL;
}

/* root/sub, created 0755; malloc'd. */
static char *subdir(const char *sub)
{
	char *d = gantry_xasprintf("%s/%s", root, sub);

	ck_assert_int_eq(mkdir(d, 0755), 0);
	ck_assert_int_eq(chmod(d, 0755), 0);
	return d;
}

/* Copies the built fixture NAME.so to dir/as (mode 0644); malloc'd path. */
static char *copy_fixture(const char *name, const char *dir, const char *as)
{
	const char *top = getenv("top_builddir");
	char *from = gantry_xasprintf("%s/tests/fixtures/loader/.libs/%s.so",
					top && *top ? top : ".", name);
	char *to = as ? gantry_xasprintf("%s/%s", dir, as)
		      : gantry_xasprintf("%s/%s.so", dir, name);
	char buf[8192];
	ssize_t n;
	int in, out;

	in = open(from, O_RDONLY);
	ck_assert_msg(in >= 0, "fixture %s: %s", from, strerror(errno));
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_msg(out >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
	ck_assert_int_eq(chmod(to, 0644), 0);
	free(from);
	return to;
}

static void init_loader(struct loader *l, const char *path_list,
			const char *install_dir)
{
	struct errs e = { 0 };

	ck_assert_int_eq(loader_init(l, path_list, install_dir, &e), 0);
	ck_assert_uint_eq(e.n, 0);
}

/* Asserts that loading name from dir is refused with exactly
   "plugin '<dir>/<name>.so' refused: <what>". */
static void assert_refused(const char *dir, const char *name,
			   const char *what)
{
	struct loader l;
	struct errs e = { 0 };
	char *want = gantry_xasprintf("plugin '%s/%s.so' refused: %s", dir,
					name, what);
	int refused = -1;

	init_loader(&l, dir, NULL);
	ck_assert_ptr_null(loader_get(&l, name, &refused, &e));
	ck_assert_int_eq(refused, 1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], want);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_int_eq(l.plugins[0].state, PLUGIN_REFUSED);
	ck_assert_str_eq(l.plugins[0].refusal, want);
	ck_assert_ptr_null(l.plugins[0].desc);
	loader_release(&l);
	errs_clear(&e);
	free(want);
}

START_TEST(good_loads_with_its_descriptor)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	char *path = copy_fixture("good", root, NULL);
	int refused = -1;

	init_loader(&l, root, NULL);
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(refused, 0);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_int_eq(p->state, PLUGIN_LOADED);
	ck_assert_ptr_null(p->refusal);
	ck_assert_str_eq(p->name, "good");
	ck_assert_str_eq(p->path, path);
	ck_assert_ptr_nonnull(p->handle);
	ck_assert_str_eq(p->desc->name, "good");
	ck_assert_ptr_nonnull(p->desc->run);
	ck_assert_int_eq(p->desc->run(NULL, NULL), GANTRY_OK);
	ck_assert_str_eq(p->desc->options[0].key, "message");
	ck_assert_uint_eq(p->desc->options[0].flags, GANTRY_OPT_REQUIRED);
	ck_assert_str_eq(p->desc->options[1].def, "3");
	ck_assert_uint_eq(p->desc->options[5].flags, GANTRY_OPT_SECRET);
	ck_assert_ptr_null(p->desc->options[6].key);
	loader_release(&l);
	free(path);
}
END_TEST

/* A plugin built against ABI 1.0 loads; nothing past its size is read
   (the fixture fills the later fields with garbage). */
START_TEST(abi_1_0_layout_loads_without_rules)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	int refused = -1;

	free(copy_fixture("old10", root, NULL));
	init_loader(&l, root, NULL);
	p = loader_get(&l, "old10", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(refused, 0);
	ck_assert_uint_eq(p->desc->header.minor, 0);
	ck_assert_uint_eq(p->desc->header.size, GANTRY_STAGE_SIZE_1_0);
	ck_assert(!GANTRY_STAGE_HAS_FIELD(p->desc, option_rules));
	ck_assert_ptr_null(optrules_at(p->desc, 0));
	ck_assert_ptr_null(optrules_find(p->desc, "count"));
	ck_assert_str_eq(p->desc->options[0].key, "count");
	loader_release(&l);
}
END_TEST

START_TEST(rules_load_and_describe_themselves)
{
	struct loader l;
	struct errs e = { 0 };
	struct gantry_buf b = GANTRY_BUF_INIT;
	const struct plugin *p;
	const struct gantry_option_rule *r;
	int refused = -1;

	free(copy_fixture("ruled", root, NULL));
	init_loader(&l, root, NULL);
	p = loader_get(&l, "ruled", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->desc->header.minor, GANTRY_ABI_MINOR);
	ck_assert_uint_eq(p->desc->option_rule_size,
			  sizeof(struct gantry_option_rule));
	r = optrules_find(p->desc, "count");
	ck_assert_ptr_nonnull(r);
	optrules_describe(p->desc, r, &b);
	ck_assert_str_eq(b.buf, "1 to 10");
	gantry_buf_reset(&b);
	optrules_describe(p->desc, optrules_find(p->desc, "replicas"), &b);
	ck_assert_str_eq(b.buf, "at least 1");
	gantry_buf_reset(&b);
	optrules_describe(p->desc, optrules_find(p->desc, "strategy"), &b);
	ck_assert_str_eq(b.buf, "one of 'rolling', 'blue-green' or 'canary'");
	ck_assert_ptr_null(optrules_find(p->desc, "note"));
	ck_assert_ptr_null(optrules_at(p->desc, 4));
	gantry_buf_release(&b);
	loader_release(&l);
}
END_TEST

/* opts for check_options: a group of "name", type, text, "gantry.cfg:N". */
static struct gantry_config *opt(struct gantry_config *g,
				 enum gantry_option_type t, const char *name,
				 const char *text)
{
	gantry_i_config_add(g, gantry_i_config_scalar(t, name, text,
						      "gantry.cfg:7"));
	return g;
}

/* A plugin built against ABI 1.1 (40-byte rules, no 1.2 fields) loads,
   and its rules are read by its element size: nothing of a condition or
   a decimal range is made up from the next rule's bytes. */
START_TEST(abi_1_1_rules_load_by_their_size)
{
	struct loader l;
	struct errs e = { 0 };
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_option_rule full;
	struct gantry_config *g;
	const struct plugin *p;
	int refused = -1;

	free(copy_fixture("ruled11", root, NULL));
	init_loader(&l, root, NULL);
	p = loader_get(&l, "ruled11", &refused, &e);
	ck_assert_msg(p != NULL, "%s", e.n ? e.msg[0] : "?");
	ck_assert_uint_eq(p->desc->header.minor, 1);
	ck_assert_uint_eq(p->desc->option_rule_size,
			  GANTRY_OPTION_RULE_SIZE_1_1);
	optrules_describe(p->desc, optrules_find(p->desc, "strategy"), &b);
	ck_assert_str_eq(b.buf, "one of 'rolling' or 'canary'");
	optrules_full(p->desc, optrules_find(p->desc, "count"), &full);
	ck_assert_ptr_null(full.when);
	ck_assert_ptr_null(full.decimal_min);
	ck_assert_ptr_null(optrules_at(p->desc, 2));
	g = gantry_i_config_new(GANTRY_OPT_GROUP, "", "gantry.cfg:7");
	opt(g, GANTRY_OPT_INT, "count", "11");
	ck_assert_int_eq(optrules_check_options(p->desc, g, "e", 1, &e), -1);
	ck_assert_str_eq(e.msg[0], "gantry.cfg:7: option 'count' of stage 'e' "
			 "must be 1 to 10, not 11");
	gantry_i_config_free(g);
	errs_clear(&e);
	gantry_buf_release(&b);
	loader_release(&l);
}
END_TEST

/* ABI 1.2: a decimal range with a precision, and conditions read from
   the other option as set, else its default. */
START_TEST(decimal_ranges_and_conditions)
{
	struct loader l;
	struct errs e = { 0 };
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_config *g;
	const struct plugin *p;
	int refused = -1;

	free(copy_fixture("ruled12", root, NULL));
	init_loader(&l, root, NULL);
	p = loader_get(&l, "ruled12", &refused, &e);
	ck_assert_msg(p != NULL, "%s", e.n ? e.msg[0] : "?");
	optrules_describe(p->desc, optrules_find(p->desc, "percent"), &b);
	ck_assert_str_eq(b.buf, "0.1 to 100.0 with at most 1 decimal place");
	gantry_buf_reset(&b);
	optrules_describe_when(p->desc, optrules_find(p->desc, "steps"), &b);
	ck_assert_str_eq(b.buf, "only when 'strategy' is 'linear' or 'canary'");

	/* In range, one decimal, right strategy: passes. */
	g = gantry_i_config_new(GANTRY_OPT_GROUP, "", "gantry.cfg:1");
	opt(opt(g, GANTRY_OPT_STRING, "strategy", "canary"),
	    GANTRY_OPT_DECIMAL, "percent", "2.5");
	ck_assert_int_eq(optrules_check_options(p->desc, g, "e", 0, &e), 0);
	gantry_i_config_free(g);

	/* Two decimals, and the default strategy. */
	g = opt(gantry_i_config_new(GANTRY_OPT_GROUP, "", "gantry.cfg:1"),
		GANTRY_OPT_DECIMAL, "percent", "2.55");
	ck_assert_int_eq(optrules_check_options(p->desc, g, "e", 0, &e), -1);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_str_eq(e.msg[0], "gantry.cfg:7: option 'percent' of stage "
			 "'e' must be 0.1 to 100.0 with at most 1 decimal "
			 "place, not '2.55'");
	ck_assert_str_eq(e.msg[1], "gantry.cfg:7: option 'percent' of stage "
			 "'e' applies only when 'strategy' is 'canary', and "
			 "'strategy' is 'rolling' (default); remove 'percent' "
			 "or set strategy = \"canary\"");
	gantry_i_config_free(g);
	errs_clear(&e);

	/* Below the range; a default value never meets a condition; a
	   decimal without a rule is held to its syntax; a reference is
	   checked once resolved. */
	g = gantry_i_config_new(GANTRY_OPT_GROUP, "", "gantry.cfg:1");
	opt(g, GANTRY_OPT_STRING, "strategy", "canary");
	opt(g, GANTRY_OPT_DECIMAL, "percent", "0.05");
	gantry_i_config_add(g, gantry_i_config_scalar(GANTRY_OPT_INT, "steps",
						      "2", "default"));
	opt(g, GANTRY_OPT_DECIMAL, "ratio", "1e5");
	ck_assert_int_eq(optrules_check_options(p->desc, g, "e", 1, &e), -1);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_str_eq(e.msg[0], "gantry.cfg:7: option 'percent' of stage "
			 "'e' must be 0.1 to 100.0 with at most 1 decimal "
			 "place, not '0.05'");
	ck_assert_str_eq(e.msg[1], "gantry.cfg:7: option 'ratio' of stage 'e' "
			 "must be a decimal number (5, 2.5 or \"2.5\"), not "
			 "'1e5'");
	gantry_i_config_free(g);
	errs_clear(&e);
	g = gantry_i_config_new(GANTRY_OPT_GROUP, "", "gantry.cfg:1");
	opt(g, GANTRY_OPT_STRING, "strategy", "${env:S}");
	opt(g, GANTRY_OPT_DECIMAL, "percent", "${env:P}");
	ck_assert_int_eq(optrules_check_options(p->desc, g, "e", 1, &e), 0);
	gantry_i_config_free(g);

	gantry_buf_reset(&b);
	ck_assert_int_eq(optrules_decimal_normalise("007.50", &b), 0);
	ck_assert_str_eq(b.buf, "7.5");
	gantry_buf_reset(&b);
	ck_assert_int_eq(optrules_decimal_normalise("-0.0", &b), 0);
	ck_assert_str_eq(b.buf, "0");
	gantry_buf_reset(&b);
	ck_assert_int_eq(optrules_decimal_normalise("5", &b), 0);
	ck_assert_str_eq(b.buf, "5");
	ck_assert_int_eq(optrules_decimal_normalise("5.", &b), -1);
	ck_assert_int_eq(optrules_decimal_normalise(".5", &b), -1);
	ck_assert_int_eq(optrules_decimal_normalise("1e5", &b), -1);
	gantry_buf_release(&b);
	loader_release(&l);
}
END_TEST

START_TEST(notifier_without_run_loads)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	int refused = -1;

	free(copy_fixture("goodnotify", root, NULL));
	init_loader(&l, root, NULL);
	p = loader_get(&l, "goodnotify", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(refused, 0);
	ck_assert_uint_eq(p->desc->kind, GANTRY_KIND_NOTIFIER);
	ck_assert_ptr_null(p->desc->run);
	ck_assert_ptr_nonnull(p->desc->event);
	loader_release(&l);
}
END_TEST

/* Each refusal fixture and the line it must produce, after the path. */
static char *expected_refusal(const char *name)
{
	if (!strcmp(name, "noentry"))
		return gantry_xstrdup("no 'gantry_stage_entry' symbol; define "
			"the descriptor with GANTRY_STAGE_EXPORT()");
	if (!strcmp(name, "nulldesc"))
		return gantry_xstrdup("entry function returned no "
			"descriptor; return the address of a static "
			"descriptor");
	if (!strcmp(name, "badmagic"))
		return gantry_xstrdup("bad magic 0xdeadbeef (expected "
			"0x52544e47): not a gantry stage plugin");
	if (!strcmp(name, "othermajor"))
		return gantry_xasprintf("built for plugin ABI %d.%d, this "
			"gantry speaks %d.%d; rebuild the plugin against "
			"gantry's SDK %d.x", GANTRY_ABI_MAJOR + 1,
			0, GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR,
			GANTRY_ABI_MAJOR);
	if (!strcmp(name, "newerminor"))
		return gantry_xasprintf("built for plugin ABI %d.%d, newer "
			"than this gantry's %d.%d; upgrade gantry or rebuild "
			"the plugin against SDK %d.%d", GANTRY_ABI_MAJOR,
			GANTRY_ABI_MINOR + 1, GANTRY_ABI_MAJOR,
			GANTRY_ABI_MINOR, GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR);
	if (!strcmp(name, "smallsize"))
		return gantry_xasprintf("descriptor is 8 bytes, smaller than "
			"the %zu bytes of ABI 1.0; rebuild the plugin with "
			"GANTRY_STAGE_HEADER", (size_t)GANTRY_STAGE_SIZE_1_0);
	if (!strcmp(name, "noname"))
		return gantry_xstrdup("incomplete descriptor: no name; fill "
			"it in and rebuild");
	if (!strcmp(name, "norun"))
		return gantry_xstrdup("incomplete descriptor: no run "
			"callback; fill it in and rebuild");
	if (!strcmp(name, "noevent"))
		return gantry_xstrdup("incomplete descriptor: no event "
			"callback; fill it in and rebuild");
	if (!strcmp(name, "badtype"))
		return gantry_xstrdup("incomplete descriptor: option 'level' "
			"has invalid type 42; fill it in and rebuild");
	if (!strcmp(name, "nohelp"))
		return gantry_xstrdup("incomplete descriptor: option "
			"'region' has no help; fill it in and rebuild");
	if (!strcmp(name, "clash"))
		return gantry_xstrdup("descriptor names stage 'good' but the "
			"file is 'clash.so'; rename the file or the stage");
	if (!strcmp(name, "badrule"))
		return gantry_xstrdup("bad option rules: rule 1 names option "
			"'level', which the option table lacks; fix "
			"option_rules and rebuild");
	if (!strcmp(name, "rangetype"))
		return gantry_xstrdup("bad option rules: option 'region' has "
			"a range but is not an integer option; fix "
			"option_rules and rebuild");
	if (!strcmp(name, "ruledefault"))
		return gantry_xstrdup("bad option rules: option 'count' "
			"defaults to '0', which its rule refuses (1 to 10); "
			"fix option_rules and rebuild");
	return NULL;
}

static const char *const bad_fixtures[] = {
	"noentry", "nulldesc", "badmagic", "othermajor", "newerminor",
	"smallsize", "noname", "norun", "noevent", "badtype", "nohelp",
	"clash", "badrule", "rangetype", "ruledefault",
};

START_TEST(bad_fixture_is_refused_with_its_line)
{
	const char *name = bad_fixtures[_i];
	char *want = expected_refusal(name);

	ck_assert_ptr_nonnull(want);
	free(copy_fixture(name, root, NULL));
	assert_refused(root, name, want);
	free(want);
}
END_TEST

START_TEST(unloadable_file_is_refused)
{
	struct loader l;
	struct errs e = { 0 };
	char *path = gantry_xasprintf("%s/garbage.so", root);
	char *head = gantry_xasprintf("plugin '%s' refused: cannot load: ",
					path);
	const char *tail = "; rebuild it against this gantry's SDK";
	FILE *f = fopen(path, "w");
	int refused = -1;

	ck_assert_ptr_nonnull(f);
	fputs("this is not an ELF object\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0644), 0);
	init_loader(&l, root, NULL);
	ck_assert_ptr_null(loader_get(&l, "garbage", &refused, &e));
	ck_assert_int_eq(refused, 1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(!strncmp(e.msg[0], head, strlen(head)), "%s", e.msg[0]);
	ck_assert_msg(strlen(e.msg[0]) > strlen(head) + strlen(tail) &&
		      !strcmp(e.msg[0] + strlen(e.msg[0]) - strlen(tail), tail),
		      "%s", e.msg[0]);
	ck_assert_ptr_null(strchr(e.msg[0], '\n'));
	/* The system loader's reason, not libltdl's "file not found" for
	   a file that is there. */
	ck_assert_msg(!strstr(e.msg[0], "file not found"), "%s", e.msg[0]);
	ck_assert_msg(!strstr(e.msg[0] + strlen(head), path), "%s", e.msg[0]);
	loader_release(&l);
	errs_clear(&e);
	free(head);
	free(path);
}
END_TEST

START_TEST(world_writable_file_is_refused)
{
	char *path = copy_fixture("good", root, NULL);
	char *want = gantry_xasprintf("file is writable by group or others "
					"(mode 0666); run chmod go-w '%s'",
					path);

	ck_assert_int_eq(chmod(path, 0666), 0);
	assert_refused(root, "good", want);
	free(want);
	free(path);
}
END_TEST

/* The owner of the directory can replace the file: the same rule as for
   the file (and the state directory). */
START_TEST(directory_of_another_user_is_refused)
{
	char *dir = subdir("plugins");
	char *want = gantry_xasprintf("directory '%s' is owned by user ",
					dir);
	struct loader l;
	struct errs e = { 0 };
	int refused = -1;

	if (geteuid() != 0) {
		free(want);
		free(dir);
		return;		/* only root can give a directory away */
	}
	free(copy_fixture("good", dir, NULL));
	ck_assert_int_eq(chown(dir, 12345, (gid_t)-1), 0);
	init_loader(&l, dir, NULL);
	ck_assert_ptr_null(loader_get(&l, "good", &refused, &e));
	ck_assert_int_eq(refused, 1);
	ck_assert_ptr_nonnull(strstr(e.msg[0], want));
	ck_assert_ptr_nonnull(strstr(e.msg[0], "(uid 12345), not by root or "
				     "by the user running gantry"));
	loader_release(&l);
	errs_clear(&e);
	free(want);
	free(dir);
}
END_TEST

START_TEST(group_writable_directory_is_refused)
{
	char *dir = subdir("plugins");
	char *want = gantry_xasprintf("directory '%s' is writable by group "
					"or others (mode 0775); run chmod go-w "
					"'%s'", dir,
					dir);

	free(copy_fixture("good", dir, NULL));
	ck_assert_int_eq(chmod(dir, 0775), 0);
	assert_refused(dir, "good", want);
	free(want);
	free(dir);
}
END_TEST

START_TEST(symlink_out_of_the_path_is_refused)
{
	char *a = subdir("a"), *b = subdir("b");
	char *target = copy_fixture("good", b, NULL);
	char *link = gantry_xasprintf("%s/good.so", a);
	char *real = realpath(target, NULL);
	char *want = gantry_xasprintf("symlink leads out of the plugin path "
					"to '%s'; copy the plugin into '%s' "
					"instead", real, a);

	ck_assert_int_eq(symlink(target, link), 0);
	assert_refused(a, "good", want);
	free(want);
	free(real);
	free(link);
	free(target);
	free(a);
	free(b);
}
END_TEST

START_TEST(symlink_within_the_directory_is_accepted)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	char *target = copy_fixture("good", root, "good.so.1");
	char *link = gantry_xasprintf("%s/good.so", root);
	int refused = -1;

	ck_assert_int_eq(symlink("good.so.1", link), 0);
	init_loader(&l, root, NULL);
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->path, link);
	ck_assert_str_eq(p->desc->name, "good");
	loader_release(&l);
	free(link);
	free(target);
}
END_TEST

START_TEST(symlink_into_a_writable_subdirectory_is_refused)
{
	char *a = subdir("a"), *sub = subdir("a/sub");
	char *target = copy_fixture("good", sub, NULL);
	char *link = gantry_xasprintf("%s/good.so", a);
	char *real = realpath(sub, NULL);
	char *want = gantry_xasprintf("directory '%s' is writable by group "
					"or others (mode 0777); run chmod go-w "
					"'%s'", real,
					real);

	ck_assert_int_eq(symlink("sub/good.so", link), 0);
	ck_assert_int_eq(chmod(sub, 0777), 0);
	assert_refused(a, "good", want);
	free(want);
	free(real);
	free(link);
	free(target);
	free(sub);
	free(a);
}
END_TEST

START_TEST(first_directory_wins_and_scan_marks_shadows)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	char *a = subdir("a"), *b = subdir("b");
	char *pa = copy_fixture("good", a, NULL);
	char *pb = copy_fixture("good", b, NULL);
	char *list = gantry_xasprintf("%s:%s", a, b);
	char *shadow = gantry_xasprintf("shadowed by '%s'", pa);
	int refused = -1;

	init_loader(&l, list, NULL);
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->path, pa);
	loader_scan(&l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.plugins[0].path, pa);
	ck_assert_int_eq(l.plugins[0].state, PLUGIN_LOADED);
	ck_assert_str_eq(l.plugins[1].path, pb);
	ck_assert_str_eq(l.plugins[1].name, "good");
	ck_assert_int_eq(l.plugins[1].state, PLUGIN_SHADOWED);
	ck_assert_str_eq(l.plugins[1].refusal, shadow);
	ck_assert_ptr_null(l.plugins[1].desc);
	/* The shadow never answers for the name. */
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_str_eq(p->path, pa);
	/* A second scan records nothing twice. */
	loader_scan(&l);
	ck_assert_uint_eq(l.n, 2);
	loader_release(&l);
	free(shadow);
	free(list);
	free(pa);
	free(pb);
	free(a);
	free(b);
}
END_TEST

START_TEST(not_found_names_the_searched_directories)
{
	struct loader l;
	struct errs e = { 0 };
	char *a = subdir("a"), *b = subdir("b"), *inst = subdir("inst");
	char *list = gantry_xasprintf("%s::%s/", a, b);
	char *want = gantry_xasprintf("no plugin provides stage 'nope' "
					"(searched: %s, %s, %s); check the "
					"stage name or set --plugin-path", a,
					b, inst);
	int refused = -1;

	init_loader(&l, list, inst);
	ck_assert_uint_eq(l.ndirs, 3);
	ck_assert_ptr_null(loader_get(&l, "nope", &refused, &e));
	ck_assert_int_eq(refused, 0);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], want);
	ck_assert_uint_eq(l.n, 0);
	loader_release(&l);
	errs_clear(&e);
	free(want);
	free(list);
	free(a);
	free(b);
	free(inst);
}
END_TEST

START_TEST(install_dir_is_searched_last)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	char *a = subdir("a"), *inst = subdir("inst");
	char *pi = copy_fixture("good", inst, NULL);
	char *pn = copy_fixture("goodnotify", inst, NULL);
	char *pa = copy_fixture("goodnotify", a, NULL);
	int refused = -1;

	init_loader(&l, a, inst);
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->path, pi);
	p = loader_get(&l, "goodnotify", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_str_eq(p->path, pa);
	ck_assert_uint_eq(e.n, 0);
	loader_release(&l);
	free(pi);
	free(pn);
	free(pa);
	free(a);
	free(inst);
}
END_TEST

/* The relative-path tests change directory; give it back afterwards, as
   without CK_FORK (valgrind) every test shares one process. */
static int enter_root(void)
{
	int here = open(".", O_RDONLY | O_DIRECTORY);

	ck_assert_int_ge(here, 0);
	ck_assert_int_eq(chdir(root), 0);
	return here;
}

static void leave_root(int here)
{
	ck_assert_int_eq(fchdir(here), 0);
	close(here);
}

START_TEST(relative_entries_become_absolute_once)
{
	struct loader l;
	struct errs e = { 0 };
	char *a = subdir("a");
	char *real = realpath(root, NULL);
	char *want_a = gantry_xasprintf("%s/a", real);
	char *want_b = gantry_xasprintf("%s/b", real);
	int here = enter_root();

	init_loader(&l, "./a:.", "b/");
	leave_root(here);
	ck_assert_uint_eq(l.ndirs, 3);
	ck_assert_str_eq(l.dirs[0], want_a);
	ck_assert_str_eq(l.dirs[1], real);
	ck_assert_str_eq(l.dirs[2], want_b);
	/* Resolved against the directory of loader_init, not of now. */
	free(copy_fixture("good", a, NULL));
	ck_assert_ptr_nonnull(loader_get(&l, "good", NULL, &e));
	ck_assert_uint_eq(e.n, 0);
	loader_release(&l);
	free(want_a);
	free(want_b);
	free(real);
	free(a);
}
END_TEST

START_TEST(working_directory_is_never_searched_implicitly)
{
	struct loader l;
	struct errs e = { 0 };
	char *a = subdir("a");
	int refused = -1, here;

	free(copy_fixture("good", root, NULL));
	here = enter_root();
	init_loader(&l, a, NULL);
	ck_assert_ptr_null(loader_get(&l, "good", &refused, &e));
	ck_assert_int_eq(refused, 0);
	loader_release(&l);
	init_loader(&l, NULL, NULL);
	ck_assert_uint_eq(l.ndirs, 0);
	ck_assert_ptr_null(loader_get(&l, "good", &refused, &e));
	ck_assert_int_eq(refused, 0);
	ck_assert_str_eq(e.msg[1], "no plugin provides stage 'good' "
			 "(searched: no directories); check the stage name or "
			 "set --plugin-path");
	loader_release(&l);
	/* Given explicitly, it is searched. */
	init_loader(&l, ".", NULL);
	ck_assert_ptr_nonnull(loader_get(&l, "good", &refused, &e));
	loader_release(&l);
	leave_root(here);
	/* A name cannot climb out of the path. */
	init_loader(&l, a, NULL);
	ck_assert_ptr_null(loader_get(&l, "../good", &refused, &e));
	ck_assert_int_eq(refused, 0);
	loader_release(&l);
	errs_clear(&e);
	free(a);
}
END_TEST

START_TEST(get_caches_loaded_and_refused)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p, *q;
	char *good = copy_fixture("good", root, NULL);
	char *bad = copy_fixture("badmagic", root, NULL);
	int refused = -1;

	init_loader(&l, root, NULL);
	p = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_null(loader_get(&l, "badmagic", &refused, &e));
	ck_assert_int_eq(refused, 1);
	/* Gone from disk: the answers must come from the cache. */
	ck_assert_int_eq(unlink(good), 0);
	ck_assert_int_eq(unlink(bad), 0);
	q = loader_get(&l, "good", &refused, &e);
	ck_assert_ptr_eq(q, p);
	ck_assert_int_eq(refused, 0);
	ck_assert_ptr_null(loader_get(&l, "badmagic", &refused, &e));
	ck_assert_int_eq(refused, 1);
	ck_assert_uint_eq(e.n, 2);
	ck_assert_str_eq(e.msg[0], e.msg[1]);
	ck_assert_uint_eq(l.n, 2);
	loader_release(&l);
	errs_clear(&e);
	free(good);
	free(bad);
}
END_TEST

START_TEST(clash_with_a_loaded_stage_is_refused)
{
	struct loader l;
	struct errs e = { 0 };
	char *good = copy_fixture("good", root, NULL);
	char *want = gantry_xasprintf("plugin '%s/clash.so' refused: stage "
					"name 'good' clashes with '%s'; remove "
					"one of them", root, good);
	int refused = -1;

	free(copy_fixture("clash", root, NULL));
	init_loader(&l, root, NULL);
	ck_assert_ptr_nonnull(loader_get(&l, "good", &refused, &e));
	ck_assert_ptr_null(loader_get(&l, "clash", &refused, &e));
	ck_assert_int_eq(refused, 1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], want);
	loader_release(&l);
	errs_clear(&e);
	free(want);
	free(good);
}
END_TEST

START_TEST(builtin_approval_shadows_a_file_of_its_name)
{
	struct loader l;
	struct errs e = { 0 };
	const struct plugin *p;
	char *file = copy_fixture("good", root, "approval.so");
	int refused = -1;

	init_loader(&l, root, NULL);
	p = loader_get(&l, "approval", &refused, &e);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(p->builtin, 1);
	ck_assert_str_eq(p->path, LOADER_BUILTIN_PATH);
	ck_assert_str_eq(p->desc->name, "approval");
	ck_assert_ptr_nonnull(p->desc->options);
	loader_add_builtins(&l);
	loader_scan(&l);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.plugins[1].path, file);
	ck_assert_int_eq(l.plugins[1].state, PLUGIN_SHADOWED);
	ck_assert_ptr_nonnull(strstr(l.plugins[1].refusal, "(built in)"));
	loader_release(&l);
	free(file);
}
END_TEST

START_TEST(scan_lists_every_plugin_with_its_state)
{
	struct loader l;
	struct errs e = { 0 };
	static const char *const names[] = { "badmagic", "good", "goodnotify",
					     "norun" };
	size_t i;
	FILE *f;
	char *other = gantry_xasprintf("%s/README", root);
	char *sub = subdir("dir.so");

	for (i = 0; i < GANTRY_ARRAY_SIZE(names); i++)
		free(copy_fixture(names[i], root, NULL));
	f = fopen(other, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	init_loader(&l, root, NULL);
	loader_scan(&l);
	ck_assert_uint_eq(l.n, GANTRY_ARRAY_SIZE(names));
	for (i = 0; i < l.n; i++)
		ck_assert_str_eq(l.plugins[i].name, names[i]);
	ck_assert_int_eq(l.plugins[0].state, PLUGIN_REFUSED);
	ck_assert_ptr_nonnull(strstr(l.plugins[0].refusal, "bad magic"));
	ck_assert_int_eq(l.plugins[1].state, PLUGIN_LOADED);
	ck_assert_int_eq(l.plugins[2].state, PLUGIN_LOADED);
	ck_assert_int_eq(l.plugins[3].state, PLUGIN_REFUSED);
	ck_assert_ptr_nonnull(strstr(l.plugins[3].refusal, "no run callback"));
	/* Scan refusals are recorded, not reported; get reports them. */
	ck_assert_ptr_null(loader_get(&l, "norun", NULL, &e));
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], l.plugins[3].refusal);
	loader_release(&l);
	errs_clear(&e);
	free(sub);
	free(other);
}
END_TEST

START_TEST(release_leaves_loaded_descriptors_valid)
{
	struct loader l;
	struct errs e = { 0 };
	const struct gantry_stage *d;

	free(copy_fixture("good", root, NULL));
	init_loader(&l, root, NULL);
	d = loader_get(&l, "good", NULL, &e)->desc;
	loader_release(&l);
	ck_assert_ptr_null(l.plugins);
	ck_assert_ptr_null(l.dirs);
	/* Resident: still mapped after the loader and libltdl let go. */
	ck_assert_str_eq(d->name, "good");
	ck_assert_int_eq(d->run(NULL, NULL), GANTRY_OK);
}
END_TEST

static Suite *loader_suite(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, good_loads_with_its_descriptor);
	tcase_add_test(tc, notifier_without_run_loads);
	tcase_add_test(tc, abi_1_0_layout_loads_without_rules);
	tcase_add_test(tc, rules_load_and_describe_themselves);
	tcase_add_test(tc, abi_1_1_rules_load_by_their_size);
	tcase_add_test(tc, decimal_ranges_and_conditions);
	tcase_add_loop_test(tc, bad_fixture_is_refused_with_its_line, 0,
			    (int)GANTRY_ARRAY_SIZE(bad_fixtures));
	tcase_add_test(tc, unloadable_file_is_refused);
	tcase_add_test(tc, world_writable_file_is_refused);
	tcase_add_test(tc, group_writable_directory_is_refused);
	tcase_add_test(tc, directory_of_another_user_is_refused);
	tcase_add_test(tc, symlink_out_of_the_path_is_refused);
	tcase_add_test(tc, symlink_within_the_directory_is_accepted);
	tcase_add_test(tc, symlink_into_a_writable_subdirectory_is_refused);
	tcase_add_test(tc, first_directory_wins_and_scan_marks_shadows);
	tcase_add_test(tc, not_found_names_the_searched_directories);
	tcase_add_test(tc, install_dir_is_searched_last);
	tcase_add_test(tc, relative_entries_become_absolute_once);
	tcase_add_test(tc, working_directory_is_never_searched_implicitly);
	tcase_add_test(tc, get_caches_loaded_and_refused);
	tcase_add_test(tc, clash_with_a_loaded_stage_is_refused);
	tcase_add_test(tc, scan_lists_every_plugin_with_its_state);
	tcase_add_test(tc, builtin_approval_shadows_a_file_of_its_name);
	tcase_add_test(tc, release_leaves_loaded_descriptors_valid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(loader_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
