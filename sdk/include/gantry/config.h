/*
 * gantry/config.h - reading a stage's options.
 *
 * A struct gantry_config is a read-only tree of values the core built
 * from gantry.cfg and the environment's profile: defaults filled in,
 * validated against the stage's option table, ${...} references
 * resolved.  Nodes are owned by the core and live until the stage's
 * fini returns; never free them.  Every node knows where it was written
 * ("profiles/staging.cfg:12"), so errors can point there.
 *
 * Since ABI 1.0.
 */
#ifndef GANTRY_CONFIG_H
#define GANTRY_CONFIG_H

#include <stddef.h>
#include <gantry/stage.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The child named `path` ("a.b.c"; list elements as "[2]"), or NULL. */
const struct gantry_config *gantry_config_lookup(const struct gantry_config *c,
						 const char *path);

/* The node's type (GANTRY_OPT_*), its name ("" for list elements), and
   where it was written ("file:line", or "default"). */
enum gantry_option_type gantry_config_type(const struct gantry_config *c);
const char *gantry_config_name(const struct gantry_config *c);
const char *gantry_config_where(const struct gantry_config *c);

/* Scalar getters: the value at `path`, or `def` when unset.  A bool or
   int read as a string gives its text form. */
const char *gantry_config_string(const struct gantry_config *c,
				 const char *path, const char *def);
long long gantry_config_int(const struct gantry_config *c, const char *path,
			    long long def);
int gantry_config_bool(const struct gantry_config *c, const char *path,
		       int def);

/* The value of a GANTRY_OPT_DECIMAL (or integer) option at `path`, or
   `def` when unset.  The core checked its syntax and rules; a value of
   at most 15 significant digits converts exactly enough that
   llround(v * 10) gives its tenths.  Since ABI 1.2. */
double gantry_config_decimal(const struct gantry_config *c, const char *path,
			     double def);

/* Number of children of a list or group (0 for a scalar or NULL), and
   the i-th child. */
size_t gantry_config_length(const struct gantry_config *c);
const struct gantry_config *gantry_config_at(const struct gantry_config *c,
					     size_t i);

/* The text of a scalar node (ints and bools in their text form), or
   NULL for a list or group. */
const char *gantry_config_text(const struct gantry_config *c);

#ifdef __cplusplus
}
#endif

#endif
