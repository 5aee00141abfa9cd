/*
 * interp.h - ${...} references in option values.
 *
 *   ${key}                 a context value (release.version, image.uri, ...)
 *   ${env:NAME}            an environment variable
 *   ${secret:env:NAME}     an environment variable holding a secret
 *   ${secret:file:PATH}    a file's content (trailing newline dropped),
 *                          PATH relative to gantry.cfg's directory
 *   $${                    a literal "${"
 *
 * Secret values are registered with the redactor and their nodes marked
 * secret before anything can print them.
 */
#ifndef GANTRY_INTERP_H
#define GANTRY_INTERP_H

#include "core.h"

enum interp_mode {
	INTERP_CHECK,	/* syntax only: nothing is resolved */
	INTERP_SECRETS,	/* only ${secret:env:} and ${secret:file:} resolve
			   (a deploy's preflight: set, readable, long enough) */
	INTERP_PLAN,	/* context keys not yet known stay as written */
	INTERP_RUN	/* everything must resolve */
};

/*
 * Resolves every string in tree (in place).  `entry` names the pipeline
 * entry for messages; base_dir anchors ${secret:file:...}.  0, or -1 with
 * one line per problem in e.
 */
int interp_resolve(struct gantry_config *tree, const struct gantry_kvlist *ctx,
		   enum interp_mode mode, const char *entry,
		   const char *base_dir, struct errs *e);

#endif
