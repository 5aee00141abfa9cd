/*
 * progress.h - what a person watching a deploy sees on stderr.
 *
 * Colour only when stderr is a terminal and NO_COLOR is unset (and no
 * --no-color); -q keeps errors only.  stdout is left to results.
 */
#ifndef GANTRY_PROGRESS_H
#define GANTRY_PROGRESS_H

#include "journal.h"
#include "profile.h"
#include "runner.h"

void progress_deploy_start(const char *id, const char *service,
			   const char *tag, const char *env, const char *actor,
			   int resumed);
void progress_stage_start(size_t idx, size_t total, const char *name,
			  const char *stage);
void progress_stage_end(size_t idx, size_t total, const char *name,
			enum stage_status st, double seconds,
			const char *error);
void progress_stage_skip(size_t idx, size_t total, const char *name,
			 const char *why);
void progress_note(const char *fmt, ...) GANTRY_PRINTF(1, 2);
void progress_result(const char *result, int code, double seconds,
		     const char *stage, const char *reason);
void progress_plan_start(const char *service, const char *tag,
			 const char *env, int approval,
			 const struct gantry_kvlist *ctx);
void progress_plan_stage(size_t idx, size_t total, const struct entry *en,
			 const struct gantry_config *opts,
			 const struct run_result *res);
/* Prints doc on stdout, indented as --json documents have always been
   ("key":value) and redacted, and frees it. */
void progress_print_json(struct gantry_json *doc);
/* With --json, a failed command still prints one JSON document. */
void progress_json_error(const char *command, int code);

#endif
