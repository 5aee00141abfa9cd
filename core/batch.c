/*
 * batch.c - `gantry batch FILE`: running a validated batch of deploys
 * as child processes with dependencies and a concurrency limit, and the
 * summary (reading and validating the batch file, and --matrix, are
 * batch_file.c; the live status and the table, batch_draw.c).
 *
 * One process, one loop, no threads: children are started with
 * fork/execv, their stdout (the JSON record) arrives through pipes,
 * their exit through SIGCHLD written to a self-pipe, and the loop sleeps
 * in poll() in between - waiting deploys cost no CPU.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch_i.h"
#include "journal.h"
#include "progress.h"
#include "statedir.h"

/* The self-pipe: signal handlers write a byte, the loop wakes up. */
static int wake_pipe[2] = { -1, -1 };
static volatile sig_atomic_t signals_seen;

static void wake(void)
{
	int saved = errno;

	if (write(wake_pipe[1], "x", 1) < 0) {
		/* the pipe is full: the loop is awake anyway */
	}
	errno = saved;
}

static void on_child(int sig)
{
	(void)sig;
	wake();
}

static void on_stop(int sig)
{
	(void)sig;
	signals_seen++;
	wake();
}

/* Follows a running deploy's log for its "[i/n] entry" progress lines. */
static void follow_log(struct batch *b, struct job *j)
{
	char buf[4096];
	ssize_t r;
	int changed = 0;

	if (j->log_rd < 0)
		return;
	while ((r = pread(j->log_rd, buf, sizeof(buf), j->log_off)) > 0) {
		const char *p = buf, *end = buf + r, *nl;

		j->log_off += r;
		while (p < end) {
			nl = memchr(p, '\n', (size_t)(end - p));
			gantry_buf_add(&j->partial, p,
					 (size_t)((nl ? nl : end) - p));
			if (!nl)
				break;
			p = nl + 1;
			if (j->partial.buf[0] == '[' &&
			    strchr(j->partial.buf, '/') &&
			    strstr(j->partial.buf, "] ")) {
				const char *close = strstr(j->partial.buf,
							   "] ");
				const char *name = close + 2;
				size_t len = strcspn(name, " ");
				char *now = gantry_xasprintf("stage %.*s %.*s",
					(int)(close - j->partial.buf - 1),
					j->partial.buf + 1, (int)len, name);

				if (j->stage && !strcmp(j->stage, now)) {
					free(now);
				} else {
					free(j->stage);
					j->stage = now;
					changed = 1;
				}
			}
			gantry_buf_reset(&j->partial);
		}
	}
	if (changed && !b->tty)
		batch_report(b, j, j->stage);
}

/* ---- running ---------------------------------------------------------- */

static char **child_argv(const struct batch *b, const struct job *j)
{
	const struct options *o = b->o;
	char **av = gantry_xcalloc(32, sizeof(*av));
	size_t n = 0;
	int v;

	av[n++] = gantry_xstrdup(b->self);
	av[n++] = gantry_xstrdup("-c");
	av[n++] = gantry_xstrdup(j->path);
	av[n++] = gantry_xstrdup("-e");
	av[n++] = gantry_xstrdup(j->env);
	if (o->plugin_path) {
		av[n++] = gantry_xstrdup("--plugin-path");
		av[n++] = gantry_xstrdup(o->plugin_path);
	}
	if (o->state_dir) {
		av[n++] = gantry_xstrdup("--state-dir");
		av[n++] = gantry_xstrdup(o->state_dir);
	}
	for (v = 0; v < o->verbosity && v < 3; v++)
		av[n++] = gantry_xstrdup("-v");
	if (o->no_color)
		av[n++] = gantry_xstrdup("--no-color");
	av[n++] = gantry_xstrdup("deploy");
	av[n++] = gantry_xstrdup(j->tag);
	av[n++] = gantry_xstrdup("--json");
	if (o->dry_run)
		av[n++] = gantry_xstrdup("--dry-run");
	if (o->approve)
		av[n++] = gantry_xstrdup("--approve");
	if (o->no_rollback)
		av[n++] = gantry_xstrdup("--no-rollback");
	if (o->force_promotion)
		av[n++] = gantry_xstrdup("--force-promotion");
	if (o->allow_destroy)
		av[n++] = gantry_xstrdup("--allow-destroy");
	return av;
}

static void free_argv(char **av)
{
	size_t i;

	for (i = 0; av[i]; i++)
		free(av[i]);
	free(av);
}

static void job_ends(struct batch *b, struct job *j, int code,
		     const char *result, const char *reason)
{
	j->state = J_DONE;
	j->t1 = gantry_now();
	j->code = code;
	if (!j->result)
		j->result = gantry_xstrdup(result);
	if (!j->reason && reason)
		j->reason = gantry_xstrdup(reason);
	if (b->running)
		b->running--;
	if (code != EXIT_OK && b->o->fail_fast && !b->stop) {
		b->stop = 1;
		b->stop_reason = gantry_xasprintf("not started: --fail-fast "
						    "after '%s' failed",
						    j->name);
	}
	batch_report(b, j, NULL);
}

static void start_job(struct batch *b, struct job *j)
{
	struct gantry_buf head = GANTRY_BUF_INIT, msg = GANTRY_BUF_INIT;
	char **av = child_argv(b, j);
	int out[2] = { -1, -1 }, logfd, nullfd;
	pid_t parent = getpid(), pid;
	size_t i;

	j->log = gantry_xasprintf("%s/%s.log", b->logdir, j->name);
	j->t0 = gantry_now();
	logfd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
		     O_CLOEXEC, 0600);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (logfd < 0 || nullfd < 0 || pipe2(out, O_CLOEXEC) < 0) {
		char *why = gantry_xasprintf("cannot start: %s: %s",
					       logfd < 0 ? j->log : "pipe",
					       strerror(errno));

		b->running++;
		job_ends(b, j, EXIT_FAILED, "error", why);
		free(why);
		goto out;
	}
	gantry_buf_addf(&head, "# gantry batch %s: deploy '%s' (%s) in %s:",
			  b->id, j->name, j->shown, j->dir);
	for (i = 0; av[i]; i++)
		gantry_buf_addf(&head, " %s", av[i]);
	gantry_buf_addch(&head, '\n');
	if (write(logfd, head.buf, head.len) < 0) {
		/* the log lacks its header line; the deploy may still run */
	}
	gantry_buf_addf(&msg, "gantry: error: cannot run %s in %s: ",
			  b->self, j->dir);

	pid = fork();
	if (pid == 0) {
		/* Its own process group: a ^C on the terminal reaches only
		   the batch, which then stops each deploy exactly once. */
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(EXIT_INTERRUPTED);
		dup2(nullfd, STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		if (chdir(j->dir) == 0)
			execv(b->self, av);
		if (write(STDERR_FILENO, msg.buf, msg.len) < 0 ||
		    write(STDERR_FILENO, strerror(errno),
			  strlen(strerror(errno))) < 0 ||
		    write(STDERR_FILENO, "\n", 1) < 0)
			_exit(127);
		_exit(127);
	}
	if (pid < 0) {
		char *why = gantry_xasprintf("cannot start: fork: %s",
					       strerror(errno));

		b->running++;
		job_ends(b, j, EXIT_FAILED, "error", why);
		free(why);
		goto out;
	}
	setpgid(pid, pid);
	j->pid = pid;
	j->state = J_RUNNING;
	b->running++;
	j->out_fd = out[0];
	out[0] = -1;
	fcntl(j->out_fd, F_SETFL, fcntl(j->out_fd, F_GETFL) | O_NONBLOCK);
	j->log_rd = open(j->log, O_RDONLY | O_CLOEXEC);
	{
		char *what = gantry_xasprintf("started (log %s)", j->log);

		batch_report(b, j, what);
		free(what);
	}
out:
	if (out[0] >= 0)
		close(out[0]);
	if (out[1] >= 0)
		close(out[1]);
	if (logfd >= 0)
		close(logfd);
	if (nullfd >= 0)
		close(nullfd);
	free_argv(av);
	gantry_buf_release(&head);
	gantry_buf_release(&msg);
}

static void read_out(struct job *j)
{
	char buf[8192];
	ssize_t r;

	while (j->out_fd >= 0) {
		r = read(j->out_fd, buf, sizeof(buf));
		if (r > 0) {
			gantry_buf_add(&j->out, buf, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		close(j->out_fd);
		j->out_fd = -1;
	}
}

static const char *result_of_code(const struct batch *b, int code)
{
	switch (code) {
	case EXIT_OK: return b->o->dry_run ? "planned" : "succeeded";
	case EXIT_USAGE: return "error";
	case EXIT_ROLLED_BACK: return "rolled_back";
	case EXIT_ROLLBACK_FAILED: return "rollback_failed";
	case EXIT_REFUSED: return "refused";
	case EXIT_LOCKED: return "locked";
	case EXIT_INTERRUPTED: return "interrupted";
	case 127: return "error";
	}
	return "failed";
}

/* The child is gone: what its JSON document says, else its exit code. */
static void reap(struct batch *b, struct job *j, int status)
{
	struct gantry_json *doc;
	const char *v;
	char why[64];
	int code;

	read_out(j);
	if (j->out_fd >= 0) {
		close(j->out_fd);
		j->out_fd = -1;
	}
	follow_log(b, j);
	doc = gantry_json_parse(j->out.buf, j->out.len, NULL, 0);
	if (!b->o->dry_run && (v = gantry_json_string(doc, "id", NULL)))
		j->deploy_id = gantry_xstrdup(v);
	v = gantry_json_string(doc, "result", NULL);
	if (v && strcmp(v, "running"))
		j->result = gantry_xstrdup(v);
	v = gantry_json_get(doc, "reason") ?
		gantry_json_string(doc, "reason", NULL) :
		gantry_json_string(doc, "error", NULL);
	if (v && *v)
		j->reason = gantry_xstrdup(v);
	gantry_json_free(doc);
	if (WIFSIGNALED(status)) {
		code = 128 + WTERMSIG(status);
		snprintf(why, sizeof(why), "killed by signal %d (%s)",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
		job_ends(b, j, code, "crashed", why);
		return;
	}
	code = WEXITSTATUS(status);
	job_ends(b, j, code, result_of_code(b, code),
		 code == 127 ? "could not run gantry; see the log" : NULL);
}

/* Marks queued deploys whose dependencies failed, then starts what may
   start, in file order. */
static void schedule(struct batch *b)
{
	size_t i, k;
	int changed = 1;

	while (changed) {
		changed = 0;
		for (i = 0; i < b->n; i++) {
			struct job *j = &b->jobs[i];

			for (k = 0; j->state == J_QUEUED && k < j->nafter; k++) {
				const struct job *d = &b->jobs[j->after[k]];

				if (d->state == J_SKIPPED ||
				    (d->state == J_DONE && d->code)) {
					j->state = J_SKIPPED;
					j->reason = gantry_xasprintf("'%s' "
						"%s", d->name,
						d->state == J_SKIPPED ?
						"was skipped" : "failed");
					batch_report(b, j, NULL);
					changed = 1;
				}
			}
		}
	}
	for (i = 0; i < b->n && !b->stop; i++) {
		struct job *j = &b->jobs[i];
		int ready = j->state == J_QUEUED;

		for (k = 0; ready && k < j->nafter; k++)
			ready = b->jobs[j->after[k]].state == J_DONE;
		if (ready && b->running < b->max_running)
			start_job(b, j);
	}
}

/* The first signal interrupts every running deploy once (each applies its
   failure policy); a further one is passed on too, and cuts their
   clean-up short, as a second ^C does to a single deploy. */
static void stop_all(struct batch *b, int again)
{
	size_t i;

	if (!again) {
		b->stop = 1;
		b->interrupted = 1;
		free(b->stop_reason);
		b->stop_reason = gantry_xstrdup("not started: the batch "
						  "was interrupted");
		if (!b->quiet) {
			fprintf(stderr, "gantry: interrupted: stopping %u "
				"running deploy%s (their failure policies "
				"apply)\n", b->running,
				b->running == 1 ? "" : "s");
			b->drawn = 0;
		}
	}
	for (i = 0; i < b->n; i++)
		if (b->jobs[i].state == J_RUNNING)
			kill(b->jobs[i].pid, SIGTERM);
}

static void run_loop(struct batch *b)
{
	struct pollfd *pfd = gantry_xcalloc(b->n + 1, sizeof(*pfd));
	sig_atomic_t handled = 0;
	size_t i, np;

	for (;;) {
		if (!b->stop)
			schedule(b);
		if (!b->running)
			break;
		np = 0;
		pfd[np].fd = wake_pipe[0];
		pfd[np++].events = POLLIN;
		for (i = 0; i < b->n; i++) {
			if (b->jobs[i].out_fd < 0)
				continue;
			pfd[np].fd = b->jobs[i].out_fd;
			pfd[np++].events = POLLIN;
		}
		/* Wake now and then to follow the logs' progress lines. */
		if (poll(pfd, np, b->tty ? 250 : 500) > 0 &&
		    (pfd[0].revents & POLLIN)) {
			char junk[64];

			while (read(wake_pipe[0], junk, sizeof(junk)) > 0)
				;
		}
		if (signals_seen != handled) {
			stop_all(b, handled != 0);
			handled = signals_seen;
		}
		for (i = 0; i < b->n; i++) {
			struct job *j = &b->jobs[i];
			int status;

			if (j->state != J_RUNNING)
				continue;
			read_out(j);
			if (waitpid(j->pid, &status, WNOHANG) == j->pid)
				reap(b, j, status);
			else
				follow_log(b, j);
		}
		batch_draw(b, 0);
	}
	free(pfd);
	for (i = 0; i < b->n; i++) {
		struct job *j = &b->jobs[i];

		if (j->state != J_QUEUED)
			continue;
		j->state = J_SKIPPED;
		j->reason = gantry_xstrdup(b->stop_reason ? b->stop_reason :
					     "not started");
		batch_report(b, j, NULL);
	}
	batch_draw(b, 1);
}

static void run_batch(struct batch *b)
{
	struct sigaction sa, old_chld, old_int, old_term;
	int flags;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	if (pipe2(wake_pipe, O_CLOEXEC) < 0) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot create a pipe: %s",
			   strerror(errno));
		return;
	}
	flags = O_NONBLOCK;
	fcntl(wake_pipe[0], F_SETFL, flags);
	fcntl(wake_pipe[1], F_SETFL, flags);
	signals_seen = 0;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, &old_chld);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	if (!b->quiet)
		fprintf(stderr, "==> batch %s: %zu deploy%s, up to %u at once%s;"
			" logs in %s\n", b->id, b->n, b->n == 1 ? "" : "s",
			b->max_running, b->o->dry_run ? " (dry run)" : "",
			b->logdir);
	run_loop(b);

	sigaction(SIGCHLD, &old_chld, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
}

/* ---- the summary ------------------------------------------------------ */

static int exit_code(const struct batch *b)
{
	int worst = EXIT_OK;
	size_t i;

	if (b->interrupted)
		return EXIT_INTERRUPTED;
	for (i = 0; i < b->n; i++) {
		const struct job *j = &b->jobs[i];
		int c = j->state == J_SKIPPED ? EXIT_FAILED : j->code;

		/* Severity: rollback failed > rolled back > anything else
		   that is not success (locked, refused, crashed: failed). */
		if (c == EXIT_ROLLBACK_FAILED)
			worst = EXIT_ROLLBACK_FAILED;
		else if (c == EXIT_ROLLED_BACK && worst != EXIT_ROLLBACK_FAILED)
			worst = EXIT_ROLLED_BACK;
		else if (c != EXIT_OK && worst == EXIT_OK)
			worst = EXIT_FAILED;
	}
	return worst;
}

static struct gantry_json *summary_json(const struct batch *b, int code)
{
	struct gantry_json *doc = gantry_json_new_object(), *arr;
	size_t i;

	gantry_json_set_string(doc, "batch", b->id);
	gantry_json_set_string(doc, "file", b->file);
	gantry_json_set_bool(doc, "dry_run", b->o->dry_run);
	arr = gantry_json_set_array(doc, "deploys");
	for (i = 0; i < b->n; i++) {
		const struct job *j = &b->jobs[i];
		struct gantry_json *o = gantry_json_push_object(arr);
		int ran = j->state == J_DONE;

		gantry_json_set_string(o, "name", j->name);
		gantry_json_set_string(o, "config", j->shown);
		gantry_json_set_string(o, "env", j->env);
		gantry_json_set_string(o, "tag", j->tag);
		gantry_json_set_string(o, "result", batch_job_word(j));
		if (ran) {
			gantry_json_set_int(o, "exit_code", j->code);
			gantry_json_set_double(o, "duration", j->t1 - j->t0);
		} else {
			gantry_json_set_null(o, "exit_code");
			gantry_json_set_null(o, "duration");
		}
		gantry_json_set_string(o, "deploy_id", j->deploy_id);
		gantry_json_set_string(o, "log", j->log);
		if (j->reason)
			gantry_json_set_string(o, "reason", j->reason);
	}
	gantry_json_set_int(doc, "exit_code", code);
	return doc;
}

/* Keeps the summary next to the logs, for whoever looks later. */
static void save_summary(const struct batch *b, struct gantry_json *doc)
{
	char *path = gantry_xasprintf("%s/summary.json", b->logdir);
	const char *text = gantry_i_json_text_ex(doc, GANTRY_I_JSON_PRETTY);
	char *red = gantry_i_redact(text);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(red, f);
		fputc('\n', f);
		if (fclose(f) != 0)
			gantry_log(NULL, GANTRY_LOG_WARN, "cannot write %s",
				   path);
	}
	free(red);
	free(path);
}

/* ---- the command ------------------------------------------------------ */

static void release(struct batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		struct job *j = &b->jobs[i];

		if (j->log_rd >= 0)
			close(j->log_rd);
		free(j->shown);
		free(j->path);
		free(j->dir);
		free(j->env);
		free(j->service);
		free(j->after);
		gantry_buf_release(&j->out);
		gantry_buf_release(&j->partial);
		free(j->log);
		free(j->stage);
		free(j->result);
		free(j->deploy_id);
		free(j->reason);
	}
	free(b->jobs);
	gantry_i_config_free(b->tree);
	free(b->id);
	free(b->logdir);
	free(b->stop_reason);
}

static int misuse(const struct options *o)
{
	const char *bad = o->config ? "-c (each deploy names its config in "
				      "the batch file)" :
			  o->env ? "-e (set env in a deploy's entry of the "
				   "batch file)" :
			  o->only ? "--only" : o->skip ? "--skip" :
			  o->resume ? "--resume" : o->to ? "--to" : NULL;

	if (!bad)
		return 0;
	gantry_log(NULL, GANTRY_LOG_ERROR, "'gantry batch' does not take %s; "
		   "see 'gantry help batch'", bad);
	return 1;
}

static int setup_logs(struct batch *b)
{
	struct session s;
	struct errs e = { 0 };
	ssize_t len;

	memset(&s, 0, sizeof(s));
	s.opt = b->o;
	b->id = journal_new_id();
	b->logdir = gantry_xasprintf("%s/batch/%s", session_state_dir(&s),
				       b->id);
	if (state_dir_check(s.state_dir, &e) < 0) {
		free(s.state_dir);
		errs_print(&e);
		errs_clear(&e);
		return -1;
	}
	free(s.state_dir);
	if (state_mkdirs(b->logdir) < 0) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot create the batch "
			   "log directory '%s': %s; give a writable one with "
			   "--state-dir or GANTRY_STATE_DIR", b->logdir,
			   strerror(errno));
		return -1;
	}
	len = readlink("/proc/self/exe", b->self, sizeof(b->self) - 1);
	if (len <= 0) {
		gantry_log(NULL, GANTRY_LOG_ERROR, "cannot find the gantry "
			   "executable (/proc/self/exe): %s", strerror(errno));
		return -1;
	}
	b->self[len] = '\0';
	return 0;
}

int batch_main(const struct options *o, const char *file)
{
	struct batch b;
	struct gantry_json *doc;
	int code;

	if (misuse(o))
		return EXIT_USAGE;
	memset(&b, 0, sizeof(b));
	b.o = o;
	b.file = file;
	b.max_running = o->jobs > 0 ? (unsigned)o->jobs : 1;
	b.quiet = gantry_i_log_verbosity() < 0;
	b.tty = isatty(STDERR_FILENO);
	b.drawn_sec = -1;
	code = batch_validate(&b);
	if (code == EXIT_OK && o->matrix) {
		code = batch_print_matrix(&b);
		release(&b);
		return code;
	}
	if (code == EXIT_OK && setup_logs(&b) < 0)
		code = EXIT_USAGE;
	if (code != EXIT_OK) {
		if (o->json)
			progress_json_error("batch", code);
		release(&b);
		return code;
	}
	run_batch(&b);
	code = exit_code(&b);
	doc = summary_json(&b, code);
	save_summary(&b, doc);
	if (o->json)
		batch_print_doc(doc);
	else
		batch_print_table(&b, code);
	gantry_json_free(doc);
	release(&b);
	return code;
}
