/*
 * statedir.h - the state directory (journal and locks).
 */
#ifndef GANTRY_STATEDIR_H
#define GANTRY_STATEDIR_H

/* mkdir -p with every missing component 0700: the state directory holds
   who deployed what, which is nobody else's business.  0, or -1 with
   errno (ENOTDIR when a component is not a directory). */
int state_mkdirs(const char *path);

#endif
