/*
 * cli.c - gantry's command line: the global options, the command table
 * (every command's name, usage, help, argument rules and handler) and
 * the one dispatcher that applies it.  The commands themselves live in
 * pipeline*.c (deploy, plan, rollback), batch.c, cli_info.c (version,
 * plugins, config check), cli_state.c (history, status, lock, unlock)
 * and cli_report.c.
 */
#include "config.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "cli.h"
#include "commands.h"
#include "interp.h"
#include "journal.h"
#include "lock.h"
#include "pipeline.h"
#include "progress.h"
#include "report.h"
#include "session.h"

static const char usage_head[] =
"usage: gantry [GLOBAL OPTIONS] COMMAND [ARGS]\n"
"\n"
"commands:\n";

static const char usage_tail[] =
"\n"
"global options:\n"
"  -c, --config FILE      gantry.cfg to use (default ./gantry.cfg, then\n"
"                         " GANTRY_SYSCONFDIR "/gantry/gantry.cfg)\n"
"  -e, --env ENV          environment (default: the first whose tags match)\n"
"      --plugin-path DIRS plugin directories, ':'-separated (also\n"
"                         GANTRY_PLUGIN_PATH, plugin_path in gantry.cfg);\n"
"                         " GANTRY_PLUGIN_DIR " is searched last\n"
"      --state-dir DIR    journal and locks (also GANTRY_STATE_DIR, state_dir;\n"
"                         default $XDG_STATE_HOME/gantry)\n"
"  -v, --verbose          more detail (debug lines)\n"
"  -q, --quiet            errors only\n"
"      --json             print exactly one JSON document on stdout\n"
"      --no-color         no colour (also NO_COLOR)\n"
"\n"
"exit codes:\n"
"  0 success      1 deploy failed      2 usage or configuration error\n"
"  3 failed and rolled back            4 failed and rollback failed\n"
"  5 a needed plugin was refused       6 locked by another deploy\n"
"  130 interrupted\n";

void cli_print_json(json_object *o)
{
	char *text = gantry_i_redact(gantry_i_json_text(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));

	puts(text);
	free(text);
	json_object_put(o);
}

void cli_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gantry_i_term_vprintf(stdout, fmt, ap);
	va_end(ap);
}

void cli_fmt_time(double epoch, char *buf, size_t len)
{
	time_t t = (time_t)epoch;

	if (epoch <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", gmtime(&t));
}

/* ---- parsing ---------------------------------------------------------------- */

enum {
	OPT_PLUGIN_PATH = 256, OPT_STATE_DIR, OPT_JSON, OPT_NO_COLOR,
	OPT_DRY_RUN, OPT_ONLY, OPT_SKIP, OPT_RESUME, OPT_APPROVE,
	OPT_NO_ROLLBACK, OPT_FORCE_PROMOTION, OPT_ALLOW_DESTROY, OPT_HELP,
	OPT_TO, OPT_FAIL_FAST, OPT_MATRIX
};

/* `gantry report` */
enum { OPT_SINCE = 512, OPT_UNTIL, OPT_SERVICE, OPT_FORMAT };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "env", required_argument, NULL, 'e' },
	{ "plugin-path", required_argument, NULL, OPT_PLUGIN_PATH },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-color", no_argument, NULL, OPT_NO_COLOR },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "skip", required_argument, NULL, OPT_SKIP },
	{ "resume", required_argument, NULL, OPT_RESUME },
	{ "approve", no_argument, NULL, OPT_APPROVE },
	{ "no-rollback", no_argument, NULL, OPT_NO_ROLLBACK },
	{ "force-promotion", no_argument, NULL, OPT_FORCE_PROMOTION },
	{ "allow-destroy", no_argument, NULL, OPT_ALLOW_DESTROY },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "to", required_argument, NULL, OPT_TO },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "output", required_argument, NULL, 'o' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "fail-fast", no_argument, NULL, OPT_FAIL_FAST },
	{ "matrix", no_argument, NULL, OPT_MATRIX },
	{ NULL, 0, NULL, 0 }
};

/* The options that belong to some commands (struct command.accepts); the
   global ones (-c, -e, --json, ...) go with every command. */
#define CO_DRY_RUN		(1u << 0)
#define CO_ONLY			(1u << 1)
#define CO_SKIP			(1u << 2)
#define CO_RESUME		(1u << 3)
#define CO_APPROVE		(1u << 4)
#define CO_NO_ROLLBACK		(1u << 5)
#define CO_FORCE_PROMOTION	(1u << 6)
#define CO_ALLOW_DESTROY	(1u << 7)
#define CO_TO			(1u << 8)
#define CO_JOBS			(1u << 9)
#define CO_FAIL_FAST		(1u << 10)
#define CO_MATRIX		(1u << 11)
#define CO_SINCE		(1u << 12)
#define CO_UNTIL		(1u << 13)
#define CO_SERVICE		(1u << 14)
#define CO_FORMAT		(1u << 15)
#define CO_OUTPUT		(1u << 16)
#define CO_DEPLOY (CO_DRY_RUN | CO_ONLY | CO_SKIP | CO_RESUME | CO_APPROVE | \
		   CO_NO_ROLLBACK | CO_FORCE_PROMOTION | CO_ALLOW_DESTROY)
#define CO_BATCH  (CO_JOBS | CO_FAIL_FAST | CO_MATRIX)
#define CO_REPORT (CO_SINCE | CO_UNTIL | CO_SERVICE | CO_FORMAT | CO_OUTPUT)
#define CO_ALL	  (~0u)

static unsigned options_given(const struct options *o)
{
	return (o->dry_run ? CO_DRY_RUN : 0) | (o->only ? CO_ONLY : 0) |
	       (o->skip ? CO_SKIP : 0) | (o->resume ? CO_RESUME : 0) |
	       (o->approve ? CO_APPROVE : 0) |
	       (o->no_rollback ? CO_NO_ROLLBACK : 0) |
	       (o->force_promotion ? CO_FORCE_PROMOTION : 0) |
	       (o->allow_destroy ? CO_ALLOW_DESTROY : 0) |
	       (o->to ? CO_TO : 0) | (o->jobs ? CO_JOBS : 0) |
	       (o->fail_fast ? CO_FAIL_FAST : 0) |
	       (o->matrix ? CO_MATRIX : 0) | (o->since ? CO_SINCE : 0) |
	       (o->until ? CO_UNTIL : 0) | (o->service ? CO_SERVICE : 0) |
	       (o->format ? CO_FORMAT : 0) | (o->output ? CO_OUTPUT : 0);
}

/* An option given to a command that does not take it: the first group it
   falls in names the refusal ("... 'COMMAND'"). */
static const struct {
	unsigned opts;
	const char *msg;
} misplaced[] = {
	{ CO_BATCH, "-j, --fail-fast and --matrix belong to 'batch', not" },
	{ CO_DEPLOY, "deploy options given to" },
	{ CO_TO, "--to belongs to 'rollback', not" },
	{ CO_REPORT, "--since, --until, --service, --format and -o belong "
		     "to 'report', not" },
};

/* Who prints the --json error document when a command fails. */
enum json_errors {
	/* The command, on every path (it opens its own session, if any). */
	JSON_OWN,
	/* The dispatcher when the session cannot open; the command after. */
	JSON_SESSION,
	/* The dispatcher on every failure but exit 6, whose document (the
	   holder of the lock) the command prints. */
	JSON_FAILURE,
};

/* How the first positional argument is used before the session opens. */
#define ARG_TAG 0x1	/* the release TAG the environment is picked by */
#define ARG_ENV 0x2	/* ENV, as -e ENV; -e may stand in for it */

/* max_args: any further arguments are ignored. */
#define ARGS_IGNORED (-1)

/* A usage error, the one place they are reported: the message on stderr,
   pointing to --help unless it ends in a suggestion ("did you mean
   'deploy'?"), and, with --json, the error document every failed command
   prints (cmd: the command, or ""). */
static int usage_error(int json, const char *cmd, const char *fmt, ...)
	GANTRY_PRINTF(3, 4);
static int usage_error(int json, const char *cmd, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_log(NULL, GANTRY_LOG_ERROR, "%s%s", b.buf,
		   b.len && b.buf[b.len - 1] == '?' ? "" :
		   "; see 'gantry --help'");
	gantry_buf_release(&b);
	if (json)
		progress_json_error(cmd, EXIT_USAGE);
	return EXIT_USAGE;
}

/*
 * The handlers: argv[0] is the command, argv[1..argc-1] its positional
 * arguments, already checked against the command's entry; s is the open
 * session, NULL for a command that opens none.
 */
static int help_for(int json, const char *cmd);

static int run_deploy(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return pipeline_deploy(s, argv[1]);
}

static int run_plan(struct options *o, struct session *s, int argc,
		    char **argv)
{
	return pipeline_plan(s, argv[1]);
}

static int run_rollback(struct options *o, struct session *s, int argc,
			char **argv)
{
	return pipeline_rollback(s, s->conf.env->name);
}

static int run_batch(struct options *o, struct session *s, int argc,
		     char **argv)
{
	return batch_main(o, argv[1]);
}

static int run_history(struct options *o, struct session *s, int argc,
		       char **argv)
{
	return cmd_history(s, argc > 1 ? argv[1] : NULL);
}

static int run_status(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return cmd_status(s, argc > 1 ? argv[1] : NULL);
}

static int run_lock(struct options *o, struct session *s, int argc,
		    char **argv)
{
	return cmd_lock(s, argc > 1 ? argv[1] : NULL, 0);
}

static int run_unlock(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return cmd_lock(s, argc > 1 ? argv[1] : NULL, 1);
}

/* `plugins [list | show NAME]`, checked before the session opens. */
static int check_plugins(int json, int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "list") && strcmp(argv[1], "show"))
		return usage_error(json, argv[0], "unknown plugins command "
				   "'%s'; use 'list' or 'show NAME'", argv[1]);
	if (argc > 1 && !strcmp(argv[1], "show") && argc < 3)
		return usage_error(json, "plugins show", "'%s' needs a plugin "
				   "NAME", "plugins show");
	return EXIT_OK;
}

static int run_plugins(struct options *o, struct session *s, int argc,
		       char **argv)
{
	return argc > 1 && !strcmp(argv[1], "show") ?
		cmd_plugins_show(s, argv[2]) : cmd_plugins_list(s);
}

/* `config check [ENV]` */
static int check_config(int json, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "check"))
		return usage_error(json, argv[0], "unknown config command "
				   "'%s'; use 'config check [ENV]'",
				   argc > 1 ? argv[1] : "");
	return EXIT_OK;
}

static int run_config(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return cmd_config_check(o, argc > 2 ? argv[2] : NULL);
}

static int run_report(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return report_command(s, argc - 1, argv + 1);
}

static int run_version(struct options *o, struct session *s, int argc,
		       char **argv)
{
	return cmd_version(o);
}

static int run_help(struct options *o, struct session *s, int argc,
		    char **argv)
{
	return help_for(o->json, argc > 1 ? argv[1] : NULL);
}

/*
 * The command table: everything gantry knows about a command, in the
 * order `gantry help` lists them.  To add a command, add one entry here
 * (and its run_ handler above); dispatch, help, --help, --json help, the
 * usage errors and the "did you mean" list all come from it.  Then list
 * it in contrib/completion/gantry.bash and docs/man/gantry.1:
 * tests/cli/t0000-basic.sh fails until the four agree.
 *
 *   name      the word on the command line
 *   synopsis  its lines in `gantry help`, verbatim (indent, columns)
 *   summary   one line, for `gantry --json help`
 *   help      `gantry help NAME`: the usage lines ("usage: gantry NAME
 *             ..."), a blank line, then the text; the usage lines joined
 *             are its "usage" in --json
 *   accepts   the CO_* options it takes; any other is a usage error
 *   min_args, max_args
 *             how many positional arguments (max ARGS_IGNORED: further
 *             ones are ignored)
 *   needs     what is missing when there are fewer than min_args:
 *             "'NAME' needs <needs>"
 *   args      ARG_TAG, ARG_ENV: what the first argument means to the
 *             session
 *   check     further argument rules (subcommands), applied before the
 *             session opens; reports through usage_error()
 *   session   session_open() flags; 0: the command opens none itself
 *   json      who prints the --json error document on failure
 *   run       the handler
 */
static const struct command {
	const char *name;
	const char *synopsis, *summary, *help;
	unsigned accepts;
	int min_args, max_args;
	const char *needs;
	unsigned args;
	int (*check)(int json, int argc, char **argv);
	int session;
	enum json_errors json;
	int (*run)(struct options *o, struct session *s, int argc,
		   char **argv);
} commands[] = {
	{
	.name = "deploy",
	.synopsis =
	  "  deploy TAG [--dry-run] [--only S,..] [--skip S,..] [--resume ID]\n"
	  "             [--approve] [--no-rollback] [--force-promotion] [--allow-destroy]\n",
	.summary = "run the pipeline for a release TAG",
	.help =
	  "usage: gantry deploy TAG [--dry-run] [--only S,..] [--skip S,..]\n"
	  "                     [--resume ID] [--approve] [--no-rollback]\n"
	  "                     [--force-promotion] [--allow-destroy]\n\n"
	  "Runs the pipeline for TAG in the environment its tag selects (or -e).\n"
	  "  --dry-run        plan and checks only; nothing changes\n"
	  "  --only S,..      run only these entries (by name)\n"
	  "  --skip S,..      skip these entries\n"
	  "  --resume ID      continue deploy ID from its first unfinished stage\n"
	  "  --approve        give the approval an environment requires\n"
	  "  --no-rollback    on failure, do not run rollback of completed stages\n"
	  "  --force-promotion, --allow-destroy   passed to the stages that check them\n",
	.accepts = CO_DEPLOY,
	.min_args = 1, .max_args = 1, .needs = "a release TAG",
	.args = ARG_TAG,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = JSON_SESSION,
	.run = run_deploy,
	}, {
	.name = "plan",
	.synopsis =
	  "  plan TAG               resolved environment, values and every stage's plan\n",
	.summary = "resolved environment, values and every stage's plan",
	.help =
	  "usage: gantry plan TAG\n\n"
	  "Shows the environment TAG selects, the resolved options and what every\n"
	  "stage would do.  Runs no stage; changes nothing.\n",
	.accepts = CO_ONLY | CO_SKIP | CO_FORCE_PROMOTION | CO_ALLOW_DESTROY,
	.min_args = 1, .max_args = 1, .needs = "a release TAG",
	.args = ARG_TAG,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = JSON_SESSION,
	.run = run_plan,
	}, {
	.name = "rollback",
	.synopsis =
	  "  rollback ENV [--to TAG] redeploy the last good release before the current one\n",
	.summary = "redeploy the last good release before the current one",
	.help =
	  "usage: gantry rollback ENV [--to TAG] [--approve] [--only S,..] [--skip S,..]\n\n"
	  "Redeploys the last successful release of ENV before the current one (from\n"
	  "the journal), or TAG, through the same pipeline.  Stages reuse what the\n"
	  "earlier deploy recorded (the pushed image is not rebuilt).  Recorded as a\n"
	  "deploy with deploy.rollback = true.  Refused when there is nothing to roll\n"
	  "back to.\n",
	.accepts = CO_TO | CO_ONLY | CO_SKIP | CO_APPROVE | CO_NO_ROLLBACK |
		   CO_FORCE_PROMOTION | CO_ALLOW_DESTROY,
	.min_args = 1, .max_args = 1, .needs = "an environment ENV",
	.args = ARG_ENV,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = JSON_SESSION,
	.run = run_rollback,
	}, {
	.name = "batch",
	.synopsis =
	  "  batch FILE [-j N] [--fail-fast] [--dry-run] [--matrix] [--approve]\n"
	  "                         many deploys from FILE, dependencies respected\n",
	.summary = "many deploys from FILE, dependencies respected",
	.help =
	  "usage: gantry batch FILE [-j N] [--fail-fast] [--dry-run] [--matrix]\n"
	  "                    [--approve] [--json]\n\n"
	  "Runs the deploys FILE lists: deploys = ( { name; config; tag; env?;\n"
	  "after = [\"name\", ...]?; }, ... ); config paths are relative to FILE.\n"
	  "Everything is validated first (FILE, every gantry.cfg, profile and tag);\n"
	  "on any problem nothing starts (exit 2).  Each deploy runs as\n"
	  "'gantry deploy' in its config's directory, with its own lock, journal\n"
	  "record and log file (<state dir>/batch/<batch id>/<name>.log), and\n"
	  "starts once every deploy it comes after has succeeded; dependents of a\n"
	  "failed deploy are skipped.\n"
	  "  -j, --jobs N     run up to N deploys at once (default 1)\n"
	  "  --fail-fast      after a failure start nothing new (running ones finish)\n"
	  "  --dry-run        validate, then 'deploy --dry-run' each, in order\n"
	  "  --matrix         validate, then print the deploys as GitHub Actions\n"
	  "                   matrices, one per wave: {\"waves\": [{\"include\": [...]}]}\n"
	  "  --approve        approve every deploy (needed for environments with\n"
	  "                   approval = true; there is no prompt in a batch)\n"
	  "  --json           the summary as one JSON document\n"
	  "--no-rollback, --force-promotion and --allow-destroy go to every deploy.\n"
	  "SIGINT/SIGTERM: nothing new starts, running deploys are interrupted\n"
	  "(their policies apply; a second signal cuts that short), summary,\n"
	  "exit 130.  Exit: 0 all succeeded, else\n"
	  "the most severe: 4 (rollback failed) > 3 (rolled back) > 1 (failed,\n"
	  "skipped, locked or refused).\n",
	/* batch_main() refuses -c, -e, --only, --skip, --resume and --to
	   itself, with its own message; what it does not name it ignores. */
	.accepts = CO_ALL,
	.min_args = 1, .max_args = 1, .needs = "a batch FILE",
	.json = JSON_OWN,
	.run = run_batch,
	}, {
	.name = "history",
	.synopsis =
	  "  history [ENV]          past deployments, newest first\n",
	.summary = "past deployments, newest first",
	.help =
	  "usage: gantry history [ENV]\n\nPast deploys of the service, newest first.\n",
	.max_args = 1,
	.session = SESSION_CONFIG,
	.json = JSON_FAILURE,
	.run = run_history,
	}, {
	.name = "status",
	.synopsis =
	  "  status [ENV]           current release, lock and in-flight deploy\n",
	.summary = "current release, lock and in-flight deploy",
	.help =
	  "usage: gantry status [ENV]\n\n"
	  "Per environment: the current release (last successful deploy), the lock,\n"
	  "and a deploy in flight or abandoned.\n",
	.max_args = 1,
	.session = SESSION_CONFIG,
	.json = JSON_FAILURE,
	.run = run_status,
	}, {
	/* lock and unlock ask for ENV themselves, once the configuration
	   is read (-e ENV may stand in for it). */
	.name = "lock",
	.synopsis =
	  "  lock ENV               show the deploy lock of ENV\n",
	.summary = "show the deploy lock of ENV",
	.help =
	  "usage: gantry lock ENV\n\nShows who holds the deploy lock of ENV; exit 6 when held.\n",
	.max_args = 1,
	.session = SESSION_CONFIG,
	.json = JSON_FAILURE,
	.run = run_lock,
	}, {
	.name = "unlock",
	.synopsis =
	  "  unlock ENV             remove a stale lock of ENV\n",
	.summary = "remove a stale lock of ENV",
	.help =
	  "usage: gantry unlock ENV\n\n"
	  "Removes the lock record of ENV left by a deploy that is gone.  A lock\n"
	  "held by a running deploy is not removed (exit 6).\n",
	.max_args = 1,
	.session = SESSION_CONFIG,
	.json = JSON_FAILURE,
	.run = run_unlock,
	}, {
	.name = "plugins",
	.synopsis =
	  "  plugins [list]         every plugin on the plugin path and its state\n"
	  "  plugins show NAME      a stage's options and documentation\n",
	.summary = "every plugin on the plugin path, or a stage's options",
	.help =
	  "usage: gantry plugins [list | show NAME]\n\n"
	  "Lists every plugin on the plugin path (loaded, refused with the reason,\n"
	  "or shadowed), or documents one stage's options.\n",
	.accepts = CO_FORMAT,
	.max_args = ARGS_IGNORED,
	.check = check_plugins,
	.session = SESSION_OPTIONAL,
	.json = JSON_SESSION,
	.run = run_plugins,
	}, {
	.name = "config",
	.synopsis =
	  "  config check [ENV]     validate gantry.cfg and the profiles (all, or ENV)\n",
	.summary = "validate gantry.cfg and the profiles",
	.help =
	  "usage: gantry config check [ENV]\n\n"
	  "Validates gantry.cfg, the profiles (every environment, or ENV) and every\n"
	  "stage's options against its plugin; reports every problem with file:line.\n",
	.max_args = ARGS_IGNORED,
	.check = check_config,
	.json = JSON_OWN,
	.run = run_config,
	}, {
	.name = "report",
	.synopsis =
	  "  report [ENV..] [--since D] [--until D] [--service NAME]\n"
	  "         [--format text|json|html] [-o FILE]  deploy metrics and a timeline\n",
	.summary = "deploy metrics and a timeline",
	.help =
	  "usage: gantry report [ENV..] [--since D] [--until D] [--service NAME]\n"
	  "                     [--format text|json|html] [-o FILE]\n\n"
	  "Deploy metrics per service and environment from the journal (local or\n"
	  "shared backend): deploys per day and week, lead time, change-failure\n"
	  "rate, time to restore, median and p90 of each stage, the slowest stage\n"
	  "and the most frequent failure reasons (docs/report.md defines each).\n"
	  "  --since D        from D: YYYY-MM-DD (UTC) or an age: 7d, 24h, 2w\n"
	  "                   (default: 30 days before --until)\n"
	  "  --until D        up to D (a date includes that day; default: now)\n"
	  "  --service NAME   another service's records (default: gantry.cfg's)\n"
	  "  --format F       text (default), json (as --json) or html: one\n"
	  "                   self-contained page with a timeline per environment\n"
	  "  -o, --output FILE  write the report to FILE instead of stdout\n",
	.accepts = CO_REPORT,
	.max_args = ARGS_IGNORED,	/* every one an ENV */
	.session = SESSION_CONFIG | SESSION_OPTIONAL,
	.json = JSON_FAILURE,
	.run = run_report,
	}, {
	.name = "version",
	.synopsis =
	  "  version                gantry's version and plugin ABI\n",
	.summary = "gantry's version and plugin ABI",
	.help = "usage: gantry version\n",
	.max_args = ARGS_IGNORED,
	.json = JSON_OWN,
	.run = run_version,
	}, {
	.name = "help",
	.synopsis =
	  "  help [COMMAND]         this text, or a command's\n",
	.summary = "this text, or a command's",
	.help = "usage: gantry help [COMMAND]\n",
	.max_args = ARGS_IGNORED,
	.json = JSON_OWN,
	.run = run_help,
	},
};

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/* `gantry help`: the heading, every command's synopsis, the global
   options and the exit codes. */
static char *usage_text(void)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	gantry_buf_adds(&b, usage_head);
	for (i = 0; i < GANTRY_ARRAY_SIZE(commands); i++)
		if (commands[i].synopsis)	/* t0000 fails without one */
			gantry_buf_adds(&b, commands[i].synopsis);
	gantry_buf_adds(&b, usage_tail);
	return gantry_buf_detach(&b);
}

/* "gantry deploy TAG [--dry-run] ...": a help text's usage lines as one
   line. */
static char *usage_line(const char *help)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *p = help, *end = strstr(help, "\n\n");

	if (!strncmp(p, "usage: ", 7))
		p += 7;
	if (!end)
		end = p + strlen(p);
	for (; p < end; p++) {
		if (*p == ' ' || *p == '\n') {
			if (b.len && b.buf[b.len - 1] != ' ')
				gantry_buf_addch(&b, ' ');
		} else {
			gantry_buf_addch(&b, *p);
		}
	}
	if (b.len && b.buf[b.len - 1] == ' ')
		b.buf[--b.len] = '\0';
	return gantry_buf_detach(&b);
}

static json_object *help_json(const struct command *c, int full)
{
	json_object *j = json_object_new_object();
	char *usage = usage_line(c->help);

	json_object_object_add(j, full ? "command" : "name",
			       json_object_new_string(c->name));
	json_object_object_add(j, "usage", json_object_new_string(usage));
	json_object_object_add(j, "summary",
			       json_object_new_string(c->summary));
	if (full)
		json_object_object_add(j, "help",
				       json_object_new_string(c->help));
	free(usage);
	return j;
}

/* gantry help [COMMAND], gantry [COMMAND] --help: on stdout, as text or
   as one JSON document. */
static int help_for(int json, const char *cmd)
{
	const struct command *c = cmd ? command_find(cmd) : NULL;
	json_object *j, *arr;
	char *text;
	size_t i;

	if (c) {
		if (json)
			cli_print_json(help_json(c, 1));
		else
			fputs(c->help, stdout);
		return EXIT_OK;
	}
	if (cmd)
		return usage_error(json, "help", "unknown command '%s'", cmd);
	text = usage_text();
	if (!json) {
		fputs(text, stdout);
		free(text);
		return EXIT_OK;
	}
	j = json_object_new_object();
	json_object_object_add(j, "usage", json_object_new_string(
		"gantry [GLOBAL OPTIONS] COMMAND [ARGS]"));
	arr = json_object_new_array();
	for (i = 0; i < GANTRY_ARRAY_SIZE(commands); i++)
		json_object_array_add(arr, help_json(&commands[i], 0));
	json_object_object_add(j, "commands", arr);
	json_object_object_add(j, "text", json_object_new_string(text));
	free(text);
	cli_print_json(j);
	return EXIT_OK;
}

/* Not a command: a usage error, with the closest command when there is
   one. */
static int unknown_command(int json, const char *name)
{
	const char *names[GANTRY_ARRAY_SIZE(commands)], *dym;
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(commands); i++)
		names[i] = commands[i].name;
	dym = did_you_mean(name, names, GANTRY_ARRAY_SIZE(names));
	if (dym)
		return usage_error(json, name, "unknown command '%s'; did you "
				   "mean '%s'?", name, dym);
	return usage_error(json, name, "unknown command '%s'", name);
}

/* Applies the command's entry: its options, its arguments, its session,
   its handler and who reports a failure under --json.  Options are
   checked first, even for a word that is no command. */
static int dispatch(struct options *o, int argc, char **argv)
{
	const char *name = argv[0];
	const struct command *c = command_find(name);
	unsigned misused = options_given(o) & ~(c ? c->accepts : 0);
	struct session s;
	int rc, opened;
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(misplaced); i++)
		if (misused & misplaced[i].opts)
			return usage_error(o->json, name, "%s '%s'",
					   misplaced[i].msg, name);
	if (!c)
		return unknown_command(o->json, name);
	if (argc - 1 < c->min_args && !(c->args & ARG_ENV && o->env))
		return usage_error(o->json, name, "'%s' needs %s", name,
				   c->needs);
	if (c->max_args != ARGS_IGNORED && argc - 1 > c->max_args)
		return usage_error(o->json, name, "unexpected argument '%s'",
				   argv[c->max_args + 1]);
	if (c->check && (rc = c->check(o->json, argc, argv)) != EXIT_OK)
		return rc;
	if (!c->session)
		return c->run(o, NULL, argc, argv);
	if (c->args & ARG_ENV && argc > 1)
		o->env = argv[1];
	rc = session_open(&s, o, c->args & ARG_TAG ? argv[1] : NULL,
			  c->session);
	opened = rc == EXIT_OK;
	if (opened)
		rc = c->run(o, &s, argc, argv);
	if (rc != EXIT_OK && o->json &&
	    (c->json == JSON_FAILURE ? rc != EXIT_LOCKED :
	     c->json == JSON_SESSION && !opened))
		progress_json_error(name, rc);
	session_close(&s);
	return rc;
}

int cli_main(int argc, char **argv)
{
	struct options o;
	int c, help = 0, color;
	char *end;
	long n;

	memset(&o, 0, sizeof(o));
	/* --json anywhere on the line (before "--") asks for a document
	   even when the line does not parse. */
	for (c = 1; c < argc && strcmp(argv[c], "--"); c++)
		if (!strcmp(argv[c], "--json"))
			o.json = 1;
	opterr = 0;
	/* GNU permutation: options may follow the command and its
	   arguments ("gantry deploy v1.2.3 --json"). */
	while ((c = getopt_long(argc, argv, ":c:e:j:o:vqh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'e': o.env = optarg; break;
		case OPT_PLUGIN_PATH: o.plugin_path = optarg; break;
		case OPT_STATE_DIR: o.state_dir = optarg; break;
		case 'v': o.verbosity++; break;
		case 'q': o.verbosity = -1; break;
		case OPT_JSON: o.json = 1; break;
		case OPT_NO_COLOR: o.no_color = 1; break;
		case OPT_DRY_RUN: o.dry_run = 1; break;
		case OPT_ONLY: o.only = optarg; break;
		case OPT_SKIP: o.skip = optarg; break;
		case OPT_RESUME: o.resume = optarg; break;
		case OPT_APPROVE: o.approve = 1; break;
		case OPT_NO_ROLLBACK: o.no_rollback = 1; break;
		case OPT_FORCE_PROMOTION: o.force_promotion = 1; break;
		case OPT_ALLOW_DESTROY: o.allow_destroy = 1; break;
		case OPT_TO: o.to = optarg; break;
		case OPT_SINCE: o.since = optarg; break;
		case OPT_UNTIL: o.until = optarg; break;
		case OPT_SERVICE: o.service = optarg; break;
		case OPT_FORMAT: o.format = optarg; break;
		case 'o': o.output = optarg; break;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 1024)
				return usage_error(o.json, "", "-j needs how "
						   "many deploys run at once "
						   "(1 to 1024), not '%s'",
						   optarg);
			o.jobs = (int)n;
			break;
		case OPT_FAIL_FAST: o.fail_fast = 1; break;
		case OPT_MATRIX: o.matrix = 1; break;
		case 'h': case OPT_HELP: help = 1; break;
		case ':':
			return usage_error(o.json, "", "option '%s' needs a value",
					   argv[optind - 1]);
		default:
			return usage_error(o.json, "", "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	color = !o.no_color && !getenv("NO_COLOR") && isatty(STDERR_FILENO);
	gantry_i_log_setup(o.verbosity, color);
	if (help)
		return help_for(o.json, optind < argc ? argv[optind] : NULL);
	if (optind >= argc) {
		char *text;

		if (o.json)
			return usage_error(1, "", "gantry needs a command");
		text = usage_text();
		fputs(text, stderr);
		free(text);
		return EXIT_USAGE;
	}
	return dispatch(&o, argc - optind, argv + optind);
}
