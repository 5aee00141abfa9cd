/*
 * profile_i.h - what profile_read.c (reading files), profile.c (loading
 * gantry.cfg) and profile_validate.c (checking entries against plugins)
 * share.  Private to them; everyone else sees profile.h.
 */
#ifndef GANTRY_PROFILE_I_H
#define GANTRY_PROFILE_I_H

#include "profile.h"

/* rel when absolute, else dir/rel (malloc'd).  profile_read.c */
char *profile_join_path(const char *dir, const char *rel);

/* "a string", "an integer"... for messages.  profile.c */
const char *profile_type_word(enum gantry_option_type t);

/* Core keys of pipeline and notify entries (NULL-terminated); the rest
   are plugin options.  profile.c */
extern const char *const profile_core_keys[];

/* Applies core keys found in g (gantry.cfg entry or profile block).
   profile.c */
int profile_apply_core_keys(struct entry *en, const struct gantry_config *g,
		    struct errs *e);

#endif
