/*
 * core.h - types shared by the core's modules.
 */
#ifndef GANTRY_CORE_H
#define GANTRY_CORE_H

#include "internal.h"

/* Exit codes: a contract (README.md, gantry(1)); scripts depend on them. */
enum gantry_exit {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_ROLLED_BACK = 3,
	EXIT_ROLLBACK_FAILED = 4,
	EXIT_REFUSED = 5,
	EXIT_LOCKED = 6,
	EXIT_INTERRUPTED = 130
};

/*
 * An error list: core functions return 0 or -1 and append one line per
 * problem here (the caller owns and prints it).  Lines follow the house
 * style: "file:line: error first, 'subject' quoted; what to do".
 */
struct errs {
	char **msg;
	size_t n, alloc;
};

/* util.c: the wall clock in epoch seconds; whether name is one of the
   comma-separated list's members. */
double core_wall_now(void);
int core_in_list(const char *list, const char *name);

void errs_add(struct errs *e, const char *fmt, ...) GANTRY_PRINTF(2, 3);
void errs_clear(struct errs *e);
/* Prints every line to stderr as "gantry: <line>", redacted. */
void errs_print(const struct errs *e);

/* Untrusted text as an error line may quote it (malloc'd): bytes outside
   printable ASCII shown as \xNN, cut to max bytes with "..." after. */
char *errs_shown(const char *s, size_t max);

/* "Did you mean": the candidate closest to word (edit distance <= 2 or a
   third of its length), or NULL. */
const char *did_you_mean(const char *word, const char *const *cands,
			 size_t n);

/* Adds an error for every key of group g that is not among known[0..n)
   ("unknown key 'x' in WHAT; did you mean 'y'?" or "; remove it");
   returns how many. */
size_t errs_unknown_keys(struct errs *e, const struct gantry_config *g,
			 const char *const *known, size_t n,
			 const char *what);

#endif
