/*
 * gantry/stage.h - the stage plugin ABI.
 *
 * A stage plugin is a shared object that exports exactly one symbol,
 * GANTRY_STAGE_ENTRY_SYMBOL, a function returning a pointer to a static,
 * const struct gantry_stage.  The core reads and checks the descriptor's
 * header before it calls any other plugin code:
 *
 *   - magic must be GANTRY_ABI_MAGIC;
 *   - major must equal the core's GANTRY_ABI_MAJOR;
 *   - minor must not be newer than the core's GANTRY_ABI_MINOR;
 *   - size must cover at least the fields of ABI 1.0, and fields added
 *     in later minors are read only when size covers them
 *     (GANTRY_STAGE_HAS_FIELD).
 *
 * Plugin authors fill the descriptor with designated initialisers and
 * start it with GANTRY_STAGE_HEADER; they never type a version number:
 *
 *   static const struct gantry_stage my_stage = {
 *           GANTRY_STAGE_HEADER,
 *           .name = "my-stage",
 *           .summary = "one line of what it does",
 *           .options = my_options,
 *           .run = my_run,
 *   };
 *   GANTRY_STAGE_EXPORT(my_stage)
 *
 * ABI history (append-only; one line per bump):
 *   1.0  first public ABI: header, name, version, summary, kind, options,
 *        init, plan, run, rollback, fini, event
 *   1.1  descriptor gains option_rules and option_rule_size: ranges and
 *        choices the core enforces (struct gantry_option_rule); the SDK
 *        gains file-range request bodies, a body hook, a request pool and
 *        the stall limit (http.h), and digest.h (SHA-256, base64)
 *   1.2  option type GANTRY_OPT_DECIMAL (gantry_config_decimal); rules
 *        gain decimal ranges with a precision (GANTRY_DECIMAL_RANGE) and
 *        conditions on another option (GANTRY_ONLY_WHEN), appended to
 *        struct gantry_option_rule
 */
#ifndef GANTRY_STAGE_H
#define GANTRY_STAGE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "GNTR" read as a little-endian 32-bit number. */
#define GANTRY_ABI_MAGIC 0x52544e47u
#define GANTRY_ABI_MAJOR 1
#define GANTRY_ABI_MINOR 2

/* The name of the one symbol a plugin exports. */
#define GANTRY_STAGE_ENTRY_SYMBOL "gantry_stage_entry"

struct gantry_config;
struct gantry_ctx;
struct gantry_event;

/*
 * The frozen header: its layout never changes, whatever the ABI version.
 */
struct gantry_abi_header {
	uint32_t magic;		/* GANTRY_ABI_MAGIC */
	uint16_t major;		/* GANTRY_ABI_MAJOR the plugin was built with */
	uint16_t minor;		/* GANTRY_ABI_MINOR the plugin was built with */
	uint32_t size;		/* sizeof(struct gantry_stage) as built */
	uint32_t reserved;	/* zero */
};

/* Types of stage options, as declared in a descriptor's option table. */
enum gantry_option_type {
	GANTRY_OPT_STRING = 1,
	GANTRY_OPT_INT,
	GANTRY_OPT_BOOL,
	GANTRY_OPT_LIST,	/* a list of scalars or of groups */
	GANTRY_OPT_GROUP,	/* named values, e.g. environment variables */
	GANTRY_OPT_DECIMAL	/* since ABI 1.2: a decimal number written as
				   an integer (5), a float (2.5) or a string
				   ("2.5"); stages read it with
				   gantry_config_decimal() or, normalised
				   ("2.5", "5"), with gantry_config_string() */
};

/* Option flags. */
#define GANTRY_OPT_REQUIRED 0x1u	/* the profile must set it */
#define GANTRY_OPT_SECRET   0x2u	/* its value is redacted everywhere */

/*
 * One option a stage accepts.  The core validates every profile against
 * the table before anything runs; `gantry plugins show NAME` prints it.
 * A table ends with an entry whose key is NULL.
 */
struct gantry_option {
	const char *key;
	enum gantry_option_type type;
	unsigned flags;			/* GANTRY_OPT_REQUIRED | GANTRY_OPT_SECRET */
	const char *def;		/* default for scalars, as text ("60",
					   "true"), or NULL */
	const char *help;		/* one line, lowercase, no final period */
};

/*
 * A rule the core enforces on one option's values (since ABI 1.1), so a
 * stage's init never sees a value outside it and need not check it:
 *
 *   - a range (GANTRY_OPT_INT): GANTRY_RANGE(lo, hi), GANTRY_AT_LEAST(lo)
 *     or GANTRY_AT_MOST(hi), bounds included;
 *   - choices (GANTRY_OPT_STRING, or GANTRY_OPT_LIST whose every member
 *     is one of them): GANTRY_CHOICES("rolling", "blue-green");
 *   - since ABI 1.2, a decimal range with a precision (GANTRY_OPT_DECIMAL):
 *     GANTRY_DECIMAL_RANGE("0.1", "100.0", 1) allows 0.1 to 100.0 with at
 *     most one digit after the point (bounds are text, so they print and
 *     compare exactly);
 *   - since ABI 1.2, a condition on another option, with or without one
 *     of the above: GANTRY_ONLY_WHEN("strategy", "canary") lets the
 *     profile set the option only when option `strategy` is "canary" (as
 *     set in the entry or profile, else its default).  The other option
 *     must be a string, integer or boolean option, not secret; values are
 *     compared in text form ("5", "true").  The option's own default is
 *     never refused by it: the condition is on what the profile writes.
 *
 * Rules live in their own table, named by option key and ended by an
 * entry whose key is NULL; the option table keeps its ABI 1.0 layout.
 *
 *   static const struct gantry_option_rule my_rules[] = {
 *           { .key = "timeout", GANTRY_RANGE(0, 3600) },
 *           { .key = "strategy", GANTRY_CHOICES("rolling", "canary") },
 *           { .key = NULL }
 *   };
 *   ... .options = my_options, .option_rules = my_rules, ...
 *
 * The loader refuses a plugin whose rule names no option, does not fit
 * the option's type, or rejects the option's own default.  The core
 * checks literal values at `config check` and before anything runs, and
 * values holding ${...} references once they are resolved, before init.
 * The element size is not fixed: GANTRY_STAGE_HEADER records it in the
 * descriptor (option_rule_size), so fields appended here in later minors
 * are read only when the plugin's size covers them.
 */
struct gantry_option_rule {
	const char *key;		/* the option, as in the option table */
	unsigned bounds;		/* GANTRY_BOUND_MIN | GANTRY_BOUND_MAX:
					   which of min and max apply */
	int64_t min, max;		/* GANTRY_OPT_INT, bounds included */
	const char *const *choices;	/* NULL-terminated allowed values */

	/* Since ABI 1.2: read only when option_rule_size covers them. */
	const char *decimal_min;	/* GANTRY_OPT_DECIMAL bounds, as text */
	const char *decimal_max;	/* ("0.1"), by bounds like min, max */
	unsigned decimal_places;	/* with a decimal bound: at most this
					   many digits after the point */
	const char *when;		/* the option may be set only when
					   option `when` ... */
	const char *const *when_values;	/* ... is one of these (NULL-
					   terminated) */
};

#define GANTRY_BOUND_MIN 0x1u
#define GANTRY_BOUND_MAX 0x2u

#define GANTRY_RANGE(lo, hi) \
	.bounds = GANTRY_BOUND_MIN | GANTRY_BOUND_MAX, .min = (lo), .max = (hi)
#define GANTRY_AT_LEAST(lo) .bounds = GANTRY_BOUND_MIN, .min = (lo)
#define GANTRY_AT_MOST(hi) .bounds = GANTRY_BOUND_MAX, .max = (hi)
#define GANTRY_CHOICES(...) \
	.choices = (const char *const[]){ __VA_ARGS__, NULL }

#define GANTRY_DECIMAL_RANGE(lo, hi, places) \
	.bounds = GANTRY_BOUND_MIN | GANTRY_BOUND_MAX, \
	.decimal_min = (lo), .decimal_max = (hi), .decimal_places = (places)
#define GANTRY_ONLY_WHEN(option, ...) \
	.when = (option), .when_values = (const char *const[]){ __VA_ARGS__, NULL }

/* Size of a rule of ABI 1.1: the least the core accepts. */
#define GANTRY_OPTION_RULE_SIZE_1_1 \
	(offsetof(struct gantry_option_rule, choices) + sizeof(void *))
/* Size of a rule of ABI 1.2. */
#define GANTRY_OPTION_RULE_SIZE_1_2 \
	(offsetof(struct gantry_option_rule, when_values) + sizeof(void *))

/* What a plugin is: a pipeline stage, a notifier (event hook only), or both. */
#define GANTRY_KIND_STAGE    0x1u
#define GANTRY_KIND_NOTIFIER 0x2u

/*
 * Callback results.  Callbacks return GANTRY_OK or one of the negative
 * codes, usually through gantry_fail(), which also records the message.
 */
enum gantry_result {
	GANTRY_OK = 0,
	GANTRY_EFAIL = -1,		/* failed */
	GANTRY_EROLLED_BACK = -2,	/* failed; the stage's own recovery
					   restored the previous state */
	GANTRY_EROLLBACK_FAILED = -3,	/* failed, and its recovery failed */
	GANTRY_ETIMEOUT = -4,		/* gave up waiting within its timeout */
	GANTRY_EINTERRUPTED = -5,	/* stopped by SIGINT/SIGTERM */
	GANTRY_ECONFIG = -6		/* the configuration cannot work */
};

/*
 * The stage descriptor.  Fields after the header may only be appended;
 * each addition bumps GANTRY_ABI_MINOR and is logged above.
 *
 * Every callback runs in a child process of the core: a crash or a hang
 * fails that stage only.  State returned by init lives until fini in the
 * same process; plan, run and rollback are separate calls, each preceded
 * by its own init.
 */
struct gantry_stage {
	struct gantry_abi_header header;

	const char *name;		/* stage name; equals the file name */
	const char *version;		/* the plugin's own version, free form */
	const char *summary;		/* one line */
	unsigned kind;			/* GANTRY_KIND_*; 0 means STAGE */
	const struct gantry_option *options;	/* NULL-key terminated */

	/* Gets the validated, interpolated options; returns private state. */
	int (*init)(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		    void **state);
	/* Describes what run would do, without side effects. */
	int (*plan)(void *state, struct gantry_ctx *ctx);
	/* Does the work; publishes outputs with gantry_ctx_set(). Required
	   for GANTRY_KIND_STAGE. */
	int (*run)(void *state, struct gantry_ctx *ctx);
	/* Undoes run's effect when a later stage fails under the rollback
	   policy; sees the outputs run published.  Optional. */
	int (*rollback)(void *state, struct gantry_ctx *ctx);
	/* Frees the state of init.  Optional. */
	void (*fini)(void *state);
	/* Receives deploy and stage events.  Required for notifiers; its
	   failure never fails a deploy. */
	int (*event)(void *state, struct gantry_ctx *ctx,
		     const struct gantry_event *ev);

	/* Since ABI 1.1.  Ranges and choices of options, NULL-key
	   terminated; NULL for none. */
	const struct gantry_option_rule *option_rules;
	/* sizeof(struct gantry_option_rule) as built; GANTRY_STAGE_HEADER
	   sets it. */
	uint32_t option_rule_size;
};

/* Size of the descriptor of ABI 1.0: the least the core accepts. */
#define GANTRY_STAGE_SIZE_1_0 \
	(offsetof(struct gantry_stage, event) + sizeof(void (*)(void)))

/* True when the descriptor d was built with field f present. */
#define GANTRY_STAGE_HAS_FIELD(d, f) \
	((d)->header.size >= offsetof(struct gantry_stage, f) + sizeof((d)->f))

/* Fills the header and the element sizes of the descriptor's tables. */
#define GANTRY_STAGE_HEADER \
	.header = { GANTRY_ABI_MAGIC, GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR, \
		    (uint32_t)sizeof(struct gantry_stage), 0 }, \
	.option_rule_size = (uint32_t)sizeof(struct gantry_option_rule)

#if defined(__GNUC__)
#define GANTRY_EXPORT __attribute__((visibility("default")))
#else
#define GANTRY_EXPORT
#endif

/* The entry function's type. */
typedef const struct gantry_stage *(*gantry_stage_entry_fn)(void);

/* Defines the exported entry function returning &desc. */
#define GANTRY_STAGE_EXPORT(desc) \
	GANTRY_EXPORT const struct gantry_stage *gantry_stage_entry(void); \
	GANTRY_EXPORT const struct gantry_stage *gantry_stage_entry(void) \
	{ return &(desc); }

#ifdef __cplusplus
}
#endif

#endif
