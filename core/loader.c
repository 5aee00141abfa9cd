/*
 * loader.c - finding, checking and loading stage plugins.
 *
 * Invariants:
 *   - every plugin file the loader has looked at has exactly one record
 *     in l->plugins, loaded, refused or shadowed; a name is looked up on
 *     disk at most once per loader, so repeated lookups agree;
 *   - a record's refusal is the complete one-line message, ready for
 *     errs_add and for `gantry plugins list`;
 *   - nothing of a descriptor but its frozen header is read before the
 *     magic, major, minor and size checks have passed.
 *
 * Pointers returned by loader_get point into l->plugins, which grows:
 * they stay valid until the next loader_get or loader_scan.  A loaded
 * plugin's descriptor (p->desc) stays valid for the life of the process,
 * because every module is opened resident (see open_module).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <ltdl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filecheck.h"
#include "loader.h"
#include "approval.h"
#include "optrules.h"

#define NO_PLUGIN ((size_t)-1)

/*
 * Every module handle ever opened, for the life of the process.  The
 * modules are resident and stay mapped; libltdl's last lt_dlexit unlinks
 * resident handles from its own list without freeing them, so without
 * this list their bookkeeping would look leaked rather than in use.
 */
static lt_dlhandle *resident;
static size_t nresident, aresident;

static char *refuse(const char *path, const char *fmt, ...)
	GANTRY_PRINTF(2, 3);

/* Builds "plugin '<path>' refused: <what>" (malloc'd). */
static char *refuse(const char *path, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	gantry_buf_addf(&b, "plugin '%s' refused: ", path);
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return gantry_buf_detach(&b);
}

/*
 * Appends one search directory, made absolute against cwd (fetched once,
 * on the first relative entry) and without trailing slashes.  Duplicates
 * are dropped: searching a directory twice finds nothing new and would
 * make its plugins shadow themselves.
 */
static int add_dir(struct loader *l, size_t *alloc, const char *s,
		   size_t len, char **cwd, struct errs *e)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	while (len > 1 && s[len - 1] == '/')
		len--;
	/* "./a" is "a", and "." is the current directory itself. */
	while (len > 2 && s[0] == '.' && s[1] == '/') {
		s += 2;
		len -= 2;
		while (len > 1 && s[0] == '/') {
			s++;
			len--;
		}
	}
	if (!len)
		return 0;
	if (s[0] != '/') {
		if (!*cwd)
			*cwd = getcwd(NULL, 0);
		if (!*cwd) {
			errs_add(e, "plugin path entry '%.*s' is relative but "
				 "the current directory is unknown (%s); use "
				 "an absolute path", (int)len, s,
				 strerror(errno));
			return -1;
		}
		gantry_buf_adds(&b, *cwd);
		if (len == 1 && s[0] == '.')
			len = 0;
		else if (strcmp(*cwd, "/"))
			gantry_buf_addch(&b, '/');
	}
	gantry_buf_add(&b, s, len);
	for (i = 0; i < l->ndirs; i++) {
		if (!strcmp(l->dirs[i], b.buf)) {
			gantry_buf_release(&b);
			return 0;
		}
	}
	GANTRY_GROW(l->dirs, l->ndirs + 1, *alloc);
	l->dirs[l->ndirs++] = gantry_buf_detach(&b);
	return 0;
}

static void free_dirs(struct loader *l)
{
	size_t i;

	for (i = 0; i < l->ndirs; i++)
		free(l->dirs[i]);
	free(l->dirs);
	l->dirs = NULL;
	l->ndirs = 0;
}

int loader_init(struct loader *l, const char *path_list,
		const char *install_dir, struct errs *e)
{
	char *cwd = NULL;
	size_t alloc = 0;
	const char *p = path_list, *colon;
	const char *err;
	/* Callers hand GANTRY_PLUGIN_PATH over as getenv returned it.  A
	   relative entry there is refused: an environment variable outlives
	   the directory it was set in, so the same deploy would load other
	   plugins depending on where it was started. */
	int from_env = path_list && path_list == getenv("GANTRY_PLUGIN_PATH");
	int ret = 0;

	memset(l, 0, sizeof(*l));
	/* Always allocated: a non-NULL dirs marks an initialised loader,
	   so loader_release knows whether it owes lt_dlexit a call. */
	GANTRY_GROW(l->dirs, 1, alloc);
	while (p && *p && !ret) {
		colon = strchr(p, ':');
		if (!colon)
			colon = p + strlen(p);
		if (from_env && colon > p && p[0] != '/') {
			errs_add(e, "GANTRY_PLUGIN_PATH entry '%.*s' is "
				 "relative and would depend on the current "
				 "directory; give an absolute path (or use "
				 "--plugin-path, which is relative to the "
				 "current directory)", (int)(colon - p), p);
			ret = -1;
			break;
		}
		ret = add_dir(l, &alloc, p, (size_t)(colon - p), &cwd, e);
		p = *colon ? colon + 1 : colon;
	}
	if (!ret && install_dir)
		ret = add_dir(l, &alloc, install_dir, strlen(install_dir),
			      &cwd, e);
	free(cwd);
	if (ret) {
		free_dirs(l);
		return -1;
	}
	/* libltdl counts lt_dlinit calls; loader_release pays this one
	   back with lt_dlexit. */
	if (lt_dlinit()) {
		err = lt_dlerror();
		errs_add(e, "cannot start the plugin loader: %s; check the "
			 "libltdl installation", err ? err : "unknown error");
		free_dirs(l);
		return -1;
	}
	return 0;
}

/* The record of the plugin that answers for name (not a shadowed one). */
static size_t find_name(const struct loader *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->plugins[i].state != PLUGIN_SHADOWED &&
		    !strcmp(l->plugins[i].name, name))
			return i;
	return NO_PLUGIN;
}

static size_t find_path(const struct loader *l, const char *path)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->plugins[i].path, path))
			return i;
	return NO_PLUGIN;
}

/* Takes ownership of refusal. */
static size_t add_plugin(struct loader *l, const char *name,
			 const char *path, enum plugin_state state,
			 char *refusal)
{
	struct plugin *p;

	GANTRY_GROW(l->plugins, l->n + 1, l->alloc);
	p = &l->plugins[l->n];
	memset(p, 0, sizeof(*p));
	p->name = gantry_xstrdup(name);
	p->path = gantry_xstrdup(path);
	p->state = state;
	p->refusal = refusal;
	return l->n++;
}

/* A file that can be a plugin: it exists (through symlinks) and is a
   regular file.  Anything else on the path is not a candidate at all. */
static int is_candidate(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode);
}

/*
 * The trust rule (filecheck.c), shared with the state directory: whoever
 * owns a plugin or its directory, or can write to them, can change its
 * code, so only root and the user running gantry are trusted with that.
 */
static char *untrusted(const char *path, const char *what, const char *at,
		       const struct stat *st)
{
	char *problem = file_trust_problem(what, at, st, "remove it"), *why;

	if (!problem)
		return NULL;
	why = refuse(path, "%s", problem);
	free(problem);
	return why;
}

/* True when real lies below the directory realdir (both resolved). */
static int inside(const char *real, const char *realdir)
{
	size_t len = strlen(realdir);

	if (!strcmp(realdir, "/"))
		return 1;
	return !strncmp(real, realdir, len) && real[len] == '/';
}

/*
 * The file checks, before anything is mapped: whoever can write the file
 * or replace it in its directory, and whoever owns it, can run code as
 * the deployer, so the owner must be root or the user running gantry.
 * Only the file and its own directory are judged, not their ancestors (a
 * plugin path under a sticky /tmp is the user's choice).  When a symlink leads
 * into a subdirectory of the plugin directory, that subdirectory is the
 * real file's own directory and is judged too.
 */
static char *check_file(const char *path, const char *dir)
{
	struct stat st;
	char *real = NULL, *realdir = NULL, *slash, *why = NULL, *what;

	if (stat(path, &st))
		return refuse(path, "cannot read it: %s; check the file",
			      strerror(errno));
	if ((why = untrusted(path, "file", path, &st)))
		return why;
	if (stat(dir, &st))
		return refuse(path, "cannot read directory '%s': %s; check "
			      "the plugin path", dir, strerror(errno));
	what = gantry_xasprintf("directory '%s'", dir);
	why = untrusted(path, what, dir, &st);
	free(what);
	if (why)
		return why;
	real = realpath(path, NULL);
	realdir = realpath(dir, NULL);
	if (!real || !realdir) {
		why = refuse(path, "cannot resolve its real path: %s; check "
			     "the file and the plugin path", strerror(errno));
		goto out;
	}
	if (!inside(real, realdir)) {
		why = refuse(path, "symlink leads out of the plugin path to "
			     "'%s'; copy the plugin into '%s' instead", real,
			     dir);
		goto out;
	}
	slash = strrchr(real, '/');
	*slash = '\0';
	if (strcmp(real, realdir) && !stat(real, &st)) {
		what = gantry_xasprintf("directory '%s'", real);
		why = untrusted(path, what, real, &st);
		free(what);
	}
out:
	free(real);
	free(realdir);
	return why;
}

/*
 * libltdl reports every failure to open a file as "file not found",
 * even for a file that exists but is not a loadable object.  The system
 * loader knows the real reason ("file too short", "wrong ELF class",
 * "undefined symbol: ..."), so ask it; the attempt fails the same way.
 */
static char *system_reason(const char *path, const char *ltdl_err)
{
	const char *why = ltdl_err;
	size_t len = strlen(path);
	void *h;

	(void)dlerror();
	h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (h)
		dlclose(h);
	else if ((why = dlerror()) == NULL)
		why = ltdl_err;
	else if (!strncmp(why, path, len) && !strncmp(why + len, ": ", 2))
		why += len + 2;
	return refuse(path, "cannot load: %s; rebuild it against this "
		      "gantry's SDK", why);
}

/*
 * Maps the module.  RTLD_LOCAL (lt_dladvise_local) keeps one plugin's
 * symbols from resolving another's.  Resident (lt_dladvise_resident):
 * a plugin is never unloaded, not even by lt_dlexit, so the descriptor,
 * option tables and strings the core holds pointers to stay valid for
 * the whole process, and a refused plugin cannot be unmapped while
 * anything still refers to it.  The exact file is opened: libltdl is
 * given no extensions to try and no search path to walk.
 */
static char *open_module(const char *path, lt_dlhandle *hp)
{
	lt_dladvise advise;
	const char *err;

	*hp = NULL;
	(void)lt_dlerror();
	if (lt_dladvise_init(&advise))
		goto fail;
	if (!lt_dladvise_local(&advise) && !lt_dladvise_resident(&advise))
		*hp = lt_dlopenadvise(path, advise);
	lt_dladvise_destroy(&advise);
	if (*hp) {
		GANTRY_GROW(resident, nresident + 1, aresident);
		resident[nresident++] = *hp;
		return NULL;
	}
fail:
	err = lt_dlerror();
	return system_reason(path, err ? err : "unknown error");
}

/* Keys the core takes from an entry before the stage sees its options.
   (`timeout` is not here: a stage may declare it and gets the entry's.) */
static int is_reserved_key(const char *key)
{
	static const char *const reserved[] = { "stage", "plugin", "name",
						"on_failure", "retries",
						"events" };
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(reserved); i++)
		if (!strcmp(key, reserved[i]))
			return 1;
	return 0;
}

/* The descriptor's fields of ABI 1.0 are covered by the size check; a
   field added in a later minor must be read through
   GANTRY_STAGE_HAS_FIELD. */
static int describe_gap(const struct gantry_stage *d, struct gantry_buf *what)
{
	unsigned kind = d->kind ? d->kind : GANTRY_KIND_STAGE;
	const struct gantry_option *o;
	size_t i;

	if (!d->name || !*d->name) {
		gantry_buf_adds(what, "no name");
		return -1;
	}
	if (kind & ~(GANTRY_KIND_STAGE | GANTRY_KIND_NOTIFIER)) {
		gantry_buf_addf(what, "unknown kind 0x%x", kind);
		return -1;
	}
	if ((kind & GANTRY_KIND_STAGE) && !d->run) {
		gantry_buf_adds(what, "no run callback");
		return -1;
	}
	if ((kind & GANTRY_KIND_NOTIFIER) && !d->event) {
		gantry_buf_adds(what, "no event callback");
		return -1;
	}
	for (i = 0, o = d->options; o && o->key; i++, o++) {
		if (!*o->key) {
			gantry_buf_addf(what, "option %zu has an empty key",
					  i + 1);
			return -1;
		}
		if (o->type < GANTRY_OPT_STRING ||
		    o->type > GANTRY_OPT_DECIMAL ||
		    (o->type == GANTRY_OPT_DECIMAL && d->header.minor < 2)) {
			gantry_buf_addf(what, "option '%s' has invalid type "
					  "%d", o->key, (int)o->type);
			return -1;
		}
		if (is_reserved_key(o->key)) {
			gantry_buf_addf(what, "option '%s' is a core key of "
					  "pipeline entries and would never "
					  "reach the stage", o->key);
			return -1;
		}
		if (!o->help || !*o->help) {
			gantry_buf_addf(what, "option '%s' has no help",
					  o->key);
			return -1;
		}
	}
	return 0;
}

/*
 * The descriptor checks, in the order the header promises.  Returns the
 * refusal line or NULL; *descp is set only when everything passed.
 */
static char *check_descriptor(const struct loader *l, const char *name,
			      const char *path, lt_dlhandle h,
			      const struct gantry_stage **descp)
{
	const struct gantry_abi_header *hdr;
	const struct gantry_stage *d;
	gantry_stage_entry_fn entry;
	struct gantry_buf what = GANTRY_BUF_INIT;
	char *why;
	void *sym;
	size_t i;

	sym = lt_dlsym(h, GANTRY_STAGE_ENTRY_SYMBOL);
	if (!sym)
		return refuse(path, "no '%s' symbol; define the descriptor "
			      "with GANTRY_STAGE_EXPORT()",
			      GANTRY_STAGE_ENTRY_SYMBOL);
	/* POSIX guarantees a data pointer from dlsym converts back to the
	   function pointer it came from. */
	entry = (gantry_stage_entry_fn)sym;
	d = entry();
	if (!d)
		return refuse(path, "entry function returned no descriptor; "
			      "return the address of a static descriptor");

	hdr = &d->header;
	if (hdr->magic != GANTRY_ABI_MAGIC)
		return refuse(path, "bad magic 0x%08x (expected 0x%08x): not "
			      "a gantry stage plugin", (unsigned)hdr->magic,
			      (unsigned)GANTRY_ABI_MAGIC);
	if (hdr->major != GANTRY_ABI_MAJOR)
		return refuse(path, "built for plugin ABI %u.%u, this gantry "
			      "speaks %d.%d; rebuild the plugin against "
			      "gantry's SDK %d.x", (unsigned)hdr->major,
			      (unsigned)hdr->minor, GANTRY_ABI_MAJOR,
			      GANTRY_ABI_MINOR, GANTRY_ABI_MAJOR);
	if (hdr->minor > GANTRY_ABI_MINOR)
		return refuse(path, "built for plugin ABI %u.%u, newer than "
			      "this gantry's %d.%d; upgrade gantry or rebuild "
			      "the plugin against SDK %d.%d",
			      (unsigned)hdr->major, (unsigned)hdr->minor,
			      GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR,
			      GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR);
	if (hdr->size < GANTRY_STAGE_SIZE_1_0)
		return refuse(path, "descriptor is %u bytes, smaller than the "
			      "%zu bytes of ABI 1.0; rebuild the plugin with "
			      "GANTRY_STAGE_HEADER", (unsigned)hdr->size,
			      (size_t)GANTRY_STAGE_SIZE_1_0);

	if (describe_gap(d, &what)) {
		why = refuse(path, "incomplete descriptor: %s; fill it in and "
			     "rebuild", what.buf);
		gantry_buf_release(&what);
		return why;
	}
	if (optrules_check_descriptor(d, &what)) {
		why = refuse(path, "bad option rules: %s; fix option_rules "
			     "and rebuild", what.buf);
		gantry_buf_release(&what);
		return why;
	}
	/* A clash can only come with a mismatch (records are per file name
	   and same-named files shadow each other), and it is the more
	   useful of the two lines: renaming the file would not help. */
	for (i = 0; i < l->n; i++)
		if (l->plugins[i].state == PLUGIN_LOADED &&
		    !strcmp(l->plugins[i].desc->name, d->name))
			return refuse(path, "stage name '%s' clashes with '%s'; "
				      "remove one of them", d->name,
				      l->plugins[i].path);
	if (strcmp(d->name, name))
		return refuse(path, "descriptor names stage '%s' but the file "
			      "is '%s.so'; rename the file or the stage",
			      d->name, name);
	*descp = d;
	return NULL;
}

/* Looks at dir/name.so, records the outcome and returns its record. */
static size_t load_plugin(struct loader *l, const char *name,
			  const char *dir, const char *path)
{
	const struct gantry_stage *desc = NULL;
	lt_dlhandle h = NULL;
	char *why;
	size_t i;

	why = check_file(path, dir);
	if (!why)
		why = open_module(path, &h);
	if (!why)
		why = check_descriptor(l, name, path, h, &desc);
	i = add_plugin(l, name, path, why ? PLUGIN_REFUSED : PLUGIN_LOADED,
		       why);
	l->plugins[i].handle = h;
	l->plugins[i].desc = why ? NULL : desc;
	return i;
}

static char *plugin_file(const char *dir, const char *name)
{
	return gantry_xasprintf("%s%s%s.so", dir,
				  strcmp(dir, "/") ? "/" : "", name);
}

static char **list_so(const char *dir, size_t *np);

/* The plugin file name in the path closest to name (malloc'd), or NULL. */
static char *closest_plugin(const struct loader *l, const char *name)
{
	char **names = NULL, **some, *best = NULL;
	size_t n = 0, alloc = 0, k, i, d;
	const char *dym;

	for (d = 0; d < l->ndirs; d++) {
		some = list_so(l->dirs[d], &k);
		for (i = 0; i < k; i++) {
			some[i][strlen(some[i]) - 3] = '\0';	/* ".so" */
			GANTRY_GROW(names, n + 1, alloc);
			names[n++] = some[i];
		}
		free(some);
	}
	dym = did_you_mean(name, (const char *const *)names, n);
	if (dym)
		best = gantry_xstrdup(dym);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return best;
}

static const struct gantry_stage *const builtin_stages[] = {
	&approval_stage,
};

/* Records the built-in stage of name, if there is one. */
static size_t add_builtin(struct loader *l, const char *name)
{
	size_t i, at;

	for (i = 0; i < GANTRY_ARRAY_SIZE(builtin_stages); i++) {
		if (strcmp(builtin_stages[i]->name, name))
			continue;
		at = add_plugin(l, name, LOADER_BUILTIN_PATH, PLUGIN_LOADED,
				NULL);
		l->plugins[at].desc = builtin_stages[i];
		l->plugins[at].builtin = 1;
		return at;
	}
	return NO_PLUGIN;
}

const struct plugin *loader_get(struct loader *l, const char *name,
				int *refused, struct errs *e)
{
	struct gantry_buf dirs = GANTRY_BUF_INIT;
	size_t i, found;
	char *path, *dym;

	if (refused)
		*refused = 0;
	found = find_name(l, name);
	if (found == NO_PLUGIN)
		found = add_builtin(l, name);
	/* A name with a slash would reach outside the plugin path. */
	for (i = 0; found == NO_PLUGIN && *name && !strchr(name, '/') &&
		    i < l->ndirs; i++) {
		path = plugin_file(l->dirs[i], name);
		if (is_candidate(path))
			found = load_plugin(l, name, l->dirs[i], path);
		free(path);
	}
	if (found != NO_PLUGIN) {
		if (l->plugins[found].state == PLUGIN_LOADED)
			return &l->plugins[found];
		if (refused)
			*refused = 1;
		errs_add(e, "%s", l->plugins[found].refusal);
		return NULL;
	}
	for (i = 0; i < l->ndirs; i++)
		gantry_buf_addf(&dirs, "%s%s", i ? ", " : "", l->dirs[i]);
	dym = e ? closest_plugin(l, name) : NULL;
	if (dym)
		errs_add(e, "no plugin provides stage '%s' (searched: %s); did "
			 "you mean '%s'?", name, dirs.buf, dym);
	else
		errs_add(e, "no plugin provides stage '%s' (searched: %s); "
			 "check the stage name or set --plugin-path", name,
			 l->ndirs ? dirs.buf : "no directories");
	free(dym);
	gantry_buf_release(&dirs);
	return NULL;
}

void loader_add_builtins(struct loader *l)
{
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(builtin_stages); i++)
		if (find_name(l, builtin_stages[i]->name) == NO_PLUGIN)
			add_builtin(l, builtin_stages[i]->name);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so names in dir, sorted by byte value; their count in *np. */
static char **list_so(const char *dir, size_t *np)
{
	char **names = NULL;
	size_t n = 0, alloc = 0, len;
	struct dirent *de;
	DIR *dh = opendir(dir);

	*np = 0;
	if (!dh)
		return NULL;
	while ((de = readdir(dh))) {
		len = strlen(de->d_name);
		if (len <= 3 || strcmp(de->d_name + len - 3, ".so"))
			continue;
		GANTRY_GROW(names, n + 1, alloc);
		names[n++] = gantry_xstrdup(de->d_name);
	}
	closedir(dh);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*np = n;
	return names;
}

void loader_scan(struct loader *l)
{
	size_t d, i, n, first;
	char **names, *name, *path;

	for (d = 0; d < l->ndirs; d++) {
		names = list_so(l->dirs[d], &n);
		for (i = 0; i < n; i++) {
			name = gantry_xstrndup(names[i],
						 strlen(names[i]) - 3);
			path = plugin_file(l->dirs[d], name);
			if (is_candidate(path) &&
			    find_path(l, path) == NO_PLUGIN) {
				first = find_name(l, name);
				if (first == NO_PLUGIN)
					load_plugin(l, name, l->dirs[d], path);
				else
					add_plugin(l, name, path,
						   PLUGIN_SHADOWED,
						   gantry_xasprintf(
							"shadowed by '%s'",
							l->plugins[first].path));
			}
			free(path);
			free(name);
			free(names[i]);
		}
		free(names);
	}
}

void loader_release(struct loader *l)
{
	int initialised = l->dirs != NULL;
	size_t i;

	/* Handles are not closed: modules are resident (open_module). */
	for (i = 0; i < l->n; i++) {
		free(l->plugins[i].name);
		free(l->plugins[i].path);
		free(l->plugins[i].refusal);
	}
	free(l->plugins);
	free_dirs(l);
	memset(l, 0, sizeof(*l));
	if (initialised)
		lt_dlexit();
}
