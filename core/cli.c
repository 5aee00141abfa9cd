/*
 * cli.c - gantry's command line: the global options, the usage errors,
 * help, and the dispatcher that applies the command table
 * (cli_commands.c) to the line.  Also the output helpers the commands
 * share (commands.h).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "progress.h"
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
	OPT_TO, OPT_FAIL_FAST, OPT_MATRIX, OPT_REASON
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
	{ "reason", required_argument, NULL, OPT_REASON },
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

/* The CLI_OPT_ bits of the command options on the line. */
static unsigned options_given(const struct options *o)
{
	return (o->dry_run ? CLI_OPT_DRY_RUN : 0) |
	       (o->only ? CLI_OPT_ONLY : 0) |
	       (o->skip ? CLI_OPT_SKIP : 0) |
	       (o->resume ? CLI_OPT_RESUME : 0) |
	       (o->approve ? CLI_OPT_APPROVE : 0) |
	       (o->no_rollback ? CLI_OPT_NO_ROLLBACK : 0) |
	       (o->force_promotion ? CLI_OPT_FORCE_PROMOTION : 0) |
	       (o->allow_destroy ? CLI_OPT_ALLOW_DESTROY : 0) |
	       (o->to ? CLI_OPT_TO : 0) |
	       (o->reason ? CLI_OPT_REASON : 0) |
	       (o->jobs ? CLI_OPT_JOBS : 0) |
	       (o->fail_fast ? CLI_OPT_FAIL_FAST : 0) |
	       (o->matrix ? CLI_OPT_MATRIX : 0) |
	       (o->since ? CLI_OPT_SINCE : 0) |
	       (o->until ? CLI_OPT_UNTIL : 0) |
	       (o->service ? CLI_OPT_SERVICE : 0) |
	       (o->format ? CLI_OPT_FORMAT : 0) |
	       (o->output ? CLI_OPT_OUTPUT : 0);
}

/* An option given to a command that does not take it: the first group it
   falls in names the refusal ("... 'COMMAND'"). */
static const struct {
	unsigned opts;
	const char *msg;
} misplaced[] = {
	{ CLI_OPT_BATCH, "-j, --fail-fast and --matrix belong to 'batch', not" },
	{ CLI_OPT_DEPLOY, "deploy options given to" },
	{ CLI_OPT_TO, "--to belongs to 'rollback', not" },
	{ CLI_OPT_REASON, "--reason belongs to 'reject', not" },
	{ CLI_OPT_REPORT, "--since, --until, --service, --format and -o "
			  "belong to 'report', not" },
	/* A CLI_OPT_ bit no group above names. */
	{ CLI_OPT_ALL, "options given that do not belong to" },
};

/* A usage error, the one place they are reported: the message on stderr,
   pointing to --help unless it ends in a suggestion ("did you mean
   'deploy'?"), and, with --json, the error document every failed command
   prints (cmd: the command, or ""). */
int cli_usage_error(int json, const char *cmd, const char *fmt, ...)
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

static const struct cli_command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < cli_ncommands; i++)
		if (!strcmp(name, cli_commands[i].name))
			return &cli_commands[i];
	return NULL;
}

/* `gantry help`: the heading, every command's synopsis, the global
   options and the exit codes. */
static char *usage_text(void)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	gantry_buf_adds(&b, usage_head);
	for (i = 0; i < cli_ncommands; i++)
		if (cli_commands[i].synopsis)	/* t0000 fails without one */
			gantry_buf_adds(&b, cli_commands[i].synopsis);
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

/* A command's help as JSON members of j: name (or command, full),
   usage, summary and, full, the help text. */
static void help_json(struct gantry_json *j, const struct cli_command *c,
		      int full)
{
	char *usage = usage_line(c->help);

	gantry_json_set_string(j, full ? "command" : "name", c->name);
	gantry_json_set_string(j, "usage", usage);
	gantry_json_set_string(j, "summary", c->summary);
	if (full)
		gantry_json_set_string(j, "help", c->help);
	free(usage);
}

/* gantry help [COMMAND], gantry [COMMAND] --help: on stdout, as text or
   as one JSON document. */
int cli_help(int json, const char *cmd)
{
	const struct cli_command *c = cmd ? command_find(cmd) : NULL;
	struct gantry_json *j, *arr;
	char *text;
	size_t i;

	if (c) {
		if (json) {
			j = gantry_json_new_object();
			help_json(j, c, 1);
			progress_print_json(j);
		} else
			fputs(c->help, stdout);
		return EXIT_OK;
	}
	if (cmd)
		return cli_usage_error(json, "help", "unknown command '%s'",
				       cmd);
	text = usage_text();
	if (!json) {
		fputs(text, stdout);
		free(text);
		return EXIT_OK;
	}
	j = gantry_json_new_object();
	gantry_json_set_string(j, "usage",
			       "gantry [GLOBAL OPTIONS] COMMAND [ARGS]");
	arr = gantry_json_set_array(j, "commands");
	for (i = 0; i < cli_ncommands; i++)
		help_json(gantry_json_push_object(arr), &cli_commands[i], 0);
	gantry_json_set_string(j, "text", text);
	free(text);
	progress_print_json(j);
	return EXIT_OK;
}

/* Not a command: a usage error, with the closest command when there is
   one. */
static int unknown_command(int json, const char *name)
{
	const char **names = gantry_xcalloc(cli_ncommands, sizeof(*names));
	const char *dym;
	size_t i;

	for (i = 0; i < cli_ncommands; i++)
		names[i] = cli_commands[i].name;
	dym = did_you_mean(name, names, cli_ncommands);
	free(names);
	if (dym)
		return cli_usage_error(json, name, "unknown command '%s'; did "
				       "you mean '%s'?", name, dym);
	return cli_usage_error(json, name, "unknown command '%s'", name);
}

/* Applies the command's entry: its options, its arguments, its session,
   its handler and who reports a failure under --json.  Options are
   checked first, even for a word that is no command. */
static int dispatch(struct options *o, int argc, char **argv)
{
	const char *name = argv[0];
	const struct cli_command *c = command_find(name);
	unsigned misused = options_given(o) & ~(c ? c->takes : 0);
	struct session s;
	int rc, opened;
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(misplaced); i++)
		if (misused & misplaced[i].opts)
			return cli_usage_error(o->json, name, "%s '%s'",
					       misplaced[i].msg, name);
	if (!c)
		return unknown_command(o->json, name);
	if (argc - 1 < c->min_args && !(c->args & CLI_ARG_ENV && o->env))
		return cli_usage_error(o->json, name, "'%s' needs %s",
				       name, c->needs);
	if (c->max_args != CLI_ARGS_ANY && argc - 1 > c->max_args)
		return cli_usage_error(o->json, name, "unexpected "
				       "argument '%s'", argv[c->max_args + 1]);
	if (c->check && (rc = c->check(o->json, argc, argv)) != EXIT_OK)
		return rc;
	if (!c->session)
		return c->run(o, NULL, argc, argv);
	if (c->args & CLI_ARG_ENV && argc > 1)
		o->env = argv[1];
	rc = session_open(&s, o, c->args & CLI_ARG_TAG ? argv[1] : NULL,
			  c->session);
	opened = rc == EXIT_OK;
	if (opened)
		rc = c->run(o, &s, argc, argv);
	if (rc != EXIT_OK && o->json &&
	    (c->json == CLI_JSON_FAILURE ? rc != EXIT_LOCKED :
	     c->json == CLI_JSON_SESSION && !opened))
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
		case OPT_REASON: o.reason = optarg; break;
		case OPT_SINCE: o.since = optarg; break;
		case OPT_UNTIL: o.until = optarg; break;
		case OPT_SERVICE: o.service = optarg; break;
		case OPT_FORMAT: o.format = optarg; break;
		case 'o': o.output = optarg; break;
		case 'j':
			n = strtol(optarg, &end, 10);
			if (*end || end == optarg || n < 1 || n > 1024)
				return cli_usage_error(o.json, "", "-j needs "
						       "how many deploys run "
						       "at once (1 to 1024), "
						       "not '%s'", optarg);
			o.jobs = (int)n;
			break;
		case OPT_FAIL_FAST: o.fail_fast = 1; break;
		case OPT_MATRIX: o.matrix = 1; break;
		case 'h': case OPT_HELP: help = 1; break;
		case ':':
			return cli_usage_error(o.json, "", "option '%s' needs "
					       "a value", argv[optind - 1]);
		default:
			return cli_usage_error(o.json, "", "unknown option "
					       "'%s'", argv[optind - 1]);
		}
	}
	color = !o.no_color && !getenv("NO_COLOR") && isatty(STDERR_FILENO);
	gantry_i_log_setup(o.verbosity, color);
	if (help)
		return cli_help(o.json, optind < argc ? argv[optind] : NULL);
	if (optind >= argc) {
		char *text;

		if (o.json)
			return cli_usage_error(1, "", "gantry needs a command");
		text = usage_text();
		fputs(text, stderr);
		free(text);
		return EXIT_USAGE;
	}
	return dispatch(&o, argc - optind, argv + optind);
}
