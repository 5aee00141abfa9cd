/*
 * statedir.h - the state directory (journal and locks).
 */
#ifndef GANTRY_STATEDIR_H
#define GANTRY_STATEDIR_H

#include "core.h"

/* mkdir -p with every missing component 0700: the state directory holds
   who deployed what, which is nobody else's business.  0, or -1 with
   errno (ENOTDIR when a component is not a directory). */
int state_mkdirs(const char *path);

/*
 * Judges the state directory and the directories gantry keeps in it
 * (journal/, locks/, work/, batch/,
 * approvals/) before anything there is read or
 * written: whoever can write them can forge the journal records that
 * `rollback` deploys.  Each that exists must be a real directory (not a
 * symlink) that passes the trust rule of filecheck.h (owned by root or
 * the user running gantry, not writable by group or others).  A missing
 * one is fine: gantry creates it 0700.  0, or -1 with one line in e.
 */
int state_dir_check(const char *path, struct errs *e);

#endif
