/*
 * optrules.h - the ranges and choices a descriptor gives its options
 * (struct gantry_option_rule, since ABI 1.1), read and enforced by the
 * core so that stages need not check them in init.
 *
 * Invariants:
 *   - a descriptor's rules are read only through optrules_at, which
 *     honours GANTRY_STAGE_HAS_FIELD (an ABI 1.0 plugin has no rules, and
 *     nothing past its size is read) and the plugin's own element size;
 *   - the loader calls optrules_check_descriptor before any other
 *     function here sees the descriptor, so the others may trust that
 *     every rule names an option of a fitting type.
 */
#ifndef GANTRY_OPTRULES_H
#define GANTRY_OPTRULES_H

#include "core.h"

/* The i-th rule of d, or NULL past the last (or when d has none). */
const struct gantry_option_rule *optrules_at(const struct gantry_stage *d,
					     size_t i);

/* The option of d named key, or NULL. */
const struct gantry_option *optrules_option(const struct gantry_stage *d,
					   const char *key);
/* The rule d gives option key, or NULL. */
const struct gantry_option_rule *optrules_find(const struct gantry_stage *d,
					       const char *key);

/*
 * Checks d's rules against its option table: each names a declared
 * option, fits its type, is not empty, and accepts the option's default.
 * 0, or -1 with what is wrong appended to what (no trailing fix).
 */
int optrules_check_descriptor(const struct gantry_stage *d,
			      struct gantry_buf *what);

/* r as the core reads it: a copy with the fields of minors newer than
   d's rules zeroed (an ABI 1.1 rule has no decimal range or condition). */
void optrules_full(const struct gantry_stage *d,
		   const struct gantry_option_rule *r,
		   struct gantry_option_rule *out);

/* Appends what d's rule r allows: "0 to 3600", "at least 1", "at most 10",
   "one of 'a', 'b' or 'c'", "0.1 to 100.0 with at most 1 decimal place",
   or "any value" (a rule with only a condition). */
void optrules_describe(const struct gantry_stage *d,
		       const struct gantry_option_rule *r,
		       struct gantry_buf *b);

/* Appends r's condition, "only when 'strategy' is 'canary'", or nothing. */
void optrules_describe_when(const struct gantry_stage *d,
			    const struct gantry_option_rule *r,
			    struct gantry_buf *b);

/* Appends text as a normalised decimal ("007.50" -> "7.5", "-0" -> "0"):
   0, or -1 (nothing appended) when text is not a decimal number
   (digits, optionally a point and digits; no exponent). */
int optrules_decimal_normalise(const char *text, struct gantry_buf *out);

/* True when text holds a ${...} reference ($${ is a literal "${"). */
int optrules_has_reference(const char *text);

/*
 * Checks the options in opts (children named by option key) against d's
 * rules and decimal options against their syntax, one line in e per
 * value refused:
 *   "FILE:LINE: option 'KEY' of stage 'ENTRY' must be 0 to 3600, not 9000"
 *   "FILE:LINE: option 'KEY' of stage 'ENTRY' applies only when 'K' is
 *    'v', and 'K' is 'w' (WHERE); remove 'KEY' or set K = "v""
 * A condition reads K as set in opts, else K's default; a value whose
 * node is a default ("default") never meets a condition.
 * With literal_only, values holding ${...} references are skipped (they
 * are checked once resolved).  A secret option's value is never quoted.
 * 0, or -1.
 */
int optrules_check_options(const struct gantry_stage *d,
			   const struct gantry_config *opts,
			   const char *entry, int literal_only,
			   struct errs *e);

#endif
