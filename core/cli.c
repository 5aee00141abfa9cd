/*
 * cli.c - command-line parsing and the read-only commands (history,
 * status, lock, unlock, plugins, config check, version).  deploy and plan
 * are in pipeline.c.
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

static const char usage_text[] =
"usage: gantry [GLOBAL OPTIONS] COMMAND [ARGS]\n"
"\n"
"commands:\n"
"  deploy TAG [--dry-run] [--only S,..] [--skip S,..] [--resume ID]\n"
"             [--approve] [--no-rollback] [--force-promotion] [--allow-destroy]\n"
"  plan TAG               resolved environment, values and every stage's plan\n"
"  rollback ENV [--to TAG] redeploy the last good release before the current one\n"
"  batch FILE [-j N] [--fail-fast] [--dry-run] [--matrix] [--approve]\n"
"                         many deploys from FILE, dependencies respected\n"
"  history [ENV]          past deployments, newest first\n"
"  status [ENV]           current release, lock and in-flight deploy\n"
"  lock ENV               show the deploy lock of ENV\n"
"  unlock ENV             remove a stale lock of ENV\n"
"  plugins [list]         every plugin on the plugin path and its state\n"
"  plugins show NAME      a stage's options and documentation\n"
"  config check [ENV]     validate gantry.cfg and the profiles (all, or ENV)\n"
"  report [ENV..] [--since D] [--until D] [--service NAME]\n"
"         [--format text|json|html] [-o FILE]  deploy metrics and a timeline\n"
"  version                gantry's version and plugin ABI\n"
"  help [COMMAND]         this text, or a command's\n"
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

static const struct {
	const char *name, *summary, *help;
} command_help[] = {
	{ "deploy", "run the pipeline for a release TAG",
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
	  "  --force-promotion, --allow-destroy   passed to the stages that check them\n" },
	{ "plan", "resolved environment, values and every stage's plan",
	  "usage: gantry plan TAG\n\n"
	  "Shows the environment TAG selects, the resolved options and what every\n"
	  "stage would do.  Runs no stage; changes nothing.\n" },
	{ "rollback", "redeploy the last good release before the current one",
	  "usage: gantry rollback ENV [--to TAG] [--approve] [--only S,..] [--skip S,..]\n\n"
	  "Redeploys the last successful release of ENV before the current one (from\n"
	  "the journal), or TAG, through the same pipeline.  Stages reuse what the\n"
	  "earlier deploy recorded (the pushed image is not rebuilt).  Recorded as a\n"
	  "deploy with deploy.rollback = true.  Refused when there is nothing to roll\n"
	  "back to.\n" },
	{ "batch", "many deploys from FILE, dependencies respected",
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
	  "skipped, locked or refused).\n" },
	{ "history", "past deployments, newest first",
	  "usage: gantry history [ENV]\n\nPast deploys of the service, newest first.\n" },
	{ "status", "current release, lock and in-flight deploy",
	  "usage: gantry status [ENV]\n\n"
	  "Per environment: the current release (last successful deploy), the lock,\n"
	  "and a deploy in flight or abandoned.\n" },
	{ "lock", "show the deploy lock of ENV",
	  "usage: gantry lock ENV\n\nShows who holds the deploy lock of ENV; exit 6 when held.\n" },
	{ "unlock", "remove a stale lock of ENV",
	  "usage: gantry unlock ENV\n\n"
	  "Removes the lock record of ENV left by a deploy that is gone.  A lock\n"
	  "held by a running deploy is not removed (exit 6).\n" },
	{ "plugins", "every plugin on the plugin path, or a stage's options",
	  "usage: gantry plugins [list | show NAME]\n\n"
	  "Lists every plugin on the plugin path (loaded, refused with the reason,\n"
	  "or shadowed), or documents one stage's options.\n" },
	{ "config", "validate gantry.cfg and the profiles",
	  "usage: gantry config check [ENV]\n\n"
	  "Validates gantry.cfg, the profiles (every environment, or ENV) and every\n"
	  "stage's options against its plugin; reports every problem with file:line.\n" },
	{ "report", "deploy metrics and a timeline",
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
	  "  -o, --output FILE  write the report to FILE instead of stdout\n" },
	{ "version", "gantry's version and plugin ABI",
	  "usage: gantry version\n" },
	{ "help", "this text, or a command's",
	  "usage: gantry help [COMMAND]\n" },
};

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

static json_object *help_json(size_t i, int full)
{
	json_object *j = json_object_new_object();
	char *usage = usage_line(command_help[i].help);

	json_object_object_add(j, full ? "command" : "name",
			       json_object_new_string(command_help[i].name));
	json_object_object_add(j, "usage", json_object_new_string(usage));
	json_object_object_add(j, "summary",
			       json_object_new_string(command_help[i].summary));
	if (full)
		json_object_object_add(j, "help",
				json_object_new_string(command_help[i].help));
	free(usage);
	return j;
}

static int usage_error(int json, const char *cmd, const char *fmt, ...)
	GANTRY_PRINTF(3, 4);

/* gantry help [COMMAND], gantry [COMMAND] --help: on stdout, as text or
   as one JSON document. */
static int help_for(int json, const char *cmd)
{
	json_object *j, *arr;
	size_t i;

	for (i = 0; cmd && i < GANTRY_ARRAY_SIZE(command_help); i++) {
		if (strcmp(cmd, command_help[i].name))
			continue;
		if (json)
			cli_print_json(help_json(i, 1));
		else
			fputs(command_help[i].help, stdout);
		return EXIT_OK;
	}
	if (cmd)
		return usage_error(json, "help", "unknown command '%s'", cmd);
	if (!json) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	j = json_object_new_object();
	json_object_object_add(j, "usage", json_object_new_string(
		"gantry [GLOBAL OPTIONS] COMMAND [ARGS]"));
	arr = json_object_new_array();
	for (i = 0; i < GANTRY_ARRAY_SIZE(command_help); i++)
		json_object_array_add(arr, help_json(i, 0));
	json_object_object_add(j, "commands", arr);
	json_object_object_add(j, "text", json_object_new_string(usage_text));
	cli_print_json(j);
	return EXIT_OK;
}

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

/* A usage error: the message on stderr and, with --json, the error
   document every failed command prints (cmd: the command, or ""). */
static int usage_error(int json, const char *cmd, const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_log(NULL, GANTRY_LOG_ERROR, "%s; see 'gantry --help'", b.buf);
	gantry_buf_release(&b);
	if (json)
		progress_json_error(cmd, EXIT_USAGE);
	return EXIT_USAGE;
}

/* Rejects deploy-only flags on other commands. */
static int deploy_flags_used(const struct options *o)
{
	return o->dry_run || o->only || o->skip || o->resume || o->approve ||
	       o->no_rollback || o->force_promotion || o->allow_destroy;
}

static int dispatch(struct options *o, int argc, char **argv)
{
	const char *cmd = argv[0], *arg = argc > 1 ? argv[1] : NULL;
	struct session s;
	int rc;

	if (!strcmp(cmd, "batch")) {
		if (!arg)
			return usage_error(o->json, cmd, "'%s' needs a batch "
					   "FILE", cmd);
		if (argc > 2)
			return usage_error(o->json, cmd, "unexpected argument "
					   "'%s'", argv[2]);
		return batch_main(o, arg);
	}
	if (o->jobs || o->fail_fast || o->matrix)
		return usage_error(o->json, cmd, "-j, --fail-fast and "
				   "--matrix belong to 'batch', not '%s'", cmd);
	if (deploy_flags_used(o) && strcmp(cmd, "deploy") &&
	    !(strcmp(cmd, "plan") == 0 && !o->dry_run && !o->resume &&
	      !o->approve && !o->no_rollback) &&
	    !(strcmp(cmd, "rollback") == 0 && !o->dry_run && !o->resume))
		return usage_error(o->json, cmd, "deploy options given to "
				   "'%s'", cmd);
	if (o->to && strcmp(cmd, "rollback"))
		return usage_error(o->json, cmd, "--to belongs to 'rollback', "
				   "not '%s'", cmd);
	if ((o->since || o->until || o->service || o->output ||
	     (o->format && strcmp(cmd, "plugins"))) &&
	    strcmp(cmd, "report"))
		return usage_error(o->json, cmd, "--since, --until, --service, "
				   "--format and -o belong to 'report', not "
				   "'%s'", cmd);
	if (!strcmp(cmd, "report")) {
		rc = session_open(&s, o, NULL, SESSION_CONFIG | SESSION_OPTIONAL);
		if (rc == EXIT_OK)
			rc = report_command(&s, argc - 1, argv + 1);
		if (rc != EXIT_OK && o->json)
			progress_json_error(cmd, rc);
		session_close(&s);
		return rc;
	}
	if (!strcmp(cmd, "rollback")) {
		if (!arg && !o->env)
			return usage_error(o->json, cmd, "'%s' needs an "
					   "environment ENV", cmd);
		if (argc > 2)
			return usage_error(o->json, cmd, "unexpected argument "
					   "'%s'", argv[2]);
		if (arg)
			o->env = arg;
		rc = session_open(&s, o, NULL, SESSION_CONFIG | SESSION_ENV |
				  SESSION_PLUGINS);
		if (rc == EXIT_OK)
			rc = pipeline_rollback(&s, s.conf.env->name);
		else if (o->json)
			progress_json_error(cmd, rc);
		session_close(&s);
		return rc;
	}
	if (!strcmp(cmd, "version"))
		return cmd_version(o);
	if (!strcmp(cmd, "help"))
		return help_for(o->json, arg);
	if (!strcmp(cmd, "deploy") || !strcmp(cmd, "plan")) {
		if (!arg)
			return usage_error(o->json, cmd, "'%s' needs a release "
					   "TAG", cmd);
		if (argc > 2)
			return usage_error(o->json, cmd, "unexpected argument "
					   "'%s'", argv[2]);
		rc = session_open(&s, o, arg, SESSION_CONFIG | SESSION_ENV |
				  SESSION_PLUGINS);
		if (rc == EXIT_OK)
			rc = !strcmp(cmd, "plan") ? pipeline_plan(&s, arg) :
						    pipeline_deploy(&s, arg);
		else if (o->json)
			progress_json_error(cmd, rc);
		session_close(&s);
		return rc;
	}
	if (!strcmp(cmd, "plugins")) {
		if (arg && strcmp(arg, "list") && strcmp(arg, "show"))
			return usage_error(o->json, cmd, "unknown plugins "
					   "command '%s'; use 'list' or 'show "
					   "NAME'", arg);
		if (arg && !strcmp(arg, "show") && argc < 3)
			return usage_error(o->json, "plugins show", "'%s' "
					   "needs a plugin NAME", "plugins show");
		rc = session_open(&s, o, NULL, SESSION_OPTIONAL);
		if (rc == EXIT_OK)
			rc = arg && !strcmp(arg, "show") ?
				cmd_plugins_show(&s, argv[2]) :
				cmd_plugins_list(&s);
		else if (o->json)
			progress_json_error(cmd, rc);
		session_close(&s);
		return rc;
	}
	if (!strcmp(cmd, "config")) {
		if (!arg || strcmp(arg, "check"))
			return usage_error(o->json, cmd, "unknown config "
					   "command '%s'; use 'config check "
					   "[ENV]'", arg ? arg : "");
		return cmd_config_check(o, argc > 2 ? argv[2] : NULL);
	}
	if (!strcmp(cmd, "history") || !strcmp(cmd, "status") ||
	    !strcmp(cmd, "lock") || !strcmp(cmd, "unlock")) {
		if (argc > 2)
			return usage_error(o->json, cmd, "unexpected argument "
					   "'%s'", argv[2]);
		rc = session_open(&s, o, NULL, SESSION_CONFIG);
		if (rc == EXIT_OK) {
			if (!strcmp(cmd, "history"))
				rc = cmd_history(&s, arg);
			else if (!strcmp(cmd, "status"))
				rc = cmd_status(&s, arg);
			else
				rc = cmd_lock(&s, arg, !strcmp(cmd, "unlock"));
		}
		if (rc != EXIT_OK && rc != EXIT_LOCKED && o->json)
			progress_json_error(cmd, rc);
		session_close(&s);
		return rc;
	}
	{
		static const char *const cmds[] = {
			"deploy", "plan", "rollback", "batch", "history",
			"status", "lock", "unlock", "report",
			"plugins", "config", "version", "help"
		};
		const char *dym = did_you_mean(cmd, cmds,
					       GANTRY_ARRAY_SIZE(cmds));

		if (dym) {
			gantry_log(NULL, GANTRY_LOG_ERROR, "unknown command "
				   "'%s'; did you mean '%s'?", cmd, dym);
			if (o->json)
				progress_json_error(cmd, EXIT_USAGE);
			return EXIT_USAGE;
		}
	}
	return usage_error(o->json, cmd, "unknown command '%s'", cmd);
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
		if (o.json)
			return usage_error(1, "", "gantry needs a command");
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	return dispatch(&o, argc - optind, argv + optind);
}
