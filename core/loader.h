/*
 * loader.h - finding, checking and loading stage plugins.
 *
 * A plugin named NAME is the file NAME.so in one of the directories of
 * the plugin path (searched in order), then the install directory.  The
 * working directory is never searched implicitly.  Before any plugin code
 * but its entry function runs, the loader checks:
 *   - the file and its directory are owned by root or by the user
 *     running gantry and not writable by group or others (the trust rule
 *     of filecheck.h, which the state directory follows too);
 *   - the file's real path lies inside the directory it was found in
 *     (a symlink leading out of the plugin path is refused);
 *   - the entry symbol exists; magic, ABI major (equal), minor (not newer),
 *     size (at least GANTRY_STAGE_SIZE_1_0);
 *   - the descriptor is complete (name, run for stages, event for
 *     notifiers, well-formed option table), its option rules (ABI 1.1)
 *     fit the option table (optrules.h), and its name is NAME;
 *   - no other loaded plugin has the same name.
 * Each refusal is one line: file, what is wrong, both versions where
 * relevant, and the fix.
 */
#ifndef GANTRY_LOADER_H
#define GANTRY_LOADER_H

#include "core.h"

enum plugin_state {
	PLUGIN_LOADED = 0,
	PLUGIN_REFUSED,
	PLUGIN_SHADOWED		/* same name found earlier in the path */
};

struct plugin {
	char *name;		/* from the file name */
	char *path;		/* the .so file as found */
	enum plugin_state state;
	char *refusal;		/* why refused (one line), or NULL */
	const struct gantry_stage *desc;	/* loaded only */
	void *handle;		/* lt_dlhandle */
	int builtin;		/* a stage of the core (path "(built in)") */
};

struct loader {
	char **dirs;		/* search path, install dir last */
	size_t ndirs;
	struct plugin *plugins;	/* every plugin looked at so far */
	size_t n, alloc;
};

/* The core's own stages, found before the plugin path (a NAME.so of
   the same name is shadowed): approval (approval.c). */
#define LOADER_BUILTIN_PATH "(built in)"

/*
 * Sets up the search path: path_list (colon-separated, may be NULL)
 * followed by install_dir (may be NULL).  Relative entries are taken
 * relative to the current directory once, here; empty entries are
 * ignored.  When path_list is the value of GANTRY_PLUGIN_PATH (the very
 * pointer getenv returns), a relative entry is refused instead.  0, or
 * -1 with e.
 */
int loader_init(struct loader *l, const char *path_list,
		const char *install_dir, struct errs *e);

/*
 * Finds and loads the plugin NAME.  The pointer returned stays valid
 * until the next loader_get of a name not looked at before, or the next
 * loader_scan (the table grows); the descriptor it points to stays valid
 * for the life of the process.  Returns it (state PLUGIN_LOADED) or
 * NULL: *refused is set to 1 when a file was found but refused (the
 * refusal line is in e), 0 when no file NAME.so exists on the path
 * (a line in e naming the directories searched).
 */
const struct plugin *loader_get(struct loader *l, const char *name,
				int *refused, struct errs *e);

/* Looks at every *.so on the path (for `gantry plugins list`); refusals
   are recorded on the plugins, not in an error list. */
void loader_scan(struct loader *l);

/* Records every built-in stage (for `gantry plugins list`, before
   loader_scan: a NAME.so of a built-in's name is then shadowed). */
void loader_add_builtins(struct loader *l);

void loader_release(struct loader *l);

#endif
