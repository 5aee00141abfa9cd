/*
 * cli_commands.c - the command table: each command's name, usage, help,
 * argument rules and handler.  cli.c parses the line and applies the
 * entry; the handlers here only adapt the commands' own functions
 * (pipeline*.c, batch.c, cli_info.c, cli_state.c, cli_report.c).
 */
#include "config.h"

#include <string.h>

#include "approval.h"
#include "batch.h"
#include "cli.h"
#include "commands.h"
#include "pipeline.h"
#include "report.h"
#include "session.h"

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

static int run_approve(struct options *o, struct session *s, int argc,
		       char **argv)
{
	return cmd_decide(s, argc > 1 ? argv[1] : NULL,
			  argc > 2 ? argv[2] : NULL, "approved");
}

static int run_reject(struct options *o, struct session *s, int argc,
		      char **argv)
{
	return cmd_decide(s, argc > 1 ? argv[1] : NULL,
			  argc > 2 ? argv[2] : NULL, "rejected");
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
		return cli_usage_error(json, argv[0], "unknown plugins "
				       "command '%s'; use 'list' or 'show "
				       "NAME'", argv[1]);
	if (argc > 1 && !strcmp(argv[1], "show") && argc < 3)
		return cli_usage_error(json, "plugins show", "'%s' needs a "
				       "plugin NAME", "plugins show");
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
		return cli_usage_error(json, argv[0], "unknown config "
				       "command '%s'; use 'config check "
				       "[ENV]'", argc > 1 ? argv[1] : "");
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
	return cli_help(o->json, argc > 1 ? argv[1] : NULL);
}

/*
 * The command table: every command gantry has, in the order `gantry
 * help` lists them; struct cli_command (cli.h) says what each field means.
 *
 * To add a command: write its run_ handler above (and a check_ function
 * if it has subcommands), add its entry here, then list it in
 * contrib/completion/gantry.bash and docs/man/gantry.1 (t0000 fails until
 * the table, `gantry help`, the completion and the man page agree).
 * Dispatch, `gantry help`, `gantry NAME --help`, `gantry --json help`,
 * the usage errors (text and --json) and the "did you mean" candidates
 * all come from the entry; nothing else in cli.c names a command.  A new
 * option also needs its field in struct options (session.h), its getopt
 * entry and its bit in options_given() (cli.c), and its CLI_OPT_ bit
 * (cli.h); a misplaced[] group (cli.c) gives its refusal on other
 * commands a message of its own.
 */
const struct cli_command cli_commands[] = {
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
	.takes = CLI_OPT_DEPLOY,
	.min_args = 1, .max_args = 1, .needs = "a release TAG",
	.args = CLI_ARG_TAG,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = CLI_JSON_SESSION,
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
	.takes = CLI_OPT_ONLY | CLI_OPT_SKIP | CLI_OPT_FORCE_PROMOTION | CLI_OPT_ALLOW_DESTROY,
	.min_args = 1, .max_args = 1, .needs = "a release TAG",
	.args = CLI_ARG_TAG,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = CLI_JSON_SESSION,
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
	.takes = CLI_OPT_TO | CLI_OPT_ONLY | CLI_OPT_SKIP | CLI_OPT_APPROVE | CLI_OPT_NO_ROLLBACK |
		   CLI_OPT_FORCE_PROMOTION | CLI_OPT_ALLOW_DESTROY,
	.min_args = 1, .max_args = 1, .needs = "an environment ENV",
	.args = CLI_ARG_ENV,
	.session = SESSION_CONFIG | SESSION_ENV | SESSION_PLUGINS,
	.json = CLI_JSON_SESSION,
	.run = run_rollback,
	}, {
	.name = "approve",
	.synopsis =
	  "  approve ENV [ID]       let a deploy waiting at an approval entry go on\n",
	.summary = "let a deploy waiting at an approval entry go on",
	.help =
	  "usage: gantry approve ENV [ID]\n\n"
	  "Approves the deploy of ENV that waits at an 'approval' pipeline entry\n"
	  "(or deploy ID, when several wait), as the actor (GANTRY_ACTOR,\n"
	  "GITHUB_ACTOR or the user name); the deploy goes on within seconds, on\n"
	  "this machine or, with the shared state backend, on any.  Refused (exit 2,\n"
	  "nothing written) when no deploy or several wait, when the deploy is not\n"
	  "waiting or was already decided, when the actor is not among the entry's\n"
	  "approvers, or started the deploy and the entry has allow_self = false.\n"
	  "Exit 1 when the state backend fails.  --json: {environment, deploy,\n"
	  "entry, verdict, by, reason, decided}.\n",
	.min_args = 1, .max_args = 2, .needs = "an environment ENV",
	.args = CLI_ARG_ENV,
	.session = SESSION_CONFIG,
	.json = CLI_JSON_FAILURE,
	.run = run_approve,
	}, {
	.name = "reject",
	.synopsis =
	  "  reject ENV [ID] [--reason TEXT]  stop a deploy waiting at an approval entry\n",
	.summary = "stop a deploy waiting at an approval entry",
	.help =
	  "usage: gantry reject ENV [ID] [--reason TEXT]\n\n"
	  "Rejects the deploy of ENV that waits at an 'approval' pipeline entry (or\n"
	  "deploy ID): its approval stage fails with who rejected it and why, and\n"
	  "the entry's on_failure applies (rollback undoes the earlier stages).\n"
	  "The actor who started the deploy may reject it; others must be among\n"
	  "the entry's approvers, if it lists any.  Exit codes and --json as\n"
	  "'gantry approve'.\n"
	  "  --reason TEXT    why; journaled, shown by history and status, notified\n",
	.takes = CLI_OPT_REASON,
	.min_args = 1, .max_args = 2, .needs = "an environment ENV",
	.args = CLI_ARG_ENV,
	.session = SESSION_CONFIG,
	.json = CLI_JSON_FAILURE,
	.run = run_reject,
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
	.takes = CLI_OPT_ALL,
	.min_args = 1, .max_args = 1, .needs = "a batch FILE",
	.json = CLI_JSON_OWN,
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
	.json = CLI_JSON_FAILURE,
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
	.json = CLI_JSON_FAILURE,
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
	.json = CLI_JSON_FAILURE,
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
	.json = CLI_JSON_FAILURE,
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
	.takes = CLI_OPT_FORMAT,
	.max_args = CLI_ARGS_ANY,
	.check = check_plugins,
	.session = SESSION_OPTIONAL,
	.json = CLI_JSON_SESSION,
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
	.max_args = CLI_ARGS_ANY,
	.check = check_config,
	.json = CLI_JSON_OWN,
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
	.takes = CLI_OPT_REPORT,
	.max_args = CLI_ARGS_ANY,	/* every one an ENV */
	.session = SESSION_CONFIG | SESSION_OPTIONAL,
	.json = CLI_JSON_FAILURE,
	.run = run_report,
	}, {
	.name = "version",
	.synopsis =
	  "  version                gantry's version and plugin ABI\n",
	.summary = "gantry's version and plugin ABI",
	.help = "usage: gantry version\n",
	.max_args = CLI_ARGS_ANY,
	.json = CLI_JSON_OWN,
	.run = run_version,
	}, {
	.name = "help",
	.synopsis =
	  "  help [COMMAND]         this text, or a command's\n",
	.summary = "this text, or a command's",
	.help = "usage: gantry help [COMMAND]\n",
	.max_args = CLI_ARGS_ANY,
	.json = CLI_JSON_OWN,
	.run = run_help,
	},
};

const size_t cli_ncommands = GANTRY_ARRAY_SIZE(cli_commands);
