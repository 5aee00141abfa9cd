/*
 * hello.c - the "hello" stage: a template for writing your own.
 *
 * It greets someone: plan says what run would do, run logs
 * "<greeting>, <who>" (`repeat` times; with a "!" when `tone` is "loud")
 * and publishes the text as the output `hello.message`, which later
 * stages can read as ${hello.message}.
 *
 * To start a stage of your own, copy this directory, rename the file,
 * the stage (.name, which must equal the installed file name without
 * ".so") and the plugin in Makefile.am, then replace the options and
 * callbacks.  Everything a stage needs comes from <gantry/gantry.h>; no
 * other gantry header, and no libconfig, json-c or libcurl type.  Its
 * helpers (gantry/util.h: gantry_xstrdup, gantry_xasprintf, gantry_now
 * ...; gantry/buf.h: a growing string) save writing your own: they abort
 * rather than return NULL, since a stage runs in a child process whose
 * crash the core records as the stage failing.
 */
#include <stdlib.h>
#include <string.h>

#include <gantry/gantry.h>

/* configure passes the package version; a hand-made build has none. */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

/*
 * The options the stage accepts.  The core checks every profile against
 * this table (types, required options, unknown keys) before any stage
 * runs, fills in the defaults, and prints the table in
 * `gantry plugins show hello`.  Defaults are written as text.  A key may
 * not be one of the core's entry keys (stage, plugin, name, on_failure,
 * timeout, retries, events): the core keeps those for itself.
 */
static const struct gantry_option hello_options[] = {
	{ .key = "greeting", .type = GANTRY_OPT_STRING, .def = "hello",
	  .help = "the word to greet with" },
	{ .key = "who", .type = GANTRY_OPT_STRING,
	  .flags = GANTRY_OPT_REQUIRED, .help = "who to greet" },
	{ .key = "tone", .type = GANTRY_OPT_STRING, .def = "plain",
	  .help = "plain, or loud for an exclamation mark" },
	{ .key = "repeat", .type = GANTRY_OPT_INT, .def = "1",
	  .help = "how many times to say it" },
	{ .key = NULL }
};

/*
 * Ranges and choices of the options above, by key.  The core enforces
 * them at `gantry config check` and before init (a value holding a
 * ${...} reference once resolved), with the file and line of the value:
 *   gantry.cfg:9: option 'repeat' of stage 'greet' must be 1 to 10, not 0
 * so init below reads them without checking.  Each option's default must
 * pass its rule, or gantry refuses the plugin.
 */
static const struct gantry_option_rule hello_rules[] = {
	{ .key = "tone", GANTRY_CHOICES("plain", "loud") },
	{ .key = "repeat", GANTRY_RANGE(1, 10) },
	{ .key = NULL }
};

/* Private state: what init read, kept until fini. */
struct hello {
	char *message;			/* "<greeting>, <who>[!]" */
	unsigned repeat;
};

static void hello_fini(void *state)
{
	struct hello *h = state;

	if (!h)
		return;
	free(h->message);
	free(h);
}

static int hello_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		      void **state)
{
	const char *greeting = gantry_config_string(cfg, "greeting", "hello");
	const char *who = gantry_config_string(cfg, "who", NULL);
	const char *tone = gantry_config_string(cfg, "tone", "plain");
	struct hello *h;

	/* The core has already refused a configuration without `who`; an
	   empty one is ours to refuse. */
	if (!who || !*who)
		return gantry_fail(ctx, GANTRY_ECONFIG,
				   "option 'who' is empty; set who = \"...\" "
				   "in the entry in gantry.cfg or in the "
				   "profile");

	h = gantry_xcalloc(1, sizeof(*h));
	h->message = gantry_xasprintf("%s, %s%s", greeting, who,
				      strcmp(tone, "loud") ? "" : "!");
	/* 1 to 10: hello_rules. */
	h->repeat = (unsigned)gantry_config_int(cfg, "repeat", 1);
	*state = h;
	return GANTRY_OK;
}

/* No side effects here: plan also runs for `gantry plan` and --dry-run. */
static int hello_plan(void *state, struct gantry_ctx *ctx)
{
	struct hello *h = state;

	if (h->repeat > 1)
		gantry_plan_line(ctx, "would say \"%s\" %u times and publish "
				 "hello.message", h->message, h->repeat);
	else
		gantry_plan_line(ctx, "would say \"%s\" and publish "
				 "hello.message", h->message);
	return GANTRY_OK;
}

static int hello_run(void *state, struct gantry_ctx *ctx)
{
	struct hello *h = state;
	unsigned i;

	for (i = 0; i < h->repeat; i++)
		gantry_info(ctx, "%s", h->message);
	if (gantry_ctx_set(ctx, "hello.message", h->message) < 0)
		return gantry_fail(ctx, GANTRY_EFAIL,
				   "cannot publish output 'hello.message'");
	return GANTRY_OK;
}

/*
 * The descriptor: GANTRY_STAGE_HEADER fills in the ABI magic, version and
 * size; designated initialisers name every field, so fields added by
 * later ABI versions stay zero.  No rollback: greeting has nothing to
 * undo.
 */
static const struct gantry_stage hello_stage = {
	GANTRY_STAGE_HEADER,
	.name = "hello",
	.version = PACKAGE_VERSION,
	.summary = "logs a greeting and publishes it as hello.message",
	.kind = GANTRY_KIND_STAGE,
	.options = hello_options,
	.option_rules = hello_rules,
	.init = hello_init,
	.plan = hello_plan,
	.run = hello_run,
	.fini = hello_fini,
};

GANTRY_STAGE_EXPORT(hello_stage)
