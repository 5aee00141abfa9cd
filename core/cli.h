/*
 * cli.h - the command line: cli_main() parses it and dispatches through
 * the command table (cli_commands.c), one struct cli_command per command.
 */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

#include "core.h"

struct options;
struct session;

int cli_main(int argc, char **argv);

/* The options that belong to some commands (struct cli_command.takes);
   the global ones (-c, -e, --json, ...) go with every command. */
#define CLI_OPT_DRY_RUN		(1u << 0)
#define CLI_OPT_ONLY		(1u << 1)
#define CLI_OPT_SKIP		(1u << 2)
#define CLI_OPT_RESUME		(1u << 3)
#define CLI_OPT_APPROVE		(1u << 4)
#define CLI_OPT_NO_ROLLBACK	(1u << 5)
#define CLI_OPT_FORCE_PROMOTION	(1u << 6)
#define CLI_OPT_ALLOW_DESTROY	(1u << 7)
#define CLI_OPT_TO		(1u << 8)
#define CLI_OPT_JOBS		(1u << 9)
#define CLI_OPT_FAIL_FAST	(1u << 10)
#define CLI_OPT_MATRIX		(1u << 11)
#define CLI_OPT_SINCE		(1u << 12)
#define CLI_OPT_UNTIL		(1u << 13)
#define CLI_OPT_SERVICE		(1u << 14)
#define CLI_OPT_FORMAT		(1u << 15)
#define CLI_OPT_OUTPUT		(1u << 16)
#define CLI_OPT_REASON		(1u << 17)
#define CLI_OPT_DEPLOY	(CLI_OPT_DRY_RUN | CLI_OPT_ONLY | CLI_OPT_SKIP | \
			 CLI_OPT_RESUME | CLI_OPT_APPROVE | \
			 CLI_OPT_NO_ROLLBACK | CLI_OPT_FORCE_PROMOTION | \
			 CLI_OPT_ALLOW_DESTROY)
#define CLI_OPT_BATCH	(CLI_OPT_JOBS | CLI_OPT_FAIL_FAST | CLI_OPT_MATRIX)
#define CLI_OPT_REPORT	(CLI_OPT_SINCE | CLI_OPT_UNTIL | CLI_OPT_SERVICE | \
			 CLI_OPT_FORMAT | CLI_OPT_OUTPUT)
#define CLI_OPT_ALL	(~0u)

/* What the first positional argument means to the session. */
#define CLI_ARG_TAG 0x1	/* the release TAG the environment is picked by */
#define CLI_ARG_ENV 0x2	/* ENV, as -e ENV; -e ENV may stand in for it */

/* max_args: no maximum; run gets them all (and may ignore the rest). */
#define CLI_ARGS_ANY (-1)

/* Who prints the --json error document when a command fails. */
enum cli_json_errors {
	/* The command, on every path (it opens its own session, if any). */
	CLI_JSON_OWN,
	/* The dispatcher when the session cannot open; the command after. */
	CLI_JSON_SESSION,
	/* The dispatcher on every failure but exit 6, whose document (the
	   holder of the lock) the command prints. */
	CLI_JSON_FAILURE,
};

/* One command.  The dispatcher checks, in this order: the options
   (takes), the number of arguments (min_args, max_args, needs), check;
   then opens the session and calls run. */
struct cli_command {
	const char *name;		/* the word on the command line */
	/* Its lines in `gantry help`, verbatim (indent and columns). */
	const char *synopsis;
	const char *summary;		/* one line, for --json help */
	/* `gantry help NAME`: the usage lines ("usage: gantry NAME ..."),
	   a blank line, the text.  The usage lines joined are its "usage"
	   in --json help. */
	const char *help;
	unsigned takes;			/* CLI_OPT_*: any other is refused */
	/* Positional arguments after the name; fewer than min_args is
	   "'NAME' needs <needs>" (unless CLI_ARG_ENV and -e), more than
	   max_args "unexpected argument" (unless CLI_ARGS_ANY). */
	int min_args, max_args;
	const char *needs;
	unsigned args;			/* CLI_ARG_TAG, CLI_ARG_ENV */
	/* Further argument rules (subcommands), before the session opens;
	   a usage error through cli_usage_error().  May be NULL. */
	int (*check)(int json, int argc, char **argv);
	int session;			/* session_open() flags; 0: none */
	enum cli_json_errors json;
	/* The handler: argv[0] is the command, argv[1..argc-1] its
	   arguments; s the open session (NULL when session is 0). */
	int (*run)(struct options *o, struct session *s, int argc,
		   char **argv);
};

/* cli_commands.c: every command, in the order `gantry help` lists them. */
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* cli.c: a usage error, the one place they are reported: the message on
   stderr and, with --json, the error document (cmd: the command, or "").
   Returns EXIT_USAGE. */
int cli_usage_error(int json, const char *cmd, const char *fmt, ...)
	GANTRY_PRINTF(3, 4);
/* gantry help [COMMAND] (cmd NULL: every command), text or --json. */
int cli_help(int json, const char *cmd);

#endif
