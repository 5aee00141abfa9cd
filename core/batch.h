/*
 * batch.h - `gantry batch FILE`: many deploys, one summary.
 *
 * FILE (libconfig) lists deploys = ( { name; config; tag; env?; after?; } ).
 * The whole batch is validated first - the file itself, the dependency
 * graph, and every deploy's gantry.cfg, profile and plugin options - and
 * nothing starts unless all of it is sound.  Each deploy then runs as a
 * child `gantry deploy` of its own (its own lock, journal record and log
 * file under <state_dir>/batch/<batch id>/<name>.log), up to -j at once,
 * a deploy starting only once everything it comes `after` succeeded.
 */
#ifndef GANTRY_BATCH_H
#define GANTRY_BATCH_H

#include "session.h"

/*
 * Runs the batch in file with the options of the command line (-j,
 * --fail-fast, --dry-run, --matrix, --approve, --json, ...).  Prints the
 * live status on stderr and the summary (or one JSON document) on
 * stdout.  Returns the exit code: 0 when every deploy succeeded, else the
 * most severe among them (4 > 3 > 1; a skipped, locked or refused deploy
 * counts as 1), 130 when interrupted, 2 when the batch does not validate
 * (5 when the only problem is a refused plugin).
 */
int batch_main(const struct options *o, const char *file);

#endif
