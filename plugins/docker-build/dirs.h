/*
 * dirs.h - the directories the docker-build stage uses: the builder's
 * store, the OCI layout handed to the push stage, scratch space.
 *
 * Private to plugins/docker-build/.
 */
#ifndef DOCKER_BUILD_DIRS_H
#define DOCKER_BUILD_DIRS_H

#include <gantry/gantry.h>

/* $TMPDIR when absolute, else /tmp. */
const char *dirs_tmp_base(void);

/* buildah's store when the `storage` option is unset, shared by deploys
   so that layers stay cached: $XDG_CACHE_HOME/gantry/buildah, else
   ~/.cache/gantry/buildah; malloc'd. */
char *dirs_default_storage(void);

/* Where this deploy's OCI layout goes: <deploy.state_dir>/image, else
   $TMPDIR/gantry-images/<service>/<deploy.id>; malloc'd. */
char *dirs_layout(struct gantry_ctx *ctx, const char *service);

/* mkdir -p, creating what is missing with mode 0700.  0 or -1 (errno). */
int dirs_make(const char *path);

/* rm -rf without following symlinks; a missing path is fine. */
int dirs_remove_tree(const char *path);

/* Empties and (re)creates the layout directory `path`; under $TMPDIR,
   refuses a gantry-images directory that is not ours alone. */
int dirs_fresh_layout(const char *path, struct gantry_ctx *ctx);

#endif
